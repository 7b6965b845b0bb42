"""Assignment: give a team's waiting tickets to its available agents, fairly
and never beyond anyone's capacity; hand an agent's chats back to the queue
when they go away or offline.

An agent's load is their assigned tickets that are new or open (pending ones
wait on the customer). An agent is available to a team when they belong to
it, are active, have status online, were heard from within
AGENT_ONLINE_SECONDS, and their load is under max_concurrent_chats. The least
loaded available agent gets the next ticket; ties go to whoever was given a
ticket longest ago (never first), then to the lowest id.

Concurrency. Every automatic assignment locks the team's online agent rows in
id order (select_for_update) and counts their load under those locks, so
drains that share an agent take turns and a capacity holds however many run
at once. The ticket is then claimed with a conditional UPDATE (still
unassigned, in the team, new or open), so a ticket taken or moved by hand
meanwhile is never assigned twice. Everything here locks agent rows before
ticket rows, and ticket services never lock agent rows, so locks cannot
cross. Agent rows are locked FOR NO KEY UPDATE: a service that holds a
ticket and writes a row pointing at an agent (a message, an event) takes a
key-share lock on that agent, which this does not block; FOR UPDATE would,
and a drain waiting for that ticket would deadlock with it.

Changes that may let a ticket be assigned enqueue the durable task
helpdesk.tickets.tasks.assignment_run in their own transaction: a change that
rolls back enqueues nothing and a committed one is never forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from helpdesk.tickets import tasks
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
    EventKind,
    Team,
    Ticket,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit

# Tickets that count toward an agent's load and that wait in a queue when unassigned.
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN)
# Candidates read per claim attempt; a ticket taken meanwhile is skipped for the next one.
CLAIM_BATCH = 10

_PRIORITY_RANK = Case(
    When(priority=TicketPriority.URGENT, then=Value(0)),
    When(priority=TicketPriority.HIGH, then=Value(1)),
    When(priority=TicketPriority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)
_BREACHED_FIRST = Case(
    When(sla_breached_at__isnull=False, then=Value(0)), default=Value(1), output_field=IntegerField()
)


@dataclass(frozen=True)
class Candidate:
    """An online team member as the picker sees them."""

    agent_id: int
    load: int
    capacity: int
    last_assigned_at: datetime | None


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    tied: int  # how many available agents shared the lowest load


@dataclass(frozen=True)
class Assignment:
    ticket_id: int
    agent_id: int
    reason: str


def agent_pick(candidates: Sequence[Candidate]) -> Pick | None:
    """The agent to get the next ticket: under capacity, least loaded, then
    the longest since their last automatic assignment (never assigned
    first), then the lowest id. None when nobody has capacity. Pure."""
    available = [c for c in candidates if c.load < c.capacity]
    if not available:
        return None
    least = min(c.load for c in available)
    tied = [c for c in available if c.load == least]
    chosen = min(
        tied,
        key=lambda c: (c.last_assigned_at is not None, c.last_assigned_at or datetime.min, c.agent_id),
    )
    return Pick(chosen, tied=len(tied))


def team_queue(*, team: Team | int) -> QuerySet[Ticket]:
    """The team's waiting tickets (unassigned, new or open) in the order they
    are assigned: SLA-breached first, then by priority (urgent first), then
    the oldest."""
    return Ticket.objects.filter(team=team, assignee__isnull=True, status__in=ACTIVE_STATUSES).order_by(
        _BREACHED_FIRST, _PRIORITY_RANK, "created_at", "id"
    )


def agent_loads(*, agent_ids: Iterable[int]) -> dict[int, int]:
    """Each agent's new and open assigned tickets, in any team."""
    ids = list(agent_ids)
    counted = (
        Ticket.objects.filter(assignee_id__in=ids, status__in=ACTIVE_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    loads = dict.fromkeys(ids, 0)
    loads.update({agent_id: n for agent_id, n in counted if agent_id is not None})
    return loads


def _online_members_locked(team: Team, now: datetime) -> list[Agent]:
    """The team's online agents, their rows locked in id order (the lock
    order every assignment uses)."""
    return list(
        Agent.objects.select_for_update(of=("self",), no_key=True)
        .select_related("user")
        .filter(
            teams=team,
            status=AgentStatus.ONLINE,
            user__is_active=True,
            last_seen_at__gte=now - timedelta(seconds=settings.AGENT_ONLINE_SECONDS),
        )
        .order_by("pk")
    )


def team_queue_drain(*, team: Team, now: datetime | None = None) -> list[Assignment]:
    """Assign the team's waiting tickets, in queue order, while an available
    agent has capacity; returns what was assigned. One transaction per
    ticket, so a crash loses nothing done before it.

    Precondition: the caller holds no ticket or agent locks (run it from
    the assignment_run task, not inside a service's transaction)."""
    done: list[Assignment] = []
    while (assignment := _assign_next(team, now or timezone.now())) is not None:
        done.append(assignment)
    return done


@transaction.atomic
def _assign_next(team: Team, now: datetime) -> Assignment | None:
    if not team_queue(team=team).exists():
        return None  # spares the agent locks when the queue is empty
    agents = {agent.pk: agent for agent in _online_members_locked(team, now)}
    if not agents:
        return None
    # Counted under the agents' locks: no other assignment can change these loads now.
    loads = agent_loads(agent_ids=agents)
    pick = agent_pick(
        [Candidate(a.pk, loads[a.pk], a.max_concurrent_chats, a.last_assigned_at) for a in agents.values()]
    )
    if pick is None:
        return None
    agent = agents[pick.candidate.agent_id]
    while ticket_ids := list(team_queue(team=team).values_list("pk", flat=True)[:CLAIM_BATCH]):
        for ticket_id in ticket_ids:
            # The conditional UPDATE waits for a ticket locked elsewhere and
            # re-checks: a ticket assigned, moved or solved meanwhile is not taken.
            claimed = Ticket.objects.filter(
                pk=ticket_id, team=team, assignee__isnull=True, status__in=ACTIVE_STATUSES
            ).update(assignee=agent, updated_at=now)
            if claimed:
                return _record(ticket_id, agent, pick, agents.values(), now)
    return None


def _record(ticket_id: int, agent: Agent, pick: Pick, team_agents: Iterable[Agent], now: datetime) -> Assignment:
    """The claimed ticket's event, the agent's round-robin stamp, the notification."""
    load, capacity = pick.candidate.load + 1, pick.candidate.capacity
    reason = f"auto: least loaded, {load} of {capacity} chats"
    if pick.tied > 1:
        reason += f"; round robin among {pick.tied}"
    ticket = Ticket.objects.select_related("team", "customer", "assignee__user").get(pk=ticket_id)
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.ASSIGNED,
        actor=None,
        created_at=now,
        data={"old": None, "new": agent.pk, "name": agent.display_name, "reason": reason},
    )
    # Strictly after every stamp in the team, so round robin turns even when
    # two assignments share a clock reading (a frozen clock in tests).
    stamps = [a.last_assigned_at for a in team_agents if a.last_assigned_at is not None]
    stamp = max([now, *(s + timedelta(microseconds=1) for s in stamps)])
    Agent.objects.filter(pk=agent.pk).update(last_assigned_at=stamp)
    agent.last_assigned_at = stamp
    notify_on_commit(ticket, "assigned")
    return Assignment(ticket_id=ticket_id, agent_id=agent.pk, reason=reason)


def assignment_request(*, team_ids: Iterable[int]) -> None:
    """Enqueue a drain of each team, in the caller's transaction."""
    for team_id in sorted(set(team_ids)):
        tasks.assignment_run.enqueue(team_id=team_id)


def assignment_ticket_changed(*, ticket: Ticket, old_assignee_id: int | None = None) -> None:
    """A service changed ``ticket`` (opened, routed, reopened, status,
    assignee, team): in its transaction, enqueue drains of what may now
    assign something. Its team when the ticket waits (unassigned, new or
    open); the old assignee's teams when it no longer counts toward their
    load (given to someone else, unassigned, or neither new nor open)."""
    team_ids: set[int] = set()
    if ticket.assignee_id is None and ticket.status in ACTIVE_STATUSES:
        team_ids.add(ticket.team_id)
    if old_assignee_id is not None and (ticket.assignee_id != old_assignee_id or ticket.status not in ACTIVE_STATUSES):
        team_ids.update(Team.objects.filter(agents=old_assignee_id).values_list("pk", flat=True))
    assignment_request(team_ids=team_ids)


@transaction.atomic
def agent_release(*, agent: Agent, reason: str, now: datetime | None = None) -> list[int]:
    """Hand the agent's new and open tickets back to their teams' queues
    (unassigned, an ``assigned`` event with ``reason``, a notification) and
    enqueue drains of those teams; pending tickets wait on the customer and
    stay theirs. Returns the released tickets' ids.

    Precondition: the agent is no longer available (status away or offline,
    set by the caller), or the drain may hand the tickets straight back.
    Locks the agent's row, then the tickets in id order."""
    now = now or timezone.now()
    list(Agent.objects.select_for_update(no_key=True).filter(pk=agent.pk).values_list("pk", flat=True))
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("team", "customer")
        .filter(assignee=agent, status__in=ACTIVE_STATUSES)
        .order_by("pk")
    )
    for ticket in tickets:
        ticket.assignee = None
        ticket.updated_at = now
        ticket.save(update_fields=["assignee", "updated_at"])
        TicketEvent.objects.create(
            ticket=ticket,
            kind=EventKind.ASSIGNED,
            actor=None,
            created_at=now,
            data={"old": agent.pk, "new": None, "name": "", "reason": reason},
        )
        notify_on_commit(ticket, "assigned", also_agents=(agent.pk,))
    assignment_request(team_ids={ticket.team_id for ticket in tickets})
    return [ticket.pk for ticket in tickets]


