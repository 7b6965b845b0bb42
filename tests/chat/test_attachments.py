"""Files in the chat: the widget's upload endpoint, files in message.send
frames on both endpoints, signed links for customers, and agents' replies
held while the customer wrote something newer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from helpdesk.tickets import attachments
from helpdesk.tickets.models import AgentStatus, Attachment, AuthorKind, Message
from helpdesk.tickets.services import agent_seen, attachment_upload
from tests.chat.conftest import (
    SHOP_ORIGIN,
    agent_connect,
    agent_cookie,
    db,
    drain,
    new_id,
    receive_until,
    widget_connect,
    widget_session,
)
from tests.factories import make_agent, make_shop, make_team

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ATTACHMENT_MAX_BYTES = 1024
    return settings


@pytest.fixture
def lena():
    agent = make_agent("lena", teams=(make_team("general"),))
    return agent_seen(agent=agent, status=AgentStatus.ONLINE)


@pytest.fixture
def shop(lena):
    return make_shop("acme")[0]


def upload_as_widget(session, ticket_id, content=PNG, name="photo.png", origin=SHOP_ORIGIN, **extra):
    data = {"visitor_token": session["visitor_token"], "ticket": str(ticket_id), **extra}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content, content_type="text/html")
    return Client().post("/widget/v1/attachments", data, HTTP_ORIGIN=origin)


async def message_seq(ws, seq):
    while (frame := await receive_until(ws, "message"))["seq"] != seq:
        pass
    return frame


async def customer_opens_chat(session):
    ws = await widget_connect(session)
    await receive_until(ws, "welcome")
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "My parcel came broken"})
    ack = await receive_until(ws, "ack")
    return ws, ack["ticket"]


# The widget's upload endpoint


async def test_a_customer_uploads_to_their_own_conversation_only(shop):
    session = await db(widget_session)("acme")
    stranger = await db(widget_session)("acme")
    ws, ticket_id = await customer_opens_chat(session)

    mine = await db(upload_as_widget)(session, ticket_id)
    theirs = await db(upload_as_widget)(stranger, ticket_id)
    forged = await db(upload_as_widget)({"visitor_token": "not-a-token"}, ticket_id)

    assert mine.status_code == 201, mine.content
    assert mine["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    stored = await db(Attachment.objects.get)()
    assert mine.json() == {"id": stored.pk, "name": "photo.png", "size": len(PNG), "content_type": "image/png"}
    assert (stored.author_kind, stored.ticket_id) == ("customer", ticket_id)
    assert (theirs.status_code, theirs.json()) == (404, {"ticket": ["No such conversation."]})
    assert forged.status_code == 403
    assert await db(Attachment.objects.count)() == 1
    await ws.disconnect()


async def test_the_upload_endpoint_answers_only_allowed_origins(shop):
    session = await db(widget_session)("acme")
    ws, ticket_id = await customer_opens_chat(session)

    refused = await db(upload_as_widget)(session, ticket_id, origin="https://evil.example")
    preflight = await db(Client().options)("/widget/v1/attachments", HTTP_ORIGIN=SHOP_ORIGIN)

    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert not await db(Attachment.objects.exists)()
    await ws.disconnect()


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"", "file"), (PNG * 20, "file"), (None, "file")],
)
async def test_bad_widget_uploads_are_field_errors(shop, content, field):
    session = await db(widget_session)("acme")
    ws, ticket_id = await customer_opens_chat(session)

    response = await db(upload_as_widget)(session, ticket_id, content=content)

    assert response.status_code == 400 and field in response.json()
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert not await db(Attachment.objects.exists)()
    await ws.disconnect()


# Files in message.send


async def test_files_travel_both_ways_and_customers_get_signed_links(shop, lena):
    session = await db(widget_session)("acme")
    customer, ticket_id = await customer_opens_chat(session)
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")
    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    await receive_until(desk, "subscribed")

    photo = (await db(upload_as_widget)(session, ticket_id)).json()
    await customer.send_json_to(
        {
            "type": "message.send",
            "client_msg_id": new_id(),
            "body": "",
            "ticket": ticket_id,
            "attachments": [photo["id"]],
        }
    )
    await receive_until(customer, "ack")
    listed = await receive_until(desk, "ticket")
    seen = await receive_until(desk, "message")

    assert listed["message"]["preview"] == "Attachment: photo.png"

    assert seen["body"] == "" and seen["attachments"] == [
        {**photo, "url": attachments.download_path(photo["id"], "photo.png")}
    ]

    def agent_uploads():
        ticket = Attachment.objects.get(pk=photo["id"]).ticket
        upload = SimpleUploadedFile("label.pdf", PDF)
        return attachment_upload(ticket=ticket, author_kind=AuthorKind.AGENT, agent=lena, upload=upload)

    label = await db(agent_uploads)()
    await desk.send_json_to(
        {
            "type": "message.send",
            "ticket": ticket_id,
            "client_msg_id": new_id(),
            "body": "Here is a return label",
            "attachments": [label.pk],
            "seen_seq": 2,
        }
    )
    await receive_until(desk, "ack")
    reply = await message_seq(customer, 3)

    [item] = reply["attachments"]
    assert (item["name"], item["content_type"]) == ("label.pdf", "application/pdf")
    assert "?s=" in item["url"]
    download = await db(Client().get)(item["url"])
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    await customer.disconnect()
    await desk.disconnect()


async def test_a_note_with_a_file_never_reaches_the_customer(shop, lena):
    session = await db(widget_session)("acme")
    customer, ticket_id = await customer_opens_chat(session)
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")

    def agent_uploads():
        ticket = Message.objects.get(ticket_id=ticket_id, seq=1).ticket
        return attachment_upload(
            ticket=ticket, author_kind=AuthorKind.AGENT, agent=lena, upload=SimpleUploadedFile("x.png", PNG)
        )

    secret = await db(agent_uploads)()
    await drain(customer)
    await desk.send_json_to(
        {
            "type": "message.send",
            "ticket": ticket_id,
            "client_msg_id": new_id(),
            "body": "internal",
            "internal": True,
            "attachments": [secret.pk],
        }
    )
    await receive_until(desk, "ack")

    assert await customer.receive_nothing(timeout=0.5)
    await customer.send_json_to({"type": "sync", "ticket": ticket_id, "after_seq": 0})
    replayed = await receive_until(customer, "message")
    assert replayed["seq"] == 1 and replayed["attachments"] == []
    assert (await receive_until(customer, "synced"))["through"] == 2
    await customer.disconnect()
    await desk.disconnect()


async def test_a_message_with_a_file_it_may_not_carry_is_refused_and_not_stored(shop, lena):
    session = await db(widget_session)("acme")
    customer, ticket_id = await customer_opens_chat(session)

    def agent_uploads():
        ticket = Message.objects.get(ticket_id=ticket_id, seq=1).ticket
        return attachment_upload(
            ticket=ticket, author_kind=AuthorKind.AGENT, agent=lena, upload=SimpleUploadedFile("x.png", PNG)
        )

    agents_file = await db(agent_uploads)()
    cid = new_id()
    await customer.send_json_to(
        {
            "type": "message.send",
            "client_msg_id": cid,
            "body": "look",
            "ticket": ticket_id,
            "attachments": [agents_file.pk],
        }
    )
    error = await receive_until(customer, "error")
    bad_frame = {"type": "message.send", "client_msg_id": new_id(), "body": "x", "attachments": ["1"]}
    await customer.send_json_to(bad_frame)
    invalid = await receive_until(customer, "error")

    assert (error["code"], error["client_msg_id"]) == ("invalid", cid)
    assert "attachments" in error["fields"]
    assert invalid["fields"] == {"attachments": ["Expected a list of ids."]}
    assert await db(Message.objects.filter(ticket_id=ticket_id).count)() == 1
    await customer.disconnect()


# Crossing replies


async def test_a_reply_crossing_a_newer_customer_message_is_held_with_the_newer_seqs(shop, lena):
    session = await db(widget_session)("acme")
    customer, ticket_id = await customer_opens_chat(session)
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")
    await customer.send_json_to(
        {"type": "message.send", "client_msg_id": new_id(), "body": "Hello??", "ticket": ticket_id}
    )
    await receive_until(customer, "ack")

    cid = new_id()
    reply = {"type": "message.send", "ticket": ticket_id, "client_msg_id": cid, "body": "Sorry!", "seen_seq": 1}
    await desk.send_json_to(reply)
    held = await receive_until(desk, "error")

    assert held["code"] == "newer_messages"
    assert (held["client_msg_id"], held["ticket"], held["seqs"]) == (cid, ticket_id, [2])
    assert await db(Message.objects.filter(ticket_id=ticket_id).count)() == 2

    await desk.send_json_to({**reply, "seen_seq": 2})
    ack = await receive_until(desk, "ack")
    assert (ack["client_msg_id"], ack["seq"], ack["duplicate"]) == (cid, 3, False)
    # A retry of the stored reply is a duplicate, whatever it says it saw.
    await desk.send_json_to(reply)
    assert (await receive_until(desk, "ack"))["duplicate"] is True
    await desk.send_json_to({**reply, "client_msg_id": new_id(), "internal": True, "body": "note", "seen_seq": 0})
    assert (await receive_until(desk, "ack"))["seq"] == 4
    await customer.disconnect()
    await desk.disconnect()
