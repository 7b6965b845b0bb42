"""The live chat end to end: a customer on a shop page (another origin) chats
through the widget with an agent on the desk, both in headless Chromium."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from playwright.sync_api import expect

from helpdesk.customers.models import Shop
from helpdesk.tickets.models import Agent, Message, Ticket
from tests.browser.shop import shop_desk_env, shot, write_shop_page
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.servers import Daphne, StaticSite, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_server_env(shop_site) -> dict[str, str]:
    return shop_desk_env(shop_site)


@pytest.fixture
def agent(transactional_db) -> Agent:
    """An agent of the general team, where widget chats open."""
    make_shop("demo")
    return make_agent("lena", teams=(make_team("general"),))


def test_a_customer_and_an_agent_chat_live(desk_server, shop_site, shop_folder, agent, signed_in, page):
    write_shop_page(shop_folder, desk_server)
    desk = signed_in(desk_server, agent)

    # The agent opens the desk: their open websocket makes the desk "online".
    desk.goto(desk_server + "/inbox/")
    expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    assert desk.get_by_test_id("ticket-row").count() == 0
    unassigned = desk.locator('[data-testid="queue-count"][data-queue="unassigned"]')
    expect(unassigned).to_have_text("0")

    # The customer opens the chat on the shop's own site.
    page.goto(shop_site.url + "/index.html")
    assert page.evaluate("getComputedStyle(document.querySelector('#helpdesk-widget')) !== null")
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("window")).to_be_visible()
    expect(page.get_by_test_id("availability")).to_contain_text("Usually replies in about 2 minutes")
    page.get_by_test_id("prechat-name").fill("Noa Levi")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-order").fill("A-77")
    shot(page, "widget-prechat")
    page.get_by_test_id("prechat-submit").click()
    composer = page.get_by_test_id("composer")
    expect(composer).to_be_visible()
    composer.fill("Hello! Where is my tent?")
    composer.press("Enter")
    mine = page.locator('[data-testid="message"][data-author="customer"]')
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-state", re.compile("delivered|read"))
    expect(mine).to_have_attribute("data-seq", "1")
    shot(page, "widget-sent")

    # The new ticket appears on the agent's list without a reload.
    row = desk.get_by_test_id("ticket-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Hello! Where is my tent?")
    expect(row).to_contain_text("Noa Levi")
    expect(unassigned).to_have_text("1")  # the queue counts follow too
    shot(desk, "desk-list-live")
    row.get_by_role("link").click()

    conversation = desk.get_by_test_id("conversation")
    expect(conversation.get_by_test_id("message")).to_have_count(1)
    expect(conversation).to_contain_text("Hello! Where is my tent?")
    expect(desk.get_by_test_id("unverified")).to_be_visible()
    expect(desk.get_by_test_id("order-number")).to_contain_text("A-77")

    # The agent looked at it: the customer sees "read".
    expect(mine).to_have_attribute("data-state", "read")

    # The customer types; the agent sees it.
    composer.press_sequentially("one more")
    expect(desk.get_by_test_id("customer-typing")).to_contain_text("Noa Levi is typing")
    composer.fill("")

    # The agent types; the customer sees who.
    desk.get_by_test_id("reply-body").press_sequentially("It ships")
    expect(page.get_by_test_id("typing")).to_contain_text("Lena is typing")
    desk.get_by_test_id("reply-body").fill("")

    # An internal note, then a reply: the customer gets only the reply (seq 3,
    # a hole at 2 that the widget closes with sync).
    desk.get_by_test_id("note-toggle").check()
    desk.get_by_test_id("reply-body").fill("Checked the carrier: stuck in Kassel")
    desk.get_by_test_id("reply-send").click()
    note = conversation.locator('[data-testid="message"][data-internal="true"]')
    expect(note).to_have_attribute("data-seq", "2")
    desk.get_by_test_id("note-toggle").uncheck()
    desk.get_by_test_id("reply-body").fill("It ships tomorrow, sorry for the wait!")
    desk.get_by_test_id("reply-body").press("Enter")
    reply = conversation.locator('[data-testid="message"][data-author="agent"][data-internal="false"]')
    expect(reply).to_have_attribute("data-seq", "3")

    theirs = page.locator('[data-testid="message"][data-author="agent"]')
    expect(theirs).to_have_count(1)
    expect(theirs).to_contain_text("It ships tomorrow, sorry for the wait!")
    expect(theirs).to_contain_text("Lena")
    expect(page.get_by_test_id("window")).not_to_contain_text("Kassel")
    shot(page, "widget-reply")

    # The widget is open on a visible page: the agent's reply shows "read".
    expect(reply).to_have_attribute("data-receipt", "read")
    shot(desk, "desk-ticket")

    ticket = Ticket.objects.get()
    assert [(m.seq, m.author_kind, m.internal) for m in Message.objects.filter(ticket=ticket).order_by("seq")] == [
        (1, "customer", False),
        (2, "agent", True),
        (3, "agent", False),
    ]
    assert ticket.customer_read_seq == 3
    assert ticket.agent_read_seq >= 1

    # A reload keeps the conversation (the visitor token is in localStorage).
    page.reload()
    page.get_by_test_id("launcher").click()
    messages = page.get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_have_attribute("data-state", re.compile("delivered|read"))
    expect(page.get_by_test_id("prechat-name")).to_be_hidden()


def test_a_message_over_the_limit_stays_in_the_composer(desk_server, shop_site, shop_folder, agent, page):
    write_shop_page(shop_folder, desk_server)

    page.goto(shop_site.url + "/index.html")
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("prechat-name").fill("Noa")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    composer = page.get_by_test_id("composer")
    long_text = "x" * (settings.CHAT_MAX_MESSAGE_CHARS + 1)
    composer.fill(long_text)

    expect(page.get_by_test_id("send")).to_be_disabled()
    composer.press("Enter")
    expect(page.get_by_test_id("message")).to_have_count(0)
    assert composer.input_value() == long_text
    expect(page.get_by_test_id("window")).to_contain_text(f"{settings.CHAT_MAX_MESSAGE_CHARS + 1} / ")


def test_on_a_right_to_left_shop_page_the_widget_mirrors(desk_server, shop_site, shop_folder, agent, page):
    write_shop_page(shop_folder, desk_server, root='lang="he" dir="rtl"')

    page.goto(shop_site.url + "/index.html")
    launcher = page.get_by_test_id("launcher")
    launcher.click()
    page.get_by_test_id("prechat-name").fill("נועה לוי")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    page.get_by_test_id("composer").fill("שלום, איפה ההזמנה שלי?")
    page.get_by_test_id("composer").press("Enter")

    width = page.viewport_size["width"]
    box = launcher.bounding_box()
    assert box["x"] + box["width"] < width / 2, "the launcher sits bottom left"
    window = page.get_by_test_id("window").bounding_box()
    assert window["x"] < width / 2
    bubble = page.get_by_test_id("message").locator(".bubble")
    expect(bubble).to_have_text("שלום, איפה ההזמנה שלי?")
    expect(bubble).to_have_css("direction", "rtl")  # retried: the bubble is redrawn when the send is acked


def test_a_page_on_an_origin_the_desk_does_not_allow_gets_no_chat(desk_server, agent, page, tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    write_shop_page(folder, desk_server)
    elsewhere = StaticSite(folder)
    refused = []
    page.on("response", lambda r: refused.append(r.status) if r.url.endswith("/widget/v1/session") else None)
    try:
        page.goto(elsewhere.url + "/index.html")
        page.get_by_test_id("launcher").click()

        expect(page.get_by_test_id("error")).to_be_visible()
        expect(page.get_by_test_id("composer")).to_be_hidden()
        expect(page.get_by_test_id("prechat-name")).to_be_hidden()
        shot(page, "widget-refused")
    finally:
        elsewhere.stop()
    assert not Ticket.objects.exists()


@pytest.fixture
def demo_desk(transactional_db) -> Iterator[tuple[str, str]]:
    """The desk with its demo shop page, opened as `make run` does: the page on
    http://localhost:PORT, the desk (and so the widget) on http://127.0.0.1:PORT."""
    port = free_port()
    shop_origin = f"http://localhost:{port}"
    server = Daphne(
        port=port,
        env={
            "DEMO_SHOP_PAGE": "1",
            "WIDGET_ALLOWED_ORIGINS": shop_origin,
            "CHANNEL_LAYER_PREFIX": f"test-browser-{uuid.uuid4().hex[:8]}",
        },
    ).start()
    try:
        yield shop_origin, server.url
    finally:
        server.stop()


