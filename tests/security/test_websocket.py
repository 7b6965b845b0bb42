"""Attacks on the chat websockets (/ws/widget/, /ws/agent/): hostile HTML in
text, lookalike and missing origins, forged and expired passes, other
customers' ticket ids, malformed and oversized frames, and flooding."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from helpdesk.asgi import application
from helpdesk.tickets.models import AgentStatus, Message, Ticket
from helpdesk.tickets.services import agent_seen
from tests.chat.conftest import (  # noqa: F401  (autouse fixtures of the chat tests)
    DESK_ORIGIN,
    SHOP_ORIGIN,
    agent_connect,
    agent_cookie,
    chat_settings,
    close_other_connections,
    db,
    drain,
    new_id,
    receive_until,
    widget_connect,
    widget_session,
)
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.security.conftest import HOSTILE_TEXTS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent():
    """An agent online in the general team, where chats open."""
    agent = make_agent("lena", teams=(make_team("general"),))
    return agent_seen(agent=agent, status=AgentStatus.ONLINE)


@pytest.fixture
def shop(agent):
    return make_shop("acme")[0]


@pytest.fixture
def other_ticket(shop):
    """Another customer's conversation, in a team the agent is not in."""
    return make_ticket(make_customer(shop), make_team("returns"), body="Secret: my card ends 4242")


async def started(ws: WebsocketCommunicator) -> WebsocketCommunicator:
    await receive_until(ws, "welcome")
    await drain(ws)
    return ws


async def answers(ws: WebsocketCommunicator, count: int) -> list[dict]:
    """The next ``count`` acks and errors, however slowly the server answers."""
    frames: list[dict] = []
    while len(frames) < count:
        frame = await ws.receive_json_from(timeout=10)
        if frame["type"] in ("ack", "error"):
            frames.append(frame)
    return frames


async def refused(path: str, headers: list[tuple[bytes, bytes]]) -> bool:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return not connected


# Hostile text


async def test_html_and_javascript_links_in_messages_are_stored_as_text_and_shown_escaped(shop, agent):
    # Given a customer who types script, event-handler and javascript: payloads as name and messages
    ws = await started(await widget_connect(await db(widget_session)("acme")))
    await ws.send_json_to({"type": "contact", "name": HOSTILE_TEXTS[1], "email": "dana@example.com"})
    contact = await receive_until(ws, "contact")
    for text in HOSTILE_TEXTS:
        await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": text})
        await receive_until(ws, "ack")
    await ws.disconnect()

    # Then the text is stored unchanged, as data
    assert contact["name"] == HOSTILE_TEXTS[1]
    bodies = await db(lambda: list(Message.objects.order_by("seq").values_list("body", flat=True)))()
    assert bodies == list(HOSTILE_TEXTS)

    # When an agent opens the conversation in the desk
    ticket = await db(Ticket.objects.get)()
    client = Client()
    await db(client.force_login)(agent.user)
    html = (await db(client.get)(f"/desk/tickets/{ticket.pk}/")).content.decode()

    # Then every payload is escaped text: no script, no handler, no javascript: link
    assert "<script>alert" not in html and "onerror=" not in html.replace("onerror=&quot;", "")
    assert "<img src=x" not in html and 'href="javascript:' not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt;" in html


# Origins and passes


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.evil.com",
        "https://evil-shop.example",
        "https://evilshop.example",
        "http://shop.example",  # the same host without TLS
        "https://shop.example:8443",
        "https://user@shop.example",
        "null",
        "",
        None,
    ],
)
async def test_the_widget_handshake_from_a_lookalike_or_missing_origin_is_refused(shop, origin):
    session = await db(widget_session)("acme")
    headers = [(b"origin", origin.encode())] if origin is not None else []

    assert await refused(f"/ws/widget/?token={session['connect_token']}", headers)


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1.evil.example", None])
async def test_the_agent_handshake_from_another_site_or_without_origin_is_refused(agent, origin):
    # Given a valid desk session cookie (a cross-site page would ride on it)
    cookie = await db(agent_cookie)(agent)
    headers = [(b"cookie", f"sessionid={cookie}".encode()), (b"host", b"127.0.0.1")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))

    assert await refused("/ws/agent/", headers)


async def test_the_agent_socket_refuses_a_customer_and_a_forged_cookie(shop):
    headers = [(b"origin", DESK_ORIGIN.encode()), (b"host", b"127.0.0.1")]

    assert await refused("/ws/agent/", headers)
    assert await refused("/ws/agent/", [*headers, (b"cookie", b"sessionid=forged")])


