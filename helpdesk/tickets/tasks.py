"""Background work of tickets, run by the durable task queue (django-tasks,
database backend; `manage.py db_worker` runs it)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task

from helpdesk.tickets.models import Message


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
