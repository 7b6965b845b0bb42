"""customer_context: what the agent sees about a ticket's customer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent
from helpdesk.customers.selectors import (
    CONTEXT_ORDER_LIMIT,
    CONTEXT_TICKET_LIMIT,
    customer_context,
    customer_metrics_get,
    tracking_href,
)
from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.selectors import ticket_detail
from tests.factories import make_customer, make_order, make_ticket


def order_with_details(customer: Customer, *, days_ago: int, **fields) -> Order:
    order = make_order(customer, placed_at=timezone.now() - timedelta(days=days_ago), **fields)
    for position in (1, 2):
        OrderItem.objects.create(
            order=order,
            position=position,
            sku=f"SKU-{position}",
            name=f"Item {position}",
            quantity=position,
            unit_price=Decimal("10.00"),
        )
    for hours in (1, 2):
        ShippingEvent.objects.create(
            order=order, occurred_at=order.placed_at + timedelta(hours=hours), status="in_transit", location="Kassel"
        )
    return order


def fresh(agent: Agent, ticket: Ticket) -> Ticket:
    """The ticket as the page loads it."""
    return ticket_detail(agent=agent, ticket_id=ticket.pk)


def test_orders_are_newest_first_with_items_events_and_the_current_order_marked(logistics_agent, customer, logistics):
    old = order_with_details(customer, days_ago=30)
    new = order_with_details(customer, days_ago=2)
    ticket = make_ticket(customer, logistics, order=old)

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    assert [row.order.number for row in ctx.orders] == [new.number, old.number]
    assert [row.is_current for row in ctx.orders] == [False, True]
    assert [item.name for item in ctx.orders[0].order.items.all()] == ["Item 1", "Item 2"]
    assert len(ctx.orders[0].order.shipping_events.all()) == 2
    assert ctx.more_orders == 0


def test_orders_are_limited_and_the_rest_counted(logistics_agent, customer, logistics):
    for days in range(CONTEXT_ORDER_LIMIT + 3):
        make_order(customer, placed_at=timezone.now() - timedelta(days=days + 1))
    ticket = make_ticket(customer, logistics)

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    assert len(ctx.orders) == CONTEXT_ORDER_LIMIT
    assert ctx.more_orders == 3
    placed = [row.order.placed_at for row in ctx.orders]
    assert placed == sorted(placed, reverse=True)


def test_figures_match_the_customer_metrics_over_all_orders(logistics_agent, customer, logistics):
    for days in range(CONTEXT_ORDER_LIMIT + 2):
        make_order(customer, placed_at=timezone.now() - timedelta(days=days + 5), total=Decimal("20.00"))
    make_order(customer, status="cancelled", total=Decimal("999.00"))
    ticket = make_ticket(customer, logistics)

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    expected = customer_metrics_get(customer=Customer.objects.get(pk=customer.pk))
    assert ctx.metrics == expected
    assert ctx.metrics.order_count == CONTEXT_ORDER_LIMIT + 2
    assert ctx.metrics.lifetime_value == Decimal("240.00")


def test_past_tickets_exclude_this_one_and_teams_the_agent_cannot_see(logistics_agent, customer, logistics, returns):
    older = make_ticket(customer, logistics, subject="Older")
    make_ticket(customer, returns, subject="Other team")
    make_ticket(make_customer(customer.shop), logistics, subject="Someone else")
    newer = make_ticket(customer, logistics, subject="Newer")
    ticket = make_ticket(customer, logistics, subject="This one")
    older.first_response_at = older.created_at + timedelta(minutes=7)
    older.save(update_fields=["first_response_at"])

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    assert [p.ticket.pk for p in ctx.past_tickets] == [newer.pk, older.pk]
    assert ctx.past_tickets[0].first_response is None
    assert ctx.past_tickets[1].first_response == timedelta(minutes=7)
    assert not ctx.more_past_tickets


def test_a_manager_sees_past_tickets_of_every_team(manager, customer, logistics, returns):
    other = make_ticket(customer, returns, subject="Other team")
    ticket = make_ticket(customer, logistics)

    ctx = customer_context(agent=manager, ticket=fresh(manager, ticket))

    assert [p.ticket.pk for p in ctx.past_tickets] == [other.pk]


def test_past_tickets_are_limited(logistics_agent, customer, logistics):
    for n in range(CONTEXT_TICKET_LIMIT + 1):
        make_ticket(customer, logistics, subject=f"Old {n}")
    ticket = make_ticket(customer, logistics)

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    assert len(ctx.past_tickets) == CONTEXT_TICKET_LIMIT
    assert ctx.more_past_tickets
    assert ticket.pk not in {p.ticket.pk for p in ctx.past_tickets}


def test_an_anonymous_contact_shows_only_its_own_data(logistics_agent, shop, customer, logistics):
    # A shop customer with the same email, orders and tickets; the contact must not pick them up.
    make_order(customer, number="SHOP-1")
    make_ticket(customer, logistics, subject="Shop customer's ticket")
    contact = make_customer(shop, name=customer.name, email=customer.email, verified=False)
    ticket = make_ticket(contact, logistics)

    ctx = customer_context(agent=logistics_agent, ticket=fresh(logistics_agent, ticket))

    assert ctx.customer.pk == contact.pk
    assert ctx.orders == ()
    assert ctx.past_tickets == ()
    assert ctx.metrics.order_count == 0
    assert ctx.metrics.days_since_last_order is None


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://track.example/1", "https://track.example/1"),
        ("HTTP://track.example/1", "HTTP://track.example/1"),
        ("javascript:alert(1)", ""),
        (" JavaScript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("//evil.example", ""),
        ("", ""),
        ("http://[::1", ""),
    ],
)
def test_only_http_tracking_urls_become_links(url, href):
    assert tracking_href(url) == href


@pytest.mark.parametrize("orders", [1, 5])
def test_the_query_count_does_not_grow_with_orders_items_events_or_tickets(
    orders, logistics_agent, customer, logistics, django_assert_num_queries
):
    for n in range(orders):
        order_with_details(customer, days_ago=n + 1)
        make_ticket(customer, logistics, subject=f"Past {n}")
    ticket = fresh(logistics_agent, make_ticket(customer, logistics))

    # orders, their items, their shipping events, past tickets
    with django_assert_num_queries(4):
        ctx = customer_context(agent=logistics_agent, ticket=ticket)
        for row in ctx.orders:
            [item.name for item in row.order.items.all()]
            [event.location for event in row.order.shipping_events.all()]
        [(p.ticket.team.name, p.ticket.customer.name) for p in ctx.past_tickets]

    assert len(ctx.orders) == orders
