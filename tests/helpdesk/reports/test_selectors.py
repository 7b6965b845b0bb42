"""The reports on small data sets with known answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings

from helpdesk.reports.selectors import (
    people_report,
    report_ticket_rows,
    report_tickets,
    satisfaction_report,
    speed_report,
    ticket_row,
    volume_report,
)
from helpdesk.tickets.models import Ticket
from tests.factories import make_agent, make_team
from tests.helpdesk.reports.builders import DAY1, DAY10, at, figure, follow_up, period, points, ticket

pytestmark = pytest.mark.django_db


def test_csat_is_the_share_of_4_and_5_answers_compared_with_the_previous_period(manager, customer, logistics):
    for score in (5, 4, 2):
        ticket(customer, logistics, opened=at(DAY1), survey=("csat", score))
    ticket(customer, logistics, opened=at(DAY1 - timedelta(days=2)), survey=("csat", 5))  # previous period

    csat = figure(satisfaction_report(viewer=manager, scope=period()), "csat")

    assert (csat["value"], csat["count"], csat["previous"], csat["change"]) == (66.7, 3, 100.0, -33.3)
    assert csat["unit"] == "%" and csat["better"] == "up"
    assert "survey_kind=csat" in csat["tickets"] and "created_from=2025-03-01" in csat["tickets"]


def test_nps_and_its_three_shares(manager, customer, logistics):
    for score in (10, 9, 8, 3):
        ticket(customer, logistics, opened=at(DAY1), survey=("nps", score))

    report = satisfaction_report(viewer=manager, scope=period())

    assert figure(report, "nps")["value"] == 25.0
    assert [figure(report, f"nps_{g}s")["value"] for g in ("promoter", "passive", "detractor")] == [50.0, 25.0, 25.0]
    assert figure(report, "nps_detractors")["count"] == 1
    assert figure(report, "nps")["previous"] is None and figure(report, "nps")["change"] is None


def test_response_rate_is_answered_among_sent(manager, customer, logistics):
    ticket(customer, logistics, opened=at(DAY1), survey=("csat", 5))
    ticket(customer, logistics, opened=at(DAY1), survey=("csat", None))
    ticket(customer, logistics, opened=at(DAY1), survey=("csat", None), sent=False)  # not sent yet: not counted
    ticket(customer, logistics, opened=at(DAY1), survey=("nps", None))

    report = satisfaction_report(viewer=manager, scope=period())

    rate = figure(report, "csat_response_rate")
    assert (rate["value"], rate["count"]) == (50.0, 2)
    assert figure(report, "nps_response_rate")["value"] == 0.0


def test_score_distribution_reasons_follow_ups_and_csat_by_day(manager, customer, logistics):
    low = ticket(customer, logistics, opened=at(DAY1), survey=("csat", 1), reason="slow")
    ticket(customer, logistics, opened=at(DAY1 + timedelta(days=1)), survey=("csat", 5))
    ticket(customer, logistics, opened=at(DAY1), survey=("nps", 0), reason="slow")
    other_low = ticket(customer, logistics, opened=at(DAY1), survey=("csat", 2), reason="not_solved")
    follow_up(low, ticket(customer, logistics, opened=at(DAY1 + timedelta(days=2))), recovered=True)
    follow_up(other_low, ticket(customer, logistics, opened=at(DAY1 + timedelta(days=2))))

    report = satisfaction_report(viewer=manager, scope=period())

    assert points(report, "csat_scores") == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 1}
    assert points(report, "nps_scores")["0"] == 1 and sum(points(report, "nps_scores").values()) == 1
    assert points(report, "low_score_reasons") == {
        "slow": 2, "not_solved": 1, "unfriendly": 0, "product": 0, "other": 0,
    }  # fmt: skip
    assert figure(report, "follow_ups_opened")["value"] == 2
    assert figure(report, "follow_ups_recovered")["value"] == 1
    by_day = points(report, "csat_by_day", "csat")
    assert len(by_day) == 10
    assert (by_day["2025-03-01"], by_day["2025-03-02"], by_day["2025-03-03"]) == (0.0, 100.0, None)


def test_no_answers_is_no_data_not_zero(manager):
    report = satisfaction_report(viewer=manager, scope=period())

    assert figure(report, "csat")["value"] is None
    assert figure(report, "nps")["value"] is None
    assert figure(report, "csat_response_rate")["value"] is None


def test_first_response_median_p90_compliance_breaches_and_resolution(manager, customer, logistics):
    ticket(customer, logistics, opened=at(DAY1), answered_after=10, sla="met", solved_after=60)
    ticket(customer, logistics, opened=at(DAY1), answered_after=20, sla="met", solved_after=180)
    ticket(customer, logistics, opened=at(DAY1), answered_after=60, sla="breached")
    ticket(customer, logistics, opened=at(DAY1 - timedelta(days=3)), answered_after=4, sla="met")  # previous

    report = speed_report(viewer=manager, scope=period())

    assert (figure(report, "frt_median")["value"], figure(report, "frt_median")["count"]) == (20.0, 3)
    assert figure(report, "frt_p90")["value"] == 52.0  # 20 + 0.8 x (60 - 20)
    assert figure(report, "frt_median")["previous"] == 4.0
    assert (figure(report, "sla_compliance")["value"], figure(report, "sla_compliance")["count"]) == (66.7, 3)
    assert figure(report, "sla_compliance")["previous"] == 100.0
    assert figure(report, "sla_breaches")["value"] == 1
    assert figure(report, "resolution_median")["value"] == 2.0  # hours
    assert points(report, "frt_by_day", "frt_median")["2025-03-01"] == 20.0
    assert points(report, "sla_compliance_by_day", "sla_compliance")["2025-03-01"] == 66.7


def test_waiting_now_counts_open_tickets_without_a_first_response_whenever_opened(manager, customer, logistics):
    ticket(customer, logistics, opened=at(DAY1 - timedelta(days=200)))
    ticket(customer, logistics, opened=at(DAY1))
    ticket(customer, logistics, opened=at(DAY1), answered_after=3)
    ticket(customer, logistics, opened=at(DAY1), status="solved")

    waiting = figure(speed_report(viewer=manager, scope=period()), "waiting_now")

    assert waiting["value"] == 2 and waiting["previous"] is None
    assert "created_from" not in waiting["tickets"] and "first_response=waiting" in waiting["tickets"]


@override_settings(TIME_ZONE="Europe/Berlin")
def test_volume_buckets_by_channel_category_team_hour_and_day_in_the_desk_time_zone(
    manager, customer, logistics, returns
):
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin.
    late = ticket(customer, logistics, opened=at(DAY1, 0, 30) + timedelta(days=1), channel="email")
    ticket(customer, returns, opened=at(DAY1, 9), category="delivery")
    ticket(customer, returns, opened=at(DAY1, 9, 59), category="delivery", channel="web")
    assert late.created_at.hour == 23  # stored in UTC

    report = volume_report(viewer=manager, scope=period())

    assert figure(report, "tickets")["value"] == 3
    assert points(report, "by_channel") == {"chat": 1, "email": 1, "web": 1}
    assert points(report, "by_category")["delivery"] == 2 and points(report, "by_category")["none"] == 1
    assert points(report, "by_team") == {"logistics": 1, "returns": 2}
    hours = points(report, "by_hour")
    assert (hours["0"], hours["9"], sum(hours.values())) == (1, 2, 3)
    by_day = points(report, "tickets_by_day")
    assert (by_day["2025-03-01"], by_day["2025-03-02"], by_day["2025-03-03"]) == (2, 1, None)


def test_mood_distribution_negative_share_and_improved_conversations(manager, customer, logistics):
    ticket(customer, logistics, opened=at(DAY1), sentiment="negative", sentiment_trend="worsening")
    ticket(customer, logistics, opened=at(DAY1), sentiment="positive", sentiment_trend="improving")
    ticket(customer, logistics, opened=at(DAY1), sentiment="neutral", sentiment_trend="steady")
    ticket(customer, logistics, opened=at(DAY1 + timedelta(days=1)), sentiment="negative", sentiment_trend="improving")
    ticket(customer, logistics, opened=at(DAY1))  # no mood yet: not in the shares

    report = volume_report(viewer=manager, scope=period())

    assert points(report, "sentiment") == {"negative": 2, "neutral": 1, "positive": 1}
    assert figure(report, "negative_share")["value"] == 50.0
    assert figure(report, "sentiment_improved")["value"] == 50.0
    negative = points(report, "negative_by_day", "negative_share")
    assert (negative["2025-03-01"], negative["2025-03-02"]) == (33.3, 100.0)


def test_people_tables_per_agent_and_per_team(manager, customer, logistics, returns, logistics_agent):
    rami = make_agent("rami", teams=(returns,))
    ticket(
        customer, logistics, opened=at(DAY1), assignee=logistics_agent, answered_after=10, sla="met", survey=("csat", 5)
    )
    ticket(
        customer,
        logistics,
        opened=at(DAY1),
        assignee=logistics_agent,
        answered_after=30,
        sla="breached",
        survey=("csat", 2),
    )
    ticket(customer, returns, opened=at(DAY1), assignee=rami, answered_after=5, sla="met", survey=("nps", 10))
    ticket(customer, returns, opened=at(DAY1))  # unassigned
    ticket(customer, logistics, opened=at(DAY1 - timedelta(days=1)), assignee=logistics_agent)  # previous period

    report = people_report(viewer=manager, scope=period())

    agents = {row["key"]: row for row in report["tables"][0]["rows"]}
    lena = agents[str(logistics_agent.pk)]["cells"]
    assert lena == {
        "name": "Lena", "tickets": 2, "tickets_change": 1, "frt_median": 20.0, "sla_compliance": 50.0,
        "csat": 50.0, "csat_change": None, "nps": None,
    }  # fmt: skip
    assert agents[str(rami.pk)]["cells"]["nps"] == 100.0
    assert agents["none"]["cells"]["name"] == "Unassigned"
    assert list(agents) == [str(logistics_agent.pk), str(rami.pk), "none"]  # busiest first, unassigned last
    assert f"assignee={logistics_agent.pk}" in agents[str(logistics_agent.pk)]["tickets"]
    teams = {row["key"]: row["cells"] for row in report["tables"][1]["rows"]}
    assert (teams["logistics"]["tickets"], teams["returns"]["tickets"]) == (2, 2)
    assert teams["logistics"]["csat"] == 50.0


def test_a_team_lead_sees_only_their_teams_and_own_tickets(team_lead, customer, logistics, returns):
    ticket(customer, logistics, opened=at(DAY1))
    ticket(customer, returns, opened=at(DAY1))
    ticket(customer, returns, opened=at(DAY1), assignee=team_lead)

    report = volume_report(viewer=team_lead, scope=period())

    assert figure(report, "tickets")["value"] == 2
    assert points(report, "by_team") == {"logistics": 1, "returns": 1}


def test_scope_narrows_and_merged_tickets_are_left_out(manager, customer, logistics, returns):
    target = ticket(customer, logistics, opened=at(DAY1), channel="email")
    ticket(customer, logistics, opened=at(DAY1), channel="email", merged_into=target)
    ticket(customer, logistics, opened=at(DAY1), channel="chat")
    ticket(customer, returns, opened=at(DAY1), channel="email")
    ticket(customer, logistics, opened=at(DAY10 + timedelta(days=1)), channel="email")  # after the period

    scoped = volume_report(viewer=manager, scope=period(team=logistics, channel="email"))

    assert figure(scoped, "tickets")["value"] == 1
    assert scoped["scope"] == {"team": "logistics", "agent": None, "channel": "email", "category": None}
    assert scoped["period"] == {
        "from": "2025-03-01", "to": "2025-03-10", "previous_from": "2025-02-19", "previous_to": "2025-02-28",
    }  # fmt: skip
    assert "team=logistics" in figure(scoped, "tickets")["tickets"]


def test_ticket_rows_carry_the_report_facts(manager, customer, logistics, logistics_agent):
    t = ticket(
        customer,
        logistics,
        opened=at(DAY1),
        assignee=logistics_agent,
        answered_after=12.5,
        sla="breached",
        solved_after=90,
        survey=("csat", 2),
        reason="slow",
        sentiment="negative",
        sentiment_trend="improving",
    )

    [row] = [ticket_row(v) for v in report_ticket_rows(report_tickets(viewer=manager, scope=period()))]

    assert row == {
        "id": t.pk, "created_at": "2025-03-01T10:00:00+00:00", "channel": "chat", "team": "logistics",
        "assignee": "Lena", "category": "", "status": "new", "priority": "normal", "first_response_minutes": 12.5,
        "first_response_sla": "breached", "resolution_minutes": 90.0, "sentiment": "negative",
        "sentiment_trend": "improving", "survey_kind": "csat", "score": 2, "reason": "slow", "follow_up": "",
    }  # fmt: skip


def test_reports_leave_out_tickets_outside_the_period(manager, customer, logistics):
    ticket(customer, logistics, opened=at(DAY10 + timedelta(days=1)))
    assert Ticket.objects.count() == 1

    assert figure(volume_report(viewer=manager, scope=period()), "tickets")["value"] == 0
    assert figure(volume_report(viewer=manager, scope=period()), "tickets")["previous"] == 0


def test_people_rows_for_a_team_are_scoped(manager, customer):
    north = make_team("north")
    ticket(customer, north, opened=at(DAY1))

    report = people_report(viewer=manager, scope=period(team=north))

    assert [row["key"] for row in report["tables"][1]["rows"]] == ["north"]


def test_a_team_leads_people_report_has_only_their_teams_tickets(team_lead, customer, logistics, returns):
    rami = make_agent("rami", teams=(returns,))
    ticket(customer, logistics, opened=at(DAY1), assignee=team_lead)
    ticket(customer, returns, opened=at(DAY1), assignee=rami)

    report = people_report(viewer=team_lead, scope=period())

    assert [row["key"] for row in report["tables"][0]["rows"]] == [str(team_lead.pk)]
    assert [row["key"] for row in report["tables"][1]["rows"]] == ["logistics"]
