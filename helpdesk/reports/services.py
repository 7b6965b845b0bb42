"""The reports' only writes: scheduling and sending the weekly digest."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.reports import tasks
from helpdesk.reports.digest import digest_email, digest_figures, digest_recipients
from helpdesk.reports.models import DigestRun

log = logging.getLogger(__name__)


def digest_due(*, now: datetime) -> tuple[date, datetime]:
    """(Monday of ``now``'s week, when this week's digest is due): the
    configured weekday and hour of that week, in the desk's time zone."""
    week_start = timezone.localdate(now) - timedelta(days=timezone.localtime(now).weekday())
    due_day = week_start + timedelta(days=settings.REPORTS_DIGEST_WEEKDAY)
    return week_start, timezone.make_aware(datetime.combine(due_day, time(hour=settings.REPORTS_DIGEST_HOUR)))


def digest_schedule(*, now: datetime) -> bool:
    """Once this week's digest is due and not yet scheduled, insert its
    DigestRun and enqueue the task that sends it, in one transaction; True when
    this call did. Called by every sweeper pass: the unique week makes every
    other call (a later pass, another sweeper at the same moment) a no-op."""
    if not settings.REPORTS_DIGEST_ENABLED:
        return False
    week_start, due_at = digest_due(now=now)
    if now < due_at or _scheduled(week_start):
        return False
    due_day = timezone.localdate(due_at)
    try:
        with transaction.atomic():
            run = DigestRun.objects.create(
                week_start=week_start, period_from=due_day - timedelta(days=7), period_to=due_day - timedelta(days=1)
            )
            tasks.digest_send.enqueue(run_id=run.pk)
    except IntegrityError:
        return False  # another sweeper scheduled it between our check and our insert
    return True


def _scheduled(week_start: date) -> bool:
    # Every pass asks; reading first keeps the common case free of failed inserts.
    return DigestRun.objects.filter(week_start=week_start).exists()


def digest_run_send(*, run_id: int, now: datetime | None = None) -> int:
    """Email the run's digest to every active manager with an address and mark
    it sent; returns how many were emailed, 0 when it was sent already.

    The run's row stays locked until the emails are out, so a second task
    for it waits and then finds it sent. If sending fails, the transaction
    rolls back and the task may be run again (then some managers may get it
    twice; none is skipped)."""
    with transaction.atomic():
        run = DigestRun.objects.select_for_update().get(pk=run_id)
        if run.sent_at is not None:
            return 0
        managers = list(digest_recipients())
        if managers:
            # Managers see every ticket, so one set of figures serves them all.
            figures = digest_figures(viewer=managers[0], period_from=run.period_from, period_to=run.period_to)
            messages = [
                digest_email(figures=figures, period_from=run.period_from, period_to=run.period_to, to=[m.user.email])
                for m in managers
            ]
            get_connection().send_messages(messages)
        run.sent_at = now or timezone.now()
        run.recipients = len(managers)
        run.save(update_fields=["sent_at", "recipients"])
    log.info("weekly digest of %s to %s: %s managers", run.period_from, run.period_to, len(managers))
    return len(managers)
