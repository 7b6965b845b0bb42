"""SLA clocks of tickets: which policy applies; starting, pausing, resuming,
stopping and recomputing clocks; recording warnings and breaches exactly once.

The hooks (``sla_ticket_opened`` ... ``sla_ticket_rescoped``) are called by
helpdesk.tickets.services inside its transaction, with the ticket's row
locked; they write the clocks, their events and Ticket.sla_due_at /
sla_breached_at in that transaction. Due and warning times come from
helpdesk.tickets.sla_calendar (pure) applied to the stored start, pauses and
policy, so any process recomputes the same answer.

Durability: every start or recompute enqueues a warning task and a breach
task for the computed times (helpdesk.tickets.sla_tasks) in the same
transaction, so a clock and its timers commit together. The tasks and the
sweeper (``manage.py desk_sweep``) call ``sla_clock_warn`` / ``sla_clock_breach``,
which re-read the clock and act only through a conditional UPDATE: a task that
runs early (the due time moved), late, twice, or alongside the sweeper records
one warning and one breach.

Lock order, as in services: the ticket row first, then its clocks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    EventKind,
    SlaClock,
    SlaClockKind,
    SlaPolicy,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit
from helpdesk.tickets.sla_calendar import ALWAYS, Calendar, calendar_parse, due_at, warn_at
from helpdesk.tickets.sla_tasks import sla_breach, sla_warn

log = logging.getLogger(__name__)

# Used when no SlaPolicy row matches (the seeded "Default" was deleted): the
# desk's promise of a first response within ten minutes still holds.
DEFAULT_FIRST_RESPONSE_MINUTES = 10
DEFAULT_WARN_BEFORE_MINUTES = 2

_RESPONSE_KINDS = (SlaClockKind.FIRST_RESPONSE, SlaClockKind.NEXT_RESPONSE)
_PRIORITIES = list(TicketPriority.values)  # low to urgent
_BREACH_WHY = {
    SlaClockKind.FIRST_RESPONSE: "no public agent reply",
    SlaClockKind.NEXT_RESPONSE: "no public agent reply to the reopening message",
    SlaClockKind.RESOLUTION: "not solved",
}


# -- policies and calendars ------------------------------------------------------------


def sla_policy_for(*, team_id: int, priority: str) -> SlaPolicy:
    """The most specific policy: team and priority, then team, then priority,
    then the fallback with neither; an unsaved built-in default when no row matches."""
    candidates = SlaPolicy.objects.filter(
        Q(team_id=team_id) | Q(team__isnull=True), Q(priority=priority) | Q(priority="")
    )
    best = max(candidates, key=lambda p: (p.team_id is not None, p.priority != ""), default=None)
    if best is not None:
        return best
    return SlaPolicy(
        name="Built-in default",
        first_response_minutes=DEFAULT_FIRST_RESPONSE_MINUTES,
        warn_before_minutes=DEFAULT_WARN_BEFORE_MINUTES,
    )


def sla_team_calendar(team: Team) -> Calendar:
    """The team's calendar, else the desk's BUSINESS_HOURS in TIME_ZONE. A
    calendar that cannot be read counts every minute (logged) rather than
    stopping the customer's message that started the clock."""
    source = team.calendar
    try:
        if source is not None:
            return calendar_parse(time_zone=source.time_zone, hours=source.hours, holidays=source.holidays)
        return calendar_parse(time_zone=settings.TIME_ZONE, hours=settings.BUSINESS_HOURS)
    except ValueError:
        log.warning("team %s: unreadable business calendar; SLA clocks count every minute", team.pk, exc_info=True)
        return ALWAYS


def _target(policy: SlaPolicy, kind: str) -> int | None:
    if kind == SlaClockKind.FIRST_RESPONSE:
        return policy.first_response_minutes
    if kind == SlaClockKind.NEXT_RESPONSE:
        return policy.next_response_minutes
    return policy.resolution_minutes


def _pauses(clock: SlaClock) -> list[tuple[datetime, datetime | None]]:
    return [
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None) for start, end in clock.pauses
    ]


