"""GET /api/v1/reports/<name>/ and /api/v1/reports/tickets/: who may read
them, bad parameters, CSV, ticket rows, and drill-down links that list
exactly the tickets a figure counted."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth.models import User

from tests.conftest import api_client_for
from tests.factories import make_agent
from tests.helpdesk.reports.builders import DAY1, at, follow_up, ticket

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2025-03-01", "to": "2025-03-10"}
NAMES = ("satisfaction", "speed", "volume", "people", "retention")
# Session, user, agent, then the report's own queries; they must not grow with the data.
MAX_QUERIES = {"satisfaction": 6, "speed": 6, "volume": 7, "people": 5, "retention": 6}


def report_url(name: str) -> str:
    return f"/api/v1/reports/{name}/"


@pytest.fixture
def desk(customer, logistics, returns, logistics_agent) -> dict[str, Any]:
    """A mixed period: surveys, SLA outcomes, moods, channels, two teams."""
    low = ticket(
        customer,
        logistics,
        opened=at(DAY1, 9),
        assignee=logistics_agent,
        answered_after=30,
        sla="breached",
        survey=("csat", 2),
        reason="slow",
        sentiment="negative",
        sentiment_trend="improving",
    )
    made = [
        low,
        ticket(customer, logistics, opened=at(DAY1, 11), assignee=logistics_agent, answered_after=5, sla="met",
               solved_after=120, survey=("csat", 5), sentiment="positive", sentiment_trend="steady"),
        ticket(customer, returns, opened=at(DAY1 + timedelta(days=1), 14), answered_after=8, sla="met",
               survey=("nps", 9), channel="email", category="delivery"),
        ticket(customer, returns, opened=at(DAY1 + timedelta(days=2), 9), survey=("nps", 4), reason="product",
               channel="web"),
        ticket(customer, returns, opened=at(DAY1 + timedelta(days=2), 16), survey=("csat", None), sentiment="neutral"),
        ticket(customer, logistics, opened=at(DAY1 - timedelta(days=4)), survey=("csat", 4)),  # previous period
    ]  # fmt: skip
    follow = ticket(customer, logistics, opened=at(DAY1 + timedelta(days=3)))
    follow_up(low, follow, recovered=True)
    return {"tickets": [*made, follow]}


# -- permissions and parameters -------------------------------------------------------------


@pytest.mark.parametrize("name", [*NAMES, "retention"])
def test_managers_and_team_leads_read_reports(manager, team_lead, name):
    for reader in (manager, team_lead):
        response = api_client_for(reader).get(report_url(name), PERIOD)
        assert response.status_code == 200
        assert response.json()["report"] == name


def test_plain_agents_get_403_and_anonymous_401(logistics_agent, anonymous_client):
    assert api_client_for(logistics_agent).get(report_url("speed")).status_code == 403
    assert api_client_for(logistics_agent).get("/api/v1/reports/tickets/").status_code == 403
    assert anonymous_client.get(report_url("speed")).status_code == 401
    assert anonymous_client.get("/api/v1/reports/tickets/").status_code == 401


def test_an_unknown_report_is_404(manager):
    assert api_client_for(manager).get(report_url("profit")).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
        ({"from": "2024-01-01", "to": "2025-03-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"team": "nope"}, "team"),
        ({"agent": "x"}, "agent"),
        ({"channel": "fax"}, "channel"),
        ({"category": "weather"}, "category"),
    ],
)
def test_bad_scope_parameters_are_400_keyed_by_parameter(manager, params, field):
    for url in (report_url("volume"), "/api/v1/reports/tickets/"):
        response = api_client_for(manager).get(url, params)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]


def test_errors_asked_for_as_csv_are_csv_too(manager, logistics_agent):
    bad = api_client_for(manager).get(report_url("volume"), {"from": "soon", "format": "csv"})
    refused = api_client_for(logistics_agent).get(report_url("volume"), {"format": "csv"})

    assert bad.status_code == 400 and bad["Content-Type"].startswith("text/csv")
    assert csv_rows(bad.content)[0][0] == "from"
    assert refused.status_code == 403 and csv_rows(refused.content)[0][0] == "detail"


def test_a_bad_drill_down_filter_on_the_ticket_rows_is_400(manager):
    response = api_client_for(manager).get("/api/v1/reports/tickets/", {"score_group": "happy"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["score_group"]


@pytest.mark.parametrize("name", NAMES)
def test_report_query_counts_do_not_grow_with_tickets(manager, desk, customer, logistics, name,
                                                      django_assert_max_num_queries):  # fmt: skip
    client = api_client_for(manager)
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        assert client.get(report_url(name), PERIOD).status_code == 200
    for day in range(5):
        ticket(customer, logistics, opened=at(DAY1 + timedelta(days=day)), answered_after=day, sla="met",
               survey=("csat", 5), assignee=make_agent(f"extra{day}", teams=(logistics,)))  # fmt: skip
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        assert client.get(report_url(name), PERIOD).status_code == 200


# -- drill-down ---------------------------------------------------------------------------------


def listed(agent: Any, inbox_url: str) -> list[int]:
    """The tickets the inbox link lists, through the filters the inbox shares with the API."""
    url = urlsplit(inbox_url)
    assert url.path == "/inbox/"
    response = api_client_for(agent).get("/api/v1/tickets/", [*parse_qsl(url.query), ("page_size", "200")])
    assert response.status_code == 200, (inbox_url, response.content)
    return [row["id"] for row in response.json()["results"]]


def counted(report: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(what, how many tickets it counts, its link) for every figure, count bar and table row."""
    found = [
        (f"figure {f['key']}", f["count"], f["tickets"])
        for f in report["figures"]
        if f["count"] is not None and f["count_of"] == "tickets"  # retention counts customers and orders
    ]
    for chart in report["charts"]:
        if chart["unit"] == "count":
            found += [
                (f"{chart['key']} {p['key']}", p["values"]["tickets"] or 0, p["tickets"]) for p in chart["points"]
            ]
    for table in report["tables"]:
        found += [(f"{table['key']} {r['key']}", r["cells"]["tickets"], r["tickets"]) for r in table["rows"]]
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_link_lists_exactly_the_tickets_its_figure_counts(manager, desk, name):
    report = api_client_for(manager).get(report_url(name), PERIOD).json()

    checks = counted(report)
    assert checks
    for what, count, link in checks:
        assert len(listed(manager, link)) == count, what


