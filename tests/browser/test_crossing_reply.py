"""A reply that would cross a newer customer message asks the agent to read
it first, in headless Chromium.

The customer's message is stored from the test process, whose channel layer
namespace the desk process does not listen to: the agent's page does not
hear of it, as when its notification is still on the way while the agent
presses Enter. That makes the race the feature guards against repeatable."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from helpdesk.tickets.models import AuthorKind, Message, Ticket
from helpdesk.tickets.services import message_post
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_server_env() -> dict[str, str]:
    return {"CHANNEL_LAYER_PREFIX": f"test-browser-{uuid.uuid4().hex[:8]}"}


def test_the_agent_reads_the_customers_new_message_before_the_reply_goes(desk_server, signed_in):
    general = make_team("general")
    lena = make_agent("lena", teams=(general,))
    customer = make_customer(make_shop("acme")[0], name="Noa Levi", email="noa@example.com")
    ticket = make_ticket(customer, general, body="Where is my tent?")
    desk = signed_in(desk_server, lena)
    desk.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    conversation = desk.get_by_test_id("conversation")
    expect(conversation.get_by_test_id("message")).to_have_count(1)
    # The page's read receipt for the first message must land first: the desk's
    # answer to it would otherwise carry the second message's seq to the page.
    deadline = time.monotonic() + 15
    while Ticket.objects.get(pk=ticket.pk).agent_read_seq < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Ticket.objects.get(pk=ticket.pk).agent_read_seq == 1

    # The agent types; meanwhile the customer writes again.
    reply_body = desk.get_by_test_id("reply-body")
    reply_body.fill("It ships tomorrow.")
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Actually, I'd like a refund instead")
    reply_body.press("Enter")

    # Held: the text stays, the new message shows up highlighted, with a notice.
    notice = desk.get_by_test_id("crossing-notice")
    expect(notice).to_have_text("The customer wrote again while you were typing. Read it, then send again.")
    newer = conversation.locator('[data-testid="message"][data-seq="2"]')
    expect(newer).to_contain_text("Actually, I'd like a refund instead")
    expect(newer).to_have_attribute("data-newer", "true")
    expect(reply_body).to_have_value("It ships tomorrow.")
    assert list(Message.objects.filter(ticket=ticket).values_list("seq", "author_kind")) == [
        (1, "customer"),
        (2, "customer"),
    ]

    # Having read it, the agent sends again and it goes.
    reply_body.fill("Of course, I've started the refund.")
    reply_body.press("Enter")
    sent = conversation.locator('[data-testid="message"][data-seq="3"]')
    expect(sent).to_contain_text("Of course, I've started the refund.")
    expect(notice).to_be_hidden()
    expect(newer).not_to_have_attribute("data-newer", "true")
    expect(reply_body).to_have_value("")
    assert list(Message.objects.filter(ticket=ticket).values_list("seq", "author_kind", "body")) == [
        (1, "customer", "Where is my tent?"),
        (2, "customer", "Actually, I'd like a refund instead"),
        (3, "agent", "Of course, I've started the refund."),
    ]
