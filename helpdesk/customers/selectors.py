"""Reads of the shop's data, scoped to what the asking agent may see."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from helpdesk.customers.metrics import CustomerMetrics, OrderFact, customer_metrics
from helpdesk.customers.models import Customer, Order, Shop, api_key_digest
from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.selectors import ticket_visibility


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