def test_a_csat_link_lists_the_answered_csat_tickets_of_the_period(manager, desk):
    report = api_client_for(manager).get(report_url("satisfaction"), PERIOD).json()
    csat = next(f for f in report["figures"] if f["key"] == "csat")

    assert sorted(listed(manager, csat["tickets"])) == sorted(t.pk for t in desk["tickets"][:2])
    day = next(c for c in report["charts"] if c["key"] == "csat_by_day")["points"][0]
    assert sorted(listed(manager, day["tickets"])) == sorted(t.pk for t in desk["tickets"][:2])


def test_the_inbox_page_lists_a_figures_tickets(manager, desk):
    from django.test import Client

    report = api_client_for(manager).get(report_url("speed"), PERIOD).json()
    breaches = next(f for f in report["figures"] if f["key"] == "sla_breaches")
    client = Client()
    client.force_login(manager.user)

    page = client.get(breaches["tickets"]).content.decode()

    assert page.count('data-testid="ticket-row"') == 1 and f'data-ticket-id="{desk["tickets"][0].pk}"' in page


# -- CSV ------------------------------------------------------------------------------------------


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_a_report_as_csv_neutralises_formulas_but_keeps_negative_numbers(manager, desk, logistics):
    logistics.name = '=HYPERLINK("http://evil")'
    logistics.save()

    response = api_client_for(manager).get(report_url("satisfaction"), {**PERIOD, "format": "csv"})
    volume = api_client_for(manager).get(report_url("volume"), {**PERIOD, "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="satisfaction-2025-03-01-2025-03-10.csv"'
    rows = csv_rows(response.content)
    assert rows[0][:5] == ["part", "key", "label", "measure", "value"]
    csat = next(r for r in rows if r[0] == "figure" and r[1] == "csat")
    assert csat[4:8] == ["50.0", "%", "100.0", "-50.0"]  # a negative change stays a number
    assert csat[9].startswith("http://testserver/inbox/?")
    team_labels = [r[2] for r in csv_rows(volume.content) if r[0] == "by_team"]
    assert '\'=HYPERLINK("http://evil")' in team_labels


def test_ticket_rows_as_json_pages_by_cursor(manager, desk, django_assert_max_num_queries):
    client = api_client_for(manager)

    with django_assert_max_num_queries(4):
        first = client.get("/api/v1/reports/tickets/", {**PERIOD, "page_size": "4"}).json()
    second = client.get(first["next"]).json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    in_period = [t.pk for t in desk["tickets"] if t.created_at >= at(DAY1, 0)]
    assert sorted(ids) == sorted(in_period) and len(ids) == len(set(ids))
    assert second["next"] is None
    row = next(r for r in first["results"] + second["results"] if r["id"] == desk["tickets"][0].pk)
    assert (row["first_response_sla"], row["score"], row["reason"], row["survey_kind"]) == (
        "breached",
        2,
        "slow",
        "csat",
    )
    assert row["first_response_minutes"] == 30.0 and row["assignee"] == "Lena"


def test_ticket_rows_take_drill_down_filters(manager, desk):
    response = api_client_for(manager).get("/api/v1/reports/tickets/", {**PERIOD, "score_group": "satisfied"})

    assert [row["id"] for row in response.json()["results"]] == [desk["tickets"][1].pk]


def test_ticket_rows_as_csv_stream_and_neutralise(manager, desk, logistics_agent, django_assert_max_num_queries):
    User.objects.filter(pk=logistics_agent.user_id).update(first_name="@SUM(A1)", last_name="")

    client = api_client_for(manager)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/reports/tickets/", {**PERIOD, "format": "csv"})
        rows = csv_rows(response.getvalue())

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="tickets-2025-03-01-2025-03-10.csv"'
    assert rows[0][:3] == ["id", "created_at", "channel"] and len(rows) == 1 + 6
    assignees = {r[4] for r in rows[1:]}
    assert "'@SUM(A1)" in assignees


def test_a_team_lead_gets_only_their_teams_rows(team_lead, desk):
    rows = api_client_for(team_lead).get("/api/v1/reports/tickets/", PERIOD).json()["results"]

    assert {row["team"] for row in rows} == {"logistics"}
