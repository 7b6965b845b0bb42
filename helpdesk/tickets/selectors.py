"""Every read of tickets, scoped to what the asking agent may see."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, Expression, OuterRef, Prefetch, Q, QuerySet, TextChoices
from django.utils import timezone

from helpdesk.customers.models import Customer, Order
from helpdesk.tickets.event_text import HIDDEN_KINDS
from helpdesk.tickets.hours import hours_parse
from helpdesk.tickets.models import (
    Agent,
    AgentStatus,
    Attachment,
    CannedReply,
    EventKind,
    Message,
    Tag,
    Team,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketRead,
    TicketStatus,
)
from helpdesk.tickets.placeholders import PlaceholderValues
from helpdesk.tickets.routing import text_language

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
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("author_agent__user")
                .prefetch_related("attachments")
                .order_by("seq"),
            ),
            Prefetch("events", queryset=TicketEvent.objects.select_related("actor__user").order_by("created_at", "id")),
            "tags",
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
        .prefetch_related("attachments")
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
    AT_RISK = "at_risk", "At SLA risk"
    BREACHED = "breached", "SLA breached"
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
    if queue == Queue.AT_RISK:
        # A running SLA clock due within SLA_AT_RISK_MINUTES (or overdue), not yet recorded as breached.
        soon = (now or timezone.now()) + timedelta(minutes=settings.SLA_AT_RISK_MINUTES)
        return Q(status__in=_WORKING, sla_due_at__lte=soon, sla_breached_at__isnull=True)
    if queue == Queue.BREACHED:
        return Q(status__in=_WORKING, sla_breached_at__isnull=False)
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


def _narrowed(hits: QuerySet, column: str, field: str) -> Q:
    """Tickets whose ``field`` is among the ``column`` values of ``hits``: by id
    when the hits are few (an index finds them), else row by row, newest first,
    which finds a page of a common term quickly."""
    hits = hits.order_by()
    ids = list(hits.values_list(column, flat=True)[: SEARCH_RARE_HITS + 1])
    if len(ids) <= SEARCH_RARE_HITS:
        return Q(**{f"{field}__in": set(ids)})
    return Q(Exists(hits.filter(**{column: OuterRef(field)})))


def ticket_search(queryset: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Tickets whose subject, customer name or email, order number or any
    message or note matches ``text``; a number also finds the ticket with that
    id. Messages use PostgreSQL full-text search (words, "quoted phrases",
    -exclusions) where available, a substring match elsewhere; the other fields
    match by substring, through trigram indexes on PostgreSQL (migration 0006).

    Each part is looked up on its own table first: an OR across joined tables
    would make PostgreSQL read every ticket for a term that matches nothing."""
    text = text.strip()[:SEARCH_MAX_CHARS]
    if not text:
        return queryset
    customers = Customer.objects.filter(Q(name__icontains=text) | Q(email__icontains=text))
    match = (
        _narrowed(Ticket.objects.filter(subject__icontains=text), "id", "pk")
        | _narrowed(customers, "id", "customer_id")
        | _narrowed(Order.objects.filter(number__icontains=text.lstrip("#") or text), "id", "order_id")
        | _narrowed(_message_hits(text), "ticket_id", "pk")
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


def ticket_events_shown(*, ticket: Ticket, after_id: int = 0) -> list[TicketEvent]:
    """The ticket's events the conversation shows as lines (not those that
    duplicate its messages), oldest first, newer than event ``after_id``.
    Precondition: the agent may see ``ticket``."""
    return list(
        TicketEvent.objects.filter(ticket_id=ticket.pk, pk__gt=after_id)
        .exclude(kind__in=HIDDEN_KINDS)
        .select_related("actor__user")
        .order_by("created_at", "id")
    )


def order_for_ticket(*, ticket: Ticket, ref: str) -> Order | None:
    """The order of the ticket's shop that ``ref`` names: its number, else its
    id; None when there is none. The service checks it is the customer's."""
    ref = ref.strip().removeprefix("#")
    orders = Order.objects.filter(shop_id=ticket.customer.shop_id)
    mine = orders.filter(customer_id=ticket.customer_id)
    for candidates in (mine.filter(number=ref), orders.filter(number=ref)):
        found = candidates.order_by("-placed_at", "-id").first()
        if found is not None:
            return found
    return orders.filter(pk=int(ref)).first() if ref.isdigit() else None


def attachment_for_agent(*, agent: Agent, attachment_id: int) -> Attachment | None:
    """An attachment of a ticket the agent may see, else None."""
    return Attachment.objects.filter(pk=attachment_id, ticket__in=ticket_list(agent=agent).values("pk")).first()


def attachment_for_customer_link(*, attachment_id: int) -> Attachment | None:
    """An attachment a customer's signed link may fetch: one sent with a public
    message (the link's signature names the attachment; see attachments.py)."""
    return Attachment.objects.filter(pk=attachment_id, message__isnull=False, message__internal=False).first()


# ---- the inbox: unread marks and keyset pages ----


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def agent_choices() -> list[tuple[int, str]]:
    """Active agents as (id, name), by name, for pickers; one query."""
    agents = Agent.objects.filter(user__is_active=True).select_related("user")
    return sorted(((a.pk, a.display_name) for a in agents), key=lambda choice: choice[1].casefold())


def ticket_unread(*, agent: Agent) -> Expression:
    """True for a ticket holding messages ``agent`` has not read: its last_seq
    is past the agent's read mark, or the agent never opened it. One indexed
    lookup per ticket (TicketRead is unique per agent and ticket)."""
    read = TicketRead.objects.filter(agent=agent, ticket=OuterRef("pk"), seq__gte=OuterRef("last_seq"))
    return ~Exists(read)


def ticket_inbox(*, agent: Agent) -> QuerySet[Ticket]:
    """The tickets the agent may see, newest first, each with ``unread`` (for
    this agent) annotated in the same query and its tags prefetched."""
    return ticket_list(agent=agent).annotate(unread=ticket_unread(agent=agent)).prefetch_related("tags")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class TicketCursor:
    """A position in the inbox order (-created_at, -id): one row's own values.
    Encoded as "<microseconds since 1970>_<id>", exact and comparable."""

    created_at: datetime
    id: int

    @classmethod
    def of(cls, ticket: Ticket) -> TicketCursor:
        return cls(ticket.created_at, ticket.pk)

    @classmethod
    def parse(cls, text: str) -> TicketCursor:
        """Raises ValueError for anything encode() did not make."""
        micros, _, pk = text.partition("_")
        if not (micros.isdigit() and pk.isdigit()) or len(micros) > 17 or len(pk) > 18:
            raise ValueError(f"not a cursor: {text[:40]!r}")
        return cls(_EPOCH + int(micros) * _MICROSECOND, int(pk))

    def encode(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}_{self.id}"


@dataclass(frozen=True)
class InboxRow:
    ticket: Ticket
    cursor: str


@dataclass(frozen=True)
class KeysetPage:
    rows: list[InboxRow]
    next: str  # the cursor to ask for the rows after these; "" when there are none


def ticket_keyset_page(
    queryset: QuerySet[Ticket],
    *,
    size: int,
    after: TicketCursor | None = None,
    through: TicketCursor | None = None,
    ids: Collection[int] = (),
) -> KeysetPage:
    """Up to ``size`` tickets of ``queryset`` in (-created_at, -id) order:
    those older than ``after``, or with ``through`` those not older than that
    row (it included). The bounds are comparisons on the indexed sort key,
    never an OFFSET, so a page deep in the list costs what the first one does.

    With ``through``, the tickets among ``ids`` that lie further down follow
    (when the range was not cut at ``size``): rows a page shows below the
    range, looked up by id instead of by reading down to them."""
    tickets = queryset.order_by("-created_at", "-id")
    if after is not None:
        tickets = tickets.filter(
            Q(created_at__lt=after.created_at) | Q(created_at=after.created_at, pk__lt=after.id),
            created_at__lte=after.created_at,  # a plain range bound for the index
        )
    if through is not None:
        tickets = tickets.filter(
            Q(created_at__gt=through.created_at) | Q(created_at=through.created_at, pk__gte=through.id),
            created_at__gte=through.created_at,
        )
    found = list(tickets[: size + 1])
    cut = len(found) > size
    found = found[:size]
    if through is not None and ids and not cut:
        seen = {ticket.pk for ticket in found}
        found += [t for t in queryset.filter(pk__in=ids).order_by("-created_at", "-id") if t.pk not in seen]
    rows = [InboxRow(ticket, TicketCursor.of(ticket).encode()) for ticket in found]
    return KeysetPage(rows, rows[size - 1].cursor if cut else "")


def ticket_claimed_order_number(*, ticket: Ticket) -> str:
    """The order number an anonymous customer typed when opening the ticket
    (kept in the opening event), "" when none."""
    data = TicketEvent.objects.filter(ticket_id=ticket.pk, kind=EventKind.OPENED).values_list("data", flat=True).first()
    return str((data or {}).get("claimed_order_number", ""))


def sentiment_corrections(*, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Agents' corrections of message tags, oldest first, as labeled examples:
    the text, the agent's label, the script's language, and what the model said."""
    rows = Message.objects.filter(author_kind="customer").exclude(sentiment_corrected="")
    if since is not None:
        rows = rows.filter(sentiment_corrected_at__gte=since)
    for message in (
        rows.select_related("sentiment_corrected_by__user").order_by("sentiment_corrected_at", "id").iterator()
    ):
        agent = message.sentiment_corrected_by
        yield {
            "text": message.body,
            "label": message.sentiment_corrected,
            "lang": text_language(message.body) or "und",
            "model_label": message.sentiment,
            "model": message.sentiment_model,
            "ticket": message.ticket_id,
            "seq": message.seq,
            "corrected_by": agent.user.get_username() if agent else "",
            "corrected_at": message.sentiment_corrected_at.isoformat() if message.sentiment_corrected_at else "",
        }
