"""The inbox drill-down filters the reports link to (survey_kind, score,
score_group, survey, reason, follow_up, first_response, hour, trend, solved,
customers), through /api/v1/tickets/, which shares the inbox's FilterSet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from helpdesk.tickets.services import ticket_merge
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order, make_ticket
from tests.helpdesk.reports.builders import DAY1, at, follow_up, ticket

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/tickets/"


def ids(agent: Any, **params: Any) -> set[int]:
    response = api_client_for(agent).get(TICKETS, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def surveyed(customer, logistics) -> dict[str, Any]:
    made = {
        "csat5": ticket(customer, logistics, opened=at(DAY1), survey=("csat", 5)),
        "csat3": ticket(customer, logistics, opened=at(DAY1), survey=("csat", 3), reason="slow"),
        "csat_pending": ticket(customer, logistics, opened=at(DAY1), survey=("csat", None)),
        "csat_unsent": ticket(customer, logistics, opened=at(DAY1), survey=("csat", None), sent=False),
        "nps10": ticket(customer, logistics, opened=at(DAY1), survey=("nps", 10)),
        "nps7": ticket(customer, logistics, opened=at(DAY1), survey=("nps", 7)),
        "nps3": ticket(customer, logistics, opened=at(DAY1), survey=("nps", 3), reason="product"),
        "none": ticket(customer, logistics, opened=at(DAY1)),
    }
    return {name: t.pk for name, t in made.items()}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"survey_kind": "csat"}, {"csat5", "csat3"}),
        ({"survey_kind": "nps", "score": 10}, {"nps10"}),
        ({"score": 3}, {"csat3", "nps3"}),
        ({"score_group": "satisfied"}, {"csat5"}),
        ({"score_group": "unsatisfied"}, {"csat3"}),
        ({"score_group": "promoter"}, {"nps10"}),
        ({"score_group": "passive"}, {"nps7"}),
        ({"score_group": "detractor"}, {"nps3"}),
        ({"survey": "sent"}, {"csat5", "csat3", "csat_pending", "nps10", "nps7", "nps3"}),
        ({"survey": "answered"}, {"csat5", "csat3", "nps10", "nps7", "nps3"}),
        ({"survey": "unanswered"}, {"csat_pending"}),
        ({"survey_kind": "csat", "survey": "sent"}, {"csat5", "csat3", "csat_pending"}),
        ({"reason": "slow"}, {"csat3"}),
    ],
)
def test_survey_filters(manager, surveyed, params, expected):
    assert ids(manager, **params) == {surveyed[name] for name in expected}


def test_follow_up_opened_and_recovered(manager, customer, logistics):
    low = ticket(customer, logistics, opened=at(DAY1), survey=("csat", 1))
    other = ticket(customer, logistics, opened=at(DAY1), survey=("csat", 2))
    recovered = ticket(customer, logistics, opened=at(DAY1))
    opened = ticket(customer, logistics, opened=at(DAY1))
    follow_up(low, recovered, recovered=True)
    follow_up(other, opened)

    assert ids(manager, follow_up="opened") == {recovered.pk, opened.pk}
    assert ids(manager, follow_up="recovered") == {recovered.pk}


def test_first_response_met_breached_measured_responded_waiting(manager, customer, logistics):
    met = ticket(customer, logistics, opened=at(DAY1), answered_after=3, sla="met")
    breached = ticket(customer, logistics, opened=at(DAY1), answered_after=40, sla="breached")
    late_waiting = ticket(customer, logistics, opened=at(DAY1), sla="breached")
    waiting = ticket(customer, logistics, opened=at(DAY1))

    assert ids(manager, first_response="met") == {met.pk}
    assert ids(manager, first_response="breached") == {breached.pk, late_waiting.pk}
    assert ids(manager, first_response="measured") == {met.pk, breached.pk, late_waiting.pk}
    assert ids(manager, first_response="responded") == {met.pk, breached.pk}
    assert ids(manager, first_response="waiting") == {late_waiting.pk, waiting.pk}


@override_settings(TIME_ZONE="Asia/Jerusalem")
def test_hour_is_the_hour_of_day_in_the_desk_time_zone(manager, customer, logistics):
    nine = ticket(customer, logistics, opened=at(DAY1, 9, 59))
    ticket(customer, logistics, opened=at(DAY1, 10, 0))

    assert ids(manager, hour=9) == {nine.pk}
    assert nine.created_at.hour == 7  # 09:59 in Jerusalem (UTC+2 in March) is 07:59 UTC


def test_trend_and_solved(manager, customer, logistics):
    improving = ticket(customer, logistics, opened=at(DAY1), sentiment_trend="improving", solved_after=30)
    steady = ticket(customer, logistics, opened=at(DAY1), sentiment_trend="steady")

    assert ids(manager, trend="improving") == {improving.pk}
    assert ids(manager, solved="true") == {improving.pk}
    assert ids(manager, solved="false") == {steady.pk}


def test_customers_by_retention_group_of_the_period(manager, shop, logistics):
    start = at(DAY1, 0)
    retained, lost, new = (make_customer(shop) for _ in range(3))
    make_order(retained, placed_at=start - timedelta(days=30))
    make_order(lost, placed_at=start - timedelta(days=360))
    make_order(new, placed_at=start + timedelta(days=2))
    tickets = {c: ticket(c, logistics, opened=at(DAY1 + timedelta(days=3))).pk for c in (retained, lost, new)}
    period = {"created_from": "2025-03-01", "created_to": "2025-03-10"}

    assert ids(manager, customers="retained", **period) == {tickets[retained]}
    assert ids(manager, customers="lost", **period) == {tickets[lost]}
    assert ids(manager, customers="new", **period) == {tickets[new]}


@pytest.mark.parametrize(
    "params",
    [
        {"survey_kind": "ces"},
        {"score": 11},
        {"score": "five"},
        {"score_group": "happy"},
        {"survey": "maybe"},
        {"reason": "bored"},
        {"follow_up": "closed"},
        {"first_response": "late"},
        {"hour": 24},
        {"hour": -1},
        {"trend": "up"},
        {"solved": "yes"},
        {"customers": "vip", "created_from": "2025-03-01", "created_to": "2025-03-10"},
        {"customers": "lost"},  # needs the period
    ],
)
def test_an_invalid_value_is_a_400_naming_the_parameter(manager, params):
    response = api_client_for(manager).get(TICKETS, params)

    assert response.status_code == 400
    name = "customers" if "customers" in params else next(iter(params))
    assert name in response.json()


def test_the_inbox_page_takes_the_drill_down_filters(manager, customer, logistics):
    satisfied = ticket(customer, logistics, opened=at(DAY1), survey=("csat", 5))
    ticket(customer, logistics, opened=at(DAY1), survey=("csat", 1))
    client = Client()
    client.force_login(manager.user)

    page = client.get("/inbox/", {"score_group": "satisfied", "created_from": "2025-03-01"}).content.decode()

    assert f'data-ticket-id="{satisfied.pk}"' in page and page.count('data-testid="ticket-row"') == 1


def test_merged_false_leaves_out_tickets_merged_into_another(customer, logistics, logistics_agent, manager):
    # Given two tickets of one customer, one merged into the other
    source, target = make_ticket(customer, logistics), make_ticket(customer, logistics)
    ticket_merge(source=source, target=target, actor=logistics_agent)

    # When the inbox lists with merged=false and merged=true
    client = Client()
    client.force_login(manager.user)
    kept = client.get("/api/v1/tickets/", {"merged": "false"}).json()["results"]
    gone = client.get("/api/v1/tickets/", {"merged": "true"}).json()["results"]

    # Then only the target is left in the first, only the source in the second
    assert [t["id"] for t in kept] == [target.pk]
    assert [t["id"] for t in gone] == [source.pk]


def test_customers_at_the_start_and_end_of_a_period_are_filters_too(shop, logistics, manager):
    # Given a customer whose only order is 380 days old (a customer 30 days ago,
    # no longer today) and one whose first order is 5 days old
    lapsed = make_customer(shop, name="Lapsed", email="l@example.com")
    newcomer = make_customer(shop, name="Newcomer", email="n@example.com")
    make_order(lapsed, status="delivered", placed_at=timezone.now() - timedelta(days=380))
    make_order(newcomer, status="delivered", placed_at=timezone.now() - timedelta(days=5))
    tickets = {c.name: make_ticket(c, logistics) for c in (lapsed, newcomer)}
    client = Client()
    client.force_login(manager.user)
    today = timezone.localdate()
    period = {"created_from": (today - timedelta(days=29)).isoformat(), "created_to": today.isoformat()}

    # When the inbox lists the customers at the start and at the end of the last 30 days
    at_start = client.get("/api/v1/tickets/", {**period, "customers": "start"}).json()["results"]
    at_end = client.get("/api/v1/tickets/", {**period, "customers": "end"}).json()["results"]

    # Then the lapsed customer was one at the start, the newcomer is one at the end
    assert [t["id"] for t in at_start] == [tickets["Lapsed"].pk]
    assert [t["id"] for t in at_end] == [tickets["Newcomer"].pk]
