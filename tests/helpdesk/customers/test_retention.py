"""Retention selectors on a small shop whose groups are known by construction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from helpdesk.customers import retention
from helpdesk.customers.models import Customer, Shop
from helpdesk.reports import formulas
from tests.factories import make_customer, make_order

START = datetime(2026, 5, 1, tzinfo=UTC)
END = datetime(2026, 6, 1, tzinfo=UTC)  # a 31-day period; END - 365 days = START - 334 days


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.fixture
def shop_customers(shop: Shop) -> dict[str, Customer]:
    """a, f retained; b lost; c new; d returning; e only cancelled; g orders after the end."""
    people = {name: make_customer(shop, name=name) for name in "abcdefg"}
    make_order(people["a"], placed_at=START - days(100), total=Decimal("30.00"))
    make_order(people["a"], placed_at=END - days(10), total=Decimal("100.00"))
    make_order(people["b"], placed_at=START - days(350))  # in S's window, out of E's
    make_order(people["c"], placed_at=START + days(5), total=Decimal("40.00"), status="paid")
    make_order(people["c"], placed_at=START + days(6), total=Decimal("999.00"), status="pending")
    make_order(people["d"], placed_at=START - days(500))
    make_order(people["d"], placed_at=START + days(10), total=Decimal("60.00"), status="shipped")
    make_order(people["e"], placed_at=START - days(50), status="cancelled")
    make_order(people["e"], placed_at=START + days(3), status="refunded")
    make_order(people["f"], placed_at=START - days(20))
    make_order(people["f"], placed_at=START - days(10))
    make_order(people["g"], placed_at=END + days(1))
    return people


def test_counts_of_a_period(shop_customers):
    # when
    counts = retention.customer_counts(start=START, end=END)

    # then: S = a, b, f; E = a, c, d, f
    assert counts == retention.CustomerCounts(at_start=3, at_end=4, new=1, retained=2, lost=1, returning=1)
    assert counts.gained == 2


def test_crr_and_churn_add_up_to_100(shop_customers):
    counts = retention.customer_counts(start=START, end=END)

    crr = formulas.customer_retention_rate(at_start=counts.at_start, at_end=counts.at_end, new=counts.gained)
    churn = formulas.churn_rate(at_start=counts.at_start, lost=counts.lost)

    assert crr == 66.7  # 2 of 3 retained
    assert churn == 33.3
    # The textbook N (new customers only) would count the returning customer d as retained:
    assert formulas.customer_retention_rate(at_start=3, at_end=4, new=counts.new) == 100.0


@pytest.mark.parametrize(("group", "names"), [("new", {"c"}), ("retained", {"a", "f"}), ("lost", {"b"})])
def test_group_ids(shop_customers, group, names):
    ids = retention.customer_group_ids(group, start=START, end=END)

    assert set(ids) == {shop_customers[name].pk for name in names}


def test_group_ids_is_a_subquery(shop_customers):
    ids = retention.customer_group_ids("retained", start=START, end=END)

    assert set(Customer.objects.filter(pk__in=ids).values_list("name", flat=True)) == {"a", "f"}


def test_unknown_group_is_an_error(db):
    with pytest.raises(ValueError, match="unknown customer group"):
        retention.customer_group_ids("loyal", start=START, end=END)


def test_an_order_exactly_365_days_before_counts_and_one_more_day_does_not(shop):
    # given
    just_in, just_out = make_customer(shop), make_customer(shop)
    make_order(just_in, placed_at=START - days(365))
    make_order(just_out, placed_at=START - days(365) - timedelta(seconds=1))

    # when
    counts = retention.customer_counts(start=START, end=END)

    # then
    assert counts.at_start == 1
    assert set(retention.customer_group_ids("lost", start=START, end=END)) == {just_in.pk}


def test_repeat_purchase_rate(shop_customers):
    # window [END - 365 d, END): a 2 orders, c 1 (the pending one not counted), d 1, f 2; b is outside
    repeat = retention.repeat_purchase(end=END)

    assert repeat == retention.RepeatPurchase(customers=4, repeat_customers=2)
    assert formulas.repeat_purchase_rate(repeat_customers=2, customers=4) == 50.0


def test_average_order_value_counts_kept_orders_of_the_period(shop_customers):
    # a 100 + c 40 + d 60; c's pending 999 and e's refunded order left out
    value = retention.order_value(start=START, end=END, currency="EUR")

    assert (value.orders, value.revenue, value.customers) == (3, Decimal("200.00"), 3)
    assert value.average == Decimal("66.67")


def test_average_order_value_leaves_other_currencies_out(shop):
    customer = make_customer(shop)
    make_order(customer, placed_at=START + days(1), total=Decimal("10.00"))
    make_order(customer, placed_at=START + days(2), total=Decimal("1000.00"), currency="USD")

    assert retention.shop_currency() == "EUR"
    assert retention.order_value(start=START, end=END, currency="EUR").average == Decimal("10.00")


def test_average_order_value_without_orders_is_none(db):
    assert retention.order_value(start=START, end=END, currency="EUR").average is None


def test_purchase_frequency(shop_customers):
    # 6 counted orders in the year before END by 4 customers
    assert retention.purchase_frequency(end=END) == Decimal("1.50")


def test_purchase_frequency_without_orders_is_none(db):
    assert retention.purchase_frequency(end=END) is None


def test_lifespan_is_one_over_yearly_churn(shop_customers):
    # active a year before END: b and d; b is lost by END -> churn 1/2 -> 2 years
    assert retention.yearly_churn(end=END) == (2, 1)
    assert retention.lifespan_years(end=END) == Decimal("2.00")


def test_lifespan_is_capped_at_ten_years(shop):
    # given: 11 customers active a year before, 1 of them lost: 1 / (1/11) = 11 years
    year_ago = END - days(365)
    for n in range(11):
        customer = make_customer(shop)
        make_order(customer, placed_at=year_ago - days(30))
        if n:
            make_order(customer, placed_at=END - days(30))

    assert retention.yearly_churn(end=END) == (11, 1)
    assert retention.lifespan_years(end=END) == Decimal("10")


def test_lifespan_without_churn_is_the_cap_and_without_customers_none(shop):
    assert retention.lifespan_years(end=END) is None

    customer = make_customer(shop)
    make_order(customer, placed_at=END - days(400))
    make_order(customer, placed_at=END - days(5))

    assert retention.lifespan_years(end=END) == retention.LIFESPAN_CAP_YEARS


def test_lifetime_value_inputs(shop_customers):
    inputs = retention.lifetime_value_inputs(end=END)

    # the year before END: a 30 + 100, c 40, d 60, f 50 + 50 = 330 over 6 orders
    assert inputs.average_order_value == Decimal("55.00")
    assert inputs.purchase_frequency == Decimal("1.50")
    assert inputs.lifespan_years == Decimal("2.00")
    assert inputs.currency == "EUR"
    clv = formulas.customer_lifetime_value(
        average_order_value=Decimal("55.00"), purchase_frequency=Decimal("1.50"), lifespan_years=Decimal("2.00")
    )
    assert clv == Decimal("165.00")


def test_counts_take_one_query(shop_customers, django_assert_num_queries):
    with django_assert_num_queries(1):
        retention.customer_counts(start=START, end=END)
    with django_assert_num_queries(1):
        retention.repeat_purchase(end=END)


def test_period_figures_are_the_single_figures_in_one_query(shop_customers, django_assert_num_queries):
    # given periods of a month, a year and two years, overlapping and not, with a USD order in one
    make_order(shop_customers["a"], placed_at=START + days(2), total=Decimal("500.00"), currency="USD")
    periods = [(START, END), (START - days(31), START), (END - days(365), END), (START - days(732), END - days(1))]

    # when the report asks for all of them at once
    with django_assert_num_queries(1):
        found = retention.period_figures(periods=periods, currency="EUR")

    # then each is what the one-figure selectors say
    for (start, end), figures in zip(periods, found, strict=True):
        assert figures.counts == retention.customer_counts(start=start, end=end)
        assert figures.repeat == retention.repeat_purchase(end=end)
        assert figures.value == retention.order_value(start=start, end=end, currency="EUR")
        assert figures.clv_inputs == retention.lifetime_value_inputs(end=end)
