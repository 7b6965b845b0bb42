"""Every write to tickets. Each function is one transaction that changes the
rows and appends the matching TicketEvent; callers check visibility first
(helpdesk.tickets.selectors) and pass objects the actor may see.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F, Q, Value, prefetch_related_objects
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from helpdesk.customers.models import Customer, Order
from helpdesk.tickets import attachments as files
from helpdesk.tickets.assignment_services import agent_presence_changed, assignment_ticket_changed
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
    Attachment,
    AuthorKind,
    EventKind,
    Message,
    Tag,
    Team,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketEvent,
    TicketPriority,
    TicketRead,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit
from helpdesk.tickets.routing_services import ticket_route
from helpdesk.tickets.sla_services import (
    sla_agent_replied,
    sla_status_changed,
    sla_ticket_opened,
    sla_ticket_reopened,
    sla_ticket_rescoped,
)
from helpdesk.tickets.tasks import messages_tag, reply_email_send

DEFAULT_TEAM_SLUG = "general"
MAX_BODY_CHARS = 20_000


@dataclass(frozen=True)
class PostedMessage:
    message: Message
    created: bool  # False when a retry with a known client id returned the original


class NewerMessagesError(Exception):
    """A public reply was refused: the customer wrote after what the agent's page showed."""

    def __init__(self, seqs: list[int]):
        super().__init__("The customer wrote again; read their new messages, then send again.")
        self.seqs = seqs


def _event(ticket: Ticket, kind: EventKind, *, actor: Agent | None = None, at: datetime, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at)


