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

Every figure is one SQL query of conditional aggregates over Exists
subqueries; nothing loops over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

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


def customer_counts(*, start: datetime, end: datetime) -> CustomerCounts:
    """S, E, N, retained, lost and returning customers of [start, end), in one query."""
    at_start, at_end, new = Q(active_at(start)), Q(active_at(end)), new_between(start, end)
    row = (
        # Only customers with a counted order before the end can be in any group.
        Customer.objects.filter(_ordered_between(None, end)).aggregate(
            at_start=Count("pk", filter=at_start),
            at_end=Count("pk", filter=at_end),
            new=Count("pk", filter=new),
            retained=Count("pk", filter=at_start & at_end),
            lost=Count("pk", filter=at_start & ~at_end),
            returning=Count("pk", filter=at_end & ~at_start & ~new),
        )
    )
    return CustomerCounts(**row)


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
    if not row["customers"]:
        return None
    return (Decimal(row["orders"]) / row["customers"]).quantize(CENT, ROUND_HALF_UP)


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
