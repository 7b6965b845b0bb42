"""Which customers a shop has at a moment, gained and lost over a period:
the selectors behind the retention report and its inbox drill-down.

Definitions (one meaning everywhere):

- Counted orders: status in ``metrics.COUNTED_STATUSES`` (paid, shipped,
  delivered); pending, cancelled, returned and refunded orders add nothing.
- Active at a moment t: the customer placed a counted order in the
  ``RETENTION_WINDOW`` (365 days) before t, i.e. placed_at in [t - 365 d, t).
- For a period [start, end): S = customers active at start, E = active at end,
  N = new customers, whose first counted order ever was placed in the period.
  Retained = active at start and at end; lost = active at start, not at end.
  Returning = active at end, not at start and not new: they bought again after
  more than a year. So E = retained + new + returning (a new customer whose
  only order falls out of the window before the end, possible only in a
  period over 365 days, is new but not in E).

Every figure is one SQL query: the counts are conditional aggregates over
the counted orders grouped by customer, the drill-down's customer ids an
Exists subquery per condition; nothing loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum

from helpdesk.customers.metrics import COUNTED_STATUSES
from helpdesk.customers.models import Customer, Order, Shop

RETENTION_WINDOW = timedelta(days=365)
# With (almost) no churn 1 / churn is absurdly long; a shop plans on at most this.
LIFESPAN_CAP_YEARS = Decimal(10)
CUSTOMER_GROUPS = ("start", "end", "new", "retained", "lost")
CENT = Decimal("0.01")


def counted_orders() -> QuerySet[Order]:
    return Order.objects.filter(status__in=COUNTED_STATUSES)


def _ordered_between(start: datetime | None, end: datetime) -> Exists:
    """The outer customer placed a counted order in [start, end) (no lower bound when start is None)."""
    orders = counted_orders().filter(customer=OuterRef("pk"), placed_at__lt=end)
    if start is not None:
        orders = orders.filter(placed_at__gte=start)
    return Exists(orders)


def active_at(moment: datetime) -> Exists:
    """The outer customer is active at ``moment``: a counted order in the 365 days before it."""
    return _ordered_between(moment - RETENTION_WINDOW, moment)


def new_between(start: datetime, end: datetime) -> Q:
    """The outer customer's first counted order was placed in [start, end)."""
    return Q(_ordered_between(start, end)) & ~Q(_ordered_between(None, start))


def _group_condition(group: str, *, start: datetime, end: datetime) -> Q:
    if group == "start":
        return Q(active_at(start))
    if group == "end":
        return Q(active_at(end))
    if group == "new":
        return new_between(start, end)
    if group == "retained":
        return Q(active_at(start)) & Q(active_at(end))
    if group == "lost":
        return Q(active_at(start)) & ~Q(active_at(end))
    raise ValueError(f"unknown customer group {group!r}; expected one of {', '.join(CUSTOMER_GROUPS)}")


def customer_group_ids(group: str, *, start: datetime, end: datetime) -> QuerySet[Customer, int]:
    """Ids of the customers of a retention group of the period [start, end):
    "start" or "end" (active then), "new", "retained" or "lost" (see the module docstring). A subquery, meant
    for ``Q(customer__in=...)``; raises ValueError for another group."""
    return Customer.objects.filter(_group_condition(group, start=start, end=end)).values_list("pk", flat=True)


@dataclass(frozen=True)
class CustomerCounts:
    at_start: int  # S
    at_end: int  # E
    new: int  # N
    retained: int
    lost: int
    returning: int

    @property
    def gained(self) -> int:
        """Active at the end but not at the start: what CRR's formula subtracts
        from E, so that CRR = retained / S."""
        return self.at_end - self.retained


def _active(moment: datetime) -> Q:
    """Orders placed in the RETENTION_WINDOW before ``moment``: their customer is active at it."""
    return Q(placed_at__gte=moment - RETENTION_WINDOW, placed_at__lt=moment)


def _per_customer(end: datetime, **columns: Count | Sum | Min) -> QuerySet[Order, dict[str, Any]]:
    """The counted orders placed before ``end`` grouped by customer, with
    ``columns`` (conditional counts and sums) per customer and the first order.
    Only those customers can be in any group of a period ending at ``end``;
    aggregating over it (Django runs it as a subquery) gives every figure of
    a period in one pass, without a subquery per customer."""
    return (
        counted_orders()
        .filter(placed_at__lt=end)
        .values("customer")
        .annotate(first_order=Min("placed_at"), **columns)
        .order_by()
    )


def _positive(column: str) -> Q:
    return Q(**{f"{column}__gt": 0})


