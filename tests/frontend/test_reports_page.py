"""The reports dashboard page (/reports/): who may open it, the filter bar it
renders (a team lead's choices limited to their teams), the empty sections
reports.js fills, and bad filters shown by their controls."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.tickets.models import Agent, AgentRole
from tests.factories import make_agent, make_team

REPORTS = "/reports/"
SECTIONS = ["satisfaction", "speed", "volume", "people", "retention"]


def client_for(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def options(html: str, name: str) -> list[str]:
    """The option values of the filter bar's select ``name``."""
    select = re.search(rf'<select id="report-{name}" name="{name}".*?</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def test_a_manager_gets_the_filter_bar_and_a_section_per_report(manager, logistics, returns, logistics_agent):
    response = client_for(manager).get(REPORTS)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-filters"' in html
    for name in ("from", "to"):
        assert f'<input type="date" id="report-{name}" name="{name}"' in html
    assert options(html, "team") == ["", "logistics", "returns"]
    assert str(logistics_agent.pk) in options(html, "agent")
    assert options(html, "channel") == ["", "chat", "email", "web"]
    assert "none" in options(html, "category")
    assert re.findall(r'<section class="report" id="report-(\w+)"', html) == SECTIONS
    assert '<script type="module" src="/static/reports/reports.js"></script>' in html


def test_the_period_defaults_to_the_last_30_days(manager):
    today = timezone.localdate()

    html = client_for(manager).get(REPORTS).content.decode()

    assert f'name="from" value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert f'name="to" value="{today.isoformat()}"' in html
    # The CSV links carry the same period before reports.js takes over.
    assert f'href="/api/v1/reports/speed/?from={(today - timedelta(days=29)).isoformat()}&amp;to=' in html


def test_the_filters_given_are_kept_in_the_bar_and_the_csv_links(manager, logistics):
    response = client_for(manager).get(REPORTS + "?from=2026-01-01&to=2026-01-31&team=logistics&channel=chat")

    html = response.content.decode()

    assert 'name="from" value="2026-01-01"' in html
    assert '<option value="logistics" selected>' in html
    assert '<option value="chat" selected>' in html
    query = "from=2026-01-01&amp;to=2026-01-31&amp;team=logistics&amp;channel=chat&amp;format=csv"
    assert f'href="/api/v1/reports/volume/?{query}"' in html


def test_a_team_lead_picks_only_among_their_teams_and_their_agents(db):
    logistics, returns, billing = make_team("logistics"), make_team("returns"), make_team("billing")
    lead = make_agent("tal", role=AgentRole.TEAM_LEAD, teams=(logistics, returns))
    lena = make_agent("lena", teams=(logistics,))
    bea = make_agent("bea", teams=(billing,))

    response = client_for(lead).get(REPORTS)

    assert response.status_code == 200
    html = response.content.decode()
    assert options(html, "team") == ["", "logistics", "returns"]
    assert set(options(html, "agent")) == {"", str(lead.pk), str(lena.pk)}
    assert str(bea.pk) not in options(html, "agent")


def test_a_team_lead_naming_another_team_gets_the_error_by_the_control(team_lead, returns):
    response = client_for(team_lead).get(REPORTS + "?team=returns")

    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'<select id="report-team" name="team" [^>]*aria-invalid="true"', html)
    assert re.search(r'id="report-team-error" data-testid="field-error" data-for="team">[^<]+</p>', html)


def test_a_plain_agent_gets_a_403_page(logistics_agent):
    response = client_for(logistics_agent).get(REPORTS)

    assert response.status_code == 403
    assert b'data-testid="reports-forbidden"' in response.content
    assert b'data-testid="report-filters"' not in response.content


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = Client().get(REPORTS)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/reports/"


@pytest.mark.parametrize(("persona", "shown"), [("logistics_agent", False), ("team_lead", True), ("manager", True)])
def test_the_reports_link_is_in_the_nav_of_leads_and_managers_only(request, persona, shown):
    agent = request.getfixturevalue(persona)

    html = client_for(agent).get("/inbox/").content.decode()

    assert ('href="/reports/" data-testid="nav-reports"' in html) is shown


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "from", "Enter a valid date."),
        ("from=2026-03-01&to=2026-02-01", "from", "The period starts after it ends."),
        ("from=2024-01-01&to=2026-01-01", "from", "A report covers at most 366 days."),
        ("channel=pigeon", "channel", "Select a valid choice."),
        ("agent=999999", "agent", "Select a valid choice."),
    ],
)
def test_a_bad_filter_is_a_400_with_the_error_by_its_control(manager, query, field, message):
    response = client_for(manager).get(f"{REPORTS}?{query}")

    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(rf'id="report-{field}-error" data-testid="field-error" data-for="{field}">([^<]*)</p>', html)
    assert error is not None and message in error.group(1)
    assert 'data-valid="false"' in html
    assert "Fix the filters above to see this report." in html


def test_the_reports_page_is_shown_as_current_in_the_nav(manager):
    html = client_for(manager).get(REPORTS).content.decode()

    assert 'href="/reports/" data-testid="nav-reports" aria-current="page"' in html
