"""Background work of surveys, run by the durable task queue (django-tasks,
database backend; `manage.py db_worker` runs it)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from surveys.models import Survey, SurveyKind
from surveys.webhooks import DeliveryFailed, webhook_post, webhook_retry_at

log = logging.getLogger(__name__)


def survey_link(token: str) -> str:
    return settings.SURVEY_BASE_URL.rstrip("/") + reverse("survey-page", kwargs={"token": token})


@task()
def survey_send(*, survey_id: int) -> bool:
    """Open a scheduled survey and email its link; False when there was
    nothing to send (answered, cancelled, reopened ticket, no address)."""
    # Imported here: surveys.services enqueues this task, so it imports this module.
    from surveys.services import survey_send as survey_open

    with transaction.atomic():
        token = survey_open(survey_id=survey_id)
        if token is None:
            return False
        survey = Survey.objects.select_related("ticket", "customer__shop").get(pk=survey_id)
        if not survey.customer.email:
            return False  # open for the widget only
        question = (
            "How would you rate the help you got? (1-5)"
            if survey.kind == SurveyKind.CSAT
            else "How likely are you to recommend us to a friend? (0-10)"
        )
        shop = survey.customer.shop.name
        days = settings.SURVEY_TOKEN_DAYS
        # Sent inside the transaction: an email that fails leaves the survey scheduled for a retry.
        EmailMessage(
            subject=f"How did we do? [#{survey.ticket_id}]",
            body=(
                f"Hello {survey.customer.name or ''},\n\n"
                f"your request “{survey.ticket.subject}” was solved. {question}\n\n"
                f"Answer here: {survey_link(token)}\n\n"
                f"The link works once, for {days} days.\n\n-- \n{shop}\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[survey.customer.email],
            headers={"X-Helpdesk-Ticket": str(survey.ticket_id), "X-Helpdesk-Survey": str(survey.pk)},
        ).send()
    return True


@task()
def survey_thanks_send(*, survey_id: int) -> None:
    """Thank a customer who answered well, with SURVEY_THANKS_MESSAGE."""
    survey = Survey.objects.select_related("ticket", "customer__shop").get(pk=survey_id)
    message = settings.SURVEY_THANKS_MESSAGE
    if not message or not survey.customer.email:
        return
    EmailMessage(
        subject=f"Thank you [#{survey.ticket_id}]",
        body=f"{message}\n\n-- \n{survey.customer.shop.name}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[survey.customer.email],
        headers={"X-Helpdesk-Ticket": str(survey.ticket_id)},
    ).send()


@task()
def webhook_deliver(*, url: str, event: str, body: str, attempt: int) -> bool:
    """One attempt to POST a signed webhook. A failure enqueues the next
    attempt with a doubled wait until SURVEY_WEBHOOK_MAX_ATTEMPTS; returns
    whether this attempt was delivered."""
    try:
        webhook_post(url, event=event, body=body, secret=settings.SURVEY_WEBHOOK_SECRET)
    except DeliveryFailed as error:
        retry_at = webhook_retry_at(
            attempt,
            now=timezone.now(),
            max_attempts=settings.SURVEY_WEBHOOK_MAX_ATTEMPTS,
            base_seconds=settings.SURVEY_WEBHOOK_RETRY_SECONDS,
        )
        if retry_at is None:
            log.warning("webhook %s to %s: given up after %s attempts (%s)", event, url, attempt, error)
        else:
            log.info("webhook %s to %s: attempt %s failed (%s); again at %s", event, url, attempt, error, retry_at)
            webhook_deliver.using(run_after=retry_at).enqueue(url=url, event=event, body=body, attempt=attempt + 1)
        return False
    return True