def _count_aggregates(prefix: str, *, start: datetime, end: datetime) -> dict[str, Count]:
    """S, E, N, retained, lost and returning over _per_customer rows whose
    ``{prefix}start_orders`` and ``{prefix}end_orders`` columns count the orders that
    make a customer active at ``start`` and at ``end``."""
    at_start, at_end = _positive(f"{prefix}start_orders"), _positive(f"{prefix}end_orders")
    new = Q(first_order__gte=start, first_order__lt=end)
    groups = {
        "at_start": at_start,
        "at_end": at_end,
        "new": new,
        "retained": at_start & at_end,
        "lost": at_start & ~at_end,
        "returning": at_end & ~at_start & ~new,
    }
    return {f"{prefix}{name}": Count("customer", filter=condition) for name, condition in groups.items()}


def customer_counts(*, start: datetime, end: datetime) -> CustomerCounts:
    """S, E, N, retained, lost and returning customers of [start, end), in one query."""
    per_customer = _per_customer(
        end, start_orders=Count("pk", filter=_active(start)), end_orders=Count("pk", filter=_active(end))
    )
    return CustomerCounts(**per_customer.aggregate(**_count_aggregates("", start=start, end=end)))


@dataclass(frozen=True)
class RepeatPurchase:
    customers: int  # with 1+ counted orders in the window
    repeat_customers: int  # with 2+


def repeat_purchase(*, end: datetime) -> RepeatPurchase:
    """Customers with 2+ counted orders among those with 1+, over the 365 days before ``end``."""
    per_customer = (
        counted_orders()
        .filter(placed_at__gte=end - RETENTION_WINDOW, placed_at__lt=end)
        .values("customer")
        .annotate(orders=Count("pk"))
    )
    # Aggregating over a grouped query: Django runs it as a subquery.
    row = per_customer.aggregate(customers=Count("customer"), repeat=Count("customer", filter=Q(orders__gte=2)))
    return RepeatPurchase(customers=row["customers"], repeat_customers=row["repeat"])


def shop_currency() -> str:
    """The currency money figures are in: the (first) shop's. Orders in another
    currency are left out of money sums rather than added up with it."""
    return Shop.objects.order_by("pk").values_list("currency", flat=True).first() or "EUR"


@dataclass(frozen=True)
class OrderValue:
    orders: int
    revenue: Decimal
    customers: int

    @property
    def average(self) -> Decimal | None:
        """Average order value; None without orders."""
        if not self.orders:
            return None
        return (self.revenue / self.orders).quantize(CENT, ROUND_HALF_UP)


def order_value(*, start: datetime, end: datetime, currency: str) -> OrderValue:
    """Counted orders placed in [start, end) in ``currency``: how many, their
    total and how many customers placed them."""
    row = (
        counted_orders()
        .filter(placed_at__gte=start, placed_at__lt=end, currency=currency)
        .aggregate(orders=Count("pk"), revenue=Sum("total"), customers=Count("customer", distinct=True))
    )
    return OrderValue(orders=row["orders"], revenue=row["revenue"] or Decimal(0), customers=row["customers"])


def purchase_frequency(*, end: datetime) -> Decimal | None:
    """Counted orders per customer per year: orders placed in the 365 days
    before ``end`` divided by the customers who placed them (the customers
    active at ``end``). None without orders."""
    row = (
        counted_orders()
        .filter(placed_at__gte=end - RETENTION_WINDOW, placed_at__lt=end)
        .aggregate(orders=Count("pk"), customers=Count("customer", distinct=True))
    )
    return _frequency(orders=row["orders"], customers=row["customers"])


def _frequency(*, orders: int, customers: int) -> Decimal | None:
    if not customers:
        return None
    return (Decimal(orders) / customers).quantize(CENT, ROUND_HALF_UP)


def yearly_churn(*, end: datetime) -> tuple[int, int]:
    """(customers active a year before ``end``, of them not active at ``end``)."""
    counts = customer_counts(start=end - RETENTION_WINDOW, end=end)
    return counts.at_start, counts.lost


def lifespan_years(*, end: datetime) -> Decimal | None:
    """Average customer lifespan in years = 1 / yearly churn rate, where the
    yearly churn is the share of the customers active a year before ``end``
    who are not active at ``end``. Capped at LIFESPAN_CAP_YEARS (10): with no
    churn, or very little, the inverse means nothing. None when nobody was
    active a year before (no churn to measure)."""
    at_start, lost = yearly_churn(end=end)
    return _lifespan(at_start=at_start, lost=lost)


def _lifespan(*, at_start: int, lost: int) -> Decimal | None:
    if not at_start:
        return None
    if not lost:
        return LIFESPAN_CAP_YEARS
    return min(Decimal(at_start) / Decimal(lost), LIFESPAN_CAP_YEARS).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class LifetimeValueInputs:
    average_order_value: Decimal | None  # over the 365 days before end
    purchase_frequency: Decimal | None
    lifespan_years: Decimal | None
    currency: str


