"""Surveys sent when a ticket is solved, their answers and the follow-ups low
scores open. Every change goes through surveys.services."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Team, Ticket, TicketChannel


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    NPS = "nps", "NPS (0-10)"


class SurveyStatus(models.TextChoices):
    # Scheduled: created at solve time, waiting for its delay before it goes out.
    SCHEDULED = "scheduled", "Scheduled"
    PENDING = "pending", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class SurveyReason(models.TextChoices):
    """Why a low score: a short list the form offers, plus free text."""

    SLOW = "slow", "It took too long"
    NOT_SOLVED = "not_solved", "My problem is not solved"
    UNFRIENDLY = "unfriendly", "The answer was unhelpful or unfriendly"
    PRODUCT = "product", "The product or delivery itself"
    OTHER = "other", "Something else"


class SurveyPolicy(models.Model):
    """Which survey a solved ticket gets. The most specific active policy
    applies: team and channel, then team, then channel, then neither
    (surveys.policy.policy_pick)."""

    name = models.CharField(max_length=100, unique=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="survey_policies")
    channel = models.CharField(
        max_length=8, choices=TicketChannel.choices, blank=True, default="", help_text="Empty: any channel."
    )
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text="0: right away. 4320: three days after the ticket is solved."
    )
    sampling_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MaxValueValidator(100)], help_text="Share of solved tickets surveyed, 0-100."
    )
    only_delivered_orders = models.BooleanField(
        default=False, help_text="Survey only tickets about an order that was delivered."
    )
    active = models.BooleanField(default=True, help_text="Off: no survey for tickets this policy matches.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "survey policies"
        constraints = [
            models.UniqueConstraint(fields=["team", "channel"], name="surveypolicy_unique_scope", nulls_distinct=False),
            models.CheckConstraint(condition=models.Q(sampling_percent__lte=100), name="surveypolicy_sampling_max"),
        ]

    def __str__(self) -> str:
        return self.name


class Survey(models.Model):
    """One survey of one solved ticket. The email link's token is never
    stored: only its SHA-256 (surveys.tokens)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    policy = models.ForeignKey(SurveyPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices)
    channel = models.CharField(max_length=8, choices=TicketChannel.choices)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED)
    created_at = models.DateTimeField(default=timezone.now)
    send_at = models.DateTimeField(help_text="When it goes (or went) out.")
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="survey_customer_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for #{self.ticket_id}"


class SurveyResponse(models.Model):
    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="response")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    reason = models.CharField(max_length=16, choices=SurveyReason.choices, blank=True)
    reason_text = models.TextField(blank=True)
    answered_at = models.DateTimeField(default=timezone.now)
    # SHA-256 of the answering IP with the secret key: enough to spot abuse, not an address.
    ip_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-answered_at"]

    def __str__(self) -> str:
        return f"{self.score} on #{self.survey_id}"


class FollowUp(models.Model):
    """The ticket a low score opened; ``recovered_at`` is set when a later
    survey of the same customer came back happy (4-5 or 9-10)."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="follow_up")
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey_follow_up")
    created_at = models.DateTimeField(default=timezone.now)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_by = models.ForeignKey(Survey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"follow-up #{self.ticket_id} of survey {self.survey_id}"