async def test_an_expired_connect_token_is_refused_and_a_visitor_token_is_no_pass(shop, settings):
    session = await db(widget_session)("acme")
    origin = [(b"origin", SHOP_ORIGIN.encode())]

    # A pass replayed after its lifetime
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.WIDGET_CONNECT_TOKEN_SECONDS + 5)):
        assert await refused(f"/ws/widget/?token={session['connect_token']}", origin)
    # The long-lived visitor token, or a pass with one character changed
    assert await refused(f"/ws/widget/?token={session['visitor_token']}", origin)
    tampered = session["connect_token"][:-1] + ("A" if session["connect_token"][-1] != "A" else "B")
    assert await refused(f"/ws/widget/?token={tampered}", origin)


# Other customers' tickets


async def test_guessed_and_incremented_ticket_ids_of_other_customers_are_not_found(shop, other_ticket):
    # Given a visitor with a conversation of their own
    ws = await started(await widget_connect(await db(widget_session)("acme")))
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "mine"})
    mine = (await receive_until(ws, "ack"))["ticket"]
    before = await db(Message.objects.count)()

    # When they try the ids around theirs and the other customer's id
    for guess in sorted({other_ticket.pk, mine + 1, mine - 1, other_ticket.pk + 100, 0} - {mine}):
        for frame in (
            {"type": "sync", "ticket": guess, "after_seq": 0},
            {"type": "message.send", "client_msg_id": new_id(), "body": "let me in", "ticket": guess},
            {"type": "typing", "ticket": guess, "typing": True},
            {"type": "receipt", "ticket": guess, "seq": 1, "read": True},
        ):
            await ws.send_json_to(frame)
            error = await receive_until(ws, "error")
            # Then the same answer as for a ticket that does not exist
            assert error["code"] == "not_found", (guess, frame)
    frames = await drain(ws)
    await ws.disconnect()

    # And nothing was stored or marked, and nothing of theirs was sent
    assert await db(Message.objects.count)() == before
    other = await db(Ticket.objects.get)(pk=other_ticket.pk)
    assert (other.customer_read_seq, other.customer_delivered_seq) == (0, 0)
    assert not [f for f in frames if f["type"] == "message"]


async def test_an_agent_cannot_open_or_write_to_another_teams_ticket(agent, other_ticket):
    ws = await agent_connect(await db(agent_cookie)(agent))
    await receive_until(ws, "welcome")

    for frame in (
        {"type": "subscribe", "ticket": other_ticket.pk},
        {"type": "sync", "ticket": other_ticket.pk, "after_seq": 0},
        {"type": "message.send", "ticket": other_ticket.pk, "client_msg_id": new_id(), "body": "hi"},
        {"type": "receipt", "ticket": other_ticket.pk, "seq": 1},
    ):
        await ws.send_json_to(frame)
        assert (await receive_until(ws, "error"))["code"] == "not_found", frame
    frames = await drain(ws)
    await ws.disconnect()

    assert await db(Message.objects.filter(ticket=other_ticket).count)() == 1
    assert "4242" not in json.dumps(frames)


# Malformed and oversized frames


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("[" * 20_000 + "]" * 20_000, "bad_json"),  # deeper than the parser's recursion limit
        ('{"type": "ping"' + ', "a": {' * 5000 + "}" * 5000 + "}", "bad_json"),
        ("NaN", "bad_json"),
        ('{"type": "on_message_send"}', "unknown_type"),
        ('{"type": "desk.event", "ticket": {"id": 1}, "message": null, "change": "opened"}', "unknown_type"),
        ('{"type": "__init__"}', "unknown_type"),
        ('{"type": ["ping"]}', "unknown_type"),
        ('{"type": "message.send", "client_msg_id": "a", "body": "hi\\u0000there"}', "invalid"),
        ('{"type": "contact", "name": "Da\\u0000na", "email": "d@example.com"}', "invalid"),
        ('{"type": "message.send", "client_msg_id": "a", "body": "hi", "ticket": 99999999999999999999}', "invalid"),
        ('{"type": "sync", "ticket": 1, "after_seq": 1e308}', "invalid"),
        ('{"type": "receipt", "ticket": 1, "seq": 9223372036854775808, "read": true}', "invalid"),
        ('{"type": "message.send", "client_msg_id": "a", "body": "hi", "attachments": [1, "2"]}', "invalid"),
        ('{"type": "message.send", "client_msg_id": "' + "x" * 65 + '", "body": "hi"}', "invalid"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else value,
)
async def test_malformed_frames_get_an_error_code_store_nothing_and_keep_the_connection(shop, frame, code):
    ws = await started(await widget_connect(await db(widget_session)("acme")))

    await ws.send_to(text_data=frame)
    error = await receive_until(ws, "error")

    assert error["code"] == code
    await ws.send_json_to({"type": "ping"})
    assert (await receive_until(ws, "pong"))["type"] == "pong"
    assert await db(Message.objects.count)() == 0
    assert await db(Ticket.objects.count)() == 0
    await ws.disconnect()


