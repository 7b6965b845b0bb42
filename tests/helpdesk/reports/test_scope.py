"""A report's scope: parsing the query string, the period, the previous
period and the inbox links."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.test import override_settings
from django.utils import timezone

from helpdesk.reports.scope import ReportScope, ScopeForm

pytestmark = pytest.mark.django_db


def form(query: str) -> ScopeForm:
    return ScopeForm(QueryDict(query))


def test_defaults_to_the_last_30_days_ending_today():
    f = form("")
    assert f.is_valid()

    scope = f.scope()

    assert (scope.date_to, scope.days) == (timezone.localdate(), 30)
    assert (scope.team, scope.agent, scope.channel, scope.category) == (None, None, "", None)


def test_parses_every_parameter(logistics, logistics_agent):
    f = form(f"from=2025-03-01&to=2025-03-10&team=logistics&agent={logistics_agent.pk}&channel=email&category=none")
    assert f.is_valid(), f.errors

    scope = f.scope()

    assert (scope.date_from, scope.date_to, scope.days) == (date(2025, 3, 1), date(2025, 3, 10), 10)
    assert (scope.team, scope.agent, scope.channel, scope.category) == (logistics, logistics_agent, "email", "")
    assert scope.query() == {
        "from": "2025-03-01", "to": "2025-03-10", "team": "logistics", "agent": str(logistics_agent.pk),
        "channel": "email", "category": "none",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("from=2025-03-10&to=2025-03-01", ["from"]),
        ("from=2024-01-01&to=2025-01-01", ["from"]),  # 367 days
        ("from=soon", ["from"]),
        ("team=nope&channel=fax", ["team", "channel"]),
        ("category=weather", ["category"]),
    ],
)
def test_bad_values_are_errors_keyed_by_parameter(query, errors):
    f = form(query)

    assert not f.is_valid()
    assert sorted(f.field_errors()) == sorted(errors)


def test_366_days_is_the_longest_period():
    assert form("from=2024-01-01&to=2024-12-31").is_valid()  # a leap year: 366 days


@override_settings(TIME_ZONE="Europe/Berlin")
def test_start_and_end_are_midnights_in_the_desk_time_zone_end_exclusive():
    scope = ReportScope(date_from=date(2025, 3, 1), date_to=date(2025, 3, 10))
    berlin = ZoneInfo("Europe/Berlin")

    assert scope.start == datetime(2025, 3, 1, tzinfo=berlin)
    assert scope.end == datetime(2025, 3, 11, tzinfo=berlin)


def test_the_previous_period_has_the_same_length_right_before():
    previous = ReportScope(date_from=date(2025, 3, 1), date_to=date(2025, 3, 10)).previous()

    assert (previous.date_from, previous.date_to) == (date(2025, 2, 19), date(2025, 2, 28))


def test_the_inbox_link_carries_the_scope_and_the_drill_down(logistics, logistics_agent):
    scope = ReportScope(date_from=date(2025, 3, 1), date_to=date(2025, 3, 10), team=logistics,
                        agent=logistics_agent, channel="chat", category="")  # fmt: skip

    url = urlsplit(scope.inbox_url(score_group="satisfied"))

    assert url.path == "/inbox/"
    assert parse_qs(url.query) == {
        "created_from": ["2025-03-01"], "created_to": ["2025-03-10"], "team": ["logistics"],
        "assignee": [str(logistics_agent.pk)], "channel": ["chat"], "category": ["none"],
        "score_group": ["satisfied"], "merged": ["false"],
    }  # fmt: skip
