"""Every read of tickets, scoped to what the asking agent may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, TextChoices
from django.utils import timezone

from helpdesk.tickets.hours import hours_parse
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
    CannedReply,
    EventKind,
    Message,
    Team,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketStatus,
)
from helpdesk.tickets.placeholders import PlaceholderValues

# Below this many first responses in a week the widget shows the configured estimate.
MIN_REPLY_SAMPLES = 5
# The estimate is recomputed at most this often per process.
REPLY_ESTIMATE_TTL = 30


def agent_for_user(user: AbstractBaseUser | AnonymousUser) -> Agent | None:
    """The active desk agent behind a signed-in user, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return Agent.objects.select_related("user").get(user_id=user.pk)
    except Agent.DoesNotExist:
        return None


def ticket_visibility(agent: Agent) -> Q:
    """Managers see all tickets; others their teams' tickets and their own."""
    if agent.is_manager:
        return Q()
    return Q(team__in=agent.teams.all()) | Q(assignee=agent)


def ticket_list(*, agent: Agent) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(ticket_visibility(agent))
        .select_related("customer", "team", "assignee__user", "order")
        .order_by("-created_at", "-id")
    )


def ticket_get(*, agent: Agent, ticket_id: int) -> Ticket:
    """Raises Ticket.DoesNotExist for a ticket the agent may not see."""
    return ticket_list(agent=agent).get(pk=ticket_id)


def ticket_detail(*, agent: Agent, ticket_id: int) -> Ticket:
    return (
        ticket_list(agent=agent)
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.select_related("author_agent__user").order_by("seq")),
            Prefetch("events", queryset=TicketEvent.objects.select_related("actor__user").order_by("created_at", "id")),
        )
        .get(pk=ticket_id)
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def agent_list() -> QuerySet[Agent]:
    return Agent.objects.filter(user__is_active=True).select_related("user").prefetch_related("teams")


def ticket_visible(*, agent: Agent, ticket_id: int) -> Ticket | None:
    """The ticket with what notifications show, when the agent may see it."""
    return ticket_list(agent=agent).filter(pk=ticket_id).select_related("customer", "assignee__user", "team").first()


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]
    # Every message with seq <= through has been looked at (some may be hidden).
    through: int


def messages_after(
    *, ticket: Ticket, after_seq: int, until_seq: int | None, internal: bool, limit: int = 200
) -> MessagePage:
    """Messages of the ticket with after_seq < seq <= until_seq (default: the
    newest), at most ``limit`` rows looked at; ``internal`` False leaves
    out agents' notes, as customers must never see them."""
    last_seq = Ticket.objects.values_list("last_seq", flat=True).get(pk=ticket.pk)
    upper = last_seq if until_seq is None else min(until_seq, last_seq)
    rows = list(
        Message.objects.filter(ticket_id=ticket.pk, seq__gt=after_seq, seq__lte=upper)
        .select_related("author_agent__user")
        .order_by("seq")[:limit]
    )
    through = rows[-1].seq if len(rows) == limit else max(upper, after_seq)
    return MessagePage([m for m in rows if internal or not m.internal], through)


@dataclass(frozen=True)
class Availability:
    online: bool  # inside business hours with at least one agent online
    business_hours: bool
    expected_reply_seconds: int | None


def desk_availability(*, now: datetime | None = None) -> Availability:
    """What the widget tells customers. The reply estimate is the median first
    response of chats in the last week, once there are enough of them."""
    now = now or timezone.now()
    in_hours = hours_parse(settings.BUSINESS_HOURS).is_open(timezone.localtime(now))
    agents_online = Agent.objects.filter(
        status=AgentStatus.ONLINE,
        user__is_active=True,
        last_seen_at__gte=now - timedelta(seconds=settings.AGENT_ONLINE_SECONDS),
    ).exists()
    online = in_hours and agents_online
    if not online:
        return Availability(False, in_hours, None)
    return Availability(True, True, cache.get_or_set("desk:reply-estimate", _reply_estimate, REPLY_ESTIMATE_TTL))


def _reply_estimate() -> int:
    now = timezone.now()
    recent = list(
        TicketEvent.objects.filter(
            kind=EventKind.FIRST_RESPONSE, created_at__gte=now - timedelta(days=7), ticket__channel=TicketChannel.CHAT
        )
        .order_by("-created_at")
        .values_list("data__seconds", flat=True)[:200]
    )
    seconds = [int(s) for s in recent if isinstance(s, int | float)]
    return int(median(seconds)) if len(seconds) >= MIN_REPLY_SAMPLES else settings.CHAT_DEFAULT_REPLY_SECONDS


