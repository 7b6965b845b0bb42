"""Background work of tickets, run by the durable task queue (django-tasks,
database backend; `manage.py db_worker` runs it)."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task

from helpdesk.tickets.models import Message, Team


@task()
def reply_email_send(*, message_id: int) -> None:
    """Email an agent's reply on an email ticket to the customer. The ticket
    number in the subject lets the customer and the desk find the thread."""
    message = Message.objects.select_related("ticket__customer__shop", "author_agent__user").get(pk=message_id)
    ticket, customer = message.ticket, message.ticket.customer
    if message.internal or not customer.email:
        return
    signature = message.author_agent.display_name if message.author_agent else customer.shop.name
    EmailMessage(
        subject=f"Re: {ticket.subject} [#{ticket.pk}]",
        body=f"{message.body}\n\n-- \n{signature}, {customer.shop.name}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
        headers={"X-Helpdesk-Ticket": str(ticket.pk), "Message-ID": f"<ticket-{ticket.pk}-{message.seq}@helpdesk>"},
    ).send()


@task()
def assignment_run(*, team_id: int) -> int:
    """Assign the team's waiting tickets to its available agents; returns how
    many. Enqueued by the changes that may make that possible (see
    helpdesk.tickets.assignment_services); running it twice is harmless."""
    # Imported here: assignment_services enqueues this task, so it imports this module.
    from helpdesk.tickets.assignment_services import team_queue_drain

    team = Team.objects.filter(pk=team_id).first()
    return len(team_queue_drain(team=team)) if team is not None else 0


# One task run tags at most this many batches, then hands over to a fresh task,
# so a long backlog does not keep other tasks waiting.
TAG_BATCHES_PER_RUN = 20


_tagger_niced = False


def _tagger_priority_lower() -> None:
    """Once per process: the model yields the CPU to the chat (daphne) on a
    shared machine. Tags may wait a moment; messages may not."""
    global _tagger_niced
    if not _tagger_niced and settings.SENTIMENT_WORKER_NICE:
        os.nice(settings.SENTIMENT_WORKER_NICE)
    _tagger_niced = True


# Its own queue, run by its own worker (`db_worker --queue-name sentiment`): the
# model loads only in that process, and a batch never delays SLA or email tasks.
@task(queue_name="sentiment")
def messages_tag() -> int:
    """Tag waiting customer messages with the sentiment model, batch after
    batch, until none wait. Enqueued with every customer message; runs that
    find nothing waiting (another run took the batch) end at once."""
    # Imported here: the services that enqueue tasks import this module.
    from helpdesk.tickets.sentiment_services import messages_tag_batch

    _tagger_priority_lower()
    tagged = 0
    for _ in range(TAG_BATCHES_PER_RUN):
        run = messages_tag_batch()
        tagged += run.tagged
        if run.failed or not run.tagged:
            return tagged
    messages_tag.enqueue()
    return tagged