def lifetime_value_inputs(*, end: datetime) -> LifetimeValueInputs:
    """What CLV multiplies, all over the year before ``end`` so that they
    describe the same customers: average order value, purchase frequency and
    lifespan."""
    currency = shop_currency()
    value = order_value(start=end - RETENTION_WINDOW, end=end, currency=currency)
    return LifetimeValueInputs(
        average_order_value=value.average,
        purchase_frequency=purchase_frequency(end=end),
        lifespan_years=lifespan_years(end=end),
        currency=currency,
    )


@dataclass(frozen=True)
class PeriodFigures:
    """What the retention report shows of one period [start, end)."""

    counts: CustomerCounts
    repeat: RepeatPurchase  # over the year before end
    value: OrderValue  # counted orders placed in the period, in the currency
    clv_inputs: LifetimeValueInputs  # over the year before end


def period_figures(*, periods: Sequence[tuple[datetime, datetime]], currency: str) -> list[PeriodFigures]:
    """For each period [start, end): customer_counts, repeat_purchase(end),
    order_value of the period and lifetime_value_inputs(end), the same
    figures with the same definitions, all in one query over the counted
    orders grouped by customer (where those functions take six queries a period)."""
    columns: dict[str, Count | Sum] = {}
    for i, (start, end) in enumerate(periods):
        in_period, in_year = (
            Q(placed_at__gte=start, placed_at__lt=end, currency=currency),
            _active(end) & Q(currency=currency),
        )
        columns |= {
            f"p{i}_start_orders": Count("pk", filter=_active(start)),
            f"p{i}_end_orders": Count("pk", filter=_active(end)),
            # Active a year before the end: yearly churn, for the lifespan.
            f"p{i}_year_ago": Count("pk", filter=_active(end - RETENTION_WINDOW)),
            f"p{i}_orders": Count("pk", filter=in_period),
            f"p{i}_revenue": Sum("total", filter=in_period),
            f"p{i}_year_orders": Count("pk", filter=in_year),
            f"p{i}_year_revenue": Sum("total", filter=in_year),
        }
    aggregates: dict[str, Count | Sum] = {}
    for i, (start, end) in enumerate(periods):
        p = f"p{i}_"
        at_end, year_ago = _positive(f"{p}end_orders"), _positive(f"{p}year_ago")
        aggregates |= _count_aggregates(p, start=start, end=end) | {
            f"{p}repeat": Count("customer", filter=Q(**{f"{p}end_orders__gte": 2})),
            f"{p}year_all_orders": Sum(f"{p}end_orders"),
            f"{p}churn_at_start": Count("customer", filter=year_ago),
            f"{p}churn_lost": Count("customer", filter=year_ago & ~at_end),
            f"{p}sum_orders": Sum(f"{p}orders"),
            f"{p}sum_revenue": Sum(f"{p}revenue"),
            f"{p}buyers": Count("customer", filter=_positive(f"{p}orders")),
            f"{p}sum_year_orders": Sum(f"{p}year_orders"),
            f"{p}sum_year_revenue": Sum(f"{p}year_revenue"),
            f"{p}year_buyers": Count("customer", filter=_positive(f"{p}year_orders")),
        }
    row = _per_customer(max(end for _start, end in periods), **columns).aggregate(**aggregates)
    found = []
    for i in range(len(periods)):
        p = f"p{i}_"
        counts = CustomerCounts(**{name: row[f"{p}{name}"] for name in CustomerCounts.__dataclass_fields__})
        year_value = OrderValue(
            orders=row[f"{p}sum_year_orders"] or 0,
            revenue=row[f"{p}sum_year_revenue"] or Decimal(0),
            customers=row[f"{p}year_buyers"],
        )
        found.append(
            PeriodFigures(
                counts=counts,
                repeat=RepeatPurchase(customers=counts.at_end, repeat_customers=row[f"{p}repeat"]),
                value=OrderValue(
                    orders=row[f"{p}sum_orders"] or 0,
                    revenue=row[f"{p}sum_revenue"] or Decimal(0),
                    customers=row[f"{p}buyers"],
                ),
                clv_inputs=LifetimeValueInputs(
                    average_order_value=year_value.average,
                    purchase_frequency=_frequency(orders=row[f"{p}year_all_orders"] or 0, customers=counts.at_end),
                    lifespan_years=_lifespan(at_start=row[f"{p}churn_at_start"], lost=row[f"{p}churn_lost"]),
                    currency=currency,
                ),
            )
        )
    return found
