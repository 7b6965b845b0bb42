"""The desk on more than one machine: two daphne processes, two task workers
and two sweepers on one PostgreSQL and one Redis, under chat load. Customers
on both daphnes chat with agents on both; the workers assign the tickets as
capacity frees up and send the surveys of the tickets solved through the API.

Nothing is lost or done twice: every message is stored once and held once by
each side, each ticket is assigned once and no agent ever holds more chats
than their capacity, and each solved ticket has one survey, sent once."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from rest_framework.authtoken.models import Token

from chat.client import AgentClient, ChatMessage, CustomerClient
from helpdesk.tickets.models import Agent, EventKind, Message, TicketChannel, TicketEvent, TicketStatus
from surveys.models import Survey, SurveyPolicy, SurveyStatus
from surveys.services import SurveyEvent
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.faults import mails_with
from tests.servers import SHOP_ORIGIN, Daphne, ManageCommand, shared_desk_env

pytestmark = pytest.mark.multiprocess

CUSTOMERS = 6  # chats, half on each daphne
EMAIL_TICKETS = 2
CAPACITY = 2  # chats per agent at a time: the queue waits, so the workers assign as tickets are solved
ROUNDS = 3  # messages each way per chat
TIMEOUT = 60


@dataclass
class Desk:
    """One signed-in agent: their websocket session and API token."""

    agent_id: int
    session: str
    token: str


@dataclass
class Outcome:
    sent: dict[int, list[str]] = field(default_factory=dict)
    customer_held: dict[int, list[ChatMessage]] = field(default_factory=dict)
    agents_held: list[dict[int, list[ChatMessage]]] = field(default_factory=list)
    survey_frames: dict[int, list[int]] = field(default_factory=dict)  # ticket -> survey ids the widget was sent


class SurveyedCustomer(CustomerClient):
    """Keeps the ``survey`` frames its widget is sent."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.surveys: list[tuple[int, int]] = []  # (ticket, survey)

    async def _on_other(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "survey":
            self.surveys.append((frame["ticket"], frame["survey"]))
        await super()._on_other(frame)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def desk(transactional_db, tmp_path, mail_dir) -> Iterator[tuple[Daphne, Daphne]]:
    env = shared_desk_env(
        "scale",
        DJANGO_SETTINGS_MODULE="tests.settings_faults",
        FAULT_MAIL_DIR=str(mail_dir),
        CHAT_RATE_LIMIT_PER_MINUTE="600",
    )
    daphnes = [Daphne(env=env), Daphne(env=env)]
    log = tmp_path / "workers.log"
    workers = [
        ManageCommand(
            "db_worker", "--no-startup-delay", "--interval", "0.2", "--queue-name", "default", env=env, log=log
        )
        for _ in range(2)
    ]
    sweepers = [ManageCommand("desk_sweep", "--every", "2", env=env, log=log) for _ in range(2)]
    try:
        for daphne in daphnes:
            daphne.start()
        for command in [*workers, *sweepers]:
            command.start()
        yield daphnes[0], daphnes[1]
    finally:
        processes: list[Daphne | ManageCommand] = [*daphnes, *workers, *sweepers]
        for each in processes:  # all at once: each may take a moment to finish
            if each.process and each.process.poll() is None:
                each.process.terminate()
        for each in processes:
            each.stop()


def signed_in(agent: Agent) -> Desk:
    client = Client()
    client.force_login(agent.user)
    return Desk(agent.pk, client.cookies["sessionid"].value, Token.objects.create(user=agent.user).key)


@pytest.fixture
def desks(transactional_db) -> list[Desk]:
    """Two agents of the general team, where widget chats open, each with CAPACITY chats."""
    team = make_team("general")
    agents = [make_agent(name, teams=(team,)) for name in ("gina", "omar")]
    Agent.objects.filter(pk__in=[a.pk for a in agents]).update(max_concurrent_chats=CAPACITY)
    return [signed_in(agent) for agent in agents]


@pytest.fixture
def email_tickets(desks) -> list[int]:
    """Email tickets waiting in the queue; their surveys go out by email."""
    shop = make_shop("acme")[0]
    if not SurveyPolicy.objects.filter(team=None, channel=TicketChannel.CHAT).exists():  # the seeded one
        SurveyPolicy.objects.create(name="Chats", channel=TicketChannel.CHAT, delay_minutes=0, sampling_percent=100)
    SurveyPolicy.objects.create(name="Email", channel=TicketChannel.EMAIL, delay_minutes=0, sampling_percent=100)
    team = Agent.objects.get(pk=desks[0].agent_id).teams.get()
    return [
        make_ticket(make_customer(shop, email=f"mail{i}@example.com"), team, channel=TicketChannel.EMAIL).pk
        for i in range(EMAIL_TICKETS)
    ]


def solve(base_url: str, token: str, ticket: int) -> None:
    request = urllib.request.Request(  # noqa: S310 (the test's own daphne)
        f"{base_url}/api/v1/tickets/{ticket}/",
        data=json.dumps({"status": TicketStatus.SOLVED}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="PATCH",
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=20) as response:
        assert response.status == 200


async def chat_load(urls: list[str], desks: list[Desk], email_tickets: list[int]) -> Outcome:
    outcome = Outcome()
    agents = [
        await AgentClient(urls[i % 2], session_id=d.session, auto_subscribe=True).start() for i, d in enumerate(desks)
    ]
    by_agent = dict(zip((d.agent_id for d in desks), zip(agents, desks, strict=True), strict=True))
    people = [await SurveyedCustomer(urls[i % 2], shop="acme", origin=SHOP_ORIGIN).start() for i in range(CUSTOMERS)]
    customer_of: dict[int, SurveyedCustomer] = {}

    def note(ticket: int, body: str) -> str:
        outcome.sent.setdefault(ticket, []).append(body)
        return body

    def assignee(ticket: int) -> int | None:
        # Every agent of the team hears of every ticket; the newest event of either will do.
        for client in agents:
            found = client.tickets.get(ticket, {}).get("assignee")
            if found and found["id"] in by_agent:
                return int(found["id"])
        return None

    def holds(client: AgentClient | CustomerClient, ticket: int) -> bool:
        return client.have(ticket) >= len(outcome.sent[ticket])

    async def converse(ticket: int, agent_id: int) -> None:
        agent, signed = by_agent[agent_id]
        customer = customer_of.get(ticket)
        for r in range(ROUNDS if customer else 1):
            if customer is not None:
                await customer.send(note(ticket, f"customer {ticket} {r}"), ticket)
            await agent.send(note(ticket, f"agent {agent_id} on {ticket} {r}"), ticket)
        sides: list[AgentClient | CustomerClient] = [*agents, *([customer] if customer else [])]
        for side in sides:
            await side.wait_until(partial(holds, side, ticket), TIMEOUT)
        await asyncio.to_thread(solve, urls[agents.index(agent) % 2], signed.token, ticket)
        if customer is not None:
            await customer.wait_until(lambda: any(t == ticket for t, _ in customer.surveys), TIMEOUT)

    try:
        async with asyncio.timeout(TIMEOUT * 2):
            acks = await asyncio.gather(*(c.send(f"customer {i} hello") for i, c in enumerate(people)))
            for customer, ack in zip(people, acks, strict=True):
                customer_of[ack["ticket"]] = customer
                outcome.sent[ack["ticket"]] = [f"customer {people.index(customer)} hello"]
            for ticket in email_tickets:
                outcome.sent[ticket] = ["Where is my parcel?"]
            waiting, running = set(outcome.sent), set[asyncio.Task[None]]()
            while waiting or running:
                for ticket in [t for t in waiting if assignee(t) is not None]:
                    waiting.discard(ticket)
                    running.add(asyncio.create_task(converse(ticket, assignee(ticket) or 0)))
                done = {task for task in running if task.done()}
                for task in done:
                    task.result()  # a failure fails the test here
                running -= done
                await asyncio.sleep(0.1)
    finally:
        outcome.customer_held = {t: c.messages(t) for t, c in customer_of.items()}
        outcome.agents_held = [{t: a.messages(t) for t in outcome.sent} for a in agents]
        outcome.survey_frames = {t: [s for st, s in c.surveys if st == t] for t, c in customer_of.items()}
        await asyncio.gather(*(c.close() for c in [*agents, *people]))
    return outcome


def tasks_settled() -> bool:
    """No task of the default queue is due or running (SLA timers wait for later)."""
    due = DBTaskResult.objects.ready() | DBTaskResult.objects.running()
    return not due.filter(queue_name="default").exists()


def test_two_desks_and_two_workers_lose_nothing_and_do_nothing_twice(desk, desks, email_tickets, mail_dir):
    # Given two daphnes, two workers and two sweepers on one database and Redis,
    # two agents of CAPACITY chats each, and more tickets than that
    a, b = desk

    # When customers on both daphnes chat with agents on both, the workers
    # assign the queue as the agents solve their tickets through the API
    outcome = asyncio.run(chat_load([a.url, b.url], desks, email_tickets))
    for _ in range(150):  # the workers finish what the last solves queued (surveys, reply emails)
        if tasks_settled():
            break
        connection.close()
        asyncio.run(asyncio.sleep(0.2))
    assert tasks_settled()
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists()

    tickets = sorted(outcome.sent)
    assert len(tickets) == CUSTOMERS + EMAIL_TICKETS

    # Then every message is stored once and held once by each side
    for ticket in tickets:
        stored = list(Message.objects.filter(ticket_id=ticket).order_by("seq"))
        assert sorted(m.body for m in stored) == sorted(outcome.sent[ticket])
        expected = [(m.pk, m.seq, m.body) for m in stored]
        if ticket in outcome.customer_held:
            assert [(m.id, m.seq, m.body) for m in outcome.customer_held[ticket]] == expected
        for held in outcome.agents_held:
            assert [(m.id, m.seq, m.body) for m in held[ticket]] == expected
    ids = Counter(Message.objects.filter(ticket_id__in=tickets).values_list("client_msg_id", flat=True))
    assert all(n == 1 for i, n in ids.items() if i), "a client_msg_id stored twice"

    # And each ticket was assigned once, and no agent ever held more than CAPACITY open chats
    events = list(
        TicketEvent.objects.filter(
            ticket_id__in=tickets, kind__in=[EventKind.ASSIGNED, EventKind.STATUS_CHANGED]
        ).order_by("pk")
    )
    assigned = [e for e in events if e.kind == EventKind.ASSIGNED]
    assert sorted(e.ticket_id for e in assigned) == tickets
    assert all(e.data["old"] is None and e.data["new"] in {d.agent_id for d in desks} for e in assigned)
    holding: dict[int, set[int]] = {d.agent_id: set() for d in desks}
    owner = {e.ticket_id: e.data["new"] for e in assigned}
    for event in events:
        if event.kind == EventKind.ASSIGNED:
            holding[event.data["new"]].add(event.ticket_id)
            assert len(holding[event.data["new"]]) <= CAPACITY, f"agent {event.data['new']} over capacity"
        elif event.data["new"] in (TicketStatus.SOLVED, TicketStatus.CLOSED, TicketStatus.PENDING):
            holding[owner[event.ticket_id]].discard(event.ticket_id)

    # And each solved ticket has one survey, sent once: in the widget for chats, by email otherwise
    surveys = {s.ticket_id: s for s in Survey.objects.filter(ticket_id__in=tickets)}
    assert sorted(surveys) == tickets
    assert Survey.objects.filter(ticket_id__in=tickets).count() == len(tickets)
    for ticket, survey in surveys.items():
        assert survey.status == SurveyStatus.PENDING
        assert TicketEvent.objects.filter(ticket_id=ticket, kind=SurveyEvent.SENT).count() == 1
        if ticket in email_tickets:
            assert mails_with(mail_dir, f"X-Helpdesk-Survey: {survey.pk}") == 1
        else:
            assert set(outcome.survey_frames[ticket]) == {survey.pk}
