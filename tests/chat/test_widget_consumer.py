"""The customer's websocket: delivery, retries, resume, gaps and abuse."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from helpdesk.asgi import application
from helpdesk.tickets.models import AgentStatus, Message, Ticket, TicketChannel
from helpdesk.tickets.services import agent_seen, ticket_note, ticket_reply
from tests.chat.conftest import SHOP_ORIGIN, db, drain, new_id, receive_until, widget_connect, widget_session
from tests.factories import make_agent, make_shop, make_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent():
    """An agent online in the general team, where chats open."""
    agent = make_agent("lena", teams=(make_team("general"),))
    agent.user.first_name, agent.user.last_name = "Lena", "Weiss"
    agent.user.save()
    return agent_seen(agent=agent, status=AgentStatus.ONLINE)


@pytest.fixture
def shop(agent):
    return make_shop("acme")[0]


async def test_a_message_is_stored_before_the_ack_which_carries_id_and_seq(shop):
    ws = await widget_connect(await db(widget_session)("acme"))
    welcome = await receive_until(ws, "welcome")
    assert welcome["conversations"] == [] and welcome["limits"]["max_chars"] > 0

    cid = new_id()
    await ws.send_json_to({"type": "message.send", "client_msg_id": cid, "body": "Where is my parcel?"})
    ack = await receive_until(ws, "ack")

    stored = await db(Message.objects.get)(client_msg_id=cid)
    assert (ack["id"], ack["seq"], ack["duplicate"]) == (stored.pk, 1, False)
    assert stored.body == "Where is my parcel?" and stored.ticket_id == ack["ticket"]
    await ws.disconnect()


async def test_a_retry_with_the_same_client_id_stores_nothing_and_returns_the_original_ack(shop):
    ws = await widget_connect(await db(widget_session)("acme"))
    cid = new_id()
    for _ in range(2):
        await ws.send_json_to({"type": "message.send", "client_msg_id": cid, "body": "Hello"})
    first, second = await receive_until(ws, "ack"), await receive_until(ws, "ack")

    assert second["duplicate"] and (second["id"], second["seq"]) == (first["id"], first["seq"])
    assert await db(Message.objects.filter(client_msg_id=cid).count)() == 1
    assert await db(Ticket.objects.count)() == 1
    await ws.disconnect()


async def test_agent_replies_arrive_live_and_notes_never_reach_the_customer(shop, agent):
    ws = await widget_connect(await db(widget_session)("acme"))
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Hi"})
    ack = await receive_until(ws, "ack")
    ticket = await db(Ticket.objects.get)(pk=ack["ticket"])

    await db(ticket_note)(ticket=ticket, agent=agent, body="VIP, be nice")
    await db(ticket_reply)(ticket=ticket, agent=agent, body="Hello Dana, let me check.")

    frames = [f for f in await drain(ws) if f["type"] == "message"]
    replies = [f for f in frames if f["author"]["kind"] == "agent"]
    assert [r["body"] for r in replies] == ["Hello Dana, let me check."]
    assert replies[0]["author"] == {"kind": "agent", "name": "Lena Weiss", "initials": "LW"}
    assert replies[0]["seq"] == 3  # the note took seq 2, and stays hidden
    assert all("VIP" not in f["body"] and "internal" not in f for f in frames)
    await ws.disconnect()


async def test_resume_after_reconnect_replays_what_was_sent_while_away(shop, agent):
    session = await db(widget_session)("acme")
    ws = await widget_connect(session)
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Hi"})
    ticket = await db(Ticket.objects.get)(pk=(await receive_until(ws, "ack"))["ticket"])
    await ws.disconnect()

    # Given replies while the customer is away (a new page load: a new session, same visitor token)
    await db(ticket_reply)(ticket=ticket, agent=agent, body="First reply")
    await db(ticket_note)(ticket=ticket, agent=agent, body="secret note")
    await db(ticket_reply)(ticket=ticket, agent=agent, body="Second reply")
    again = await db(widget_session)("acme", visitor_token=session["visitor_token"])
    assert again["visitor_token"] == session["visitor_token"]
    ws = await widget_connect(again)
    welcome = await receive_until(ws, "welcome")
    assert welcome["conversations"][0]["ticket"] == ticket.pk and welcome["conversations"][0]["last_seq"] == 4

    # When it resumes from the last seq it holds
    await ws.send_json_to({"type": "sync", "ticket": ticket.pk, "after_seq": 1})
    frames = await drain(ws)

    # Then it gets the replies once, in order, and a watermark past the hidden note
    assert [f["body"] for f in frames if f["type"] == "message"] == ["First reply", "Second reply"]
    assert frames[-1] == {"type": "synced", "ticket": ticket.pk, "through": 4, "last_seq": 4}
    await ws.disconnect()


async def test_a_gap_is_filled_by_asking_for_the_missing_range(shop, agent):
    ws = await widget_connect(await db(widget_session)("acme"))
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Hi"})
    ticket = await db(Ticket.objects.get)(pk=(await receive_until(ws, "ack"))["ticket"])
    for n in range(3):
        await db(ticket_reply)(ticket=ticket, agent=agent, body=f"reply {n}")
    await drain(ws)

    await ws.send_json_to({"type": "sync", "ticket": ticket.pk, "after_seq": 1, "until_seq": 3})
    frames = await drain(ws)

    assert [(f["seq"], f["body"]) for f in frames if f["type"] == "message"] == [(2, "reply 0"), (3, "reply 1")]
    assert frames[-1]["through"] == 3 and frames[-1]["last_seq"] == 4
    await ws.disconnect()


async def test_a_lost_notification_costs_a_resync_not_a_message(shop, agent, monkeypatch):
    ws = await widget_connect(await db(widget_session)("acme"))
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Hi"})
    ticket = await db(Ticket.objects.get)(pk=(await receive_until(ws, "ack"))["ticket"])
    await drain(ws)

    # Given the channel layer drops the notification of a reply
    monkeypatch.setattr("helpdesk.tickets.notify._send", lambda events: None)
    await db(ticket_reply)(ticket=ticket, agent=agent, body="You will not hear of this live")
    assert await ws.receive_nothing(timeout=0.3)

    # When the client's heartbeat comes round, the pong shows a higher last_seq
    await ws.send_json_to({"type": "ping"})
    pong = await receive_until(ws, "pong")
    assert pong["tickets"][str(ticket.pk)] == 2

    # Then a sync brings the message
    await ws.send_json_to({"type": "sync", "ticket": ticket.pk, "after_seq": 1})
    message = await receive_until(ws, "message")
    assert message["body"] == "You will not hear of this live"
    await ws.disconnect()


async def test_other_customers_tickets_are_not_found(shop, agent):
    theirs = await widget_connect(await db(widget_session)("acme"))
    await theirs.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "my secret order"})
    their_ticket = (await receive_until(theirs, "ack"))["ticket"]

    mine = await widget_connect(await db(widget_session)("acme"))
    await receive_until(mine, "welcome")
    for frame in (
        {"type": "sync", "ticket": their_ticket, "after_seq": 0},
        {"type": "message.send", "client_msg_id": new_id(), "body": "let me in", "ticket": their_ticket},
        {"type": "typing", "ticket": their_ticket, "typing": True},
        {"type": "receipt", "ticket": their_ticket, "seq": 1, "read": True},
    ):
        await mine.send_json_to(frame)
        error = await receive_until(mine, "error")
        assert error["code"] == "not_found"
    assert await mine.receive_nothing(timeout=0.3)
    assert await db(Message.objects.filter(ticket_id=their_ticket).count)() == 1
    await theirs.disconnect()
    await mine.disconnect()


async def test_handshakes_from_other_origins_or_with_bad_tokens_are_refused(shop):
    session = await db(widget_session)("acme")
    for path, origin in (
        (f"/ws/widget/?token={session['connect_token']}", "https://evil.example"),
        (f"/ws/widget/?token={session['connect_token']}", None),
        ("/ws/widget/?token=forged", SHOP_ORIGIN),
        ("/ws/widget/", SHOP_ORIGIN),
    ):
        headers = [(b"origin", origin.encode())] if origin else []
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        assert not connected, (path, origin)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "desk.event", "ticket": {}}', "unknown_type"),
        ('{"type": "websocket.disconnect"}', "unknown_type"),
        ('{"type": "message.send", "body": "hi"}', "invalid"),
        ('{"type": "message.send", "client_msg_id": "a", "body": 5}', "invalid"),
        ('{"type": "message.send", "client_msg_id": "a", "body": "hi", "admin": true}', "invalid"),
        ('{"type": "sync", "ticket": true, "after_seq": 0}', "invalid"),
        ('{"type": "sync", "ticket": 1, "after_seq": -1}', "invalid"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_connection_stays_usable(shop, frame, code):
    ws = await widget_connect(await db(widget_session)("acme"))
    await receive_until(ws, "welcome")
    await ws.send_to(text_data=frame)
    assert (await receive_until(ws, "error"))["code"] == code

    await ws.send_json_to({"type": "ping"})
    assert (await receive_until(ws, "pong"))["type"] == "pong"
    await ws.disconnect()


async def test_oversized_frames_and_too_long_messages_are_refused_clearly(shop, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    ws = await widget_connect(await db(widget_session)("acme"))
    await ws.send_to(text_data='{"type": "ping", "pad": "' + "x" * 70_000 + '"}')
    assert (await receive_until(ws, "error"))["code"] == "frame_too_large"

    cid = new_id()
    await ws.send_json_to({"type": "message.send", "client_msg_id": cid, "body": "x" * 101})
    error = await receive_until(ws, "error")
    assert (error["code"], error["client_msg_id"]) == ("too_long", cid)
    assert await db(Message.objects.count)() == 0
    await ws.disconnect()


async def test_a_connection_sending_too_fast_is_told_to_wait(shop, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 3
    ws = await widget_connect(await db(widget_session)("acme"))
    for n in range(4):
        await ws.send_json_to({"type": "message.send", "client_msg_id": f"m{n}", "body": f"spam {n}"})
    frames = [f for f in await drain(ws) if f["type"] in ("ack", "error")]

    assert [f["type"] for f in frames] == ["ack", "ack", "ack", "error"]
    assert frames[-1]["code"] == "rate_limited" and frames[-1]["retry_after"] >= 1
    assert await db(Message.objects.count)() == 3
    await ws.disconnect()


async def test_outside_business_hours_the_chat_becomes_an_email_ticket(shop, settings):
    settings.BUSINESS_HOURS = "sun 00:00-00:01"  # as good as never open
    ws = await widget_connect(await db(widget_session)("acme"))
    welcome = await receive_until(ws, "welcome")
    assert welcome["availability"]["online"] is False and welcome["availability"]["email_required"] is True

    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Are you there?"})
    assert (await receive_until(ws, "error"))["fields"] == {
        "email": ["We are away: leave your email address so we can answer you."]
    }
    await ws.send_json_to({"type": "contact", "name": "Dana", "email": "dana@example.com"})
    assert (await receive_until(ws, "contact"))["email"] == "dana@example.com"
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Are you there?"})
    ack = await receive_until(ws, "ack")
    assert (await db(Ticket.objects.get)(pk=ack["ticket"])).channel == TicketChannel.EMAIL
    await ws.disconnect()
