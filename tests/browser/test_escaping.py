"""Hostile text stays text: markup in subjects, names, messages and notes is
shown as typed on the desk pages, whether rendered by the server or added
live, and never runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.tickets.services import ticket_note, ticket_reply
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
LINK = '<a href="javascript:window.__pwned=1">click me</a>'


def test_markup_from_customers_and_agents_is_shown_as_text(desk_server, signed_in, transactional_db):
    shop, _ = make_shop("demo")
    team = make_team("general")
    agent = make_agent("lena", teams=(team,))
    customer = make_customer(shop, name=f"Mallory {XSS}", email="mallory@example.com")
    ticket = make_ticket(customer, team, subject=f"Help {XSS}", body=f"My order {LINK}")
    ticket_note(ticket=ticket, agent=agent, body=f"note {XSS}")
    desk = signed_in(desk_server, agent)

    desk.goto(desk_server + "/inbox/")
    row = desk.get_by_test_id("ticket-row")
    expect(row).to_contain_text("<script>window.__pwned=1</script>")
    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("conversation")).to_contain_text(LINK)
    expect(desk.get_by_test_id("conversation")).to_contain_text(f"note {XSS}")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")

    # Added live through the websocket, not rendered by the server.
    ticket_reply(ticket=ticket, agent=agent, body=f"live {XSS} {LINK}")
    expect(desk.get_by_test_id("conversation")).to_contain_text(f"live {XSS} {LINK}")

    assert desk.locator("a[href^='javascript:']").count() == 0
    assert desk.locator("main img, main script").count() == 0
    assert desk.evaluate("window.__pwned") is None
