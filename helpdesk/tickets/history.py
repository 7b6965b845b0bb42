"""Importing history: tickets that happened in the past (a move from another
help desk, or the demo's earlier months), written as the services would have
written them at the time.

The services stamp timezone.now(), so they cannot write the past. This module
replays each ticket's timeline under the same rules instead and derives what
the services keep: message seq gapless from 1 with last_seq the newest,
first_response_at at the first public agent reply, solved_at and closed_at,
and one TicketEvent per change with the same kinds and data. Rows are
bulk-inserted in one transaction; nothing is broadcast.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from helpdesk.customers.models import Customer, Order
from helpdesk.tickets.models import (
    Agent,
    AuthorKind,
    EventKind,
    Message,
    Team,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.services import MAX_BODY_CHARS

IMPORT_REASON = "imported"


@dataclass(frozen=True)
class PastMessage:
    at: datetime
    body: str
    agent: Agent | None = None  # None: the customer wrote it
    internal: bool = False


@dataclass(frozen=True)
class PastAssignment:
    at: datetime
    actor: Agent | None
    assignee: Agent | None
    team: Team | None = None  # None: the ticket stays in its team


@dataclass(frozen=True)
class PastStatus:
    at: datetime
    actor: Agent
    status: TicketStatus


PastStep = PastMessage | PastAssignment | PastStatus


@dataclass(frozen=True)
class PastTicket:
    customer: Customer
    subject: str
    channel: TicketChannel
    team: Team
    # In time order; the first is the customer's opening message.
    steps: Sequence[PastStep]
    order: Order | None = None
    priority: TicketPriority = TicketPriority.NORMAL
    category: TicketCategory = TicketCategory.UNSORTED


class HistoryError(ValueError):
    """A past ticket breaks a rule the services enforce; nothing was stored."""


@dataclass
class _Replay:
    """One ticket's rows, built in memory by applying its steps in order."""

    ticket: Ticket
    memberships: dict[int, set[int]]
    messages: list[Message] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)

    def event(self, kind: EventKind, *, at: datetime, actor: Agent | None = None, **data: Any) -> None:
        self.events.append(TicketEvent(ticket=self.ticket, kind=kind, actor=actor, data=data, created_at=at))

    def fail(self, problem: str) -> HistoryError:
        return HistoryError(f"{self.ticket.subject!r}: {problem}")

    def open(self, past: PastTicket, first: PastMessage) -> None:
        ticket = self.ticket
        self.event(EventKind.OPENED, at=ticket.created_at, channel=past.channel, team=past.team.slug)
        self.message(first)
        # A desk sets priority and category after opening; history records them as imported changes.
        for name, kind in (("category", EventKind.CATEGORY_CHANGED), ("priority", EventKind.PRIORITY_CHANGED)):
            old, new = getattr(ticket, name), getattr(past, name)
            if new != old:
                self.event(kind, at=ticket.created_at, old=old, new=new, reason=IMPORT_REASON)
                setattr(ticket, name, new)

    def status(self, status: TicketStatus, *, actor: Agent | None, at: datetime, reason: str) -> None:
        ticket = self.ticket
        self.event(EventKind.STATUS_CHANGED, actor=actor, at=at, old=ticket.status, new=status, reason=reason)
        ticket.status = status
        if status == TicketStatus.SOLVED:
            ticket.solved_at = at
        elif status == TicketStatus.CLOSED:
            ticket.closed_at = at
            ticket.solved_at = ticket.solved_at or at
        else:
            ticket.solved_at = None

    def message(self, step: PastMessage) -> None:
        ticket = self.ticket
        body = step.body.strip()
        if not body or len(body) > MAX_BODY_CHARS:
            raise self.fail(f"a message must have 1 to {MAX_BODY_CHARS} characters")
        if ticket.status == TicketStatus.CLOSED:
            raise self.fail("a message comes after the ticket was closed")
        if step.internal and step.agent is None:
            raise self.fail("only agents write internal notes")
        ticket.last_seq += 1
        seq = ticket.last_seq
        kind = AuthorKind.CUSTOMER if step.agent is None else AuthorKind.AGENT
        self.messages.append(
            Message(
                ticket=ticket,
                seq=seq,
                author_kind=kind,
                author_agent=step.agent,
                internal=step.internal,
                body=body,
                created_at=step.at,
            )
        )
        if step.agent is None:
            self.event(EventKind.MESSAGE, at=step.at, seq=seq)
            if ticket.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
                self.status(TicketStatus.OPEN, actor=None, at=step.at, reason="customer replied")
        elif step.internal:
            self.event(EventKind.NOTE, actor=step.agent, at=step.at, seq=seq)
        else:
            self.event(EventKind.REPLIED, actor=step.agent, at=step.at, seq=seq)
            if ticket.first_response_at is None:
                ticket.first_response_at = step.at
                seconds = int((step.at - ticket.created_at).total_seconds())
                self.event(EventKind.FIRST_RESPONSE, actor=step.agent, at=step.at, seq=seq, seconds=seconds)
            if ticket.status == TicketStatus.NEW:
                self.status(TicketStatus.OPEN, actor=step.agent, at=step.at, reason="agent replied")

    def assign(self, step: PastAssignment) -> None:
        ticket = self.ticket
        team = step.team or ticket.team
        assignee = step.assignee
        if assignee is not None and not (assignee.is_manager or team.pk in self.memberships[assignee.pk]):
            raise self.fail(f"{assignee.display_name} is not in the {team.name} team")
        if team.pk != ticket.team_id:
            self.event(EventKind.TEAM_CHANGED, actor=step.actor, at=step.at, old=ticket.team.slug, new=team.slug)
            ticket.team = team
        new = assignee.pk if assignee else None
        if new != ticket.assignee_id:
            self.event(
                EventKind.ASSIGNED,
                actor=step.actor,
                at=step.at,
                old=ticket.assignee_id,
                new=new,
                name=assignee.display_name if assignee else "",
            )
            ticket.assignee = assignee

    def set_status(self, step: PastStatus) -> None:
        if self.ticket.status == step.status:
            return
        if self.ticket.status == TicketStatus.CLOSED:
            raise self.fail("a closed ticket cannot change status")
        self.status(step.status, actor=step.actor, at=step.at, reason="set by agent")


