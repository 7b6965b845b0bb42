"""The controls of the ticket box on the agent's ticket page (no browser)."""

from __future__ import annotations

import re

from django.test import Client

from helpdesk.tickets.models import Agent, Team, Ticket, TicketCategory, TicketPriority, TicketStatus
from tests.factories import make_agent, make_team, make_ticket


def page_html(agent: Agent, ticket: Ticket) -> str:
    client = Client()
    client.force_login(agent.user)
    response = client.get(f"/desk/tickets/{ticket.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def select_html(html: str, testid: str) -> str:
    match = re.search(rf'<select[^>]*data-testid="{testid}".*?</select>', html, re.S)
    assert match, testid
    return match.group(0)


def selected(html: str, testid: str) -> str:
    match = re.search(r'<option value="([^"]*)"[^>]*selected', select_html(html, testid))
    assert match, testid
    return match.group(1)


def options(html: str, testid: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', select_html(html, testid))


def test_the_controls_show_the_ticket_as_it_is(logistics_agent, team_lead, customer, logistics, returns):
    ticket = make_ticket(customer, logistics)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.PENDING, priority=TicketPriority.HIGH, category=TicketCategory.DELIVERY, assignee=team_lead
    )

    html = page_html(logistics_agent, ticket)

    assert selected(html, "ticket-status") == "pending"
    assert selected(html, "ticket-priority") == "high"
    assert selected(html, "ticket-category") == "delivery"
    assert selected(html, "ticket-team") == "logistics"
    assert selected(html, "ticket-assignee") == str(team_lead.pk)
    assert options(html, "ticket-status") == [value for value, _ in TicketStatus.choices]
    assert options(html, "ticket-category")[0] == ""  # unsorted
    assert options(html, "ticket-team") == ["logistics", "returns"]
    assert 'data-testid="assign-me"' in html
    assert 'data-testid="shortcuts-help"' in html
    assert 'role="dialog" aria-modal="true"' in html


def test_every_active_agent_is_an_assignee_option_with_their_teams(
    logistics_agent, returns_agent, manager, customer, logistics
):
    ticket = make_ticket(customer, logistics)

    html = page_html(logistics_agent, ticket)

    assignees = select_html(html, "ticket-assignee")
    assert options(html, "ticket-assignee") == ["", str(logistics_agent.pk), str(manager.pk), str(returns_agent.pk)]
    assert selected(html, "ticket-assignee") == ""
    assert f'value="{returns_agent.pk}" data-teams="returns "' in assignees
    assert re.search(rf'value="{manager.pk}" data-teams=""\s*data-manager="true"', assignees)


def test_every_control_has_a_label(logistics_agent, customer, logistics):
    html = page_html(logistics_agent, make_ticket(customer, logistics))

    for field in ("status", "priority", "category", "team", "assignee"):
        assert f'<label for="ticket-{field}">' in html
        assert f'id="ticket-{field}"' in html
        assert f'aria-describedby="ticket-{field}-error' in html


# The ticket's tags, the tag input's options, message attachments, the agent's read mark and the
# customer panel's surveys (one query) came later.
QUERIES = 17


def add_agents(team: Team, count: int, start: int) -> None:
    for n in range(start, start + count):
        make_agent(f"agent{n}", teams=(team, make_team(f"team{n}")))


def test_the_page_query_count_does_not_grow_with_agents_and_teams(
    logistics_agent, customer, logistics, django_assert_num_queries
):
    ticket = make_ticket(customer, logistics)
    client = Client()
    client.force_login(logistics_agent.user)
    add_agents(logistics, 1, 0)

    # session, user, agent, ticket, messages, attachments, events, tags, read mark, orders, past tickets,
    # teams, agents (with users), agents' teams, tag options, the customer's shop, surveys
    with django_assert_num_queries(QUERIES):
        client.get(f"/desk/tickets/{ticket.pk}/")
    add_agents(logistics, 6, 1)
    with django_assert_num_queries(QUERIES):
        response = client.get(f"/desk/tickets/{ticket.pk}/")

    assert len(options(response.content.decode(), "ticket-assignee")) == 1 + 8
