"""What ticket services tell connected clients (after commit only), read
receipts, the availability customers see, and replies emailed on email
tickets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets import notify
from helpdesk.tickets.models import AgentStatus, AuthorKind, Ticket, TicketChannel
from helpdesk.tickets.notify import MANAGERS_GROUP, agent_group, customer_group, team_group
from helpdesk.tickets.selectors import desk_availability
from helpdesk.tickets.services import (
    agent_seen,
    message_post,
    ticket_assign,
    ticket_mark_seen,
    ticket_note,
    ticket_reply,
)
from helpdesk.tickets.tasks import reply_email_send
from tests.factories import make_ticket

Sent = list[tuple[list[str], dict[str, Any]]]


@pytest.fixture
def sent(monkeypatch) -> Sent:
    """What would have gone to the channel layer: (groups, event) per send."""
    calls: Sent = []
    monkeypatch.setattr(notify, "_send", lambda events: calls.extend((list(g), e) for g, e in events))
    return calls


@pytest.fixture
def ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics)  # its "opened" event is never committed, so never sent


# -- notifications after commit ------------------------------------------------------------


def test_events_made_at_one_level_of_a_transaction_leave_together_in_order(
    customer, logistics, sent, django_capture_on_commit_callbacks
):
    first, second = make_ticket(customer, logistics), make_ticket(customer, logistics)
    # One transaction, as a batch of sentiment tags makes.
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notify.notify_on_commit(first, "sentiment")
        notify.notify_on_commit(second, "sentiment")
        notify.notify_on_commit(first, "escalated")

    assert [(event["ticket"]["id"], event["change"]) for _, event in sent] == [
        (first.pk, "sentiment"),
        (second.pk, "sentiment"),
        (first.pk, "escalated"),
    ]
    assert len(callbacks) == 1  # one trip to the channel layer


def test_a_rolled_back_savepoint_takes_its_events_with_it(
    ticket, logistics_agent, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="First")
        try:
            with transaction.atomic():
                ticket_note(ticket=ticket, agent=logistics_agent, body="Undone")
                raise RuntimeError("the inner change fails")
        except RuntimeError:
            pass
        message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Second")

    assert [event["message"]["body"] for _, event in sent] == ["First", "Second"]


def test_a_customer_message_reaches_the_team_managers_and_the_customer_after_commit(
    ticket, customer, logistics, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Any news?")
        assert sent == []  # not before commit

    [(groups, event)] = sent
    assert set(groups) == {team_group(logistics.pk), MANAGERS_GROUP, customer_group(customer.pk)}
    assert (event["change"], event["ticket"]["id"]) == ("message", ticket.pk)
    assert (event["message"]["body"], event["message"]["seq"]) == ("Any news?", 2)


def test_an_agent_reply_reaches_the_customer_and_an_internal_note_does_not(
    ticket, customer, logistics_agent, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, agent=logistics_agent, body="It ships today")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_note(ticket=ticket, agent=logistics_agent, body="VIP, be nice")

    (reply_groups, _), (note_groups, note) = sent
    assert customer_group(customer.pk) in reply_groups
    assert customer_group(customer.pk) not in note_groups
    assert {MANAGERS_GROUP, team_group(ticket.team_id)} <= set(note_groups)
    assert note["message"]["internal"] is True


def test_moving_a_ticket_to_another_team_tells_the_old_and_the_new_team(
    ticket, logistics, returns, logistics_agent, returns_agent, sent, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)

    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=logistics_agent, assignee=returns_agent, team=returns)

    [(groups, event)] = sent
    assert {team_group(logistics.pk), team_group(returns.pk), MANAGERS_GROUP} <= set(groups)
    assert {agent_group(logistics_agent.pk), agent_group(returns_agent.pk)} <= set(groups)
    assert event["change"] == "assigned"
    assert event["ticket"]["team"] == returns.pk


def test_nothing_is_sent_when_the_transaction_rolls_back(ticket, sent, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="lost")
        raise RuntimeError("the caller failed after the service")

    assert sent == [] and callbacks == []
    assert ticket.messages.count() == 1


# -- receipts ------------------------------------------------------------------------------


@pytest.fixture
def three_messages(ticket, logistics_agent) -> Ticket:
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Checking")
    ticket_reply(ticket=ticket, agent=logistics_agent, body="It ships today")
    return ticket


def marks(ticket: Ticket) -> tuple[int, int, int]:
    ticket.refresh_from_db()
    return ticket.customer_delivered_seq, ticket.customer_read_seq, ticket.agent_read_seq


def test_marks_only_move_forward(three_messages):
    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=2, read=False) is True
    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=1, read=False) is False
    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=2, read=False) is False

    assert marks(three_messages) == (2, 0, 0)


def test_marks_never_pass_the_last_message(three_messages):
    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=99, read=True) is True

    assert marks(three_messages) == (3, 3, 0)
    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=100, read=True) is False


def test_reading_marks_delivered_too_but_never_moves_it_back(three_messages):
    ticket_mark_seen(ticket=three_messages, reader="customer", seq=3, read=False)

    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=1, read=True) is True
    assert marks(three_messages) == (3, 1, 0)


def test_a_negative_seq_moves_nothing(three_messages):
    assert ticket_mark_seen(ticket=three_messages, reader="agent", seq=-5, read=True) is False
    assert marks(three_messages) == (0, 0, 0)


def test_agents_and_the_customer_keep_separate_marks(three_messages):
    assert ticket_mark_seen(ticket=three_messages, reader="agent", seq=2, read=True) is True
    assert marks(three_messages) == (0, 0, 2)

    assert ticket_mark_seen(ticket=three_messages, reader="customer", seq=3, read=True) is True
    assert marks(three_messages) == (3, 3, 2)


def test_a_mark_that_moved_is_announced_and_one_that_did_not_is_not(
    three_messages, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_mark_seen(ticket=three_messages, reader="customer", seq=3, read=True)
        ticket_mark_seen(ticket=three_messages, reader="customer", seq=3, read=True)

    [(_, event)] = sent
    assert event["change"] == "receipt"
    assert (event["ticket"]["customer_delivered_seq"], event["ticket"]["customer_read_seq"]) == (3, 3)
    assert three_messages.customer_read_seq == 3  # the caller's object is current


# -- availability --------------------------------------------------------------------------


@pytest.fixture
def wednesday_noon(time_machine, settings):
    """A fixed moment in the desk's time zone; the reply estimate starts uncached."""
    settings.BUSINESS_HOURS = "mon-fri 09:00-18:00"
    settings.CHAT_DEFAULT_REPLY_SECONDS = 120
    cache.clear()
    time_machine.move_to(datetime(2025, 3, 5, 12, tzinfo=timezone.get_current_timezone()), tick=False)
    yield time_machine
    cache.clear()


