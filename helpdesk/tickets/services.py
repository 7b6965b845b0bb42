"""Every write to tickets. Each function is one transaction that changes the
rows and appends the matching TicketEvent; callers check visibility first
(helpdesk.tickets.selectors) and pass objects the actor may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from helpdesk.customers.models import Customer, Order
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
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
from helpdesk.tickets.notify import notify_on_commit
from helpdesk.tickets.tasks import reply_email_send

DEFAULT_TEAM_SLUG = "general"
MAX_BODY_CHARS = 20_000


@dataclass(frozen=True)
class PostedMessage:
    message: Message
    created: bool  # False when a retry with a known client id returned the original


def _event(ticket: Ticket, kind: EventKind, *, actor: Agent | None = None, at: datetime, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at)


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["A message cannot be empty."]})
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError({"body": [f"A message can have at most {MAX_BODY_CHARS} characters."]})
    return body


def team_default() -> Team:
    team, _ = Team.objects.get_or_create(slug=DEFAULT_TEAM_SLUG, defaults={"name": "General"})
    return team


@transaction.atomic
def ticket_open(
    *,
    customer: Customer,
    subject: str,
    channel: TicketChannel,
    body: str,
    team: Team | None = None,
    order: Order | None = None,
    client_msg_id: str | None = None,
    claimed_order_number: str = "",
) -> Ticket:
    """Open a ticket with the customer's first message. ``claimed_order_number``
    is an order number the customer typed but that could not be matched to
    their orders; agents see it in the opening event."""
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": ["That order belongs to another customer."]})
    subject = subject.strip()[:200] or _clean_body(body)[:80]
    now = timezone.now()
    ticket = Ticket.objects.create(
        customer=customer,
        order=order,
        subject=subject,
        channel=channel,
        team=team or team_default(),
        created_at=now,
        updated_at=now,
    )
    data: dict[str, Any] = {"claimed_order_number": claimed_order_number} if claimed_order_number else {}
    _event(ticket, EventKind.OPENED, at=now, channel=channel, team=ticket.team.slug, **data)
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=body, client_msg_id=client_msg_id)
    return ticket


@transaction.atomic
def message_post(
    *,
    ticket: Ticket,
    author_kind: AuthorKind,
    body: str,
    agent: Agent | None = None,
    internal: bool = False,
    client_msg_id: str | None = None,
) -> PostedMessage:
    """Store one message under the ticket's row lock, so sequence numbers are
    gapless and a retry with the same client id returns the stored message.
    Clients hear of it once committed: as the opening of the ticket when it
    is the first message."""
    body = _clean_body(body)
    if (author_kind == AuthorKind.AGENT) != (agent is not None):
        raise ValueError("agent must be given exactly for agent messages")
    if internal and author_kind != AuthorKind.AGENT:
        raise ValidationError({"internal": ["Only agents write internal notes."]})
    locked = _lock(ticket)
    if client_msg_id:
        existing = Message.objects.filter(ticket=locked, client_msg_id=client_msg_id).first()
        if existing is not None:
            return PostedMessage(existing, created=False)
    if locked.status == TicketStatus.CLOSED:
        raise ValidationError({"ticket": ["This ticket is closed; start a new one."]})

    now = timezone.now()
    locked.last_seq += 1
    message = Message.objects.create(
        ticket=locked,
        seq=locked.last_seq,
        client_msg_id=client_msg_id or None,
        author_kind=author_kind,
        author_agent=agent,
        internal=internal,
        body=body,
        created_at=now,
    )
    locked.updated_at = now
    changed = ["last_seq", "updated_at"]
    if author_kind == AuthorKind.CUSTOMER:
        _event(locked, EventKind.MESSAGE, at=now, seq=message.seq)
        if locked.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
            _set_status(locked, TicketStatus.OPEN, actor=None, at=now, reason="customer replied")
            changed += ["status", "solved_at"]
    elif internal:
        _event(locked, EventKind.NOTE, actor=agent, at=now, seq=message.seq)
    elif author_kind == AuthorKind.AGENT:
        _event(locked, EventKind.REPLIED, actor=agent, at=now, seq=message.seq)
        if locked.first_response_at is None:
            locked.first_response_at = now
            changed.append("first_response_at")
            seconds = int((now - locked.created_at).total_seconds())
            _event(locked, EventKind.FIRST_RESPONSE, actor=agent, at=now, seq=message.seq, seconds=seconds)
        if locked.status == TicketStatus.NEW:
            _set_status(locked, TicketStatus.OPEN, actor=agent, at=now, reason="agent replied")
            changed += ["status", "solved_at"]
    locked.save(update_fields=changed)
    notify_on_commit(locked, "opened" if message.seq == 1 else "message", message=message)
    if locked.channel == TicketChannel.EMAIL and author_kind == AuthorKind.AGENT and not internal:
        # Enqueued in this transaction: the reply and its email stand or fall together.
        reply_email_send.enqueue(message_id=message.pk)
    # Keep the caller's object current.
    ticket.last_seq, ticket.updated_at, ticket.status = locked.last_seq, locked.updated_at, locked.status
    ticket.first_response_at = locked.first_response_at
    return PostedMessage(message, created=True)


def ticket_reply(*, ticket: Ticket, agent: Agent, body: str, client_msg_id: str | None = None) -> PostedMessage:
    return message_post(
        ticket=ticket, author_kind=AuthorKind.AGENT, agent=agent, body=body, client_msg_id=client_msg_id
    )


def ticket_note(*, ticket: Ticket, agent: Agent, body: str, client_msg_id: str | None = None) -> PostedMessage:
    return message_post(
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        agent=agent,
        body=body,
        internal=True,
        client_msg_id=client_msg_id,
    )


def _set_status(ticket: Ticket, status: TicketStatus, *, actor: Agent | None, at: datetime, reason: str) -> None:
    old = ticket.status
    ticket.status = status
    if status == TicketStatus.SOLVED:
        ticket.solved_at = at
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = at
        ticket.solved_at = ticket.solved_at or at
    else:
        ticket.solved_at = None
    _event(ticket, EventKind.STATUS_CHANGED, actor=actor, at=at, old=old, new=status, reason=reason)


def _lock(ticket: Ticket) -> Ticket:
    """The ticket's row, locked, with what events and notifications need."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "customer", "assignee__user")
        .get(pk=ticket.pk)
    )


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, actor: Agent, status: TicketStatus) -> Ticket:
    locked = _lock(ticket)
    if locked.status == status:
        return locked
    if locked.status == TicketStatus.CLOSED:
        raise ValidationError({"status": ["A closed ticket cannot change status."]})
    now = timezone.now()
    _set_status(locked, status, actor=actor, at=now, reason="set by agent")
    locked.updated_at = now
    locked.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
    notify_on_commit(locked, "status")
    return locked


