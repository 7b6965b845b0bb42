"""Sentiment tags on customer messages, and what they do to the ticket.

Storing a customer message enqueues ``messages_tag`` (helpdesk.tickets.tasks)
in the same transaction; the worker claims waiting messages in batches, runs
the model (sentiment.adapter) outside any transaction, and stores each tag
with the ticket's new mood under the ticket's lock. A confidently negative
message raises the ticket's priority one step and asks for the team lead's
attention, once per ticket; a conversation that turns from negative to
positive is marked recovered. Agents may correct a tag; the model's stays.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    AuthorKind,
    EventKind,
    Message,
    SentimentLabel,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit
from helpdesk.tickets.routing_services import sentiment_rules_exist, ticket_route_tagged
from sentiment import mood
from sentiment.adapter import SentimentResult, SentimentUnavailable, sentiment_model

PRIORITY_STEPS = list(TicketPriority.values)  # low, normal, high, urgent
FINISHED = (TicketStatus.SOLVED, TicketStatus.CLOSED)


@dataclass(frozen=True)
class TagRun:
    tagged: int
    failed: str = ""  # why the model could not run, when it could not


def _waiting(now: datetime) -> Q:
    """Customer messages not tagged yet and not in a live worker's batch."""
    stale = now - timedelta(seconds=settings.SENTIMENT_CLAIM_SECONDS)
    return Q(author_kind=AuthorKind.CUSTOMER, sentiment_tagged_at__isnull=True) & (
        Q(sentiment_claimed_at__isnull=True) | Q(sentiment_claimed_at__lt=stale)
    )


def messages_claim(*, limit: int, now: datetime | None = None) -> list[Message]:
    """Take up to ``limit`` waiting messages, oldest first, for this worker:
    rows another worker is claiming are skipped, and a claim older than
    SENTIMENT_CLAIM_SECONDS (a worker that died) is taken over."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(_waiting(now))
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=ids).update(sentiment_claimed_at=now)
    return list(Message.objects.filter(pk__in=ids).only("id", "ticket_id", "seq", "body").order_by("created_at", "id"))


def messages_tag_batch(*, limit: int | None = None) -> TagRun:
    """Tag one batch of waiting messages. The model runs outside any
    transaction; each ticket's tags are then stored under its lock."""
    batch = messages_claim(limit=limit or settings.SENTIMENT_BATCH_SIZE)
    if not batch:
        return TagRun(0)
    try:
        results = sentiment_model().predict([message.body for message in batch])
    except SentimentUnavailable as error:
        # Left waiting, with the reason: a later run (or a fixed model) tags them.
        Message.objects.filter(pk__in=[m.pk for m in batch]).update(
            sentiment_claimed_at=None, sentiment_error=error.reason[:300]
        )
        return TagRun(0, failed=error.reason)
    _store(list(zip(batch, results, strict=True)))
    return TagRun(len(batch))


def _tags_write(messages: list[Message]) -> None:
    """One statement sent many times in a pipeline: bulk_update's CASE
    expressions cost more to build in Python than the model takes to tag."""
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET sentiment = %s, sentiment_confidence = %s, sentiment_model = %s, "  # noqa: S608
            "sentiment_tagged_at = %s, sentiment_claimed_at = NULL, sentiment_error = '' WHERE id = %s",
            [
                (
                    m.sentiment,
                    m.sentiment_confidence,
                    m.sentiment_model,
                    connection.ops.adapt_datetimefield_value(m.sentiment_tagged_at),
                    m.pk,
                )
                for m in messages
            ],
        )