def _compute(clock: SlaClock, *, calendar: Calendar, warn_before_minutes: int) -> None:
    """Set the clock's due_at and warn_at from its start, pauses and target."""
    counted = calendar if clock.business_hours else ALWAYS
    try:
        due = due_at(
            started=clock.started_at, target_minutes=clock.target_minutes, calendar=counted, pauses=_pauses(clock)
        )
    except ValueError:  # a calendar with no open hours ahead
        log.warning("SLA clock %s: calendar never opens; counting every minute", clock.pk, exc_info=True)
        counted = ALWAYS
        due = due_at(
            started=clock.started_at, target_minutes=clock.target_minutes, calendar=ALWAYS, pauses=_pauses(clock)
        )
    clock.due_at = due
    clock.warn_at = (
        None
        if due is None
        else warn_at(
            due,
            calendar=counted,
            business=clock.business_hours and counted is not ALWAYS,
            warn_before=timedelta(minutes=warn_before_minutes),
        )
    )


def _warn_before(clock: SlaClock) -> int:
    return clock.policy.warn_before_minutes if clock.policy is not None else DEFAULT_WARN_BEFORE_MINUTES


def _schedule(clock: SlaClock) -> None:
    """Enqueue the clock's warning and breach tasks, in the caller's transaction.
    Older tasks of the clock stay queued and do nothing when they run early."""
    if clock.due_at is None or clock.breached_at is not None:
        return
    if clock.warned_at is None and clock.warn_at is not None and clock.warn_at < clock.due_at:
        sla_warn.using(run_after=clock.warn_at).enqueue(clock_id=clock.pk)
    sla_breach.using(run_after=clock.due_at).enqueue(clock_id=clock.pk)


def _event(ticket: Ticket, kind: EventKind, *, at: datetime, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, kind=kind, data=data, created_at=at)


def _refresh(ticket: Ticket) -> None:
    """Ticket.sla_due_at: the nearest due time of its running clocks (overdue
    ones included, so lists count below zero); sla_breached_at: the earliest
    breach among them. Both null once no clock runs. Also sets them on ``ticket``."""
    found = SlaClock.objects.filter(ticket_id=ticket.pk, stopped_at__isnull=True).aggregate(
        due=Min("due_at"), breached=Min("breached_at")
    )
    ticket.sla_due_at, ticket.sla_breached_at = found["due"], found["breached"]
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=ticket.sla_due_at, sla_breached_at=ticket.sla_breached_at)


def _start(
    ticket: Ticket, kind: SlaClockKind, *, policy: SlaPolicy, calendar: Calendar, started: datetime, now: datetime
) -> SlaClock | None:
    target = _target(policy, kind)
    if target is None:
        return None
    clock = SlaClock(
        ticket=ticket,
        policy=policy if policy.pk else None,
        kind=kind,
        target_minutes=target,
        business_hours=policy.business_hours,
        started_at=started,
    )
    _compute(clock, calendar=calendar, warn_before_minutes=policy.warn_before_minutes)
    clock.save()
    assert clock.due_at is not None  # a new clock has no pause
    _event(
        ticket,
        EventKind.SLA_STARTED,
        at=now,
        clock=kind,
        policy=policy.name,
        target_minutes=target,
        business_hours=policy.business_hours,
        due_at=clock.due_at.isoformat(),
    )
    _schedule(clock)
    return clock


def _stop(ticket: Ticket, *, kinds: tuple[str, ...] | None, at: datetime) -> int:
    running = SlaClock.objects.filter(ticket_id=ticket.pk, stopped_at__isnull=True)
    if kinds is not None:
        running = running.filter(kind__in=kinds)
    return running.update(stopped_at=at)


# -- hooks called by helpdesk.tickets.services (ticket row locked) ----------------------


def sla_ticket_opened(*, ticket: Ticket, at: datetime) -> None:
    """Start the first-response and (if the policy has one) resolution clocks at
    the ticket's creation."""
    policy = sla_policy_for(team_id=ticket.team_id, priority=ticket.priority)
    calendar = sla_team_calendar(ticket.team)
    for kind in (SlaClockKind.FIRST_RESPONSE, SlaClockKind.RESOLUTION):
        _start(ticket, kind, policy=policy, calendar=calendar, started=ticket.created_at, now=at)
    _refresh(ticket)


def sla_agent_replied(*, ticket: Ticket, at: datetime) -> None:
    """A public reply by an agent meets the running first- and next-response
    clocks. Notes and system messages never call this."""
    if _stop(ticket, kinds=_RESPONSE_KINDS, at=at):
        _refresh(ticket)


