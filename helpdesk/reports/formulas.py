"""The reports' arithmetic. Pure functions: no ORM, no clock.

Every share is a percentage (0-100) rounded to one decimal, or None when
there is nothing to divide by: a report shows "no data", never a made-up 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CSAT_SATISFIED_MIN = 4  # 4 and 5 of 1-5 count as satisfied
NPS_PROMOTER_MIN = 9  # 9-10 promoters
NPS_DETRACTOR_MAX = 6  # 0-6 detractors; 7-8 passives
CENT = Decimal("0.01")


def share(part: int | float, whole: int | float) -> float | None:
    """part / whole as a percentage with one decimal; None when whole is 0."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def csat_score(*, satisfied: int, answered: int) -> float | None:
    """CSAT: the share of 4-5 answers among all answers."""
    return share(satisfied, answered)


def nps_group(score: int) -> str:
    """ "promoter" (9-10), "passive" (7-8) or "detractor" (0-6)."""
    if score >= NPS_PROMOTER_MIN:
        return "promoter"
    if score <= NPS_DETRACTOR_MAX:
        return "detractor"
    return "passive"


@dataclass(frozen=True)
class Nps:
    score: float | None  # -100..100
    promoters: float | None  # shares, percent
    passives: float | None
    detractors: float | None


def nps(*, promoters: int, passives: int, detractors: int) -> Nps:
    """NPS: the share of promoters minus the share of detractors, in points."""
    total = promoters + passives + detractors
    if not total:
        return Nps(None, None, None, None)
    return Nps(
        score=round(100.0 * (promoters - detractors) / total, 1),
        promoters=share(promoters, total),
        passives=share(passives, total),
        detractors=share(detractors, total),
    )


def customer_retention_rate(*, at_start: int, at_end: int, new: int) -> float | None:
    """CRR = ((E - N) / S) x 100: S customers at the period's start, E at its
    end, N new during it. S=2,000, E=2,400, N=600 gives 90.0."""
    return share(at_end - new, at_start)


def churn_rate(*, at_start: int, lost: int) -> float | None:
    """The share of the customers at the start who were lost during the period:
    start 500, lost 50 gives 10.0."""
    return share(lost, at_start)


def repeat_purchase_rate(*, repeat_customers: int, customers: int) -> float | None:
    """The share of customers with more than one (counted) order."""
    return share(repeat_customers, customers)


def customer_lifetime_value(
    *, average_order_value: Decimal, purchase_frequency: Decimal, lifespan_years: Decimal
) -> Decimal:
    """CLV = average order value x purchase frequency (orders per customer per
    year) x average customer lifespan (years)."""
    return (average_order_value * purchase_frequency * lifespan_years).quantize(CENT, ROUND_HALF_UP)


def change(current: float | Decimal | None, previous: float | Decimal | None) -> float | None:
    """The difference from the previous period, in the figure's own unit
    (points for shares); None when either side has no data."""
    if current is None or previous is None:
        return None
    return round(float(current) - float(previous), 1)
