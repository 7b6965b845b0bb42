"""The agent changes a ticket from the side box of its page, with the mouse
and with keyboard shortcuts, and sees other agents' changes live, in
headless Chromium."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from helpdesk.tickets.models import AgentRole, EventKind, Ticket, TicketEvent
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """The server answers the page before the test reads the row; poll briefly."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the database did not change in time")
        time.sleep(0.1)


def open_ticket(page: Page, base: str, ticket: Ticket) -> Page:
    page.goto(f"{base}/desk/tickets/{ticket.pk}/")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    return page


def error_for(page: Page, field: str):
    return page.locator(f'[data-testid="action-error"][data-for="{field}"]')


@pytest.fixture
def desk():
    logistics, returns = make_team("logistics"), make_team("returns")
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com")
    return {
        "logistics": logistics,
        "returns": returns,
        "lena": make_agent("lena", teams=(logistics,)),
        "rami": make_agent("rami", teams=(returns,)),
        "maya": make_agent("maya", role=AgentRole.MANAGER),
        "customer": customer,
    }


def test_the_agent_sets_priority_and_status_and_a_manager_sees_it_live(desk_server, signed_in, desk):
    ticket = make_ticket(desk["customer"], desk["logistics"], subject="Where is my tent?")
    lena = open_ticket(signed_in(desk_server, desk["lena"]), desk_server, ticket)
    maya = open_ticket(signed_in(desk_server, desk["maya"]), desk_server, ticket)

    lena.get_by_label("Priority").select_option("high")
    eventually(lambda: Ticket.objects.get(pk=ticket.pk).priority == "high")
    lena.get_by_test_id("ticket-status").select_option("pending")
    eventually(lambda: Ticket.objects.get(pk=ticket.pk).status == "pending")

    events = TicketEvent.objects.filter(ticket=ticket, actor=desk["lena"])
    assert events.filter(kind=EventKind.PRIORITY_CHANGED, data__new="high").exists()
    assert events.filter(kind=EventKind.STATUS_CHANGED).exists()
    # The manager's page follows without a reload.
    expect(maya.get_by_test_id("ticket-priority")).to_have_value("high")
    expect(maya.get_by_test_id("ticket-status")).to_have_value("pending")
    expect(lena.get_by_test_id("ticket-status")).to_have_value("pending")


def test_the_agent_assigns_themself_by_button_and_by_shortcut(desk_server, signed_in, desk):
    first = make_ticket(desk["customer"], desk["logistics"], subject="First")
    second = make_ticket(desk["customer"], desk["logistics"], subject="Second")
    lena = open_ticket(signed_in(desk_server, desk["lena"]), desk_server, first)

    lena.get_by_test_id("assign-me").click()

    expect(lena.get_by_test_id("ticket-assignee")).to_have_value(str(desk["lena"].pk))
    eventually(lambda: Ticket.objects.get(pk=first.pk).assignee_id == desk["lena"].pk)
    assert TicketEvent.objects.filter(ticket=first, kind=EventKind.ASSIGNED, data__new=desk["lena"].pk).exists()

    open_ticket(lena, desk_server, second)
    lena.keyboard.press("a")

    expect(lena.get_by_test_id("ticket-assignee")).to_have_value(str(desk["lena"].pk))
    eventually(lambda: Ticket.objects.get(pk=second.pk).assignee_id == desk["lena"].pk)


def test_shortcuts_reply_note_solve_and_help(desk_server, signed_in, desk):
    ticket = make_ticket(desk["customer"], desk["logistics"])
    lena = open_ticket(signed_in(desk_server, desk["lena"]), desk_server, ticket)

    lena.keyboard.press("n")
    expect(lena.get_by_test_id("reply-body")).to_be_focused()
    expect(lena.get_by_test_id("note-toggle")).to_be_checked()
    lena.keyboard.type("a note, not a shortcut")  # typing in the box triggers nothing
    expect(lena.get_by_test_id("ticket-assignee")).to_have_value("")
    lena.locator("body").click(position={"x": 5, "y": 300})
    lena.keyboard.press("r")
    expect(lena.get_by_test_id("note-toggle")).not_to_be_checked()
    lena.locator("body").click(position={"x": 5, "y": 300})

    lena.keyboard.press("?")
    help_dialog = lena.get_by_role("dialog", name="Keyboard shortcuts")
    expect(lena.get_by_test_id("shortcuts-help")).to_be_visible()
    expect(help_dialog).to_have_attribute("aria-modal", "true")
    expect(help_dialog).to_contain_text("Assign the ticket to me")
    lena.keyboard.press("Tab")
    expect(help_dialog.get_by_role("button", name="Close")).to_be_focused()
    lena.keyboard.press("Escape")
    expect(lena.get_by_test_id("shortcuts-help")).to_be_hidden()

    lena.keyboard.press("Alt+s")
    expect(lena.get_by_test_id("ticket-status")).to_have_value("solved")
    eventually(lambda: Ticket.objects.get(pk=ticket.pk).status == "solved")


def test_a_transfer_out_of_the_agents_teams_shows_the_moved_notice(desk_server, signed_in, desk):
    ticket = make_ticket(desk["customer"], desk["logistics"])
    lena = open_ticket(signed_in(desk_server, desk["lena"]), desk_server, ticket)

    lena.get_by_label("Team").select_option("returns")

    moved = lena.get_by_test_id("ticket-moved")
    expect(moved).to_be_visible()
    expect(moved).to_have_text("This ticket moved to Returns; you can no longer see it.")
    expect(lena.get_by_test_id("reply-send")).to_be_disabled()
    expect(lena.get_by_test_id("assign-me")).to_be_disabled()
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.team_id, fresh.assignee_id) == (desk["returns"].pk, None)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TEAM_CHANGED, data__new="returns").exists()


def test_a_refused_assignee_shows_the_error_and_the_select_goes_back(desk_server, signed_in, desk):
    ticket = make_ticket(desk["customer"], desk["logistics"])
    lena = open_ticket(signed_in(desk_server, desk["lena"]), desk_server, ticket)

    lena.get_by_label("Assignee").select_option(str(desk["rami"].pk))

    expect(error_for(lena, "assignee")).to_have_text("Rami is not in the Logistics team.")
    expect(lena.get_by_test_id("ticket-assignee")).to_have_value("")
    expect(lena.get_by_test_id("ticket-assignee")).to_have_attribute("aria-invalid", "true")
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None
