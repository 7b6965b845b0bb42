"""Worked examples for the customer figures. Pure functions: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from helpdesk.customers.metrics import (
    MIN_TENURE_DAYS_FOR_FREQUENCY,
    CustomerMetrics,
    OrderFact,
    average_order_value,
    counted,
    customer_metrics,
    days_since_last_order,
    lifetime_value,
    purchase_frequency,
    tenure_days,
)

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)


def order(total: str, status: str = "delivered", days_ago: float = 10) -> OrderFact:
    return OrderFact(placed_at=NOW - timedelta(days=days_ago), total=Decimal(total), status=status)


@pytest.mark.parametrize("status", ["paid", "shipped", "delivered"])
def test_paid_shipped_and_delivered_orders_count(status):
    assert counted([order("10.00", status)]) == [order("10.00", status)]


@pytest.mark.parametrize("status", ["pending", "cancelled", "returned", "refunded", "something-new"])
def test_unpaid_undone_and_unknown_orders_do_not_count(status):
    assert counted([order("10.00", status)]) == []


def test_lifetime_value_sums_only_kept_orders():
    orders = [
        order("100.00", "delivered"),
        order("50.50", "shipped"),
        order("20.00", "paid"),
        order("999.00", "cancelled"),
        order("80.00", "refunded"),
        order("70.00", "returned"),
        order("60.00", "pending"),
    ]

    assert lifetime_value(orders) == Decimal("170.50")


def test_lifetime_value_of_no_orders_is_zero_with_cents():
    value = lifetime_value([])

    assert value == Decimal("0")
    assert str(value) == "0.00"


def test_lifetime_value_rounds_half_up_to_cents():
    assert lifetime_value([order("0.005"), order("10.00")]) == Decimal("10.01")


def test_average_order_value_divides_by_kept_orders_only():
    orders = [order("100.00"), order("50.00", "shipped"), order("500.00", "cancelled")]

    assert average_order_value(orders) == Decimal("75.00")


def test_average_order_value_rounds_half_up():
    # 100 / 3 = 33.333..., 200 / 3 = 66.666...
    assert average_order_value([order("100.00"), order("0.00"), order("0.00")]) == Decimal("33.33")
    assert average_order_value([order("100.00"), order("100.00"), order("0.00")]) == Decimal("66.67")


def test_average_order_value_without_kept_orders_is_zero():
    assert average_order_value([order("80.00", "refunded")]) == Decimal("0.00")
    assert average_order_value([]) == Decimal("0.00")


@pytest.mark.parametrize(
    ("since", "days"),
    [
        (NOW - timedelta(days=400), 400),
        (NOW - timedelta(days=1, hours=23), 1),  # whole days, rounded down
        (NOW, 0),
        (NOW + timedelta(days=3), 0),  # a clock ahead of us is not negative tenure
    ],
)
def test_tenure_is_whole_days_and_never_negative(since, days):
    assert tenure_days(since, NOW) == days


def test_purchase_frequency_is_kept_orders_per_365_days():
    orders = [order("10.00"), order("10.00"), order("10.00", "cancelled")]

    assert purchase_frequency(orders, tenure=730) == Decimal("1.00")
    assert purchase_frequency(orders, tenure=365) == Decimal("2.00")
    assert purchase_frequency(orders, tenure=100) == Decimal("7.30")


@pytest.mark.parametrize("tenure", [0, 1, 29, 30])
def test_purchase_frequency_uses_at_least_30_days_of_tenure(tenure):
    # One order on the first day would otherwise be 365 orders a year.
    assert MIN_TENURE_DAYS_FOR_FREQUENCY == 30
    assert purchase_frequency([order("10.00")], tenure=tenure) == Decimal("12.17")  # 365 / 30


def test_purchase_frequency_above_the_floor_uses_the_real_tenure():
    assert purchase_frequency([order("10.00")], tenure=31) == Decimal("11.77")  # 365 / 31


def test_purchase_frequency_without_kept_orders_is_zero():
    assert purchase_frequency([order("10.00", "returned")], tenure=200) == Decimal("0.00")


def test_days_since_last_order_counts_from_the_newest_kept_order():
    orders = [order("10.00", days_ago=40), order("10.00", days_ago=12.5), order("10.00", "cancelled", days_ago=1)]

    assert days_since_last_order(orders, NOW) == 12


def test_days_since_last_order_is_none_without_kept_orders():
    assert days_since_last_order([order("10.00", "cancelled"), order("5.00", "pending")], NOW) is None
    assert days_since_last_order([], NOW) is None


def test_days_since_last_order_is_never_negative():
    assert days_since_last_order([order("10.00", days_ago=-2)], NOW) == 0


def test_customer_metrics_worked_example():
    # Seen a year ago; three kept orders, one refunded.
    orders = [
        order("120.00", "delivered", days_ago=300),
        order("80.00", "delivered", days_ago=200),
        order("40.00", "shipped", days_ago=5),
        order("60.00", "refunded", days_ago=100),
    ]

    metrics = customer_metrics(orders, first_seen_at=NOW - timedelta(days=365), now=NOW)

    assert metrics == CustomerMetrics(
        lifetime_value=Decimal("240.00"),
        order_count=3,
        average_order_value=Decimal("80.00"),
        purchase_frequency=Decimal("3.00"),
        tenure_days=365,
        days_since_last_order=5,
    )


def test_tenure_starts_at_the_first_order_when_it_predates_first_sight():
    # The shop imported an old customer: their first order is older than the desk's first sight of them.
    orders = [order("100.00", days_ago=730)]

    metrics = customer_metrics(orders, first_seen_at=NOW - timedelta(days=10), now=NOW)

    assert metrics.tenure_days == 730
    assert metrics.purchase_frequency == Decimal("0.50")


def test_tenure_counts_uncounted_orders_too():
    # A cancelled first order still shows when the customer arrived.
    orders = [order("100.00", "cancelled", days_ago=400), order("50.00", days_ago=20)]

    metrics = customer_metrics(orders, first_seen_at=NOW - timedelta(days=30), now=NOW)

    assert metrics.tenure_days == 400
    assert metrics.order_count == 1


def test_tenure_starts_at_first_sight_when_that_is_earlier():
    metrics = customer_metrics([order("10.00", days_ago=5)], first_seen_at=NOW - timedelta(days=90), now=NOW)

    assert metrics.tenure_days == 90


def test_customer_without_orders():
    metrics = customer_metrics([], first_seen_at=NOW - timedelta(days=3), now=NOW)

    assert metrics == CustomerMetrics(
        lifetime_value=Decimal("0.00"),
        order_count=0,
        average_order_value=Decimal("0.00"),
        purchase_frequency=Decimal("0.00"),
        tenure_days=3,
        days_since_last_order=None,
    )
