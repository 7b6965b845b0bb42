"""Tickets, their messages and their append-only event log; teams and agents.

Every change goes through helpdesk.tickets.services, which writes the row and
its TicketEvent in one transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from helpdesk.customers.models import Customer, Order


class BusinessCalendar(models.Model):
    """Opening hours in a time zone, with holidays; SLA targets that count
    business time count only these (helpdesk.tickets.sla_calendar)."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="An IANA zone: Europe/Berlin, Asia/Jerusalem.")
    hours = models.CharField(max_length=300, help_text="Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00")
    holidays = models.TextField(blank=True, help_text="Closed dates, YYYY-MM-DD, separated by commas or lines.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
        help_text="Empty: the desk's BUSINESS_HOURS in its TIME_ZONE.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentRole(models.TextChoices):
    AGENT = "agent", "Agent"
    TEAM_LEAD = "team_lead", "Team lead"
    MANAGER = "manager", "Manager"


class AgentStatus(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class Agent(models.Model):
    """A desk user. Managers see every ticket; others see their teams' tickets."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    role = models.CharField(max_length=16, choices=AgentRole.choices, default=AgentRole.AGENT)
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    max_concurrent_chats = models.PositiveSmallIntegerField(default=3)
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Refreshed by the agent's open websocket; "online" means a recent one.
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # When the assignment engine last gave this agent a ticket: ties in load go
    # to whoever waited longest (round robin).
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_manager(self) -> bool:
        return self.role == AgentRole.MANAGER


class TicketChannel(models.TextChoices):
    CHAT = "chat", "Chat"
    EMAIL = "email", "Email"
    WEB = "web", "Web form"


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending on customer"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketCategory(models.TextChoices):
    UNSORTED = "", "Not yet categorised"
    DELIVERY = "delivery", "Delivery"
    DAMAGED = "damaged", "Damaged or wrong item"
    RETURN = "return", "Return and refund"
    PAYMENT = "payment", "Payment"
    PRODUCT = "product", "Product question"
    ACCOUNT = "account", "Account"
    OTHER = "other", "Other"


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class SentimentTrend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    STEADY = "steady", "Steady"
    WORSENING = "worsening", "Worsening"


class Tag(models.Model):
    """A free label on tickets ("vip", "chargeback"), set by agents and routing rules."""

    name = models.CharField(max_length=40, unique=True, help_text="Lower case; letters, digits, - and _.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    subject = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=TicketChannel.choices)
    status = models.CharField(max_length=8, choices=TicketStatus.choices, default=TicketStatus.NEW)
    priority = models.CharField(max_length=8, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    category = models.CharField(max_length=16, choices=TicketCategory.choices, blank=True, default="")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    # Set when this ticket was merged into another of the same customer; it is
    # then closed and the customer's later messages go to that one.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )
    # The sequence number of the newest message; the next message takes last_seq + 1.
    last_seq = models.PositiveIntegerField(default=0)
    # Receipts: the customer's widget received / showed messages up to these
    # seqs; agents read the customer's messages up to agent_read_seq.
    customer_delivered_seq = models.PositiveIntegerField(default=0)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # The nearest due time of the ticket's running SLA clocks (null: none runs),
    # and when one last breached: kept by the SLA services for queues and sorting.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # The customer's mood: the last customer messages' tags, weighted to the newest
    # (score in [-1, 1]), and how it moved since the first customer message.
    sentiment = models.CharField(max_length=8, choices=SentimentLabel.choices, blank=True, default="")
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_first_score = models.FloatField(null=True, blank=True)
    sentiment_trend = models.CharField(max_length=10, choices=SentimentTrend.choices, blank=True, default="")
    # Set once: a confidently negative message raised the priority and asked for the lead's attention.
    sentiment_escalated_at = models.DateTimeField(null=True, blank=True)
    # Set when a conversation that was negative turned positive.
    sentiment_recovered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            models.Index(fields=["team", "status", "-created_at"], name="ticket_team_status_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["sla_due_at"], name="ticket_sla_due_idx"),
            # "Waiting for a first response now" (the speed report, the inbox filter): few rows, read often.
            models.Index(
                fields=["status"],
                condition=models.Q(first_response_at__isnull=True),
                name="ticket_no_first_response_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(help_text="Position in the ticket's conversation, from 1.")
    client_msg_id = models.CharField(
        max_length=64, null=True, blank=True, help_text="Id chosen by the sending client; a retry reuses it."
    )
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author_agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    internal = models.BooleanField(default=False, help_text="An internal note, never shown to the customer.")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Customer messages are tagged by the sentiment worker after they are stored.
    sentiment = models.CharField(max_length=8, choices=SentimentLabel.choices, blank=True, default="")
    sentiment_confidence = models.FloatField(null=True, blank=True)
    sentiment_model = models.CharField(max_length=120, blank=True, help_text="Name and version of the model.")
    sentiment_tagged_at = models.DateTimeField(null=True, blank=True)
    # A worker took the message into a batch at this time; an old claim is a crashed worker's.
    sentiment_claimed_at = models.DateTimeField(null=True, blank=True)
    sentiment_error = models.CharField(max_length=300, blank=True, help_text="Why the last attempt failed.")
    # An agent's correction; the model's tag stays beside it.
    sentiment_corrected = models.CharField(max_length=8, choices=SentimentLabel.choices, blank=True, default="")
    sentiment_corrected_by = models.ForeignKey(
        Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sentiment_corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(fields=["ticket", "client_msg_id"], name="message_unique_client_id"),
        ]
        indexes = [
            # The tagger's queue: customer messages not tagged yet, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(author_kind="customer", sentiment_tagged_at__isnull=True),
                name="message_untagged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}:{self.seq}"


class TicketRead(models.Model):
    """How far one agent has read one ticket: its messages up to ``seq``. A ticket
    whose last_seq is higher holds messages the agent has not seen (unread)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="reads")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="reads")
    seq = models.PositiveIntegerField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "ticket"], name="ticketread_unique_agent_ticket")]

    def __str__(self) -> str:
        return f"{self.agent_id} read {self.ticket_id} to {self.seq}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the upload: the original is kept in `name` only.
    return f"attachments/{instance.ticket_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file sent with a message. Uploaded first (message empty), then bound to
    the message that carries it. Served only through the desk's download view,
    as a download, except raster images shown inline."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author_agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=200, help_text="The file name as uploaded, shown as text.")
    content_type = models.CharField(max_length=100, help_text="Sniffed from the content, not taken from the upload.")
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    MESSAGE = "message", "Customer message"
    REPLIED = "replied", "Agent replied"
    NOTE = "note", "Internal note"
    FIRST_RESPONSE = "first_response", "First response"
    ASSIGNED = "assigned", "Assigned"
    TEAM_CHANGED = "team_changed", "Team changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    CATEGORY_CHANGED = "category_changed", "Category changed"
    TAGS_CHANGED = "tags_changed", "Tags changed"
    ORDER_LINKED = "order_linked", "Order linked"
    MERGED = "merged", "Merged"
    ROUTED = "routed", "Routed"
    REOPENED = "reopened", "Reopened"
    SLA_STARTED = "sla_started", "SLA clock started"
    SLA_WARNED = "sla_warned", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    ESCALATED = "escalated", "Escalated"
    SENTIMENT_CHANGED = "sentiment_changed", "Sentiment changed"
    SENTIMENT_CORRECTED = "sentiment_corrected", "Sentiment corrected"
    RECOVERED = "recovered", "Recovered"


