"""The reports read other apps' rows; the only thing they keep is which weekly
digest went out, so that one is sent once per week however many sweepers run."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DigestRun(models.Model):
    """The weekly digest email of one week. Inserted with its task in one
    transaction by reports.services.digest_schedule; the unique week makes a
    second insert (another sweeper, a later pass) fail instead of sending twice."""

    week_start = models.DateField(help_text="Monday of the week it was sent in, desk time zone.")
    period_from = models.DateField(help_text="First day the digest covers.")
    period_to = models.DateField(help_text="Last day the digest covers.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0, help_text="Managers emailed.")

    class Meta:
        ordering = ["-week_start"]
        constraints = [models.UniqueConstraint(fields=["week_start"], name="digestrun_unique_week")]

    def __str__(self) -> str:
        return f"digest of {self.period_from} to {self.period_to}"
