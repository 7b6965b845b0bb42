"""Reads of the shop's data, scoped to what the asking agent may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from helpdesk.customers.metrics import CustomerMetrics, OrderFact, customer_metrics
from helpdesk.customers.models import Customer, Order, Shop, api_key_digest
from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.selectors import ticket_list, ticket_visibility


def shop_for_api_key(raw_key: str) -> Shop | None:
    return Shop.objects.filter(api_key_digest=api_key_digest(raw_key)).first()


def customer_visibility(agent: Agent) -> Q:
    """Managers see every customer; other agents the customers of tickets they may see."""
    if agent.is_manager:
        return Q()
    return Q(pk__in=Ticket.objects.filter(ticket_visibility(agent)).values("customer_id"))


def order_visibility(agent: Agent) -> Q:
    if agent.is_manager:
        return Q()
    return Q(customer_id__in=Ticket.objects.filter(ticket_visibility(agent)).values("customer_id"))


def customer_list(*, agent: Agent) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility(agent)).select_related("shop").order_by("name", "id")


def customer_detail(*, agent: Agent, customer_id: int) -> Customer:
    """Raises Customer.DoesNotExist for a customer the agent may not see."""
    orders = Order.objects.order_by("-placed_at").prefetch_related("items", "shipping_events")
    tickets = Ticket.objects.filter(ticket_visibility(agent)).select_related("team", "assignee__user")
    return (
        customer_list(agent=agent)
        .prefetch_related(
            Prefetch("orders", queryset=orders),
            Prefetch("tickets", queryset=tickets.order_by("-created_at"), to_attr="visible_tickets"),
        )
        .get(pk=customer_id)
    )


def customer_metrics_get(*, customer: Customer) -> CustomerMetrics:
    """Uses the prefetched orders when present."""
    facts = [OrderFact(placed_at=o.placed_at, total=o.total, status=o.status) for o in customer.orders.all()]
    return customer_metrics(facts, first_seen_at=customer.first_seen_at, now=timezone.now())


CONTEXT_ORDER_LIMIT = 10
CONTEXT_TICKET_LIMIT = 10
TRACKING_LINK_SCHEMES = frozenset({"http", "https"})


def tracking_href(url: str) -> str:
    """The URL if it is safe to render as a link (http/https only), else ""."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in TRACKING_LINK_SCHEMES else ""


@dataclass(frozen=True)
class ContextOrder:
    order: Order  # items and shipping_events are prefetched
    is_current: bool  # the order the ticket is about
    tracking_href: str  # "" when the tracking URL must not become a link


@dataclass(frozen=True)
class PastTicket:
    ticket: Ticket
    first_response: timedelta | None


@dataclass(frozen=True)
class CustomerContext:
    customer: Customer
    orders: tuple[ContextOrder, ...]  # newest first, at most CONTEXT_ORDER_LIMIT
    more_orders: int
    metrics: CustomerMetrics
    past_tickets: tuple[PastTicket, ...]  # newest first, at most CONTEXT_TICKET_LIMIT
    more_past_tickets: bool


def customer_context(*, agent: Agent, ticket: Ticket) -> CustomerContext:
    """What the agent needs about the ticket's customer, in four queries whatever their history.

    Precondition: the agent may see ``ticket`` (it came from ``ticket_detail``).
    Everything is keyed on ``ticket.customer`` only, so an anonymous chat contact
    shows nothing of any shop customer with the same name or email. Fills the
    customer's ``orders`` prefetch cache with the orders the agent may see.
    """
    customer = ticket.customer
    orders_qs = Order.objects.filter(order_visibility(agent)).order_by("-placed_at", "-id")
    prefetch_related_objects([customer], Prefetch("orders", queryset=orders_qs))
    all_orders = list(customer.orders.all())
    shown = all_orders[:CONTEXT_ORDER_LIMIT]
    # Items and scans only for the orders shown: a customer may have hundreds of orders.
    prefetch_related_objects(shown, "items", "shipping_events")
    past = list(
        ticket_list(agent=agent).filter(customer_id=customer.pk).exclude(pk=ticket.pk)[: CONTEXT_TICKET_LIMIT + 1]
    )
    return CustomerContext(
        customer=customer,
        orders=tuple(
            ContextOrder(order=o, is_current=o.pk == ticket.order_id, tracking_href=tracking_href(o.tracking_url))
            for o in shown
        ),
        more_orders=len(all_orders) - len(shown),
        metrics=customer_metrics_get(customer=customer),
        past_tickets=tuple(
            PastTicket(
                ticket=t,
                first_response=(t.first_response_at - t.created_at) if t.first_response_at else None,
            )
            for t in past[:CONTEXT_TICKET_LIMIT]
        ),
        more_past_tickets=len(past) > CONTEXT_TICKET_LIMIT,
    )
