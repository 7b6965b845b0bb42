"""The inbox in headless Chromium: filters, "Load more", and live changes
that mark rows unread without moving what the agent is reading."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from helpdesk.tickets.models import AuthorKind, Ticket, TicketStatus
from helpdesk.tickets.services import message_post, ticket_read, ticket_set_status
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser


def rows(page: Page):
    return page.get_by_test_id("ticket-row")


def row(page: Page, ticket_id: int):
    return page.locator(f'[data-testid="ticket-row"][data-ticket-id="{ticket_id}"]')


def on_screen(page: Page, ticket_id: int) -> float:
    """Where the row is in the viewport: what the agent sees move, or not."""
    return row(page, ticket_id).evaluate("r => r.getBoundingClientRect().top")


def rereads(page: Page):
    """The re-read of the list that follows a live change."""
    return page.expect_response(lambda r: "/inbox/rows/" in r.url and "through=" in r.url)


@pytest.fixture
def desk():
    logistics, returns = make_team("logistics"), make_team("returns")
    lena = make_agent("lena", teams=(logistics, returns))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com")
    # 70 new logistics tickets (two pages), and others the filters leave out.
    listed = [make_ticket(customer, logistics, subject=f"Tent {n}") for n in range(70)]
    returns_ticket = make_ticket(customer, returns, subject="Refund")
    pending = make_ticket(customer, logistics, subject="Waiting")
    ticket_set_status(ticket=pending, actor=lena, status=TicketStatus.PENDING)
    for ticket in [*listed, returns_ticket, pending]:
        ticket_read(agent=lena, ticket=ticket, seq=ticket.last_seq)
    return {"lena": lena, "customer": customer, "logistics": logistics, "listed": listed[::-1]}


def test_filter_load_more_and_live_unread_without_losing_place(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["lena"])
    page.goto(desk_server + "/inbox/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(rows(page)).to_have_count(50)

    # Filters: status and team, through the labelled controls of the bar.
    page.get_by_label("Status", exact=True).select_option("new")
    page.get_by_label("Team", exact=True).select_option("logistics")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(re.compile(r"status=new.*team=logistics|team=logistics.*status=new"))
    expect(page.get_by_label("Status", exact=True)).to_have_value("new")
    expect(rows(page)).to_have_count(50)
    expect(rows(page).filter(has_text="Refund")).to_have_count(0)

    # Load more: the next page is appended, without a reload.
    page.evaluate("window.__sameDocument = true")
    page.get_by_test_id("load-more").click()
    expect(rows(page)).to_have_count(70)
    expect(page.get_by_test_id("load-more")).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True
    ids = [int(i) for i in rows(page).evaluate_all("rs => rs.map(r => r.dataset.ticketId)")]
    assert ids == [t.pk for t in desk["listed"]]
    expect(page.locator('[data-testid="ticket-row"].unread')).to_have_count(0)

    # The agent reads far down the list; a customer writes on a row there.
    target = desk["listed"][65]
    row(page, target.pk).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 40)")
    before = on_screen(page, target.pk)
    assert page.evaluate("window.scrollY") > 500
    with rereads(page):
        message_post(ticket=target, author_kind=AuthorKind.CUSTOMER, body="Still nothing?")
        expect(row(page, target.pk)).to_have_class(re.compile(r"\bunread\b"))
        expect(row(page, target.pk)).to_have_class(re.compile(r"\bflash\b"))
    expect(row(page, target.pk).get_by_test_id("unread-mark")).to_have_text("Unread")
    assert abs(on_screen(page, target.pk) - before) < 2

    # A new ticket does not push the rows down: a button offers it instead.
    with rereads(page):
        fresh = make_ticket(desk["customer"], desk["logistics"], subject="Brand new")
    expect(page.get_by_test_id("new-tickets")).to_have_text("1 new ticket, show it")
    expect(rows(page)).to_have_count(70)
    expect(row(page, target.pk)).to_have_class(re.compile(r"\bunread\b"))  # the re-read kept the mark
    assert abs(on_screen(page, target.pk) - before) < 2

    page.get_by_test_id("new-tickets").click()
    expect(rows(page)).to_have_count(71)
    expect(rows(page).first).to_have_attribute("data-ticket-id", str(fresh.pk))
    expect(page.get_by_test_id("new-tickets")).to_be_hidden()

    # Opening the ticket in another tab reads it; back on the list the mark goes.
    other = page.context.new_page()
    other.goto(f"{desk_server}/desk/tickets/{target.pk}/")
    expect(other.get_by_text("Still nothing?")).to_be_visible()
    other.close()
    page.bring_to_front()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(row(page, target.pk)).not_to_have_class(re.compile(r"\bunread\b"))
    expect(row(page, target.pk).get_by_test_id("unread-mark")).to_have_count(0)


def test_rows_that_stop_matching_go_and_loaded_pages_stay(desk_server, signed_in, desk):
    # 40 older tickets make a third page, below the 100 rows every re-read covers.
    older = [make_ticket(desk["customer"], desk["logistics"], subject=f"Old {n}") for n in range(40)]
    Ticket.objects.filter(pk__in=[t.pk for t in older]).update(created_at=timezone.now() - timedelta(days=3))
    page = signed_in(desk_server, desk["lena"])
    page.goto(desk_server + "/inbox/?status=new&team=logistics")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    page.get_by_test_id("load-more").click()
    expect(rows(page)).to_have_count(100)
    page.get_by_test_id("load-more").click()
    expect(rows(page)).to_have_count(110)

    near, deep = desk["listed"][3], older[5]
    with rereads(page):
        ticket_set_status(ticket=near, actor=desk["lena"], status=TicketStatus.SOLVED)
    expect(row(page, near.pk)).to_have_count(0)
    with rereads(page):
        ticket_set_status(ticket=deep, actor=desk["lena"], status=TicketStatus.PENDING)
    expect(row(page, deep.pk)).to_have_count(0)
    expect(rows(page)).to_have_count(108)  # the loaded pages are still there


def test_an_invalid_filter_shows_its_error_by_the_control(desk_server, signed_in, desk):
    page = signed_in(desk_server, desk["lena"])

    response = page.goto(desk_server + "/inbox/?created_from=soon")

    assert response is not None and response.status == 400
    expect(page.get_by_label("Created from")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("field-error")).to_have_text("Enter a valid date.")