@transaction.atomic
def _store(tagged: list[tuple[Message, SentimentResult]]) -> None:
    """Store a batch's tags and their tickets' moods in one transaction, the
    tickets locked in id order (as every writer of several tickets does).
    A batch touches dozens of tickets: their events go in one INSERT and
    their notifications in one trip after commit (notify's outbox)."""
    now = timezone.now()
    by_ticket: dict[int, list[SentimentResult]] = defaultdict(list)
    for message, result in tagged:
        message.sentiment = result.label
        message.sentiment_confidence = round(result.confidence, 4)
        message.sentiment_model = f"{result.model_name} {result.model_version}".strip()[:120]
        message.sentiment_tagged_at, message.sentiment_claimed_at, message.sentiment_error = now, None, ""
        by_ticket[message.ticket_id].append(result)
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=by_ticket)
        .order_by("pk")
        .select_related("team", "customer", "assignee__user")  # the notifications name them
    )
    _tags_write([message for message, _ in tagged])
    scores = _scores_by_ticket([t.pk for t in tickets])
    threshold = settings.SENTIMENT_ESCALATE_CONFIDENCE
    opening = {m.ticket_id: m for m, _ in tagged if m.seq == 1}
    # Rules that ask for a sentiment route a new chat once its opening message is tagged.
    route = bool(opening) and sentiment_rules_exist()
    events: list[TicketEvent] = []
    for ticket in tickets:
        fields = _mood_update(ticket, scores.get(ticket.pk, []), now=now, events=events)
        if route and ticket.pk in opening:
            ticket_route_tagged(ticket=ticket, text=f"{ticket.subject}\n{opening[ticket.pk].body}", now=now)
        negative = [
            r.confidence
            for r in by_ticket[ticket.pk]
            if mood.confidently_negative(r.label, r.confidence, threshold=threshold)
        ]
        # A finished conversation (history tagged late) has nobody left to escalate to.
        if negative and ticket.sentiment_escalated_at is None and ticket.status not in FINISHED:
            _escalate(ticket, confidence=max(negative), now=now, events=events)
            fields.append("sentiment_escalated_at")
        ticket.save(update_fields=fields)
        notify_on_commit(ticket, "sentiment")
    TicketEvent.objects.bulk_create(events)


def _effective(message: Message) -> tuple[str, float]:
    """An agent's correction counts as a certain tag."""
    if message.sentiment_corrected:
        return message.sentiment_corrected, 1.0
    return message.sentiment, message.sentiment_confidence or 0.0


def _scores_by_ticket(ticket_ids: list[int]) -> dict[int, list[float]]:
    """The signed scores of each ticket's tagged (or corrected) customer messages, oldest first."""
    rows = (
        Message.objects.filter(ticket_id__in=ticket_ids, author_kind=AuthorKind.CUSTOMER)
        .filter(Q(sentiment_tagged_at__isnull=False) | ~Q(sentiment_corrected=""))
        .order_by("ticket_id", "seq")
        .only("ticket_id", "sentiment", "sentiment_confidence", "sentiment_corrected")
    )
    scores: dict[int, list[float]] = defaultdict(list)
    for message in rows:
        scores[message.ticket_id].append(mood.score(*_effective(message)))
    return scores


def _mood_update(ticket: Ticket, scores: list[float], *, now: datetime, events: list[TicketEvent]) -> list[str]:
    """Set the ticket's mood and trend from its messages' scores, adding the
    events of a change to ``events``; returns the fields to save."""
    previous = ticket.sentiment
    current = mood.mood_score(scores)
    ticket.sentiment_first_score = scores[0] if scores else None
    ticket.sentiment_score = current
    ticket.sentiment = mood.mood_label(current)
    ticket.sentiment_trend = mood.trend(ticket.sentiment_first_score, current) if len(scores) > 1 else ""
    fields = ["sentiment", "sentiment_score", "sentiment_first_score", "sentiment_trend"]
    was_negative = any(mood.mood_label(mood.mood_score(scores[: i + 1])) == mood.NEGATIVE for i in range(len(scores)))
    if ticket.sentiment_recovered_at is None and mood.recovered(
        previous, ticket.sentiment, was_ever_negative=was_negative
    ):
        ticket.sentiment_recovered_at = now
        fields.append("sentiment_recovered_at")
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=EventKind.RECOVERED,
                created_at=now,
                data={"reason": "the customer's mood turned from negative to positive"},
            )
        )
    if ticket.sentiment != previous:
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=EventKind.SENTIMENT_CHANGED,
                created_at=now,
                data={
                    "old": previous,
                    "new": ticket.sentiment,
                    "score": round(current or 0.0, 3),
                    "trend": ticket.sentiment_trend,
                },
            )
        )
    return fields


