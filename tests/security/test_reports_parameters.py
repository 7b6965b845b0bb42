"""Attacks on the reports' query parameters (/api/v1/reports/<name>/ and
/api/v1/reports/tickets/): arbitrary ordering and filter fields, injected
and impossible values, huge periods and pages, and a team lead reaching
for another team's figures."""

from __future__ import annotations

import json

import pytest

from helpdesk.tickets.services import ticket_assign
from tests.conftest import api_client_for
from tests.factories import make_customer, make_ticket

REPORTS = ("satisfaction", "speed", "volume", "people", "retention")
TICKET_ROWS = "/api/v1/reports/tickets/"


def report(name: str) -> str:
    return f"/api/v1/reports/{name}/"


@pytest.fixture
def other_team(shop, returns, returns_agent):
    """A ticket of the returns team, assigned, with a customer the team lead must never see."""
    ticket = make_ticket(make_customer(shop, name="Eve Other", email="eve@example.com"), returns, subject="EVE-secret")
    return ticket_assign(ticket=ticket, actor=returns_agent, assignee=returns_agent)


@pytest.fixture
def own_team(customer, logistics):
    return make_ticket(customer, logistics)


@pytest.mark.parametrize(
    "params",
    [
        {"ordering": "-score"},
        {"order_by": "customer__email"},
        {"sort": "id"},
        {"customer__email": "eve@example.com"},
        {"team__slug": "returns"},
        {"agent__user__password__startswith": "md5"},
        {"created_at__gte": "2000-01-01"},
    ],
    ids=lambda params: next(iter(params)),
)
def test_arbitrary_ordering_and_filter_fields_are_a_400_naming_them(manager, other_team, params):
    for path in (*map(report, REPORTS), TICKET_ROWS):
        response = api_client_for(manager).get(path, params)

        assert response.status_code == 400, path
        assert response.json() == {"errors": {key: ["Unknown parameter."] for key in params}}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-02-30"}, "from"),
        ({"from": "2025-03-01' OR '1'='1"}, "from"),
        ({"to": "99999-01-01"}, "to"),
        ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
        ({"from": "2000-01-01", "to": "2025-01-01"}, "from"),
        ({"team": "returns' OR 1=1 --"}, "team"),
        ({"team": "<script>alert(1)</script>"}, "team"),
        ({"agent": "1 OR 1=1"}, "agent"),
        ({"agent": "999999999999999999999"}, "agent"),
        ({"channel": "sms"}, "channel"),
        ({"category": "../../etc/passwd"}, "category"),
    ],
)
def test_injected_and_impossible_values_are_a_400_naming_the_parameter(manager, other_team, params, field):
    for path in (report("volume"), TICKET_ROWS):
        response = api_client_for(manager).get(path, params)

        assert response.status_code == 400, (path, response.content)
        assert field in response.json()["errors"]
        assert response["Content-Type"] == "application/json"
        assert "EVE-secret" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"score": "11"}, "score"),
        ({"hour": "24"}, "hour"),
        ({"score_group": "'; DROP TABLE"}, "score_group"),
        ({"customers": "new"}, "customers"),  # needs created_from and created_to
        ({"queue": "everything"}, "queue"),
    ],
)
def test_bad_drill_down_filters_on_ticket_rows_are_a_400(manager, params, field):
    response = api_client_for(manager).get(TICKET_ROWS, params)

    assert response.status_code == 400 and field in response.json()["errors"]


def test_an_unknown_or_traversing_report_name_is_404(manager):
    for name in ("secrets", "..", "volume%2F..%2Fpeople", "VOLUME"):
        assert api_client_for(manager).get(f"/api/v1/reports/{name}/").status_code == 404, name


def test_a_team_lead_reaching_for_another_team_gets_nothing_of_it(team_lead, own_team, other_team, returns_agent):
    client = api_client_for(team_lead)
    for params in ({"team": "returns"}, {"agent": returns_agent.pk}, {}):
        for name in REPORTS:
            response = client.get(report(name), params)
            assert response.status_code == 200
            text = json.dumps(response.json())
            assert "Eve Other" not in text and "EVE-secret" not in text
        rows = client.get(TICKET_ROWS, {**params, "customer": other_team.customer_id}).json()["results"]
        assert rows == [], params
    volume = client.get(report("volume"), {"team": "returns"}).json()
    assert all(figure["count"] in (0, None) for figure in volume["figures"] if "count" in figure)


def test_a_team_lead_sees_no_other_agents_of_other_teams_in_the_people_report(team_lead, own_team, other_team):
    people = json.dumps(api_client_for(team_lead).get(report("people")).json())

    assert "Rami" not in people


def test_a_huge_page_is_capped_and_a_forged_cursor_is_404(manager, own_team, other_team):
    client = api_client_for(manager)

    assert len(client.get(TICKET_ROWS, {"page_size": 10**9}).json()["results"]) == 2
    assert client.get(TICKET_ROWS, {"cursor": "cD1hYmM="}).status_code == 404


def test_only_managers_and_team_leads_read_reports(logistics_agent, anonymous_client, own_team):
    for path in (report("volume"), TICKET_ROWS):
        assert api_client_for(logistics_agent).get(path).status_code == 403
        assert anonymous_client.get(path).status_code == 401
