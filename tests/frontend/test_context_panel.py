"""The customer context panel on the desk's ticket page, rendered by Django."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from frontend.views import duration_text
from helpdesk.customers.models import OrderItem, ShippingEvent
from helpdesk.tickets.models import Agent, Ticket
from tests.factories import make_customer, make_order, make_ticket


def page_for(agent: Agent, ticket: Ticket) -> str:
    client = Client()
    client.force_login(agent.user)
    response = client.get(f"/desk/tickets/{ticket.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_orders_with_items_tracking_and_the_current_order(logistics_agent, customer, logistics):
    older = make_order(
        customer,
        number="A-100",
        placed_at=timezone.now() - timedelta(days=40),
        carrier="DHL",
        tracking_number="0034",
        tracking_url="https://www.dhl.com/track?id=0034&lang=en",
        shipping_status="in_transit",
    )
    OrderItem.objects.create(order=older, position=1, sku="TNT-1", name="Tent", quantity=2, unit_price=Decimal("99.00"))
    ShippingEvent.objects.create(
        order=older, occurred_at=timezone.now() - timedelta(days=39), status="in_transit", location="Leipzig"
    )
    make_order(customer, number="A-200", placed_at=timezone.now() - timedelta(days=3))
    ticket = make_ticket(customer, logistics, order=older)

    html = page_for(logistics_agent, ticket)

    assert 'data-testid="customer-panel"' in html
    assert 'data-testid="customer-profile"' in html
    assert 'data-testid="customer-figures"' in html
    assert re.findall(r'data-testid="order" data-order-number="([^"]+)"', html) == ["A-200", "A-100"]
    assert 'data-order-number="A-100" data-current="true"' in html
    assert 'data-order-number="A-200" data-current' not in html
    assert re.search(r'data-testid="order-item"><span dir="auto">Tent</span> <span class="muted">\u00d7 2</span>', html)
    link = re.search(r"<a [^>]*data-testid=\"tracking-link\"[^>]*>", html)
    assert link is not None
    assert 'href="https://www.dhl.com/track?id=0034&amp;lang=en"' in link.group(0)
    assert 'rel="noopener noreferrer"' in link.group(0) and 'target="_blank"' in link.group(0)
    assert "<details" in html and "Leipzig" in html
    assert "Dana Cohen" in html and "dana@example.com" in html


def test_past_tickets_link_to_their_pages_and_exclude_this_one(logistics_agent, customer, logistics, returns):
    past = make_ticket(customer, logistics, subject="Broken zip")
    past.first_response_at = past.created_at + timedelta(hours=2, minutes=5)
    past.save(update_fields=["first_response_at"])
    hidden = make_ticket(customer, returns, subject="Refund for the stove")
    ticket = make_ticket(customer, logistics, subject="Where is my tent")

    html = page_for(logistics_agent, ticket)

    assert re.findall(r'data-testid="past-ticket" data-ticket-id="(\d+)"', html) == [str(past.pk)]
    assert f'href="/desk/tickets/{past.pk}/"' in html
    assert "Broken zip" in html and "first reply in 2 h 5 min" in html
    assert "Refund for the stove" not in html and f"/desk/tickets/{hidden.pk}/" not in html


def test_a_javascript_tracking_url_is_not_a_link(logistics_agent, customer, logistics):
    order = make_order(customer, number="X-1", tracking_number="T1", tracking_url="javascript:alert(1)")
    ticket = make_ticket(customer, logistics, order=order)

    html = page_for(logistics_agent, ticket)

    assert 'data-testid="tracking-link"' not in html
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html  # shown as text, for the agent to judge


def test_html_in_customer_item_and_subject_is_escaped(logistics_agent, shop, logistics):
    evil = "<script>alert(1)</script>"
    customer = make_customer(shop, name=f"Eve {evil}", tags=[f"<b>{evil}</b>"])
    order = make_order(customer, number="E-1")
    OrderItem.objects.create(order=order, position=1, sku="S", name=f"Mug {evil}", quantity=1, unit_price=1)
    make_ticket(customer, logistics, subject=f"Old {evil}")
    ticket = make_ticket(customer, logistics, order=order)

    html = page_for(logistics_agent, ticket)

    assert evil not in html
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Mug &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Old &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_anonymous_contact_shows_no_orders_and_the_unverified_badge(logistics_agent, shop, customer, logistics):
    make_order(customer, number="SHOP-9")
    contact = make_customer(shop, name=customer.name, email=customer.email, verified=False)
    ticket = make_ticket(contact, logistics)

    html = page_for(logistics_agent, ticket)

    assert 'data-testid="unverified"' in html
    assert 'data-testid="no-orders"' in html
    assert "SHOP-9" not in html


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, ""),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=12, seconds=3), "12 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=5), "3 h 5 min"),
        (timedelta(days=2, hours=4, minutes=9), "2 d 4 h"),
        (timedelta(days=1), "1 d"),
        (timedelta(seconds=-5), "0 s"),
    ],
)
def test_first_response_times_read_as_short_durations(delta, text):
    assert duration_text(delta) == text


def test_the_page_query_count_does_not_grow_with_the_customer_history(logistics_agent, customer, logistics):
    def with_history(orders: int) -> Ticket:
        for n in range(orders):
            order = make_order(customer, placed_at=timezone.now() - timedelta(days=n + 1))
            OrderItem.objects.create(order=order, position=1, sku="S", name="Item", quantity=1, unit_price=1)
            ShippingEvent.objects.create(order=order, occurred_at=timezone.now(), status="in_transit")
            make_ticket(customer, logistics, subject=f"Past {n}")
        return make_ticket(customer, logistics)

    client = Client()
    client.force_login(logistics_agent.user)
    first = with_history(1)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/desk/tickets/{first.pk}/")
    second = with_history(4)  # five orders and six past tickets now
    with CaptureQueriesContext(connection) as five:
        client.get(f"/desk/tickets/{second.pk}/")

    assert len(five.captured_queries) == len(one.captured_queries)


def test_an_earlier_conversation_is_served_read_only_and_scoped(logistics_agent, returns_agent, customer, logistics):
    from helpdesk.tickets.services import ticket_reply

    past = make_ticket(customer, logistics, subject="Old", body="<script>alert(1)</script> torn bag")
    ticket_reply(ticket=past, agent=logistics_agent, body="Sorry, a new one is on its way")
    client = Client()
    client.force_login(logistics_agent.user)
    other = Client()
    other.force_login(returns_agent.user)

    html = client.get(f"/desk/tickets/{past.pk}/thread/").content.decode()

    assert html.count('data-testid="past-message"') == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt; torn bag" in html
    assert "mood-fix" not in html and "read-mark" not in html  # read only
    assert other.get(f"/desk/tickets/{past.pk}/thread/").status_code == 404