def test_offline_when_no_agent_is_online(wednesday_noon, logistics_agent):
    agent_seen(agent=logistics_agent, status=AgentStatus.AWAY)

    availability = desk_availability()

    assert (availability.online, availability.business_hours, availability.expected_reply_seconds) == (
        False,
        True,
        None,
    )


def test_offline_outside_business_hours_even_with_an_agent_online(wednesday_noon, logistics_agent):
    wednesday_noon.shift(timedelta(hours=7))  # 19:00
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    availability = desk_availability()

    assert (availability.online, availability.business_hours) == (False, False)


def test_offline_on_a_sunday(wednesday_noon, logistics_agent):
    wednesday_noon.shift(timedelta(days=4))
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    assert desk_availability().online is False


def test_online_with_an_agent_seen_recently_with_the_default_estimate(wednesday_noon, logistics_agent):
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    availability = desk_availability()

    assert (availability.online, availability.business_hours, availability.expected_reply_seconds) == (
        True,
        True,
        120,
    )


def test_an_agent_not_heard_from_for_longer_than_agent_online_seconds_is_not_online(
    wednesday_noon, logistics_agent, settings
):
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    wednesday_noon.shift(timedelta(seconds=settings.AGENT_ONLINE_SECONDS - 1))
    assert desk_availability().online is True

    wednesday_noon.shift(timedelta(seconds=2))
    assert desk_availability().online is False


