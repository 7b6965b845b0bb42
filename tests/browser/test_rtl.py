"""A desk set to a right-to-left language (DESK_LANGUAGE=he) mirrors its
layout: the side column sits left of the conversation, message edges and
table text start on the right, and Hebrew text reads right to left."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from helpdesk.tickets.services import ticket_reply
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser

HEBREW = "החבילה שלי לא הגיעה, איפה היא?"


@pytest.fixture(scope="module")
def desk_server_env() -> dict[str, str]:
    return {"DESK_LANGUAGE": "he"}


def test_a_hebrew_desk_is_laid_out_right_to_left(desk_server, signed_in, transactional_db):
    shop, _ = make_shop("demo")
    team = make_team("general")
    agent = make_agent("noa", teams=(team,))
    customer = make_customer(shop, name="דנה כהן", email="dana@example.com")
    ticket = make_ticket(customer, team, subject="משלוח", body=HEBREW)
    ticket_reply(ticket=ticket, agent=agent, body="Checking the tracking now")
    desk = signed_in(desk_server, agent)

    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")

    expect(desk.locator("html")).to_have_attribute("dir", "rtl")
    expect(desk.locator("html")).to_have_attribute("lang", "he")
    main = desk.locator(".ticket-main").bounding_box()
    side = desk.locator(".ticket-side").bounding_box()
    assert side["x"] + side["width"] <= main["x"], "the side column is on the left in RTL"
    customer_message = desk.locator('[data-testid="message"][data-author="customer"]')
    # The coloured edge is the inline start: the right side in RTL.
    assert customer_message.evaluate("n => getComputedStyle(n).borderRightWidth") == "4px"
    assert customer_message.evaluate("n => getComputedStyle(n).borderLeftWidth") == "0px"
    body = customer_message.locator(".body")
    expect(body).to_have_text(HEBREW)
    assert body.evaluate("n => getComputedStyle(n).direction") == "rtl"
    # An English reply inside the RTL page still reads left to right.
    reply = desk.locator('[data-testid="message"][data-author="agent"] .body')
    assert reply.evaluate("n => n.matches(':dir(ltr)')")

    desk.goto(f"{desk_server}/inbox/")
    cell = desk.locator('[data-testid="ticket-row"] td').first
    assert cell.evaluate("n => getComputedStyle(n).textAlign") in ("start", "right")
    brand = desk.locator(".topbar .brand").bounding_box()
    me = desk.locator(".topbar .me").bounding_box()
    assert brand["x"] > me["x"], "the brand starts the top bar on the right"