def sla_ticket_reopened(*, ticket: Ticket, at: datetime) -> None:
    """The customer wrote on a solved ticket: a next-response clock starts now,
    when the policy has that target."""
    policy = sla_policy_for(team_id=ticket.team_id, priority=ticket.priority)
    if policy.next_response_minutes is None:
        return
    _stop(ticket, kinds=(SlaClockKind.NEXT_RESPONSE,), at=at)
    calendar = sla_team_calendar(ticket.team)
    _start(ticket, SlaClockKind.NEXT_RESPONSE, policy=policy, calendar=calendar, started=at, now=at)
    _refresh(ticket)


def sla_status_changed(*, ticket: Ticket, old: str, new: str, at: datetime) -> None:
    """Solved or closed stops every clock; pending on the customer pauses the
    resolution clock and leaving pending resumes it."""
    if new in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        if _stop(ticket, kinds=None, at=at):
            _refresh(ticket)
        return
    pausing = new == TicketStatus.PENDING
    if not pausing and old != TicketStatus.PENDING:
        return
    clock = (
        SlaClock.objects.select_related("policy", "ticket__team__calendar")
        .filter(ticket_id=ticket.pk, kind=SlaClockKind.RESOLUTION, stopped_at__isnull=True)
        .first()
    )
    if clock is None:
        return
    pauses = [list(pause) for pause in clock.pauses]
    if pausing and not (pauses and pauses[-1][1] is None):
        pauses.append([at.isoformat(), None])
    elif not pausing and pauses and pauses[-1][1] is None:
        pauses[-1][1] = at.isoformat()
    else:
        return
    clock.pauses = pauses
    _compute(clock, calendar=sla_team_calendar(clock.ticket.team), warn_before_minutes=_warn_before(clock))
    clock.save(update_fields=["pauses", "due_at", "warn_at"])
    _schedule(clock)
    _refresh(ticket)


def sla_ticket_rescoped(*, ticket: Ticket, at: datetime) -> None:
    """The ticket's priority or team changed: its running clocks take the
    policy that now applies, and their due times are recomputed from their
    stored starts and pauses. Breached clocks keep their record; a target the
    new policy does not have stops its clock."""
    clocks = list(SlaClock.objects.filter(ticket_id=ticket.pk, stopped_at__isnull=True, breached_at__isnull=True))
    if not clocks:
        return
    policy = sla_policy_for(team_id=ticket.team_id, priority=ticket.priority)
    calendar = sla_team_calendar(Team.objects.select_related("calendar").get(pk=ticket.team_id))
    for clock in clocks:
        target = _target(policy, clock.kind)
        if target is None:
            clock.stopped_at = at
            clock.save(update_fields=["stopped_at"])
            continue
        before = (clock.due_at, clock.warn_at)
        clock.policy = policy if policy.pk else None
        clock.target_minutes, clock.business_hours = target, policy.business_hours
        _compute(clock, calendar=calendar, warn_before_minutes=policy.warn_before_minutes)
        clock.save(update_fields=["policy", "target_minutes", "business_hours", "due_at", "warn_at"])
        if (clock.due_at, clock.warn_at) != before:
            _schedule(clock)
    _refresh(ticket)


# -- warnings and breaches: tasks and the sweeper ----------------------------------------


def _lock_ticket(ticket_id: int) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "customer", "assignee__user")
        .get(pk=ticket_id)
    )


def _warn_due(now: datetime) -> Q:
    # A warning after the due time would only repeat the breach: none then.
    return Q(
        stopped_at__isnull=True, breached_at__isnull=True, warned_at__isnull=True, warn_at__lte=now, due_at__gt=now
    )


def _breach_due(now: datetime) -> Q:
    return Q(stopped_at__isnull=True, breached_at__isnull=True, due_at__lte=now)


