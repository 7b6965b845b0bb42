"""The retention report: CRR, churn, CLV and repeat purchases from the shop's
orders, and the feedback loop (repeat purchases after a ticket by its survey
answer and first response).

Two populations, said in every figure's help:

- Customer figures (CRR, churn, CLV, repeat purchase rate, AOV, S/E/N) are
  shop-wide: every customer of the shop, whatever team, agent, channel or
  category the report is filtered to (helpdesk.customers.retention has the
  definitions). Their drill-down lists the period's tickets (in the report's
  scope) of the customers behind the figure where a customer group says who
  they are (retained, lost, new), else all of the period's tickets.
- The feedback loop counts the report's tickets (opened in the period,
  visible to the viewer, in the team/agent/channel/category; merged-away
  tickets left out) whose 90 days are over: a ticket is "followed by a
  purchase" when its customer placed a counted order in the 90 days after it
  was opened. Tickets opened less than 90 days before today (desk time zone)
  cannot tell yet; they are left out, and the table's title says how many.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.utils import timezone

from helpdesk.customers import retention
from helpdesk.reports import formulas, shapes
from helpdesk.reports.scope import ReportScope
from helpdesk.reports.selectors import report_tickets
from helpdesk.tickets.filters import SCORE_GROUPS, first_response_q, survey_kind_q
from helpdesk.tickets.models import Agent
from surveys.models import SurveyKind

REPEAT_AFTER_TICKET = timedelta(days=90)

SHOP_WIDE = "Shop-wide: all customers, whatever team, agent, channel or category is chosen."


def _customer_figures(period: retention.PeriodFigures) -> dict[str, Any]:
    counts, repeat, clv_inputs = period.counts, period.repeat, period.clv_inputs
    aov, frequency, lifespan = clv_inputs.average_order_value, clv_inputs.purchase_frequency, clv_inputs.lifespan_years
    clv = (
        formulas.customer_lifetime_value(average_order_value=aov, purchase_frequency=frequency, lifespan_years=lifespan)
        if aov is not None and frequency is not None and lifespan is not None
        else None
    )
    return {
        "counts": counts,
        # CRR's N is every customer gained (new and returning), so CRR = retained / S and CRR + churn = 100.
        "crr": formulas.customer_retention_rate(at_start=counts.at_start, at_end=counts.at_end, new=counts.gained),
        "churn": formulas.churn_rate(at_start=counts.at_start, lost=counts.lost),
        "repeat": repeat,
        "repeat_rate": formulas.repeat_purchase_rate(
            repeat_customers=repeat.repeat_customers, customers=repeat.customers
        ),
        "clv": clv,
        "currency": clv_inputs.currency,
        "aov": period.value.average,
        "orders": period.value.orders,
    }


def _figures(scope: ReportScope) -> list[dict[str, Any]]:
    previous = scope.previous()
    periods = retention.period_figures(
        periods=[(scope.start, scope.end), (previous.start, previous.end)], currency=retention.shop_currency()
    )
    now, before = (_customer_figures(period) for period in periods)
    counts: retention.CustomerCounts = now["counts"]
    counts_before: retention.CustomerCounts = before["counts"]
    all_tickets = scope.inbox_url()
    return [
        shapes.figure(
            "crr",
            "Customer retention rate",
            value=now["crr"],
            previous=before["crr"],
            unit="%",
            better="up",
            count=counts.at_start,
            count_of="customers",
            help="Customers active at the start (a kept order in the year before) still active at the end: "
            "(E - N) / S, N counting new and returning customers. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="retained"),
        ),
        shapes.figure(
            "churn",
            "Churn rate",
            value=now["churn"],
            previous=before["churn"],
            unit="%",
            better="down",
            count=counts.at_start,
            count_of="customers",
            help="Customers active at the start who are no longer active at the end. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="lost"),
        ),
        shapes.figure(
            "clv",
            "Customer lifetime value",
            value=now["clv"],
            previous=before["clv"],
            unit="money",
            better="up",
            currency=now["currency"],
            help="Average order value x orders per customer per year x lifespan in years (1 / yearly churn, "
            "at most 10), all over the year before the period's end. " + SHOP_WIDE,
            tickets=all_tickets,
        ),
        shapes.figure(
            "repeat_rate",
            "Repeat purchase rate",
            value=now["repeat_rate"],
            previous=before["repeat_rate"],
            unit="%",
            better="up",
            count=now["repeat"].customers,
            count_of="customers",
            help="Customers with two or more kept orders among those with one or more, in the year before "
            "the period's end. " + SHOP_WIDE,
            tickets=all_tickets,
        ),
        shapes.figure(
            "aov",
            "Average order value",
            value=now["aov"],
            previous=before["aov"],
            unit="money",
            better="up",
            count=now["orders"],
            count_of="orders",
            currency=now["currency"],
            help="Kept orders (paid, shipped, delivered) placed in the period: total / number. " + SHOP_WIDE,
            tickets=all_tickets,
        ),
        shapes.figure(
            "customers_start",
            "Customers at start (S)",
            value=counts.at_start,
            previous=counts_before.at_start,
            unit="count",
            help="Customers with a kept order in the year before the period's start. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="start"),
        ),
        shapes.figure(
            "customers_end",
            "Customers at end (E)",
            value=counts.at_end,
            previous=counts_before.at_end,
            unit="count",
            better="up",
            help="Customers with a kept order in the year before the period's end. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="end"),
        ),
        shapes.figure(
            "customers_new",
            "New customers (N)",
            value=counts.new,
            previous=counts_before.new,
            unit="count",
            better="up",
            help="Customers whose first kept order was placed in the period. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="new"),
        ),
        shapes.figure(
            "customers_lost",
            "Lost customers",
            value=counts.lost,
            previous=counts_before.lost,
            unit="count",
            better="down",
            help="Customers active at the start and not at the end. " + SHOP_WIDE,
            tickets=scope.inbox_url(customers="lost"),
        ),
    ]


# (key, label, which tickets, their inbox drill-down filters)
Segment = tuple[str, str, Q, dict[str, str | int]]


def _csat_segment(score: int) -> Segment:
    kind = SurveyKind.CSAT.value
    condition = survey_kind_q(kind) & Q(survey__response__score=score)
    return f"csat_{score}", f"CSAT {score}", condition, {"survey_kind": kind, "score": score}


def _nps_segment(group: str, label: str) -> Segment:
    kind = SurveyKind.NPS.value
    condition = survey_kind_q(kind) & SCORE_GROUPS[group]
    return f"nps_{group}", label, condition, {"survey_kind": kind, "score_group": group}


def _first_response_segment(value: str, label: str) -> Segment:
    return (f"first_response_{value}", label, first_response_q(value), {"first_response": value})


# The conditions are the inbox filters' own, so a row's count and its inbox list cannot disagree.
FEEDBACK_SEGMENTS: list[Segment] = [
    *(_csat_segment(score) for score in range(1, 6)),
    _nps_segment("promoter", "NPS promoters (9-10)"),
    _nps_segment("passive", "NPS passives (7-8)"),
    _nps_segment("detractor", "NPS detractors (0-6)"),
    _first_response_segment("met", "First response on time"),
    _first_response_segment("breached", "First response late"),
]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _feedback(*, viewer: Agent, scope: ReportScope) -> tuple[dict[str, Any], dict[str, Any]]:
    # Tickets opened before the start of (today - 90 days) have had their 90 days by today.
    cutoff_day = timezone.localdate() - REPEAT_AFTER_TICKET
    mature = Q(created_at__lt=_day_start(cutoff_day))
    followed_by_order = Q(
        Exists(
            retention.counted_orders().filter(
                customer=OuterRef("customer_id"),
                placed_at__gt=OuterRef("created_at"),
                placed_at__lte=ExpressionWrapper(
                    OuterRef("created_at") + Value(REPEAT_AFTER_TICKET), output_field=DateTimeField()
                ),
            )
        )
    )
    aggregates: dict[str, Any] = {"too_recent": Count("pk", filter=~mature)}
    for key, _label, tickets, _extra in FEEDBACK_SEGMENTS:
        aggregates[f"{key}__tickets"] = Count("pk", filter=mature & tickets)
        aggregates[f"{key}__repeat"] = Count("pk", filter=mature & tickets & followed_by_order)
    totals = report_tickets(viewer=viewer, scope=scope).aggregate(**aggregates)

    # The drill-down lists only the tickets old enough to count.
    last_day = min(scope.date_to, cutoff_day - timedelta(days=1))
    rows, points = [], []
    for key, label, _tickets, extra in FEEDBACK_SEGMENTS:
        tickets, repeat = totals[f"{key}__tickets"], totals[f"{key}__repeat"]
        rate = formulas.share(repeat, tickets)
        url = scope.inbox_url(created_to=last_day.isoformat(), **extra)
        rows.append(
            shapes.row(key, {"segment": label, "tickets": tickets, "repeat": repeat, "repeat_rate": rate}, tickets=url)
        )
        points.append(shapes.point(key, label, {"repeat_rate": rate}, tickets=url))
    too_recent = totals["too_recent"]
    title = "Repeat purchases within 90 days of a ticket"
    if too_recent:
        title += f" ({too_recent} ticket{'s' if too_recent != 1 else ''} younger than 90 days left out)"
    table = shapes.table(
        "feedback",
        title,
        columns=[
            shapes.column("segment", "Tickets by"),
            shapes.column("tickets", "Tickets", "count"),
            shapes.column("repeat", "Followed by an order", "count"),
            shapes.column("repeat_rate", "Repeat purchase rate", "%"),
        ],
        rows=rows,
    )
    table["too_recent"] = too_recent
    chart = shapes.chart(
        "repeat_after_ticket",
        "Repeat purchase rate within 90 days of a ticket",
        kind="bar",
        unit="%",
        series=[shapes.series("repeat_rate", "Repeat purchase rate")],
        points=points,
    )
    return table, chart


def retention_report(*, viewer: Agent, scope: ReportScope) -> dict[str, Any]:
    """Shop-wide customer figures of the period and the one before, and the
    feedback loop over the viewer's tickets of the period (module docstring)."""
    table, chart = _feedback(viewer=viewer, scope=scope)
    return shapes.report("retention", "Retention", scope=scope, figures=_figures(scope), charts=[chart], tables=[table])