def _clean_body(body: str, *, allow_empty: bool = False) -> str:
    body = body.strip()
    if not body and not allow_empty:
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
    """Open a ticket with the customer's first message. Without a ``team`` the
    routing rules place it (helpdesk.tickets.routing_services). ``claimed_order_number``
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
    if team is None:
        # Routed before the first message, whose notification then reaches the right team.
        ticket_route(ticket=ticket, text=f"{subject}\n{body}", trigger="opened", now=now)
    sla_ticket_opened(ticket=ticket, at=now)
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=body, client_msg_id=client_msg_id)
    assignment_ticket_changed(ticket=ticket)  # new and unassigned: its team's queue drains
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
    attachments: Sequence[int] = (),
    seen_seq: int | None = None,
) -> PostedMessage:
    """Store one message under the ticket's row lock, so sequence numbers are
    gapless and a retry with the same client id returns the stored message.
    Clients hear of it once committed: as the opening of the ticket when it
    is the first message.

    ``attachments`` are ids of files the same author uploaded to this ticket
    and has not sent yet; they are bound to the message or nothing is stored.
    A message may be only attachments. ``seen_seq``, for an agent's public
    reply, is the newest seq their page showed: a customer message after it
    refuses the reply (NewerMessagesError), so replies do not cross."""
    if len(attachments) > settings.ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(
            {"attachments": [f"A message can carry at most {settings.ATTACHMENTS_PER_MESSAGE} files."]}
        )
    body = _clean_body(body, allow_empty=bool(attachments))
    if (author_kind == AuthorKind.AGENT) != (agent is not None):
        raise ValueError("agent must be given exactly for agent messages")
    if internal and author_kind != AuthorKind.AGENT:
        raise ValidationError({"internal": ["Only agents write internal notes."]})
    locked = _lock(ticket)
    if client_msg_id:
        existing = Message.objects.filter(ticket=locked, client_msg_id=client_msg_id).first()
        if existing is not None:
            return PostedMessage(existing, created=False)
    if locked.merged_into_id is not None and author_kind == AuthorKind.CUSTOMER:
        # Merged (ticket_merge): the customer's conversation continues on the target.
        return message_post(
            ticket=Ticket(pk=locked.merged_into_id),
            author_kind=author_kind,
            body=body,
            client_msg_id=client_msg_id,
            attachments=attachments,
        )
    if locked.status == TicketStatus.CLOSED:
        raise ValidationError({"ticket": ["This ticket is closed; start a new one."]})
    if seen_seq is not None and author_kind == AuthorKind.AGENT and not internal:
        newer = list(
            Message.objects.filter(
                ticket=locked, author_kind=AuthorKind.CUSTOMER, internal=False, seq__gt=seen_seq
            ).values_list("seq", flat=True)
        )
        if newer:
            raise NewerMessagesError(sorted(newer))
    files_to_bind = _unsent_attachments(locked, ids=attachments, author_kind=author_kind, agent=agent)

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
    if files_to_bind:
        Attachment.objects.filter(pk__in=[a.pk for a in files_to_bind]).update(message=message)
    prefetch_related_objects([message], "attachments")  # the notification carries them
    locked.updated_at = now
    changed = ["last_seq", "updated_at"]
    if author_kind == AuthorKind.CUSTOMER:
        _event(locked, EventKind.MESSAGE, at=now, seq=message.seq)
        messages_tag.enqueue()  # in this transaction: a stored message is always tagged
        if locked.status in (TicketStatus.PENDING, TicketStatus.SOLVED):
            reopened = locked.status == TicketStatus.SOLVED
            _set_status(locked, TicketStatus.OPEN, actor=None, at=now, reason="customer replied")
            changed += ["status", "solved_at"]
            if reopened:
                ticket_route(ticket=locked, text=body, trigger="reopened", now=now)
                sla_ticket_reopened(ticket=locked, at=now)
                from surveys.services import survey_cancel_for_reopened  # here: surveys import ticket services

                survey_cancel_for_reopened(ticket=locked)  # its pending survey can no longer be answered
            assignment_ticket_changed(ticket=locked)  # unassigned, it waits in its team's queue again
    elif internal:
        _event(locked, EventKind.NOTE, actor=agent, at=now, seq=message.seq)
    elif author_kind == AuthorKind.AGENT:
        _event(locked, EventKind.REPLIED, actor=agent, at=now, seq=message.seq)
        sla_agent_replied(ticket=locked, at=now)
        if locked.first_response_at is None:
            locked.first_response_at = now
            changed.append("first_response_at")
            seconds = int((now - locked.created_at).total_seconds())
            _event(locked, EventKind.FIRST_RESPONSE, actor=agent, at=now, seq=message.seq, seconds=seconds)
        if locked.status == TicketStatus.NEW:
            _set_status(locked, TicketStatus.OPEN, actor=agent, at=now, reason="agent replied")
            changed += ["status", "solved_at"]
    locked.save(update_fields=changed)
    if agent is not None:
        ticket_read(agent=agent, ticket=locked, seq=message.seq)  # one's own message is read
    notify_on_commit(locked, "opened" if message.seq == 1 else "message", message=message)
    if locked.channel == TicketChannel.EMAIL and author_kind == AuthorKind.AGENT and not internal:
        # Enqueued in this transaction: the reply and its email stand or fall together.
        reply_email_send.enqueue(message_id=message.pk)
    # Keep the caller's object current.
    ticket.last_seq, ticket.updated_at, ticket.status = locked.last_seq, locked.updated_at, locked.status
    ticket.first_response_at = locked.first_response_at
    return PostedMessage(message, created=True)


def ticket_reply(
    *,
    ticket: Ticket,
    agent: Agent,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[int] = (),
    seen_seq: int | None = None,
) -> PostedMessage:
    return message_post(
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        agent=agent,
        body=body,
        client_msg_id=client_msg_id,
        attachments=attachments,
        seen_seq=seen_seq,
    )


def ticket_note(
    *,
    ticket: Ticket,
    agent: Agent,
    body: str,
    client_msg_id: str | None = None,
    attachments: Sequence[int] = (),
    seen_seq: int | None = None,
) -> PostedMessage:
    """``seen_seq`` is accepted and ignored: notes never wait for the customer."""
    return message_post(
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        agent=agent,
        body=body,
        internal=True,
        client_msg_id=client_msg_id,
        attachments=attachments,
    )


def _unsent_attachments(
    ticket: Ticket, *, ids: Sequence[int], author_kind: AuthorKind, agent: Agent | None
) -> list[Attachment]:
    """The attachments ``ids``, locked, when every one was uploaded to this
    ticket by this author and is not part of a message yet; else a
    ValidationError on ``attachments``. The caller holds the ticket's lock."""
    wanted = set(ids)
    if not wanted:
        return []
    rows = list(
        Attachment.objects.select_for_update()
        .filter(pk__in=wanted, ticket=ticket, author_kind=author_kind, author_agent=agent, message__isnull=True)
        .order_by("id")
    )
    if len(rows) != len(wanted):
        raise ValidationError(
            {"attachments": ["Some files cannot be sent with this message: upload them to this conversation again."]}
        )
    return rows


