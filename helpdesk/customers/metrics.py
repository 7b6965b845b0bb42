"""Customer figures computed from orders. Pure functions: no ORM, no clock.

Counted orders are those the customer paid for and kept: cancelled, returned
and refunded orders and orders still awaiting payment add nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

COUNTED_STATUSES = frozenset({"paid", "shipped", "delivered"})
# A customer seen for a few days would otherwise have an absurd yearly rate.
MIN_TENURE_DAYS_FOR_FREQUENCY = 30
CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderFact:
    placed_at: datetime
    total: Decimal
    status: str


@dataclass(frozen=True)
class CustomerMetrics:
    lifetime_value: Decimal
    order_count: int
    average_order_value: Decimal
    purchase_frequency: Decimal  # counted orders per 365 days of tenure
    tenure_days: int
    days_since_last_order: int | None


def counted(orders: Sequence[OrderFact]) -> list[OrderFact]:
    return [o for o in orders if o.status in COUNTED_STATUSES]


def lifetime_value(orders: Sequence[OrderFact]) -> Decimal:
    return sum((o.total for o in counted(orders)), Decimal("0")).quantize(CENT, ROUND_HALF_UP)


def average_order_value(orders: Sequence[OrderFact]) -> Decimal:
    kept = counted(orders)
    if not kept:
        return Decimal("0.00")
    return (lifetime_value(kept) / len(kept)).quantize(CENT, ROUND_HALF_UP)


def tenure_days(first_seen_at: datetime, now: datetime) -> int:
    return max(0, (now - first_seen_at).days)


def purchase_frequency(orders: Sequence[OrderFact], *, tenure: int) -> Decimal:
    """Counted orders per year, over a tenure of at least 30 days."""
    kept = counted(orders)
    days = max(tenure, MIN_TENURE_DAYS_FOR_FREQUENCY)
    return (Decimal(len(kept)) * 365 / days).quantize(CENT, ROUND_HALF_UP)


def days_since_last_order(orders: Sequence[OrderFact], now: datetime) -> int | None:
    kept = counted(orders)
    if not kept:
        return None
    return max(0, (now - max(o.placed_at for o in kept)).days)


def customer_metrics(orders: Sequence[OrderFact], *, first_seen_at: datetime, now: datetime) -> CustomerMetrics:
    # Tenure starts at the earlier of first sight and first order.
    start = min([first_seen_at, *(o.placed_at for o in orders)])
    tenure = tenure_days(start, now)
    return CustomerMetrics(
        lifetime_value=lifetime_value(orders),
        order_count=len(counted(orders)),
        average_order_value=average_order_value(orders),
        purchase_frequency=purchase_frequency(orders, tenure=tenure),
        tenure_days=tenure,
        days_since_last_order=days_since_last_order(orders, now),
    )