def _change_field(
    ticket: Ticket,
    *,
    field: Literal["priority", "category"],
    value: str,
    kind: EventKind,
    actor: Agent | None,
    reason: str,
) -> Ticket:
    """Set one field under the ticket's row lock and log old and new; no-op when unchanged."""
    locked = _lock(ticket)
    old = getattr(locked, field)
    if old == value:
        return locked
    now = timezone.now()
    _event(locked, kind, actor=actor, at=now, old=old, new=value, reason=reason)
    setattr(locked, field, value)
    locked.updated_at = now
    locked.save(update_fields=[field, "updated_at"])
    notify_on_commit(locked, field)
    return locked


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, actor: Agent | None, priority: TicketPriority, reason: str) -> Ticket:
    return _change_field(
        ticket, field="priority", value=priority, kind=EventKind.PRIORITY_CHANGED, actor=actor, reason=reason
    )


@transaction.atomic
def ticket_set_category(*, ticket: Ticket, actor: Agent | None, category: TicketCategory, reason: str) -> Ticket:
    return _change_field(
        ticket, field="category", value=category, kind=EventKind.CATEGORY_CHANGED, actor=actor, reason=reason
    )


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: Agent | None, assignee: Agent | None, team: Team | None = None) -> Ticket:
    """Move the ticket to ``team`` (default: keep its team) and give it to
    ``assignee`` (None: back to the team queue). The assignee must belong to
    the team, or be a manager."""
    locked = _lock(ticket)
    old_team, old_assignee = locked.team_id, locked.assignee_id
    target_team = team or locked.team
    if assignee is not None and not (assignee.is_manager or assignee.teams.filter(pk=target_team.pk).exists()):
        raise ValidationError({"assignee": [f"{assignee.display_name} is not in the {target_team.name} team."]})
    now = timezone.now()
    changed = []
    if target_team.pk != locked.team_id:
        _event(locked, EventKind.TEAM_CHANGED, actor=actor, at=now, old=locked.team.slug, new=target_team.slug)
        locked.team = target_team
        changed.append("team")
    if (assignee.pk if assignee else None) != locked.assignee_id:
        _event(
            locked,
            EventKind.ASSIGNED,
            actor=actor,
            at=now,
            old=locked.assignee_id,
            new=assignee.pk if assignee else None,
            name=assignee.display_name if assignee else "",
        )
        locked.assignee = assignee
        changed.append("assignee")
    if changed:
        locked.updated_at = now
        locked.save(update_fields=[*changed, "updated_at"])
        notify_on_commit(
            locked, "assigned", also_teams=(old_team,), also_agents=(old_assignee,) if old_assignee else ()
        )
    return locked


Reader = Literal["customer", "agent"]


def ticket_mark_seen(*, ticket: Ticket, reader: Reader, seq: int, read: bool) -> bool:
    """Record that the customer's widget received (``read`` False) or showed
    messages up to ``seq``, or that an agent read them. Marks only move
    forward and never past the last message; returns whether one moved."""
    if reader == "agent":
        fields = ["agent_read_seq"]
    else:
        fields = ["customer_delivered_seq", "customer_read_seq"] if read else ["customer_delivered_seq"]
    target = Least(Value(max(0, seq)), F("last_seq"))
    behind = reduce(or_, (Q(**{f"{field}__lt": target}) for field in fields))
    with transaction.atomic():
        moved = Ticket.objects.filter(behind, pk=ticket.pk).update(
            **{field: Greatest(F(field), target) for field in fields}
        )
        if moved:
            fresh = Ticket.objects.select_related("team", "customer", "assignee__user").get(pk=ticket.pk)
            for field in fields:
                setattr(ticket, field, getattr(fresh, field))
            notify_on_commit(fresh, "receipt")
    return bool(moved)


def agent_seen(*, agent: Agent, status: AgentStatus | None = None) -> Agent:
    """The agent's desk is open (a websocket heartbeat); ``status`` also sets
    online or away. Availability for customers reads both."""
    now = timezone.now()
    fields: dict[str, Any] = {"last_seen_at": now}
    if status is not None and status != agent.status:
        fields.update(status=status, status_changed_at=now)
    Agent.objects.filter(pk=agent.pk).update(**fields)
    for name, value in fields.items():
        setattr(agent, name, value)
    return agent