# Uploads not sent within this long may be deleted (attachments_prune).
UNSENT_KEEP = timedelta(days=1)
# An author may hold this many times ATTACHMENTS_PER_MESSAGE unsent uploads on one ticket.
UNSENT_FACTOR = 4


def attachment_upload(
    *, ticket: Ticket, author_kind: AuthorKind, upload: UploadedFile, agent: Agent | None = None
) -> Attachment:
    """Store a file for a message the author is about to send. Its type is
    sniffed from its content; its stored name is random (see the model)."""
    if (author_kind == AuthorKind.AGENT) != (agent is not None):
        raise ValueError("agent must be given exactly for agent uploads")
    size = upload.size or 0
    limit = settings.ATTACHMENT_MAX_BYTES
    if size <= 0:
        raise ValidationError({"file": ["The file is empty."]})
    if size > limit:
        raise ValidationError({"file": [f"A file can have at most {_megabytes(limit)}."]})
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError({"ticket": ["This ticket is closed; start a new one."]})
    unsent = Attachment.objects.filter(
        ticket=ticket,
        author_kind=author_kind,
        author_agent=agent,
        message__isnull=True,
        created_at__gte=timezone.now() - UNSENT_KEEP,
    ).count()
    if unsent >= settings.ATTACHMENTS_PER_MESSAGE * UNSENT_FACTOR:
        raise ValidationError({"file": ["Too many files are waiting to be sent; send or remove some first."]})
    upload.seek(0)
    head = upload.read(files.SNIFF_BYTES)
    upload.seek(0)
    return Attachment.objects.create(
        ticket=ticket,
        author_kind=author_kind,
        author_agent=agent,
        file=upload,
        name=files.clean_name(upload.name or ""),
        content_type=files.sniff_content_type(head),
        size=size,
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def attachments_prune(*, older_than: timedelta = UNSENT_KEEP) -> int:
    """Delete uploads never sent with a message, and their files; returns how many."""
    stale = list(Attachment.objects.filter(message__isnull=True, created_at__lt=timezone.now() - older_than))
    for item in stale:
        item.file.delete(save=False)
    Attachment.objects.filter(pk__in=[a.pk for a in stale]).delete()
    return len(stale)


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
    sla_status_changed(ticket=ticket, old=old, new=status, at=at)


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
    reopened = locked.status == TicketStatus.SOLVED and status != TicketStatus.CLOSED
    _set_status(locked, status, actor=actor, at=now, reason="set by agent")
    locked.updated_at = now
    locked.save(update_fields=["status", "solved_at", "closed_at", "updated_at"])
    if status == TicketStatus.SOLVED:
        from surveys.services import survey_on_solved  # here: surveys import ticket services

        survey_on_solved(ticket=locked)  # a survey by policy, in this transaction
    elif reopened:
        from surveys.services import survey_cancel_for_reopened

        survey_cancel_for_reopened(ticket=locked)
    notify_on_commit(locked, "status")
    assignment_ticket_changed(ticket=locked, old_assignee_id=locked.assignee_id)  # may free a chat
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
    if field == "priority":
        sla_ticket_rescoped(ticket=locked, at=now)  # targets depend on the priority
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
        if "team" in changed:
            sla_ticket_rescoped(ticket=locked, at=now)  # the team's policy and calendar apply
        notify_on_commit(
            locked, "assigned", also_teams=(old_team,), also_agents=(old_assignee,) if old_assignee else ()
        )
        assignment_ticket_changed(ticket=locked, old_assignee_id=old_assignee)
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


@transaction.atomic
def agent_seen(*, agent: Agent, status: AgentStatus | None = None) -> Agent:
    """The agent's desk is open (a websocket heartbeat); ``status`` also sets
    online, away or offline. Availability for customers reads both. A
    heartbeat from an agent the offline sweep set offline brings them back
    online: their desk is open after all. Coming online drains their teams'
    queues; going away or offline hands their open chats back
    (assignment_services.agent_presence_changed)."""
    now = timezone.now()
    was_status, was_seen_at = (
        Agent.objects.select_for_update(no_key=True).values_list("status", "last_seen_at").get(pk=agent.pk)
    )
    if status is None and was_status == AgentStatus.OFFLINE:
        status = AgentStatus.ONLINE
    fields: dict[str, Any] = {"last_seen_at": now, "status": was_status}
    if status is not None and status != was_status:
        fields.update(status=status, status_changed_at=now)
    Agent.objects.filter(pk=agent.pk).update(**fields)
    for name, value in fields.items():
        setattr(agent, name, value)
    agent_presence_changed(agent=agent, was_status=was_status, was_seen_at=was_seen_at, now=now)
    return agent


# Tags, the linked order and merges: the ticket page's side box.

MAX_TAGS = 20
MAX_TAG_CHARS = 40
TAG_PATTERN = re.compile(r"^[\w-]+$")
# The merged conversation copied into the target's note stops short of the body limit.
MERGE_NOTE_CHARS = MAX_BODY_CHARS - 500


def tags_normalise(names: list[str]) -> list[str]:
    """Lower case, trimmed, unique, in the given order; raises ValidationError
    (field ``tags``) naming each bad tag: letters, digits, - and _ only."""
    clean: list[str] = []
    errors: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if len(name) > MAX_TAG_CHARS:
            errors.append(f"“{name[:20]}…” is longer than {MAX_TAG_CHARS} characters.")
        elif not TAG_PATTERN.fullmatch(name):
            errors.append(f"“{name}” may hold letters, digits, - and _ only.")
        elif name not in clean:
            clean.append(name)
    if len(clean) > MAX_TAGS:
        errors.append(f"A ticket can have at most {MAX_TAGS} tags.")
    if errors:
        raise ValidationError({"tags": errors})
    return clean


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, actor: Agent | None, tags: list[str]) -> Ticket:
    """Replace the ticket's tags with ``tags`` (normalised, see tags_normalise),
    creating Tag rows as needed; logs what was added and removed."""
    wanted = tags_normalise(tags)
    locked = _lock(ticket)
    current = set(locked.tags.values_list("name", flat=True))
    added = [name for name in wanted if name not in current]
    removed = sorted(current - set(wanted))
    if not added and not removed:
        return locked
    if added:
        Tag.objects.bulk_create([Tag(name=name) for name in added], ignore_conflicts=True)
    locked.tags.set(Tag.objects.filter(name__in=wanted))
    now = timezone.now()
    _event(locked, EventKind.TAGS_CHANGED, actor=actor, at=now, added=added, removed=removed)
    locked.updated_at = now
    locked.save(update_fields=["updated_at"])
    notify_on_commit(locked, "tags")
    return locked


