"""The desk's pages pass axe-core's WCAG 2 A/AA checks with no serious or
critical violation: labels, names, contrast, landmarks, ARIA use. Checked on
the inbox and on a ticket with a full customer panel, in both directions."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from helpdesk.tickets.models import TicketStatus
from helpdesk.tickets.services import ticket_note, ticket_reply, ticket_set_status
from tests.factories import (
    make_agent,
    make_customer,
    make_shipped_tent_order,
    make_shop,
    make_team,
    make_ticket,
)

pytestmark = pytest.mark.browser

OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page: Page) -> list[str]:
    """Serious and critical axe violations of the page, one line each."""
    found = Axe().run(page, options=OPTIONS).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(n['target'][0] for n in v['nodes'][:3])}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_the_inbox_and_a_ticket_have_no_serious_accessibility_violations(desk_server, signed_in):
    team = make_team("logistics")
    agent = make_agent("lena", teams=(team,))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com", tags=["vip"])
    order = make_shipped_tent_order(customer)
    earlier = make_ticket(customer, team, subject="Earlier question")
    ticket_set_status(ticket=earlier, actor=agent, status=TicketStatus.SOLVED)
    ticket = make_ticket(customer, team, subject="Where is my tent?", order=order)
    ticket_reply(ticket=ticket, agent=agent, body="It is on its way.")
    ticket_note(ticket=ticket, agent=agent, body="Checked with DHL.")
    desk = signed_in(desk_server, agent)

    desk.goto(desk_server + "/inbox/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    assert violations(desk) == []

    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    assert violations(desk) == []
    # The shortcuts dialog, open, is checked too.
    desk.keyboard.press("?")
    expect(desk.get_by_test_id("shortcuts-help")).to_be_visible()
    assert violations(desk) == []
