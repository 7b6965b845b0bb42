"""The shared JSON pieces of the reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from helpdesk.reports import shapes
from helpdesk.reports.scope import ReportScope


def test_a_figure_carries_previous_and_change_in_its_unit():
    f = shapes.figure("csat", "CSAT", value=66.7, previous=100.0, unit="%", better="up", count=3, tickets="/t")

    assert f == {
        "key": "csat", "label": "CSAT", "unit": "%", "value": 66.7, "previous": 100.0, "change": -33.3,
        "better": "up", "count": 3, "count_of": "tickets", "help": "", "tickets": "/t",
    }  # fmt: skip


def test_money_is_strings_with_two_decimals_and_a_currency():
    f = shapes.figure("aov", "AOV", value=Decimal("54.2"), previous=50, unit="money", currency="EUR", tickets="/t")

    assert (f["value"], f["previous"], f["change"], f["currency"]) == ("54.20", "50.00", "4.20", "EUR")
    assert shapes.figure("aov", "AOV", value=None, previous=50, unit="money", tickets="/t")["change"] is None


def test_day_points_link_to_that_days_tickets():
    scope = ReportScope(date_from=date(2025, 3, 1), date_to=date(2025, 3, 3), channel="chat")

    days = shapes.days(scope)
    point = shapes.day_point(scope, days[1], {"csat": 80.0}, survey_kind="csat")

    assert days == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert point["key"] == "2025-03-02" and point["label"] == "2 Mar"
    assert point["tickets"] == (
        "/inbox/?created_from=2025-03-02&created_to=2025-03-02&merged=false&channel=chat&survey_kind=csat"
    )