class Queue(TextChoices):
    """The inbox's fixed views of the agent's tickets."""

    MINE = "mine", "Mine"
    UNASSIGNED = "unassigned", "Unassigned"
    TEAMS = "teams", "My teams"
    ALL = "all", "All"
    WAITING = "waiting", "Waiting on customer"
    SOLVED = "solved", "Solved recently"


# "Solved recently" looks back this far.
SOLVED_RECENTLY = timedelta(days=7)
_WORKING = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


def queue_filter(*, agent: Agent, queue: Queue, now: datetime | None = None) -> Q:
    """Tickets of one queue, within what ``ticket_list`` already limits the agent to."""
    if queue == Queue.MINE:
        return Q(assignee=agent, status__in=_WORKING)
    if queue == Queue.UNASSIGNED:
        return Q(assignee__isnull=True, status__in=(TicketStatus.NEW, TicketStatus.OPEN))
    if queue == Queue.TEAMS:
        return Q(team__in=agent.teams.all(), status__in=_WORKING)
    if queue == Queue.WAITING:
        return Q(status=TicketStatus.PENDING)
    if queue == Queue.SOLVED:
        return Q(status=TicketStatus.SOLVED, solved_at__gte=(now or timezone.now()) - SOLVED_RECENTLY)
    return Q(status__in=_WORKING)


def queues_for(agent: Agent) -> list[Queue]:
    return [q for q in Queue if q != Queue.ALL or agent.is_manager]


def ticket_queue_counts(*, agent: Agent) -> dict[str, int]:
    """How many tickets each of the agent's queues holds, in one query."""
    now = timezone.now()
    counts = Ticket.objects.filter(ticket_visibility(agent)).aggregate(
        **{q.value: Count("pk", filter=queue_filter(agent=agent, queue=q, now=now)) for q in queues_for(agent)}
    )
    return {name: int(value or 0) for name, value in counts.items()}


SEARCH_MAX_CHARS = 200
# Up to this many matching messages, search narrows the list to their tickets
# by id; a word more common than that is checked ticket by ticket instead,
# newest first, which finds a page of matches quickly.
SEARCH_RARE_HITS = 2000


def _message_hits(text: str) -> QuerySet[Message]:
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config="simple", search_type="websearch")
        return Message.objects.annotate(words=SearchVector("body", config="simple")).filter(words=query)
    return Message.objects.filter(body__icontains=text)


def ticket_search(queryset: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Tickets whose subject, customer name or email, order number or any
    message or note matches ``text``; a number also finds the ticket with that
    id. Messages use PostgreSQL full-text search (words, "quoted phrases",
    -exclusions) where available, a substring match elsewhere."""
    text = text.strip()[:SEARCH_MAX_CHARS]
    if not text:
        return queryset
    hits = _message_hits(text).order_by()
    ids = list(hits.values_list("ticket_id", flat=True)[: SEARCH_RARE_HITS + 1])
    in_messages = (
        Q(pk__in=set(ids)) if len(ids) <= SEARCH_RARE_HITS else Q(Exists(hits.filter(ticket_id=OuterRef("pk"))))
    )
    match = (
        Q(subject__icontains=text)
        | Q(customer__name__icontains=text)
        | Q(customer__email__icontains=text)
        | Q(order__number__iexact=text)
        | in_messages
    )
    if text.isdigit():
        match |= Q(pk=int(text))
    return queryset.filter(match)


def canned_reply_list(*, agent: Agent) -> QuerySet[CannedReply]:
    """The agent's teams' replies and the global ones (managers: all), by title."""
    replies = CannedReply.objects.all()
    if not agent.is_manager:
        replies = replies.filter(Q(team__isnull=True) | Q(team__in=agent.teams.all()))
    return replies.order_by("title", "id")


def placeholder_values(*, ticket: Ticket, agent: Agent) -> PlaceholderValues:
    """What a canned reply may say about ``ticket``: its order, else the
    customer's newest. Expects ticket.customer, ticket.order and agent.user loaded."""
    order = ticket.order or ticket.customer.orders.order_by("-placed_at", "-id").first()
    return PlaceholderValues(
        customer_name=ticket.customer.name,
        order_number=order.number if order else "",
        order_tracking_url=order.tracking_url if order else "",
        order_carrier=order.carrier if order else "",
        agent_first_name=agent.user.first_name,
    )
