"""An agent tags a ticket, links it to an order and merges it into another of
the customer's tickets; a second agent on the same ticket sees the system
lines, the tags and the customer panel follow live. Headless Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from helpdesk.customers.models import ShippingEvent
from helpdesk.customers.services import shop_sync
from helpdesk.tickets.models import AgentRole, Ticket
from tests.factories import (
    make_agent,
    make_customer,
    make_order,
    make_shop,
    make_team,
    make_ticket,
    sync_batch,
    sync_order,
)

pytestmark = pytest.mark.browser


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the database did not change in time")
        time.sleep(0.1)


def open_ticket(page: Page, base: str, ticket: Ticket) -> Page:
    page.goto(f"{base}/desk/tickets/{ticket.pk}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    return page


def line(page: Page, kind: str):
    return page.locator(f'[data-testid="system-event"][data-kind="{kind}"]')


def test_tags_order_and_merge_with_a_second_agent_watching(desk_server, signed_in):
    team = make_team("logistics")
    lena = make_agent("lena", teams=(team,))
    maya = make_agent("maya", role=AgentRole.MANAGER)
    shop = make_shop("acme")[0]
    customer = make_customer(shop, name="Noa Levi", email="noa@example.com")
    order = make_order(customer, number="1042", external_id="o-1042", shipping_status="in_transit")
    ShippingEvent.objects.create(order=order, occurred_at=timezone.now(), status="in_transit", location="Kassel")
    make_order(customer, number="1043")
    target = make_ticket(customer, team, subject="Tent never arrived", body="Where is my tent?")
    source = make_ticket(customer, team, subject="Any update?", body="Still nothing <b>here</b>")

    mine = open_ticket(signed_in(desk_server, lena), desk_server, source)
    theirs = open_ticket(signed_in(desk_server, maya), desk_server, source)
    expect(mine.get_by_test_id("system-event").first).to_have_attribute("data-kind", "opened")

    # Tags: typed with Enter after the `t` shortcut, removed with the chip's button
    mine.locator("body").press("t")
    expect(mine.get_by_test_id("tag-input")).to_be_focused()
    mine.keyboard.type("VIP")
    mine.keyboard.press("Enter")
    mine.get_by_test_id("tag-input").fill("late")
    mine.get_by_test_id("tag-input").press("Enter")
    expect(mine.locator(".tag-chip")).to_have_count(2)
    mine.get_by_role("button", name="Remove tag late").click()
    expect(mine.locator(".tag-chip")).to_have_count(1)
    eventually(lambda: list(Ticket.objects.get(pk=source.pk).tags.values_list("name", flat=True)) == ["vip"])
    expect(theirs.locator(".tag-chip")).to_have_count(1)
    expect(theirs.locator(".tag-chip")).to_have_attribute("data-tag", "vip")
    expect(line(theirs, "tags_changed").last).to_contain_text("Tags: -late by Lena")

    # A bad tag is refused next to the input
    mine.get_by_test_id("tag-input").fill("two words")
    mine.get_by_test_id("tag-input").press("Enter")
    expect(mine.locator('[data-testid="action-error"][data-for="tags"]')).to_contain_text("letters, digits")

    # The order: the panel marks it on both pages
    mine.locator('[data-order-number="1042"]').get_by_role("button", name="This ticket is about this order").click()
    for page in (mine, theirs):
        expect(page.locator('[data-order-number="1042"]')).to_have_attribute("data-current", "true")
        expect(line(page, "order_linked")).to_contain_text("Linked to order #1042")
    eventually(lambda: Ticket.objects.get(pk=source.pk).order_id == order.pk)

    # The shop syncs a delivery: the open panel shows it without a reload, keeping the order's details open
    theirs.locator('[data-order-number="1042"] summary').click()
    shop_sync(
        shop=shop,
        payload=sync_batch(
            [], [sync_order("o-1042", customer.external_id, number="1042", shipping_status="delivered")]
        ),
    )
    expect(theirs.locator('[data-order-number="1042"] [data-shipping-status]')).to_have_text("Delivered")
    expect(theirs.locator('[data-order-number="1042"] details')).to_have_attribute("open", "")

    # Merge, with a confirm step
    mine.get_by_label("Merge into").select_option(str(target.pk))
    mine.get_by_test_id("merge-start").click()
    expect(mine.get_by_test_id("merge-confirm")).to_contain_text(f"Merge #{source.pk} into #{target.pk}")
    mine.get_by_test_id("merge-cancel").click()
    expect(mine.get_by_test_id("merge-confirm")).to_be_hidden()
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
    mine.get_by_test_id("merge-start").click()
    mine.get_by_test_id("merge-confirm-yes").click()

    for page in (mine, theirs):
        banner = page.get_by_test_id("merged-banner")
        expect(banner).to_be_visible()
        expect(banner.get_by_role("link")).to_have_attribute("href", f"/desk/tickets/{target.pk}/")
        expect(line(page, "merged")).to_contain_text(f"Merged into #{target.pk}")
    expect(mine.get_by_test_id("ticket-status")).to_have_value("closed")

    # The target holds the source's conversation as an internal note
    mine.get_by_test_id("merged-banner").get_by_role("link").click()
    expect(mine).to_have_url(re.compile(rf"/desk/tickets/{target.pk}/$"))
    note = mine.locator('[data-testid="message"][data-internal="true"]').last
    expect(note).to_contain_text(f"Merged from #{source.pk}")
    expect(note).to_contain_text("> Still nothing <b>here</b>")
    expect(line(mine, "merged")).to_contain_text(f"#{source.pk} “Any update?” was merged into this by Lena")
