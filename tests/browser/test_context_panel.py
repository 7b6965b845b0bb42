"""The agent opens a ticket and reads the customer's orders and past
conversations in the side panel, in headless Chromium."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import (
    make_agent,
    make_customer,
    make_order,
    make_shipped_tent_order,
    make_shop,
    make_team,
    make_ticket,
)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_the_agent_sees_the_customers_orders_and_past_tickets(desk_server, signed_in):
    team = make_team("logistics")
    agent = make_agent("lena", teams=(team,))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com", tags=["vip-list"])
    order = make_shipped_tent_order(customer)
    make_order(customer, number="A-12", placed_at=timezone.now() - timedelta(days=90))
    past = make_ticket(customer, team, subject="Wrong stove size")
    ticket = make_ticket(customer, team, subject="Where is my tent?", order=order)

    page = signed_in(desk_server, agent)
    page.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")

    panel = page.get_by_test_id("customer-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("customer-profile")).to_contain_text("Noa Levi")
    orders = page.get_by_test_id("order")
    expect(orders).to_have_count(2)
    expect(orders.first).to_have_attribute("data-order-number", "A-77")
    expect(orders.first).to_have_attribute("data-current", "true")
    expect(orders.first.get_by_test_id("order-item")).to_contain_text("Tent")
    expect(orders.first.get_by_test_id("tracking-link")).to_have_attribute("href", "https://www.dhl.com/track?id=0034")
    orders.first.locator("summary").click()
    expect(orders.first.get_by_test_id("shipping-event")).to_contain_text("Kassel")
    expect(page.get_by_test_id("customer-figures")).to_contain_text("Lifetime value183.90 EUR")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "context-panel.png"), full_page=True)

    # An earlier conversation reads inline, without leaving the ticket.
    page.get_by_test_id("past-ticket").locator("summary").click()
    thread = page.get_by_test_id("past-thread")
    expect(thread.get_by_test_id("past-message")).to_have_count(1)
    expect(thread).to_contain_text("Where is my parcel?")
    expect(page).to_have_url(f"{desk_server}/desk/tickets/{ticket.pk}/")

    page.get_by_test_id("past-ticket").get_by_role("link").click()
    expect(page).to_have_url(f"{desk_server}/desk/tickets/{past.pk}/")
    expect(page.locator("#ticket-title")).to_contain_text("Wrong stove size")