def _escalate(ticket: Ticket, *, confidence: float, now: datetime, events: list[TicketEvent]) -> None:
    """Raise the priority one step and ask the team's leads to look, once per
    ticket. The caller saves sentiment_escalated_at with the mood."""
    # Imported here: services imports this module.
    from helpdesk.tickets.services import ticket_set_priority

    ticket.sentiment_escalated_at = now
    reason = f"a confidently negative customer message ({confidence:.0%})"
    step = PRIORITY_STEPS.index(ticket.priority) if ticket.priority in PRIORITY_STEPS else 1
    if step + 1 < len(PRIORITY_STEPS):
        raised = ticket_set_priority(
            ticket=ticket, actor=None, priority=TicketPriority(PRIORITY_STEPS[step + 1]), reason=reason
        )
        # The service changed its own copy: later events about this ticket must carry the new values.
        for field in ("priority", "updated_at", "sla_due_at", "sla_breached_at"):
            setattr(ticket, field, getattr(raised, field))
    leads = tuple(Agent.objects.filter(role=AgentRole.TEAM_LEAD, teams=ticket.team_id).values_list("pk", flat=True))
    events.append(
        TicketEvent(
            ticket=ticket, kind=EventKind.ESCALATED, created_at=now, data={"reason": reason, "leads": list(leads)}
        )
    )
    notify_on_commit(ticket, "escalated", also_agents=leads)


@transaction.atomic
def message_sentiment_correct(*, message: Message, agent: Agent, label: SentimentLabel) -> Message:
    """An agent's correction of a customer message's tag: stored beside the
    model's, logged, and counted in the ticket's mood from now on.
    Precondition: the agent may see the message's ticket."""
    if message.author_kind != AuthorKind.CUSTOMER:
        raise ValidationError({"message": ["Only customer messages carry a sentiment."]})
    ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=message.ticket_id)
    now = timezone.now()
    old = message.sentiment_corrected or message.sentiment
    Message.objects.filter(pk=message.pk).update(
        sentiment_corrected=label, sentiment_corrected_by=agent, sentiment_corrected_at=now
    )
    message.sentiment_corrected, message.sentiment_corrected_by, message.sentiment_corrected_at = label, agent, now
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.SENTIMENT_CORRECTED,
        actor=agent,
        created_at=now,
        data={"seq": message.seq, "model": message.sentiment, "old": old, "new": label},
    )
    events: list[TicketEvent] = []
    ticket.save(
        update_fields=_mood_update(ticket, _scores_by_ticket([ticket.pk]).get(ticket.pk, []), now=now, events=events)
    )
    TicketEvent.objects.bulk_create(events)
    notify_on_commit(ticket, "sentiment")
    return message


# The sweeper queues a tagging run when a message has waited this long.
SWEEP_WAIT_SECONDS = 30


def sentiment_sweep(*, now: datetime) -> bool:
    """A safety net for the sweeper process: queue a tagging run when customer
    messages have waited unclaimed for SWEEP_WAIT_SECONDS (their run was lost,
    or the model was down and is back). Returns whether it queued one."""
    from helpdesk.tickets.tasks import messages_tag

    stale = now - timedelta(seconds=SWEEP_WAIT_SECONDS)
    if not Message.objects.filter(_waiting(now), created_at__lt=stale).exists():
        return False
    messages_tag.enqueue()
    return True