async def test_binary_and_oversized_frames_are_refused(shop, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    ws = await started(await widget_connect(await db(widget_session)("acme")))

    await ws.send_to(bytes_data=b'{"type": "ping"}')
    assert (await receive_until(ws, "error"))["code"] == "bad_json"
    big = json.dumps({"type": "message.send", "client_msg_id": new_id(), "body": "x" * (settings.CHAT_MAX_FRAME_BYTES)})
    await ws.send_to(text_data=big)
    assert (await receive_until(ws, "error"))["code"] == "frame_too_large"
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "x" * 101})
    assert (await receive_until(ws, "error"))["code"] == "too_long"

    assert await db(Message.objects.count)() == 0
    await ws.disconnect()


async def test_a_contact_form_cannot_claim_a_shop_customers_identity(shop):
    # Given a synced customer, and an anonymous visitor who types that customer's email
    victim = await db(make_customer)(shop, name="Dana", email="dana@example.com")
    ws = await started(await widget_connect(await db(widget_session)("acme")))
    await ws.send_json_to({"type": "contact", "name": "Dana", "email": "dana@example.com"})
    await receive_until(ws, "contact")
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "show my orders"})
    ack = await receive_until(ws, "ack")
    await ws.disconnect()

    # Then the chat belongs to an unverified contact, never to the customer
    ticket = await db(Ticket.objects.select_related("customer").get)(pk=ack["ticket"])
    assert ticket.customer_id != victim.pk and not ticket.customer.verified
    assert await db(Ticket.objects.filter(customer=victim).count)() == 0


# Flooding


async def test_a_connection_flooding_messages_is_rate_limited_and_the_excess_is_not_stored(shop, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 5
    ws = await started(await widget_connect(await db(widget_session)("acme")))

    # When one connection sends ten times what it may
    ids = [new_id() for _ in range(50)]
    for cid in ids:
        await ws.send_json_to({"type": "message.send", "client_msg_id": cid, "body": "spam"})
    frames = await answers(ws, len(ids))
    await ws.disconnect()

    # Then the burst is stored and every other message is refused by name, with a wait
    acks = [f for f in frames if f["type"] == "ack"]
    limited = [f for f in frames if f["type"] == "error"]
    assert len(acks) == 5 and len(limited) == 45
    assert {f["code"] for f in limited} == {"rate_limited"} and min(f["retry_after"] for f in limited) >= 1
    assert {f["client_msg_id"] for f in limited} == set(ids[5:])
    assert await db(Message.objects.count)() == 5


async def test_a_connection_flooding_any_frame_is_rate_limited(shop, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 3  # every frame: 30 a minute, bursts of 30
    ws = await started(await widget_connect(await db(widget_session)("acme")))

    for _ in range(60):
        await ws.send_json_to({"type": "typing", "ticket": 1, "typing": True})
    frames = await answers(ws, 60)
    await ws.disconnect()

    codes = [f["code"] for f in frames if f["type"] == "error"]
    # The first 30 were handled (not_found: there is no such ticket); the rest were refused unread.
    assert len(codes) == 60 and codes[30:] == ["rate_limited"] * 30 and "rate_limited" not in codes[:30]


async def test_a_visitor_flooding_over_several_connections_shares_one_budget(shop, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 5
    session = await db(widget_session)("acme")
    sockets = [await started(await widget_connect(session)) for _ in range(3)]

    for ws in sockets:
        for _ in range(5):
            await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "spam"})
    for ws in sockets:
        await answers(ws, 5)
        await ws.disconnect()

    assert await db(Message.objects.count)() == 5
