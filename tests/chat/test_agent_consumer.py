"""The agent's websocket: live tickets and messages in scope, presence, typing,
receipts, and authorization on every request and every event."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from helpdesk.asgi import application
from helpdesk.tickets.models import AgentStatus, Message, Ticket
from helpdesk.tickets.services import agent_seen, ticket_assign, ticket_note
from tests.chat.conftest import (
    DESK_ORIGIN,
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


@pytest.fixture
def general():
    return make_team("general")


@pytest.fixture
def lena(general):
    agent = make_agent("lena", teams=(general,))
    return agent_seen(agent=agent, status=AgentStatus.ONLINE)


@pytest.fixture
def omar(general):
    return make_agent("omar", teams=(general,))


@pytest.fixture
def rami():
    return make_agent("rami", teams=(make_team("returns"),))


@pytest.fixture
def shop(lena):
    return make_shop("acme")[0]


async def customer_opens_chat(body: str = "My parcel is late"):
    ws = await widget_connect(await db(widget_session)("acme"))
    await receive_until(ws, "welcome")
    await ws.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": body})
    ack = await receive_until(ws, "ack")
    return ws, ack["ticket"]


async def test_agents_see_new_chats_of_their_team_live_and_reply_to_the_customer(shop, lena, rami):
    desk = await agent_connect(await db(agent_cookie)(lena))
    welcome = await receive_until(desk, "welcome")
    assert welcome["agent"]["name"] == "Lena"
    other_desk = await agent_connect(await db(agent_cookie)(rami))
    await receive_until(other_desk, "welcome")

    customer, ticket_id = await customer_opens_chat()

    event = await receive_until(desk, "ticket")
    assert (event["change"], event["ticket"]["id"]) == ("opened", ticket_id)
    assert event["message"]["preview"] == "My parcel is late"
    assert await other_desk.receive_nothing(timeout=0.3)  # returns team: not theirs

    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    assert (await receive_until(desk, "subscribed"))["last_seq"] == 1
    await desk.send_json_to({"type": "sync", "ticket": ticket_id, "after_seq": 0})
    assert (await receive_until(desk, "message"))["body"] == "My parcel is late"

    await desk.send_json_to(
        {"type": "message.send", "ticket": ticket_id, "client_msg_id": "r1", "body": "On its way!", "internal": False}
    )
    ack = await receive_until(desk, "ack")
    assert (ack["seq"], ack["duplicate"]) == (2, False)
    reply = await receive_until(customer, "message")
    while reply["author"]["kind"] != "agent":  # the customer's own message comes back first
        reply = await receive_until(customer, "message")
    assert (reply["body"], reply["author"]["kind"], reply["seq"]) == ("On its way!", "agent", 2)
    for ws in (desk, other_desk, customer):
        await ws.disconnect()


async def test_tickets_of_other_teams_are_not_found_for_any_request(shop, lena, rami):
    customer, ticket_id = await customer_opens_chat()
    desk = await agent_connect(await db(agent_cookie)(rami))
    await receive_until(desk, "welcome")

    for frame in (
        {"type": "subscribe", "ticket": ticket_id},
        {"type": "sync", "ticket": ticket_id, "after_seq": 0},
        {"type": "message.send", "ticket": ticket_id, "client_msg_id": "x", "body": "hijack"},
        {"type": "receipt", "ticket": ticket_id, "seq": 1},
        {"type": "typing", "ticket": ticket_id, "typing": True},
    ):
        await desk.send_json_to(frame)
        assert (await receive_until(desk, "error"))["code"] == "not_found", frame
    assert await db(Message.objects.filter(ticket_id=ticket_id).count)() == 1
    await desk.disconnect()
    await customer.disconnect()


async def test_moving_a_ticket_to_another_team_removes_it_and_stops_its_events(shop, lena, rami):
    customer, ticket_id = await customer_opens_chat()
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")
    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    await receive_until(desk, "subscribed")

    ticket = await db(Ticket.objects.get)(pk=ticket_id)
    returns = await db(lambda: rami.teams.get())()
    await db(ticket_assign)(ticket=ticket, actor=None, assignee=rami, team=returns)
    removed = await receive_until(desk, "ticket")
    assert removed["removed"] is True and removed["ticket"]["id"] == ticket_id

    await customer.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Hello?"})
    await receive_until(customer, "ack")
    assert not [f for f in await drain(desk) if f["type"] in ("message", "ticket")]
    await desk.disconnect()
    await customer.disconnect()


async def test_internal_notes_reach_agents_only(shop, lena, omar):
    customer, ticket_id = await customer_opens_chat()
    desk = await agent_connect(await db(agent_cookie)(omar))
    await receive_until(desk, "welcome")
    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    await receive_until(desk, "subscribed")

    ticket = await db(Ticket.objects.get)(pk=ticket_id)
    await db(ticket_note)(ticket=ticket, agent=lena, body="refund approved")

    note = await receive_until(desk, "message")
    assert (note["body"], note["internal"]) == ("refund approved", True)
    assert not [f for f in await drain(customer) if "refund" in f.get("body", "")]
    await desk.disconnect()
    await customer.disconnect()


async def test_agents_on_the_same_ticket_see_each_other_and_who_is_typing(shop, lena, omar):
    customer, ticket_id = await customer_opens_chat()
    first = await agent_connect(await db(agent_cookie)(lena))
    second = await agent_connect(await db(agent_cookie)(omar))
    for desk in (first, second):
        await receive_until(desk, "welcome")
        await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
        await receive_until(desk, "subscribed")

    # Each learns of the other (the newcomer from the older viewer's answer)
    seen_by_first = await receive_until(first, "presence")
    while not seen_by_first["viewers"]:
        seen_by_first = await receive_until(first, "presence")
    assert [v["name"] for v in seen_by_first["viewers"]] == ["Omar"]
    seen_by_second = await receive_until(second, "presence")
    while not seen_by_second["viewers"]:
        seen_by_second = await receive_until(second, "presence")
    assert [v["name"] for v in seen_by_second["viewers"]] == ["Lena"]

    # Typing: the other agent and the customer see a public reply being typed
    await second.send_json_to({"type": "typing", "ticket": ticket_id, "typing": True})
    typing = await receive_until(first, "typing")
    assert (typing["who"]["name"], typing["typing"]) == ("Omar", True)
    shown = await receive_until(customer, "typing")
    assert (shown["name"], shown["typing"]) == ("Omar", True)

    # ... but not a note being typed
    await second.send_json_to({"type": "typing", "ticket": ticket_id, "typing": True, "internal": True})
    assert (await receive_until(first, "typing"))["internal"] is True
    assert not [f for f in await drain(customer) if f["type"] == "typing"]

    # The customer typing is shown to the agents
    await customer.send_json_to({"type": "typing", "ticket": ticket_id, "typing": True})
    from_customer = await receive_until(first, "typing")
    assert from_customer["who"]["kind"] == "customer"

    await second.disconnect()
    gone = await receive_until(first, "presence")
    while gone["viewers"]:
        gone = await receive_until(first, "presence")
    await first.disconnect()
    await customer.disconnect()


async def test_read_marks_travel_both_ways(shop, lena):
    customer, ticket_id = await customer_opens_chat()
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")
    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    await receive_until(desk, "subscribed")

    await desk.send_json_to({"type": "receipt", "ticket": ticket_id, "seq": 1})
    assert (await receive_until(customer, "receipt"))["read_seq"] == 1

    await desk.send_json_to({"type": "message.send", "ticket": ticket_id, "client_msg_id": "r", "body": "Hi!"})
    await receive_until(desk, "ack")
    await customer.send_json_to({"type": "receipt", "ticket": ticket_id, "seq": 2, "read": False})
    delivered = await receive_until(desk, "receipt")
    while delivered["customer_delivered_seq"] == 0:  # the echo of the agent's own read mark
        delivered = await receive_until(desk, "receipt")
    assert (delivered["customer_delivered_seq"], delivered["customer_read_seq"]) == (2, 0)
    await customer.send_json_to({"type": "receipt", "ticket": ticket_id, "seq": 99, "read": True})
    read = await receive_until(desk, "receipt")
    assert (read["customer_delivered_seq"], read["customer_read_seq"]) == (2, 2)  # never past the last message
    await desk.disconnect()
    await customer.disconnect()


async def test_only_signed_in_agents_on_the_desk_origin_may_connect(shop, lena):
    cookie = await db(agent_cookie)(lena)
    for headers in (
        [(b"origin", DESK_ORIGIN.encode())],  # not signed in
        [(b"origin", b"https://evil.example"), (b"cookie", f"sessionid={cookie}".encode())],
        [(b"cookie", f"sessionid={cookie}".encode())],  # no origin
    ):
        communicator = WebsocketCommunicator(application, "/ws/agent/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected, headers


async def test_a_deactivated_agent_is_disconnected_at_the_next_event(shop, lena, settings):
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")

    def deactivate():
        lena.user.is_active = False
        lena.user.save()

    await db(deactivate)()
    await desk.send_json_to({"type": "subscribe", "ticket": 1})
    # The deactivation's event, or at the latest the next request, says why and closes.
    assert (await desk.receive_json_from(timeout=3))["code"] == "signed_out"
    assert (await desk.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4401}


async def test_an_agent_in_several_of_a_tickets_groups_gets_each_event_once(shop, lena):
    customer, ticket_id = await customer_opens_chat()
    ticket = await db(Ticket.objects.get)(pk=ticket_id)
    await db(ticket_assign)(ticket=ticket, actor=None, assignee=lena)  # her team's ticket, and hers
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")
    await desk.send_json_to({"type": "subscribe", "ticket": ticket_id})
    await receive_until(desk, "subscribed")

    await customer.send_json_to({"type": "message.send", "client_msg_id": new_id(), "body": "Any news?"})
    frames = await drain(desk)

    assert [f["type"] for f in frames if f["type"] in ("ticket", "message")] == ["ticket", "message"]
    await desk.disconnect()
    await customer.disconnect()