def answer_after(seconds: int, *, customer, team, agent, clock, channel=TicketChannel.CHAT) -> None:
    ticket = make_ticket(customer, team, channel=channel)
    clock.shift(timedelta(seconds=seconds))
    ticket_reply(ticket=ticket, agent=agent, body="Hello, how can I help?")


def test_the_estimate_stays_the_default_with_fewer_than_five_chat_first_responses(
    wednesday_noon, customer, logistics, logistics_agent
):
    for seconds in (10, 20, 30, 40):
        answer_after(seconds, customer=customer, team=logistics, agent=logistics_agent, clock=wednesday_noon)
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    assert desk_availability().expected_reply_seconds == 120


def test_the_estimate_is_the_median_chat_first_response_once_there_are_five(
    wednesday_noon, customer, logistics, logistics_agent
):
    for seconds in (10, 20, 30, 40, 500):
        answer_after(seconds, customer=customer, team=logistics, agent=logistics_agent, clock=wednesday_noon)
    for _ in range(3):  # slow email answers are not chat answers
        answer_after(
            3000,
            customer=customer,
            team=logistics,
            agent=logistics_agent,
            clock=wednesday_noon,
            channel=TicketChannel.EMAIL,
        )
    agent_seen(agent=logistics_agent, status=AgentStatus.ONLINE)

    assert desk_availability().expected_reply_seconds == 30


# -- replies on email tickets ----------------------------------------------------------------


def queued_emails() -> list[dict[str, Any]]:
    rows = DBTaskResult.objects.filter(task_path=reply_email_send.module_path)
    return [row.args_kwargs["kwargs"] for row in rows]


@pytest.fixture
def email_ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics, channel=TicketChannel.EMAIL, subject="Broken tent pole")


def test_an_agent_reply_on_an_email_ticket_queues_its_email(email_ticket, logistics_agent):
    assert queued_emails() == []  # the customer's own first message is not emailed back

    posted = ticket_reply(ticket=email_ticket, agent=logistics_agent, body="A new pole is on its way.")

    assert queued_emails() == [{"message_id": posted.message.pk}]


def test_an_internal_note_on_an_email_ticket_is_not_emailed(email_ticket, logistics_agent):
    ticket_note(ticket=email_ticket, agent=logistics_agent, body="Supplier fault again")

    assert queued_emails() == []


def test_a_reply_on_a_chat_ticket_is_not_emailed(ticket, logistics_agent):
    ticket_reply(ticket=ticket, agent=logistics_agent, body="It ships today")

    assert queued_emails() == []


def test_a_retried_reply_is_emailed_once(email_ticket, logistics_agent):
    ticket_reply(ticket=email_ticket, agent=logistics_agent, body="A new pole is on its way.", client_msg_id="r-1")
    ticket_reply(ticket=email_ticket, agent=logistics_agent, body="A new pole is on its way.", client_msg_id="r-1")

    assert len(queued_emails()) == 1


def test_a_reply_that_rolls_back_leaves_no_email_queued(email_ticket, logistics_agent):
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_reply(ticket=email_ticket, agent=logistics_agent, body="A new pole is on its way.")
        raise RuntimeError("the caller failed after the service")

    assert queued_emails() == []


def test_the_queued_reply_is_emailed_to_the_customer_with_the_ticket_number(email_ticket, logistics_agent):
    posted = ticket_reply(ticket=email_ticket, agent=logistics_agent, body="A new pole is on its way.")
    [kwargs] = queued_emails()

    reply_email_send.call(**kwargs)

    [email] = mail.outbox
    assert email.to == ["dana@example.com"]
    assert "A new pole is on its way." in email.body
    assert f"#{email_ticket.pk}" in email.subject and "Broken tent pole" in email.subject
    assert posted.message.pk == kwargs["message_id"]