@transaction.atomic
def ticket_link_order(*, ticket: Ticket, actor: Agent | None, order: Order | None) -> Ticket:
    """Say which of the customer's orders the ticket is about (None: none)."""
    locked = _lock(ticket)
    if order is not None and order.customer_id != locked.customer_id:
        raise ValidationError({"order": ["That order belongs to another customer."]})
    if (order.pk if order else None) == locked.order_id:
        return locked
    old = Order.objects.filter(pk=locked.order_id).values_list("number", flat=True).first() if locked.order_id else None
    now = timezone.now()
    _event(locked, EventKind.ORDER_LINKED, actor=actor, at=now, number=order.number if order else None, old=old)
    locked.order = order
    locked.updated_at = now
    locked.save(update_fields=["order", "updated_at"])
    notify_on_commit(locked, "order")
    return locked


def _quoted(messages: list[Message], customer_name: str) -> str:
    lines: list[str] = []
    for message in messages:
        if message.author_kind == AuthorKind.CUSTOMER:
            who = customer_name or "Customer"
        elif message.author_agent is not None:
            who = message.author_agent.display_name
        else:
            who = "System"
        note = " (internal note)" if message.internal else ""
        when = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{who}{note}, {when}:")
        lines.extend("> " + line for line in message.body.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).strip()