class TicketEvent(models.Model):
    """Append-only history of a ticket. Rows are written by services and never changed."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["ticket", "created_at", "id"]
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class CannedReply(models.Model):
    """A reply agents insert and edit before sending; placeholders are filled per ticket
    (see helpdesk.tickets.placeholders). No team: offered to every team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_replies")
    title = models.CharField(max_length=80)
    body = models.TextField(
        help_text="Placeholders: {customer.first_name}, {customer.name}, {order.number}, "
        "{order.tracking_url}, {order.carrier}, {agent.first_name}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(fields=["team", "title"], name="cannedreply_unique_title", nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return self.title


class CategoryKeywords(models.Model):
    """The words that point a ticket to a category, in one language; see
    helpdesk.tickets.routing for how they match (stems, phrases, prefixes)."""

    category = models.CharField(max_length=16, choices=[c for c in TicketCategory.choices if c[0]])
    language = models.CharField(max_length=8, help_text="A language code: en, he, fa, ...")
    keywords = models.TextField(help_text="One word stem or phrase per line.")

    class Meta:
        ordering = ["category", "language"]
        verbose_name_plural = "category keywords"
        constraints = [
            models.UniqueConstraint(fields=["category", "language"], name="categorykeywords_unique_language"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.language})"

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]


class BusinessHoursCondition(models.TextChoices):
    ANY = "", "Any time"
    INSIDE = "inside", "Within business hours"
    OUTSIDE = "outside", "Outside business hours"