def agent_presence_changed(*, agent: Agent, was_status: str, was_seen_at: datetime | None, now: datetime) -> list[int]:
    """agent_seen wrote the agent's status and heartbeat; in its transaction,
    act on the change. Going away or offline releases their open chats
    (agent_release). Coming online, or a heartbeat after a silence longer than
    AGENT_ONLINE_SECONDS, enqueues drains of their teams. Returns the
    released tickets' ids."""
    if agent.status != AgentStatus.ONLINE:
        if agent.status != was_status:
            return agent_release(agent=agent, reason=f"released: {agent.display_name} went {agent.status}", now=now)
        return []
    stale = was_seen_at is None or was_seen_at < now - timedelta(seconds=settings.AGENT_ONLINE_SECONDS)
    if was_status != AgentStatus.ONLINE or stale:
        assignment_request(team_ids=agent.teams.values_list("pk", flat=True))
    return []


def agents_offline_sweep(*, now: datetime) -> int:
    """Set offline every agent marked online whose desk has not been heard
    from for AGENT_OFFLINE_GRACE_SECONDS (every connection lost), and hand
    their open chats back (agent_release). Returns how many went offline.

    One transaction per agent; the conditional UPDATE re-checks the agent,
    so one heard from meanwhile stays online."""
    grace = settings.AGENT_OFFLINE_GRACE_SECONDS
    silent = Q(status=AgentStatus.ONLINE) & (
        Q(last_seen_at__lt=now - timedelta(seconds=grace)) | Q(last_seen_at__isnull=True)
    )
    count = 0
    for agent_id in list(Agent.objects.filter(silent).order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            if not Agent.objects.filter(silent, pk=agent_id).update(status=AgentStatus.OFFLINE, status_changed_at=now):
                continue
            agent = Agent.objects.select_related("user").get(pk=agent_id)
            agent_release(agent=agent, reason=f"released: {agent.display_name} offline, no desk for {grace} s", now=now)
            count += 1
    return count


def assignment_sweep(*, now: datetime) -> int:
    """A safety net for the sweeper process: drain every team that has a
    waiting ticket and an online member. Catches what no trigger announced
    (a capacity raised or a team joined in the admin, a drain task that
    failed). Returns how many tickets were assigned."""
    online_since = now - timedelta(seconds=settings.AGENT_ONLINE_SECONDS)
    team_ids = set(
        Ticket.objects.filter(
            assignee__isnull=True,
            status__in=ACTIVE_STATUSES,
            team__agents__status=AgentStatus.ONLINE,
            team__agents__last_seen_at__gte=online_since,
        ).values_list("team_id", flat=True)
    )
    return sum(
        len(team_queue_drain(team=team, now=now)) for team in Team.objects.filter(pk__in=team_ids).order_by("pk")
    )
