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


class Team(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)

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
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_created_idx"),
            models.Index(fields=["team", "status", "-created_at"], name="ticket_team_status_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
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

    class Meta:
        ordering = ["ticket", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(fields=["ticket", "client_msg_id"], name="message_unique_client_id"),
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
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
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
