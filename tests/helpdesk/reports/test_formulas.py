"""The reports' arithmetic, on the worked examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helpdesk.reports import formulas


def test_share_is_a_percentage_with_one_decimal_and_none_without_a_whole():
    assert formulas.share(2, 3) == 66.7
    assert formulas.share(0, 5) == 0.0
    assert formulas.share(3, 0) is None


def test_csat_is_the_share_of_satisfied_answers():
    assert formulas.csat_score(satisfied=2, answered=3) == 66.7  # answers 5, 4, 2
    assert formulas.csat_score(satisfied=0, answered=0) is None


@pytest.mark.parametrize(("score", "group"), [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"),
                                              (9, "promoter"), (10, "promoter")])  # fmt: skip
def test_nps_groups(score, group):
    assert formulas.nps_group(score) == group


def test_nps_is_promoters_minus_detractors_with_the_three_shares():
    result = formulas.nps(promoters=50, passives=30, detractors=20)

    assert (result.score, result.promoters, result.passives, result.detractors) == (30.0, 50.0, 30.0, 20.0)
    assert formulas.nps(promoters=0, passives=0, detractors=4).score == -100.0


def test_nps_without_answers_is_no_data():
    assert formulas.nps(promoters=0, passives=0, detractors=0) == formulas.Nps(None, None, None, None)


def test_customer_retention_rate_worked_example():
    assert formulas.customer_retention_rate(at_start=2000, at_end=2400, new=600) == 90.0
    assert formulas.customer_retention_rate(at_start=0, at_end=10, new=10) is None


def test_churn_rate_worked_example():
    assert formulas.churn_rate(at_start=500, lost=50) == 10.0
    assert formulas.churn_rate(at_start=0, lost=0) is None


def test_repeat_purchase_rate():
    assert formulas.repeat_purchase_rate(repeat_customers=30, customers=120) == 25.0
    assert formulas.repeat_purchase_rate(repeat_customers=0, customers=0) is None


def test_customer_lifetime_value_is_aov_times_frequency_times_lifespan_to_the_cent():
    clv = formulas.customer_lifetime_value(
        average_order_value=Decimal("54.20"), purchase_frequency=Decimal("2.5"), lifespan_years=Decimal("3")
    )
    assert clv == Decimal("406.50")
    assert formulas.customer_lifetime_value(
        average_order_value=Decimal("10.005"), purchase_frequency=Decimal("1"), lifespan_years=Decimal("1")
    ) == Decimal("10.01")  # half up


def test_change_is_the_difference_in_the_figures_unit():
    assert formulas.change(87.5, 85.0) == 2.5
    assert formulas.change(66.7, 100.0) == -33.3
    assert formulas.change(Decimal("54.20"), Decimal("50.00")) == 4.2
    assert formulas.change(None, 85.0) is None
    assert formulas.change(85.0, None) is None