def test_a_shop_customer_signed_in_on_the_demo_shop_chats_as_themselves(demo_desk, page):
    shop_origin, desk = demo_desk
    shop, _ = make_shop("demo")
    dana = make_customer(shop, external_id="cus_1001", name="Dana Cohen", email="dana@example.com")

    page.goto(shop_origin + "/demo/shop/?customer=cus_1001")
    expect(page.get_by_test_id("shop-customer")).to_have_text("Dana Cohen")
    assert page.locator(f'script[src="{desk}/static/widget/widget.js"]').count() == 1
    page.get_by_test_id("launcher").click()

    # No agent is online: the widget says so; Dana's email comes from the shop, so no form.
    expect(page.get_by_test_id("availability")).to_contain_text("We're away")
    expect(page.get_by_test_id("composer")).to_be_visible()
    expect(page.get_by_test_id("prechat-name")).to_be_hidden()
    page.get_by_test_id("composer").fill("My stove arrived without its gas valve.")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message")).to_have_attribute("data-state", "delivered")
    shot(page, "demo-shop-signed-in")

    ticket = Ticket.objects.get()
    assert ticket.customer == dana
    assert ticket.channel == "email"


def test_a_message_written_while_the_desk_is_down_is_sent_when_it_is_back(
    shop_site, shop_folder, agent, signed_in, page
):
    port = free_port()
    env = shop_desk_env(shop_site)
    server = Daphne(port=port, env=env).start()
    try:
        write_shop_page(shop_folder, server.url)
        desk = signed_in(server.url, agent)
        desk.goto(server.url + "/inbox/")
        expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
        page.goto(shop_site.url + "/index.html")
        page.get_by_test_id("launcher").click()
        page.get_by_test_id("prechat-name").fill("Noa")
        page.get_by_test_id("prechat-email").fill("noa@example.com")
        page.get_by_test_id("prechat-submit").click()
        expect(page.get_by_test_id("composer")).to_be_visible()

        server.kill()
        expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "offline")
        page.get_by_test_id("composer").fill("Sent while you were down")
        page.get_by_test_id("composer").press("Enter")
        mine = page.get_by_test_id("message")
        expect(mine).to_have_attribute("data-state", "sending")
        # The outbox is in localStorage: a reload keeps the message, still unsent.
        page.reload()
        page.get_by_test_id("launcher").click()
        expect(mine).to_have_text(re.compile("Sent while you were down"))
        expect(mine).to_have_attribute("data-state", "sending")

        server = Daphne(port=port, env=env).start()
        # Both reconnect with backoff; the widget resends, the desk re-reads its list.
        expect(mine).to_have_attribute("data-state", re.compile("delivered|read"), timeout=45_000)
        expect(desk.get_by_test_id("ticket-row")).to_have_count(1, timeout=45_000)
        expect(desk.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
        assert list(Message.objects.values_list("body", flat=True)) == ["Sent while you were down"]
    finally:
        server.stop()


def test_two_agents_on_one_ticket_see_each_other(desk_server, agent, signed_in):
    customer = make_customer(Shop.objects.get(slug="demo"), name="Dana Cohen")
    ticket = make_ticket(customer, make_team("general"), body="My tent has a hole")
    other = make_agent("omer", teams=(make_team("general"),))
    lena = signed_in(desk_server, agent)
    omer = signed_in(desk_server, other)

    lena.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")
    expect(lena.get_by_test_id("connection-state")).to_have_attribute("data-state", "online")
    expect(lena.get_by_test_id("presence")).to_be_hidden()
    omer.goto(f"{desk_server}/desk/tickets/{ticket.pk}/")

    expect(lena.get_by_test_id("presence")).to_contain_text("Omer is also viewing this ticket")
    expect(omer.get_by_test_id("presence")).to_contain_text("Lena is also viewing this ticket")
    omer.get_by_test_id("reply-body").press_sequentially("We will send")
    expect(lena.get_by_test_id("presence")).to_contain_text("Omer is typing")
    shot(lena, "desk-collision")
    omer.close()
    expect(lena.get_by_test_id("presence")).to_be_hidden()


def test_a_long_conversation_comes_back_in_pages_after_a_reload(desk_server, shop_site, shop_folder, agent, page):
    write_shop_page(shop_folder, desk_server)
    page.goto(shop_site.url + "/index.html")
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("prechat-name").fill("Noa")
    page.get_by_test_id("prechat-email").fill("noa@example.com")
    page.get_by_test_id("prechat-submit").click()
    page.get_by_test_id("composer").fill("First question")
    page.get_by_test_id("composer").press("Enter")
    expect(page.get_by_test_id("message")).to_have_attribute("data-seq", "1")

    # Given 249 more messages (a replay sends 200 at most), every third an internal note.
    ticket = Ticket.objects.get()
    Message.objects.bulk_create(
        Message(
            ticket=ticket, seq=seq, author_kind="agent", author_agent=agent, body=f"line {seq}", internal=seq % 3 == 0
        )
        for seq in range(2, 251)
    )
    Ticket.objects.filter(pk=ticket.pk).update(last_seq=250)

    page.reload()
    page.get_by_test_id("launcher").click()

    public = 1 + sum(1 for seq in range(2, 251) if seq % 3)
    expect(page.get_by_test_id("message")).to_have_count(public, timeout=20_000)
    expect(page.get_by_test_id("message").last).to_have_attribute("data-seq", "250")
    expect(page.locator('[data-testid="message"][data-seq="3"]')).to_have_count(0)  # a note
