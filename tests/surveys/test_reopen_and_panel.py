"""A reopened ticket cancels its pending survey at once (for the widget and
the panel), and surveys.selectors.survey_panel: the ticket's own survey and
the customer's answers the agent may see, in one query."""

from __future__ import annotations

import pytest

from helpdesk.tickets.models import AuthorKind, TicketEvent, TicketStatus
from helpdesk.tickets.services import message_post, ticket_set_status
from surveys.models import Survey, SurveyStatus
from surveys.selectors import survey_panel, survey_widget_open
from surveys.services import survey_answer
from tests.factories import desk_events, make_ticket
from tests.surveys.conftest import solve


@pytest.fixture(autouse=True)
def _no_cooldown(settings):
    settings.SURVEY_COOLDOWN_DAYS = 0


def test_a_customer_message_cancels_the_pending_survey_and_tells_the_desk(
    chat_ticket, logistics_agent, django_capture_on_commit_callbacks
) -> None:
    solve(chat_ticket, logistics_agent)

    with django_capture_on_commit_callbacks() as callbacks:
        message_post(ticket=chat_ticket, author_kind=AuthorKind.CUSTOMER, body="It is still torn")

    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.CANCELLED
    assert TicketEvent.objects.filter(ticket=chat_ticket, kind="survey_cancelled").count() == 1
    assert survey_widget_open(customer_id=chat_ticket.customer_id) == []
    assert sorted(event["change"] for event in desk_events(callbacks)) == ["context", "message"]  # panels: "context"


def test_an_agent_reopening_cancels_it_too_but_closing_keeps_it(chat_ticket, customer, logistics, logistics_agent):
    solve(chat_ticket, logistics_agent)
    ticket_set_status(ticket=chat_ticket, actor=logistics_agent, status=TicketStatus.OPEN)
    assert Survey.objects.get(ticket=chat_ticket).status == SurveyStatus.CANCELLED

    closed = make_ticket(customer, logistics)
    solve(closed, logistics_agent)
    ticket_set_status(ticket=closed, actor=logistics_agent, status=TicketStatus.CLOSED)
    assert Survey.objects.get(ticket=closed).status == SurveyStatus.PENDING


def test_an_answered_survey_stays_answered_when_the_ticket_reopens(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=4)
    message_post(ticket=chat_ticket, author_kind=AuthorKind.CUSTOMER, body="One more thing")

    assert Survey.objects.get().status == SurveyStatus.ANSWERED


def test_the_panel_has_the_tickets_own_survey_and_the_answers_the_agent_may_see(
    customer, logistics, returns, logistics_agent, returns_agent, manager, django_assert_num_queries
) -> None:
    answered = make_ticket(customer, logistics, subject="Torn tent")
    solve(answered, logistics_agent)
    survey_answer(survey=Survey.objects.get(ticket=answered), score=4, comment="ok now")
    elsewhere = make_ticket(customer, returns, subject="Refund")
    solve(elsewhere, returns_agent)
    survey_answer(survey=Survey.objects.get(ticket=elsewhere), score=5, comment="refund was quick")
    current = make_ticket(customer, logistics, subject="Stove")
    solve(current, logistics_agent)

    with django_assert_num_queries(1):
        panel = survey_panel(agent=logistics_agent, ticket=current)

    assert panel.this_ticket is not None and panel.this_ticket.status == SurveyStatus.PENDING
    assert [a.ticket_id for a in panel.answers] == [answered.pk]  # not the returns team's ticket
    assert panel.by_ticket[answered.pk].score == 4
    assert [a.ticket_id for a in survey_panel(agent=manager, ticket=current).answers] == [elsewhere.pk, answered.pk]