def merge_note_text(*, source: Ticket, messages: list[Message]) -> str:
    """The internal note that carries a merged ticket's conversation over."""
    head = f"Merged from #{source.pk} “{source.subject}”:\n\n"
    text = _quoted(messages, source.customer.name)
    if len(head) + len(text) > MERGE_NOTE_CHARS:
        text = text[: MERGE_NOTE_CHARS - len(head)] + f"\n… (shortened; the whole conversation is on #{source.pk})"
    return head + text


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor: Agent) -> Ticket:
    """Merge ``source`` into ``target``, both of one customer and both visible
    to ``actor`` (the caller checks): the source is closed and points at the
    target, where the customer's later messages go; the target gets an
    internal note quoting the source's conversation. Locks both rows in id
    order. Returns the locked source."""
    if source.pk == target.pk:
        raise ValidationError({"into": ["A ticket cannot be merged into itself."]})
    first, second = sorted((source, target), key=lambda t: t.pk)
    locked = {first.pk: _lock(first), second.pk: _lock(second)}
    src, dst = locked[source.pk], locked[target.pk]
    if src.customer_id != dst.customer_id:
        raise ValidationError({"into": ["Only tickets of the same customer can be merged."]})
    if src.merged_into_id is not None:
        raise ValidationError({"into": [f"This ticket was already merged into #{src.merged_into_id}."]})
    if dst.merged_into_id is not None:
        raise ValidationError({"into": [f"#{dst.pk} was itself merged into #{dst.merged_into_id}."]})
    if dst.status == TicketStatus.CLOSED:
        raise ValidationError({"into": [f"#{dst.pk} is closed."]})
    now = timezone.now()
    messages = list(src.messages.select_related("author_agent__user").order_by("seq"))
    src.merged_into = dst
    if src.status != TicketStatus.CLOSED:
        _set_status(src, TicketStatus.CLOSED, actor=actor, at=now, reason=f"merged into #{dst.pk}")
    src.updated_at = now
    src.save(update_fields=["merged_into", "status", "solved_at", "closed_at", "updated_at"])
    _event(src, EventKind.MERGED, actor=actor, at=now, into=dst.pk, into_subject=dst.subject)
    _event(dst, EventKind.MERGED, actor=actor, at=now, **{"from": src.pk, "from_subject": src.subject})
    notify_on_commit(src, "merged")
    notify_on_commit(dst, "merged")
    assignment_ticket_changed(ticket=src, old_assignee_id=src.assignee_id)  # a closed chat frees its agent
    message_post(
        ticket=dst,
        author_kind=AuthorKind.AGENT,
        agent=actor,
        internal=True,
        body=merge_note_text(source=src, messages=messages),
    )
    return src


def ticket_read(*, agent: Agent, ticket: Ticket, seq: int) -> bool:
    """The agent has read the ticket's messages up to ``seq`` (capped at its
    newest message): the ticket page was opened, a receipt came from the
    agent's tab, or the agent wrote a message. One upsert; the mark never
    moves back, so a late receipt from an old tab cannot unread anything.
    Returns whether the mark moved."""
    quote = connection.ops.quote_name
    reads, tickets = quote(TicketRead._meta.db_table), quote(Ticket._meta.db_table)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"  # SQLite's MIN(a, b) is scalar
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {reads} (agent_id, ticket_id, seq, read_at) "  # noqa: S608 (names from the models)
            f"SELECT %s, id, {least}(%s, last_seq), %s FROM {tickets} WHERE id = %s "
            "ON CONFLICT (agent_id, ticket_id) DO UPDATE SET seq = excluded.seq, read_at = excluded.read_at "
            f"WHERE {reads}.seq < excluded.seq",
            [agent.pk, max(0, seq), now, ticket.pk],
        )
        return cursor.rowcount > 0


# A sync touching more customers than this leaves the rest of their open
# tickets' panels to the next reload: the desk stays responsive during a bulk import.
CONTEXT_NOTIFY_LIMIT = 500


def customer_context_changed(*, customer_ids: Collection[int]) -> None:
    """The shop sync changed these customers or their orders: after commit,
    tell agents on their open tickets, whose customer panels then re-render."""
    if not customer_ids:
        return
    tickets = (
        Ticket.objects.filter(customer_id__in=customer_ids)
        .exclude(status=TicketStatus.CLOSED)
        .select_related("team", "customer", "assignee__user")
        .order_by("-updated_at")[:CONTEXT_NOTIFY_LIMIT]
    )
    for ticket in tickets:
        notify_on_commit(ticket, "context")