def _replay(past: PastTicket, memberships: dict[int, set[int]]) -> _Replay:
    if not past.steps:
        raise HistoryError(f"{past.subject!r}: a ticket needs its opening message")
    first = past.steps[0]
    if not isinstance(first, PastMessage) or first.agent is not None:
        raise HistoryError(f"{past.subject!r}: the first step must be the customer's message")
    if past.order is not None and past.order.customer_id != past.customer.pk:
        raise HistoryError(f"{past.subject!r}: that order belongs to another customer")
    ticket = Ticket(
        customer=past.customer,
        order=past.order,
        subject=past.subject.strip()[:200],
        channel=past.channel,
        team=past.team,
        created_at=first.at,
        updated_at=first.at,
    )
    replay = _Replay(ticket=ticket, memberships=memberships)
    replay.open(past, first)
    previous = first.at
    for step in past.steps[1:]:
        if step.at < previous:
            raise replay.fail("steps are not in time order")
        previous = step.at
        if isinstance(step, PastMessage):
            replay.message(step)
        elif isinstance(step, PastAssignment):
            replay.assign(step)
        else:
            replay.set_status(step)
    ticket.updated_at = previous
    return replay


def ticket_history_import(*, tickets: Sequence[PastTicket]) -> list[Ticket]:
    """Store past tickets with their messages and events. All or nothing:
    a ticket that breaks a service rule raises HistoryError before any write."""
    agent_ids = {
        step.assignee.pk
        for past in tickets
        for step in past.steps
        if isinstance(step, PastAssignment) and step.assignee is not None
    }
    memberships: dict[int, set[int]] = defaultdict(set)
    for agent_id, team_id in Agent.teams.through.objects.filter(agent_id__in=agent_ids).values_list(
        "agent_id", "team_id"
    ):
        memberships[agent_id].add(team_id)

    replays = [_replay(past, memberships) for past in tickets]
    with transaction.atomic():
        # The tickets get their keys here; the messages and events built
        # against them pick the keys up when they are inserted.
        stored = Ticket.objects.bulk_create([r.ticket for r in replays])
        Message.objects.bulk_create([m for r in replays for m in r.messages])
        TicketEvent.objects.bulk_create([e for r in replays for e in r.events])
    return stored
