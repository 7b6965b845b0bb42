"""Survey answers in the ticket page's customer panel (Feelings and Past
conversations): escaped, linked to follow-ups, and only for tickets the agent
may see."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from helpdesk.tickets.models import Agent, AuthorKind, Ticket
from helpdesk.tickets.services import message_post
from surveys.models import FollowUp, Survey
from surveys.services import survey_answer
from tests.factories import make_ticket
from tests.surveys.conftest import solve

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture(autouse=True)
def _no_cooldown(settings):
    settings.SURVEY_COOLDOWN_DAYS = 0


def page_for(agent: Agent, ticket: Ticket) -> str:
    client = Client()
    client.force_login(agent.user)
    response = client.get(f"/desk/tickets/{ticket.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def feelings(html: str) -> str:
    return html[html.index('data-testid="customer-feelings"') : html.index('data-testid="customer-history"')]


def answer(ticket: Ticket, agent: Agent, score: int, **texts: str) -> Survey:
    solve(ticket, agent)
    survey = Survey.objects.get(ticket=ticket)
    survey_answer(survey=survey, score=score, **texts)
    return survey


def test_earlier_answers_show_score_reason_comment_follow_up_and_recovery(
    customer, logistics, logistics_agent, team_lead
) -> None:
    torn = make_ticket(customer, logistics, subject="Tent arrived torn")
    answer(torn, logistics_agent, 2, reason="slow", reason_text="Two weeks", comment=f"Late again {XSS}")
    follow_up = FollowUp.objects.get().ticket
    answer(make_ticket(customer, logistics, subject="Stove"), logistics_agent, 5, comment="Great help")
    current = make_ticket(customer, logistics, subject="Boots")

    html = feelings(page_for(logistics_agent, current))

    items = re.findall(r'<li class="cx-survey".*?</li>', html, re.S)
    assert len(items) == 2
    assert "CSAT 5/5" in items[0] and "Great help" in items[0]
    low = items[1]
    assert re.search(r'data-testid="survey-score" data-group="low">CSAT 2/5<', low)
    assert "It took too long" in low and "Two weeks" in low
    assert "Late again &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in low and XSS not in html
    assert f'href="/desk/tickets/{follow_up.pk}/" data-testid="survey-follow-up">follow-up #{follow_up.pk}<' in low
    assert 'data-testid="survey-recovered"' in low  # the 5 that came later recovered it
    assert f'href="/desk/tickets/{torn.pk}/"' in low


def test_past_conversations_carry_their_score(customer, logistics, logistics_agent) -> None:
    torn = make_ticket(customer, logistics, subject="Tent arrived torn")
    answer(torn, logistics_agent, 4)

    html = page_for(logistics_agent, make_ticket(customer, logistics))

    past = re.search(rf'<li data-testid="past-ticket" data-ticket-id="{torn.pk}">.*?</li>', html, re.S)
    assert past and re.search(r'data-testid="past-survey" data-group="happy"[^>]*>CSAT 4/5<', past.group(0))


def test_answers_on_tickets_the_agent_may_not_see_are_not_shown(
    customer, logistics, returns, logistics_agent, returns_agent, manager
) -> None:
    answer(make_ticket(customer, returns, subject="Refund"), returns_agent, 1, comment="Returns were rude")
    current = make_ticket(customer, logistics)

    assert "Returns were rude" not in page_for(logistics_agent, current)
    assert "Returns were rude" in feelings(page_for(manager, current))


def test_the_tickets_own_survey_state(customer, logistics, logistics_agent) -> None:
    ticket = make_ticket(customer, logistics)
    assert 'data-testid="ticket-survey"' not in page_for(logistics_agent, ticket)

    solve(ticket, logistics_agent)
    assert re.search(
        r'data-testid="ticket-survey" data-status="pending">\s*CSAT sent', page_for(logistics_agent, ticket)
    )

    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Wait, one more thing")
    html = page_for(logistics_agent, ticket)
    assert 'data-status="cancelled"' in html and "cancelled: the conversation was reopened" in html

    solve(ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(ticket=ticket), score=3, comment="Fine")
    html = feelings(page_for(logistics_agent, ticket))
    assert 'data-status="answered"' in html and "CSAT 3/5" in html and "Fine" in html
    assert 'data-testid="survey-answers"' not in html  # its own answer is not listed again


def test_an_expired_survey_says_so(customer, logistics, logistics_agent) -> None:
    ticket = make_ticket(customer, logistics)
    solve(ticket, logistics_agent)
    Survey.objects.filter(ticket=ticket).update(status="expired")

    assert "expired unanswered" in page_for(logistics_agent, ticket)