class RoutingRule(models.Model):
    """When a ticket opens or reopens, the first active rule (by position) whose
    conditions all hold decides its team, priority and tags. Empty conditions
    match anything; list conditions hold when any listed value matches.
    The rule marked default matches every ticket and comes last."""

    position = models.PositiveIntegerField(default=100, help_text="Rules are tried from the lowest position up.")
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="Matches every ticket after all other rules; exactly one rule is the default."
    )
    categories = models.JSONField(default=list, blank=True)
    keywords = models.TextField(blank=True, help_text="Any of these word stems or phrases, one per line.")
    channels = models.JSONField(default=list, blank=True)
    sentiments = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    min_lifetime_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    order_statuses = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="Language codes: en, he, fa, ar.")
    business_hours = models.CharField(
        max_length=8, choices=BusinessHoursCondition.choices, blank=True, default=BusinessHoursCondition.ANY
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Empty: keep the team."
    )
    priority = models.CharField(
        max_length=8, choices=TicketPriority.choices, blank=True, default="", help_text="Empty: keep the priority."
    )
    tags = models.CharField(max_length=300, blank=True, help_text="Tags to add, comma separated.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["is_default", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="routingrule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]


class SlaPolicy(models.Model):
    """Targets for tickets of a team and priority; the most specific policy
    applies (team and priority, then team, then priority, then the fallback
    with neither)."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policies")
    priority = models.CharField(max_length=8, choices=TicketPriority.choices, blank=True, default="")
    first_response_minutes = models.PositiveIntegerField(default=10)
    next_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="After a reopened ticket's customer message; empty: no target."
    )
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no target.")
    business_hours = models.BooleanField(
        default=False, help_text="Count only the team's business hours; off: every minute counts."
    )
    warn_before_minutes = models.PositiveIntegerField(default=2)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["team", "priority"], name="slapolicy_unique_scope", nulls_distinct=False),
        ]

    def __str__(self) -> str:
        return self.name


class SlaClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class SlaClock(models.Model):
    """One running (or finished) SLA target of a ticket. Due and warning times
    are computed from the stored start, pauses and policy; a breach is recorded
    once (breached_at set by a conditional update)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_clocks")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=SlaClockKind.choices)
    target_minutes = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    # [[paused_at, resumed_at or null], ...] while pending on the customer.
    pauses = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Null while paused.")
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Met, or no longer needed.")

    class Meta:
        ordering = ["ticket", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"], condition=models.Q(stopped_at__isnull=True), name="slaclock_one_running"
            ),
            # Started when the ticket opens, never restarted (a reopened ticket gets a
            # next-response clock): the reports join it as one row per ticket
            # (helpdesk.tickets.filters.with_first_response_clock).
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(kind=SlaClockKind.FIRST_RESPONSE),
                name="slaclock_one_first_response",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(stopped_at__isnull=True, breached_at__isnull=True),
                name="slaclock_due_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"