def sla_clock_warn(*, clock_id: int, now: datetime | None = None) -> bool:
    """Record the clock's warning when its time has come and it is still
    running, unwarned and not yet due; returns whether this call recorded it.
    Its own transaction; safe to run any number of times, concurrently."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket_id = SlaClock.objects.filter(_warn_due(now), pk=clock_id).values_list("ticket_id", flat=True).first()
        if ticket_id is None:
            return False
        ticket = _lock_ticket(ticket_id)
        # The claim: of concurrent callers, one updates the row; the others find warned_at set.
        if not SlaClock.objects.filter(_warn_due(now), pk=clock_id).update(warned_at=now):
            return False
        clock = SlaClock.objects.get(pk=clock_id)
        assert clock.due_at is not None
        _event(ticket, EventKind.SLA_WARNED, at=now, clock=clock.kind, due_at=clock.due_at.isoformat())
        notify_on_commit(ticket, "sla_warned")
    return True


@dataclass(frozen=True)
class Breach:
    clock: SlaClock
    reason: str
    escalated_to: str  # the new priority, "" when it was already urgent
    leads: tuple[int, ...]


def breach_reason(clock: SlaClock) -> str:
    """ "first response due 14:10 UTC; no public agent reply" """
    assert clock.due_at is not None
    label = SlaClockKind(clock.kind).label.lower()
    when = clock.due_at.astimezone(ALWAYS.zone).strftime("%Y-%m-%d %H:%M")
    return f"{label} due {when} UTC; {_BREACH_WHY[SlaClockKind(clock.kind)]}"


def sla_clock_breach(*, clock_id: int, now: datetime | None = None) -> Breach | None:
    """Record the clock's breach when it is still running and its due time has
    passed, and escalate: the priority goes up one step (once per clock: a clock
    breaches once), an ``escalated`` event names the team leads, who are told
    live, and Ticket.sla_breached_at puts the ticket on top of its team's queue.
    Returns the breach this call recorded, None when there was nothing to do.
    Its own transaction; safe to run any number of times, concurrently."""
    from helpdesk.tickets.services import ticket_set_priority  # services imports this module

    now = now or timezone.now()
    with transaction.atomic():
        ticket_id = SlaClock.objects.filter(_breach_due(now), pk=clock_id).values_list("ticket_id", flat=True).first()
        if ticket_id is None:
            return None
        ticket = _lock_ticket(ticket_id)
        if not SlaClock.objects.filter(_breach_due(now), pk=clock_id).update(breached_at=now):
            return None
        clock = SlaClock.objects.get(pk=clock_id)
        assert clock.due_at is not None
        reason = breach_reason(clock)
        late = int((now - clock.due_at).total_seconds())
        _event(ticket, EventKind.SLA_BREACHED, at=now, clock=clock.kind, due_at=clock.due_at.isoformat(), reason=reason)
        _refresh(ticket)
        old = ticket.priority
        new = _PRIORITIES[min(_PRIORITIES.index(old) + 1, len(_PRIORITIES) - 1)]
        if new != old:
            ticket = ticket_set_priority(
                ticket=ticket, actor=None, priority=TicketPriority(new), reason=f"SLA breached: {reason}"
            )
        leads = tuple(
            Agent.objects.filter(role=AgentRole.TEAM_LEAD, teams=ticket.team_id, user__is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        _event(
            ticket,
            EventKind.ESCALATED,
            at=now,
            clock=clock.kind,
            old=old,
            new=new,
            leads=list(leads),
            late_seconds=late,
            reason=reason,
        )
        notify_on_commit(ticket, "sla_breached", also_agents=leads)
    return Breach(clock=clock, reason=reason, escalated_to=new if new != old else "", leads=leads)


@dataclass(frozen=True)
class SweepResult:
    warned: int
    breached: int


# One sweep handles at most this many of each; the next pass takes the rest.
SWEEP_BATCH = 1000


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Record the warnings and breaches whose time has passed but that no task
    recorded (a task lost, a worker down at the deadline). Each clock in its
    own transaction; several sweepers and the tasks may run at once."""
    now = now or timezone.now()
    breach_ids = list(SlaClock.objects.filter(_breach_due(now)).order_by("due_at").values_list("pk", flat=True)[:batch])
    breached = sum(_guarded(sla_clock_breach, pk, now) is not None for pk in breach_ids)
    warn_ids = list(SlaClock.objects.filter(_warn_due(now)).order_by("warn_at").values_list("pk", flat=True)[:batch])
    warned = sum(bool(_guarded(sla_clock_warn, pk, now)) for pk in warn_ids)
    return SweepResult(warned=warned, breached=breached)


def _guarded(record: Callable[..., Any], clock_id: int, now: datetime) -> Any:
    # One clock that fails (a deadlock, a bad row) must not stop the others; the next pass tries it again.
    try:
        return record(clock_id=clock_id, now=now)
    except DatabaseError:
        log.exception("SLA clock %s: not recorded; the next sweep tries again", clock_id)
        return None
