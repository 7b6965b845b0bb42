"""The retention report: shop-wide customer figures with their drill-down,
and the feedback loop over the viewer's tickets."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.customers.models import Customer, Shop
from helpdesk.reports.retention import retention_report
from helpdesk.reports.scope import ReportScope
from helpdesk.tickets.filters import TicketFilter
from helpdesk.tickets.models import Agent, SlaClock, SlaClockKind, Team, Ticket, TicketChannel
from surveys.models import Survey, SurveyResponse, SurveyStatus
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order

MAY = ReportScope(date_from=date(2026, 5, 1), date_to=date(2026, 5, 31))

needs_drill_down_filters = pytest.mark.skipif(
    not {"customers", "score", "survey_kind", "score_group", "first_response"} <= set(TicketFilter.base_filters),
    reason="the inbox drill-down filters (helper R1) are not in TicketFilter yet",
)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def open_ticket(customer: Customer, team: Team, created_at: datetime, **fields: Any) -> Ticket:
    # Straight to the table: the report reads rows, the opening services are not the subject.
    return Ticket.objects.create(
        customer=customer, team=team, subject="Parcel", channel=TicketChannel.CHAT, created_at=created_at, **fields
    )


def answer(ticket: Ticket, kind: str, score: int) -> None:
    survey = Survey.objects.create(
        ticket=ticket,
        customer=ticket.customer,
        kind=kind,
        channel=ticket.channel,
        status=SurveyStatus.ANSWERED,
        send_at=ticket.created_at,
        sent_at=ticket.created_at,
    )
    SurveyResponse.objects.create(survey=survey, score=score)


def first_response(ticket: Ticket, *, met: bool) -> None:
    started = ticket.created_at
    SlaClock.objects.create(
        ticket=ticket,
        kind=SlaClockKind.FIRST_RESPONSE,
        target_minutes=10,
        started_at=started,
        stopped_at=started + timedelta(minutes=5 if met else 30),
        breached_at=None if met else started + timedelta(minutes=10),
    )


def inbox_ids(agent: Agent, url: str) -> set[int]:
    client = Client()
    client.force_login(agent.user)
    response = client.get(url)
    assert response.status_code == 200, url
    return {row.ticket.pk for row in response.context["rows"]}


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in items}


@pytest.fixture
def may_shop(shop: Shop, logistics: Team) -> dict[str, Any]:
    """May 2026: a, f retained; b lost; c new; d returning (as in the selectors' tests),
    each with a ticket in May, and b with one in April too."""
    start, end = MAY.start, MAY.end
    people = {name: make_customer(shop, name=name) for name in "abcdf"}
    make_order(people["a"], placed_at=start - days(100), total=Decimal("30.00"))
    make_order(people["a"], placed_at=end - days(10), total=Decimal("100.00"))
    make_order(people["b"], placed_at=start - days(350))
    make_order(people["c"], placed_at=start + days(5), total=Decimal("40.00"))
    make_order(people["d"], placed_at=start - days(500))
    make_order(people["d"], placed_at=start + days(10), total=Decimal("60.00"))
    make_order(people["f"], placed_at=start - days(20))
    make_order(people["f"], placed_at=start - days(10))
    tickets = {name: open_ticket(customer, logistics, start + days(2)) for name, customer in people.items()}
    tickets["b_april"] = open_ticket(people["b"], logistics, start - days(3))
    return {"customers": people, "tickets": tickets}


def test_customer_figures_and_their_previous_period(may_shop, manager):
    # when
    report = retention_report(viewer=manager, scope=MAY)

    # then
    assert report["report"] == "retention"
    assert report["period"] == {
        "from": "2026-05-01",
        "to": "2026-05-31",
        "previous_from": "2026-03-31",
        "previous_to": "2026-04-30",
    }
    figures = by_key(report["figures"])
    assert list(figures) == [
        "crr",
        "churn",
        "clv",
        "repeat_rate",
        "aov",
        "customers_start",
        "customers_end",
        "customers_new",
        "customers_lost",
    ]
    # S = a, b, f; E = a, c, d, f; 2 of 3 retained
    assert figures["crr"] | {"help": ""} == {
        "key": "crr",
        "label": "Customer retention rate",
        "unit": "%",
        "value": 66.7,
        "previous": 100.0,  # April: a and b active on 31 March, both still active on 1 May
        "change": -33.3,
        "better": "up",
        "count": 3,
        "count_of": "customers",
        "help": "",
        "tickets": MAY.inbox_url(customers="retained"),
    }
    assert (figures["churn"]["value"], figures["churn"]["better"]) == (33.3, "down")
    assert (figures["customers_start"]["value"], figures["customers_end"]["value"]) == (3, 4)
    assert (figures["customers_new"]["value"], figures["customers_new"]["previous"]) == (1, 1)  # f new in April
    assert figures["customers_lost"]["value"] == 1
    assert figures["repeat_rate"]["value"] == 50.0  # a and f of a, c, d, f
    # a 100 + c 40 + d 60 in May
    assert (figures["aov"]["value"], figures["aov"]["currency"], figures["aov"]["count"]) == ("66.67", "EUR", 3)
    # the year to 1 June: 55.00 a order x 1.50 orders a year x 2 years (b lost of b, d) = 165.00
    assert (figures["clv"]["value"], figures["clv"]["currency"]) == ("165.00", "EUR")


def test_shop_wide_figures_say_so_and_ignore_the_team(may_shop, manager, returns):
    report = retention_report(
        viewer=manager, scope=ReportScope(date_from=MAY.date_from, date_to=MAY.date_to, team=returns)
    )

    figures = by_key(report["figures"])
    assert figures["crr"]["value"] == 66.7
    assert all("Shop-wide" in figure["help"] for figure in report["figures"])
    assert figures["crr"]["tickets"].endswith("&team=returns&customers=retained")


def test_no_orders_is_no_data(manager):
    figures = by_key(retention_report(viewer=manager, scope=MAY)["figures"])

    assert figures["crr"]["value"] is None
    assert figures["clv"]["value"] is None
    assert figures["aov"]["value"] is None
    assert figures["customers_start"]["value"] == 0


@needs_drill_down_filters
@pytest.mark.parametrize(("key", "names"), [("crr", {"a", "f"}), ("churn", {"b"}), ("customers_new", {"c"})])
def test_figure_drill_down_lists_the_group_tickets_of_the_period(may_shop, manager, key, names):
    figure = by_key(retention_report(viewer=manager, scope=MAY)["figures"])[key]

    assert inbox_ids(manager, figure["tickets"]) == {may_shop["tickets"][name].pk for name in names}


@pytest.fixture
def feedback(shop: Shop, logistics: Team, returns: Team) -> dict[str, Ticket]:
    """Tickets opened 120 days ago (their 90 days are over) and one 10 days ago."""
    old = timezone.now() - days(120)

    def ticket(name: str, team: Team = logistics, opened: datetime = old) -> Ticket:
        return open_ticket(make_customer(shop, name=name), team, opened)

    t = {
        "happy_buyer": ticket("happy_buyer"),
        "happy_idle": ticket("happy_idle"),
        "angry_late_buyer": ticket("angry_late_buyer"),
        "happy_pending": ticket("happy_pending"),
        "promoter": ticket("promoter"),
        "detractor": ticket("detractor"),
        "recent": ticket("recent", opened=timezone.now() - days(10)),
        "other_team": ticket("other_team", team=returns),
    }
    answer(t["happy_buyer"], "csat", 5)
    make_order(t["happy_buyer"].customer, placed_at=old + days(10))
    first_response(t["happy_buyer"], met=True)
    answer(t["happy_idle"], "csat", 5)
    first_response(t["happy_idle"], met=False)
    answer(t["angry_late_buyer"], "csat", 1)
    make_order(t["angry_late_buyer"].customer, placed_at=old + days(91))  # after the 90 days
    make_order(t["angry_late_buyer"].customer, placed_at=old - days(1))  # before the ticket
    first_response(t["angry_late_buyer"], met=True)
    answer(t["happy_pending"], "csat", 5)
    make_order(t["happy_pending"].customer, placed_at=old + days(5), status="pending")  # not a kept order
    answer(t["promoter"], "nps", 10)
    make_order(t["promoter"].customer, placed_at=old + days(30))
    answer(t["detractor"], "nps", 3)
    answer(t["recent"], "csat", 5)
    make_order(t["recent"].customer, placed_at=timezone.now() - days(5))
    answer(t["other_team"], "csat", 5)
    make_order(t["other_team"].customer, placed_at=old + days(1))
    return t


def last_150_days() -> ReportScope:
    today = timezone.localdate()
    return ReportScope(date_from=today - days(150), date_to=today)


def test_feedback_loop_split(feedback, team_lead):
    # when: the lead of logistics sees logistics' tickets only
    report = retention_report(viewer=team_lead, scope=last_150_days())

    # then
    (table,) = report["tables"]
    assert table["key"] == "feedback"
    assert table["too_recent"] == 1
    assert "1 ticket younger than 90 days left out" in table["title"]
    cells = {row["key"]: row["cells"] for row in table["rows"]}
    assert list(cells) == [
        "csat_1",
        "csat_2",
        "csat_3",
        "csat_4",
        "csat_5",
        "nps_promoter",
        "nps_passive",
        "nps_detractor",
        "first_response_met",
        "first_response_breached",
    ]
    assert cells["csat_5"] == {"segment": "CSAT 5", "tickets": 3, "repeat": 1, "repeat_rate": 33.3}
    assert cells["csat_1"] | {"segment": ""} == {"segment": "", "tickets": 1, "repeat": 0, "repeat_rate": 0.0}
    assert cells["csat_3"]["tickets"] == 0 and cells["csat_3"]["repeat_rate"] is None
    assert (cells["nps_promoter"]["tickets"], cells["nps_promoter"]["repeat_rate"]) == (1, 100.0)
    assert (cells["nps_passive"]["tickets"], cells["nps_detractor"]["repeat_rate"]) == (0, 0.0)
    assert (cells["first_response_met"]["tickets"], cells["first_response_met"]["repeat_rate"]) == (2, 50.0)
    assert (cells["first_response_breached"]["tickets"], cells["first_response_breached"]["repeat"]) == (1, 0)
    (chart,) = report["charts"]
    assert {p["key"]: p["values"]["repeat_rate"] for p in chart["points"]}["csat_5"] == 33.3


def test_feedback_loop_for_a_manager_counts_every_team(feedback, manager):
    table = retention_report(viewer=manager, scope=last_150_days())["tables"][0]

    cells = {row["key"]: row["cells"] for row in table["rows"]}
    assert (cells["csat_5"]["tickets"], cells["csat_5"]["repeat"]) == (4, 2)


def test_feedback_drill_down_urls_stop_before_the_young_tickets(feedback, manager):
    scope = last_150_days()
    rows = {row["key"]: row for row in retention_report(viewer=manager, scope=scope)["tables"][0]["rows"]}

    last_counted = (timezone.localdate() - days(91)).isoformat()
    assert rows["csat_5"]["tickets"] == scope.inbox_url(created_to=last_counted, survey_kind="csat", score=5)
    assert rows["nps_detractor"]["tickets"] == scope.inbox_url(
        created_to=last_counted, survey_kind="nps", score_group="detractor"
    )
    assert rows["first_response_breached"]["tickets"] == scope.inbox_url(
        created_to=last_counted, first_response="breached"
    )


@needs_drill_down_filters
@pytest.mark.parametrize(
    ("key", "names"),
    [
        ("csat_5", {"happy_buyer", "happy_idle", "happy_pending"}),
        ("csat_1", {"angry_late_buyer"}),
        ("nps_promoter", {"promoter"}),
        ("first_response_met", {"happy_buyer", "angry_late_buyer"}),
        ("first_response_breached", {"happy_idle"}),
    ],
)
def test_feedback_drill_down_lists_exactly_the_row_tickets(feedback, team_lead, key, names):
    rows = {row["key"]: row for row in retention_report(viewer=team_lead, scope=last_150_days())["tables"][0]["rows"]}

    assert inbox_ids(team_lead, rows[key]["tickets"]) == {feedback[name].pk for name in names}


def test_merged_away_tickets_are_left_out(feedback, manager):
    Ticket.objects.filter(pk=feedback["happy_idle"].pk).update(merged_into=feedback["happy_buyer"])

    cells = {
        row["key"]: row["cells"] for row in retention_report(viewer=manager, scope=last_150_days())["tables"][0]["rows"]
    }

    assert cells["csat_5"]["tickets"] == 3


def test_report_queries_are_bounded(feedback, manager, django_assert_max_num_queries):
    # the feedback loop, the shop's currency, both periods' customer figures
    with django_assert_max_num_queries(3):
        retention_report(viewer=manager, scope=last_150_days())


def test_served_by_the_reports_api_as_json_and_csv(may_shop, manager):
    client = api_client_for(manager)

    response = client.get("/api/v1/reports/retention/", {"from": "2026-05-01", "to": "2026-05-31"})
    csv = client.get("/api/v1/reports/retention/", {"from": "2026-05-01", "to": "2026-05-31", "format": "csv"})

    assert response.status_code == 200
    assert by_key(response.json()["figures"])["crr"]["value"] == 66.7
    assert csv.status_code == 200
    assert "Customer retention rate" in csv.content.decode()
