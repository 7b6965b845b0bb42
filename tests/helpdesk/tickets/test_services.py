from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from helpdesk.tickets.models import AuthorKind, EventKind, TicketStatus
from helpdesk.tickets.services import message_post, ticket_assign, ticket_note, ticket_reply, ticket_set_status
from tests.factories import make_ticket


def kinds(ticket):
    return list(ticket.events.order_by("id").values_list("kind", flat=True))


def test_opening_a_ticket_stores_the_first_message_and_logs_it(customer, logistics):
    ticket = make_ticket(customer, logistics, body="My parcel is late")

    assert ticket.status == TicketStatus.NEW
    assert list(ticket.messages.values_list("seq", "body")) == [(1, "My parcel is late")]
    assert kinds(ticket) == [EventKind.OPENED, EventKind.SLA_STARTED, EventKind.MESSAGE]


def test_sequence_numbers_are_gapless_and_a_retry_returns_the_original(customer, logistics):
    ticket = make_ticket(customer, logistics)

    first = message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="hello?", client_msg_id="c-1")
    again = message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="hello?", client_msg_id="c-1")
    other = message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="anyone?", client_msg_id="c-2")

    assert first.created and not again.created
    assert again.message.pk == first.message.pk
    assert [first.message.seq, other.message.seq] == [2, 3]
    assert ticket.messages.count() == 3


def test_first_public_agent_reply_is_the_first_response_and_notes_do_not_count(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)

    ticket_note(ticket=ticket, agent=logistics_agent, body="checking the carrier")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None

    ticket_reply(ticket=ticket, agent=logistics_agent, body="It arrives tomorrow")
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Tracking link attached")
    ticket.refresh_from_db()

    assert ticket.first_response_at is not None
    assert ticket.status == TicketStatus.OPEN
    assert kinds(ticket).count(EventKind.FIRST_RESPONSE) == 1


def test_customer_message_reopens_a_solved_ticket(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="It still has not come")
    ticket.refresh_from_db()

    assert ticket.status == TicketStatus.OPEN
    assert ticket.solved_at is None


def test_closed_ticket_takes_no_more_messages(customer, logistics, logistics_agent):
    ticket = make_ticket(customer, logistics)
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.CLOSED)

    with pytest.raises(ValidationError):
        message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="hello")
    assert ticket.messages.count() == 1


def test_assignee_must_belong_to_the_team(customer, logistics, returns_agent, logistics_agent):
    ticket = make_ticket(customer, logistics)

    with pytest.raises(ValidationError) as error:
        ticket_assign(ticket=ticket, actor=logistics_agent, assignee=returns_agent)
    assert "assignee" in error.value.message_dict

    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)
    ticket.refresh_from_db()
    assert ticket.assignee == logistics_agent
    assert kinds(ticket)[-1] == EventKind.ASSIGNED
