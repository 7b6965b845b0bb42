"""Chat across real daphne processes sharing PostgreSQL and Redis, driven by
chat.client: a crashed process costs no message and stores none twice, and
a lost channel-layer notification costs only a resync.

Each scenario is plain asyncio over the clients; the ORM checks run outside
it, against the rows the processes wrote (hence ``transactional_db``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from chat.client import AgentClient, ChatMessage, CustomerClient
from helpdesk.tickets.models import Agent, Message, Ticket
from helpdesk.tickets.services import ticket_reply
from tests.factories import make_agent, make_shop, make_team
from tests.servers import SHOP_ORIGIN, Daphne, shared_desk_env

pytestmark = pytest.mark.multiprocess

TIMEOUT = 20


@pytest.fixture
def desk_env() -> dict[str, str]:
    return shared_desk_env("mp")


@pytest.fixture
def desks(transactional_db, desk_env) -> Iterator[tuple[Daphne, Daphne]]:
    """Two daphne processes on the test database and one Redis."""
    a, b = Daphne(env=desk_env), Daphne(env=desk_env)
    try:
        yield a.start(), b.start()
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def slow_desk(transactional_db, desk_env) -> Iterator[Daphne]:
    """One daphne allowing a burst of 10 messages, then one a second."""
    desk = Daphne(env={**desk_env, "CHAT_RATE_LIMIT_PER_MINUTE": "60"})
    try:
        yield desk.start()
    finally:
        desk.stop()


@pytest.fixture
def agent(transactional_db) -> Agent:
    """An agent of the general team, where widget chats open."""
    make_shop("acme")
    return make_agent("gina", teams=(make_team("general"),))


@pytest.fixture
def agent_session(agent) -> str:
    client = Client()
    client.force_login(agent.user)
    return client.cookies["sessionid"].value


def conversation(ticket_id: int) -> list[Message]:
    return list(Message.objects.filter(ticket_id=ticket_id).order_by("seq"))


def assert_holds_exactly(held: list[ChatMessage], stored: list[Message]) -> None:
    """The client holds every stored message once: same ids, seqs and bodies."""
    assert [(m.id, m.seq, m.body) for m in held] == [(m.pk, m.seq, m.body) for m in stored]


def test_a_crashed_process_loses_no_message_and_stores_none_twice(desks, agent_session):
    a, b = desks

    async def scenario() -> tuple[int, list[ChatMessage], list[ChatMessage], int]:
        # Given an agent on daphne B and a customer on daphne A in a conversation
        agent = await AgentClient(b.url, session_id=agent_session, auto_subscribe=True).start()
        customer = await CustomerClient(a.url, shop="acme", origin=SHOP_ORIGIN).start()
        ticket = (await customer.send("customer 0"))["ticket"]
        await agent.wait_for_message(lambda m: m.body == "customer 0", TIMEOUT)
        for i in range(1, 4):
            await customer.send(f"customer {i}", ticket)
            await agent.send(f"agent {i}", ticket)
        await customer.wait_for_message(lambda m: m.body == "agent 3", TIMEOUT)

        # When A crashes with the customer's sends in flight, the agent keeps
        # writing, and the customer writes more while A is down
        in_flight = [asyncio.create_task(customer.send(f"customer in flight {i}", ticket)) for i in range(10)]
        # Long enough for A to store some of them, so some acks may be lost
        # after the row is committed: the resend then gets "duplicate": true.
        await asyncio.sleep(0.03)
        a.kill()
        for i in range(4, 7):
            await agent.send(f"agent {i}", ticket)
        queued = [asyncio.create_task(customer.send(f"customer while down {i}", ticket)) for i in range(2)]
        await asyncio.sleep(0.5)
        unacked_while_down = len(customer.unacked())
        await asyncio.to_thread(a.start)

        # Then the customer reconnects, resends its outbox and catches up
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*in_flight, *queued)
        total = 1 + 3 + 3 + 10 + 3 + 2
        await customer.wait_until(lambda: customer.have(ticket) >= total, TIMEOUT)
        await agent.wait_until(lambda: agent.have(ticket) >= total, TIMEOUT)
        assert customer.connections == 2 and agent.connections == 1
        held = customer.messages(ticket), agent.messages(ticket)
        await asyncio.gather(customer.close(), agent.close())
        return ticket, *held, unacked_while_down

    ticket, customer_held, agent_held, unacked_while_down = asyncio.run(scenario())

    assert unacked_while_down >= 2
    stored = conversation(ticket)
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    sent = (
        [f"customer {i}" for i in range(4)]
        + [f"agent {i}" for i in range(1, 7)]
        + [f"customer in flight {i}" for i in range(10)]
        + [f"customer while down {i}" for i in range(2)]
    )
    assert sorted(m.body for m in stored) == sorted(sent)
    assert_holds_exactly(customer_held, stored)
    assert_holds_exactly(agent_held, stored)


def test_a_reconnecting_customer_fetches_what_was_said_while_it_was_away(desks, agent_session):
    a, b = desks

    async def scenario() -> tuple[int, list[ChatMessage], int]:
        # Given a customer on daphne A whose heartbeat will not come before the test ends
        desk = await AgentClient(b.url, session_id=agent_session, auto_subscribe=True).start()
        customer = await CustomerClient(a.url, shop="acme", origin=SHOP_ORIGIN, ping_seconds=3600).start()
        ticket = (await customer.send("Where is my parcel?"))["ticket"]
        await desk.wait_for_message(lambda m: m.seq == 1, TIMEOUT)

        # When A crashes and the agent answers twice before it is back
        a.kill()
        for body in ("Let me check.", "It left the warehouse today."):
            await desk.send(body, ticket)
        await asyncio.to_thread(a.start)

        # Then the customer's resume sync brings both
        await customer.wait_until(lambda: customer.have(ticket) == 3, TIMEOUT)
        held = customer.messages(ticket)
        await asyncio.gather(customer.close(), desk.close())
        return ticket, held, customer.connections

    ticket, customer_held, connections = asyncio.run(scenario())

    assert connections == 2
    assert_holds_exactly(customer_held, conversation(ticket))


def silent_reply(ticket_id: int, agent_id: int, body: str) -> None:
    """An agent reply stored with its channel-layer notification lost. Runs
    on a worker thread (the scenario's loop forbids the ORM), so it closes
    that thread's connection."""
    try:
        with mock.patch("helpdesk.tickets.services.notify_on_commit"):
            ticket_reply(ticket=Ticket.objects.get(pk=ticket_id), agent=Agent.objects.get(pk=agent_id), body=body)
    finally:
        connection.close()


def test_a_lost_notification_is_fetched_after_the_next_pong(desks, agent, agent_session):
    a, b = desks

    async def scenario() -> tuple[int, list[ChatMessage], list[ChatMessage]]:
        # Given both sides connected, heart-beating every second
        desk = await AgentClient(b.url, session_id=agent_session, auto_subscribe=True, ping_seconds=1).start()
        customer = await CustomerClient(a.url, shop="acme", origin=SHOP_ORIGIN, ping_seconds=1).start()
        ticket = (await customer.send("Where is my parcel?"))["ticket"]
        await desk.wait_for_message(lambda m: m.seq == 1, TIMEOUT)

        # When a reply is stored and its notification never sent
        await asyncio.to_thread(silent_reply, ticket, agent.pk, "It left the warehouse today.")

        # Then both sides fetch it once a pong shows the higher last_seq
        for client in (customer, desk):
            await client.wait_for_message(lambda m: m.seq == 2, timeout=5)
        held = customer.messages(ticket), desk.messages(ticket)
        await asyncio.gather(customer.close(), desk.close())
        return ticket, *held

    ticket, customer_held, agent_held = asyncio.run(scenario())

    stored = conversation(ticket)
    assert len(stored) == 2
    assert_holds_exactly(customer_held, stored)
    assert_holds_exactly(agent_held, stored)


def test_a_gap_is_filled_by_a_sync_up_to_the_missing_seq(desks, agent, agent_session):
    a, b = desks

    async def scenario() -> tuple[int, list[ChatMessage]]:
        # Given a customer whose heartbeat will not come before the test ends
        desk = await AgentClient(b.url, session_id=agent_session, auto_subscribe=True).start()
        customer = await CustomerClient(a.url, shop="acme", origin=SHOP_ORIGIN, ping_seconds=3600).start()
        ticket = (await customer.send("Where is my parcel?"))["ticket"]
        await desk.wait_for_message(lambda m: m.seq == 1, TIMEOUT)

        # When reply 2 is stored silently and reply 3 arrives live
        await asyncio.to_thread(silent_reply, ticket, agent.pk, "Let me check.")
        await desk.send("It left the warehouse today.", ticket)

        # Then the customer notices the gap at 3 and fetches 2
        await customer.wait_until(lambda: customer.have(ticket) == 3, timeout=5)
        held = customer.messages(ticket)
        await asyncio.gather(customer.close(), desk.close())
        return ticket, held

    ticket, customer_held = asyncio.run(scenario())

    assert_holds_exactly(customer_held, conversation(ticket))


def test_messages_refused_by_the_rate_limit_are_resent_and_stored_once(slow_desk, agent_session):
    async def scenario() -> tuple[int, list[ChatMessage], list[str]]:
        # Given a customer in a conversation
        desk = await AgentClient(slow_desk.url, session_id=agent_session).start()
        customer = await CustomerClient(slow_desk.url, shop="acme", origin=SHOP_ORIGIN).start()
        ticket = (await customer.send("message 0"))["ticket"]

        # When they send faster than the limit allows
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*(customer.send(f"message {i}", ticket) for i in range(1, 14)))

        # Then every message is acknowledged after the refused ones were resent
        await customer.wait_until(lambda: customer.have(ticket) == 14, TIMEOUT)
        held, codes = customer.messages(ticket), [e["code"] for e in customer.errors]
        await asyncio.gather(customer.close(), desk.close())
        return ticket, held, codes

    ticket, customer_held, error_codes = asyncio.run(scenario())

    assert "rate_limited" in error_codes
    stored = conversation(ticket)
    assert sorted(m.body for m in stored) == sorted(f"message {i}" for i in range(14))
    assert_holds_exactly(customer_held, stored)
