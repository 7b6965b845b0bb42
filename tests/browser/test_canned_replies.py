"""The agent picks a canned reply on a ticket page, sees it filled in for the
ticket's customer and order, and sends it, in headless Chromium."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from helpdesk.tickets.models import AuthorKind, CannedReply, Message
from tests.factories import make_agent, make_customer, make_order, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the database did not change in time")
        time.sleep(0.1)


def test_the_agent_inserts_a_filled_in_canned_reply_and_sends_it(desk_server, signed_in):
    logistics = make_team("logistics")
    lena = make_agent("lena", teams=(logistics,))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com")
    order = make_order(customer, number="A-4711", carrier="DHL")
    ticket = make_ticket(customer, logistics, order=order, subject="Where is my tent?")
    CannedReply.objects.create(
        team=logistics,
        title="Order on its way",
        body="Hi {customer.first_name}, order {order.number} is on its way: {order.tracking_url}",
    )
    CannedReply.objects.create(team=make_team("returns"), title="Return label", body="Not for logistics")

    page = signed_in(desk_server, lena)
    page.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    picker = page.get_by_label("Canned replies")
    expect(picker).to_be_enabled()
    expect(picker.locator("option")).to_have_text(["Insert a canned reply…", "Order on its way"])

    page.get_by_test_id("reply-body").fill("Hello! ")
    picker.select_option(label="Order on its way")

    expected = "Hello! Hi Noa, order A-4711 is on its way: "
    expect(page.get_by_test_id("reply-body")).to_have_value(expected)
    expect(page.get_by_test_id("reply-body")).to_be_focused()
    expect(page.get_by_test_id("canned-warning")).to_be_visible()
    expect(page.get_by_test_id("canned-warning")).to_contain_text("{order.tracking_url}")

    page.get_by_test_id("reply-send").click()

    eventually(lambda: Message.objects.filter(ticket=ticket, author_kind=AuthorKind.AGENT).exists())
    assert (
        Message.objects.get(ticket=ticket, author_kind=AuthorKind.AGENT).body == expected.strip()
    )  # the service trims
    expect(page.get_by_test_id("canned-warning")).to_be_hidden()
