"""A new ticket without a chosen team is categorized and routed by the first
matching rule; the decision and its reasons land in the ticket's history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.tickets.event_text import event_text
from helpdesk.tickets.models import AuthorKind, CategoryKeywords, EventKind, RoutingRule, TicketChannel, TicketStatus
from helpdesk.tickets.services import message_post, ticket_assign, ticket_open, ticket_set_status
from tests.factories import make_customer, make_order, make_team


def open_chat(customer, body: str, **fields):
    return ticket_open(customer=customer, subject="", channel=TicketChannel.CHAT, body=body, **fields)


def routed(ticket) -> dict:
    return ticket.events.get(kind=EventKind.ROUTED).data


@pytest.fixture
def rules(logistics, returns):
    payments = make_team("payments")
    RoutingRule.objects.create(name="Payments", position=10, categories=["payment"], team=payments)
    RoutingRule.objects.create(
        name="Unhappy VIPs",
        position=5,
        tiers=["vip"],
        keywords="angry\nfurious",
        priority="urgent",
        tags="vip, escalated",
    )
    RoutingRule.objects.create(name="Logistics", position=20, categories=["delivery", "damaged"], team=logistics)
    RoutingRule.objects.create(name="Returns", position=30, categories=["return"], team=returns)
    return payments


def test_a_late_parcel_goes_to_logistics_and_the_history_says_why(rules, customer, logistics):
    ticket = open_chat(customer, "Hi, my parcel has not arrived yet")

    ticket.refresh_from_db()
    assert ticket.team == logistics
    assert ticket.category == "delivery"
    data = routed(ticket)
    assert data["rule"] == "Logistics"
    assert data["reason"] == "category delivery"
    assert data["category_reason"] == "words “parcel”, “arrived”"
    assert data["team"] == "logistics"
    assert data["language"] == "en"


def test_hebrew_and_persian_complaints_are_routed_too(rules, customer, returns, logistics):
    hebrew = open_chat(customer, "אני רוצה להחזיר את המעיל")
    persian = open_chat(customer, "بسته من هنوز نرسیده است")

    hebrew.refresh_from_db()
    persian.refresh_from_db()
    assert (hebrew.team, hebrew.category, routed(hebrew)["language"]) == (returns, "return", "he")
    assert (persian.team, persian.category, routed(persian)["language"]) == (logistics, "delivery", "fa")


def test_the_first_matching_rule_wins_and_sets_priority_and_tags(rules, shop):
    vip = make_customer(shop, name="Vera", email="vera@example.com", tier="vip")

    ticket = open_chat(vip, "I am furious, you charged me twice")

    ticket.refresh_from_db()
    assert routed(ticket)["rule"] == "Unhappy VIPs"
    assert routed(ticket)["reason"] == "tier vip, words “furious”"
    assert ticket.priority == "urgent"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["escalated", "vip"]
    assert ticket.team.slug == "general"  # the rule names no team: it stays


def test_an_overdue_order_routes_a_vague_message_to_logistics(rules, customer, logistics):
    make_order(customer, number="A-77", status="shipped", expected_delivery_at=timezone.now() - timedelta(days=3))

    ticket = open_chat(customer, "Hello? Any news?")

    ticket.refresh_from_db()
    assert ticket.team == logistics
    assert "order #A-77 was expected by" in routed(ticket)["category_reason"]


def test_without_a_match_the_default_rule_keeps_the_general_team(customer):
    ticket = open_chat(customer, "Hello there")

    ticket.refresh_from_db()
    assert ticket.team.slug == "general"
    assert ticket.category == "other"
    assert routed(ticket)["rule"] == "Everything else"
    assert routed(ticket)["reason"] == "matches every ticket"


def test_an_inactive_rule_is_skipped(rules, customer):
    RoutingRule.objects.filter(name="Logistics").update(active=False)

    ticket = open_chat(customer, "my parcel is late")

    assert routed(ticket)["rule"] == "Everything else"


def test_a_ticket_opened_into_a_chosen_team_is_not_routed(rules, customer, returns):
    ticket = open_chat(customer, "my parcel is late", team=returns)

    assert ticket.team == returns
    assert not ticket.events.filter(kind=EventKind.ROUTED).exists()


def test_edited_keyword_sets_change_the_category(rules, customer):
    CategoryKeywords.objects.filter(category="payment", language="en").update(keywords="voucher")

    ticket = open_chat(customer, "my voucher code does not work")

    ticket.refresh_from_db()
    assert ticket.category == "payment"
    assert routed(ticket)["rule"] == "Payments"


def test_business_hours_and_lifetime_value_conditions(rules, shop, settings, logistics):
    settings.BUSINESS_HOURS = "mon-sun 00:00-00:01"  # closed nearly all day
    RoutingRule.objects.create(name="Night owls", position=1, business_hours="outside", priority="high")
    big = make_customer(shop, name="Ben", email="ben@example.com")
    make_order(big, number="B-1", status="delivered", total=Decimal("900.00"))
    RoutingRule.objects.create(name="Big spenders", position=0, min_lifetime_value=Decimal("500"), priority="urgent")

    spender = open_chat(big, "question about sizes")
    other = open_chat(make_customer(shop, name="Ann", email="ann@example.com"), "question")

    now = timezone.localtime()
    assert routed(spender)["rule"] == "Big spenders"
    assert routed(spender)["reason"] == "lifetime value 900.00 ≥ 500.00"
    if now.hour or now.minute:  # outside the one open minute
        assert routed(other)["rule"] == "Night owls"
        assert routed(other)["reason"] == "outside business hours"


def test_a_reopening_message_is_routed_again(rules, customer, logistics, returns, logistics_agent):
    ticket = open_chat(customer, "my parcel is late")
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="It came, but I want a refund")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.category, ticket.team, ticket.assignee) == ("open", "return", returns, None)
    reopen = ticket.events.filter(kind=EventKind.ROUTED).latest("id").data
    assert (reopen["trigger"], reopen["rule"], reopen["team"]) == ("reopened", "Returns", "returns")


def test_a_vague_reopening_message_keeps_category_team_and_agent(rules, customer, logistics, logistics_agent):
    ticket = open_chat(customer, "my parcel is late")
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Thanks again!")

    ticket.refresh_from_db()
    assert (ticket.category, ticket.team, ticket.assignee) == ("delivery", logistics, logistics_agent)


def test_the_thread_line_says_which_rule_routed_and_why(rules, customer):
    ticket = open_chat(customer, "my parcel has not arrived")

    line = event_text(EventKind.ROUTED, routed(ticket), teams={"logistics": "Logistics"})

    assert line == (
        "Routed by “Logistics”: category delivery; to Logistics. Category Delivery: words “parcel”, “arrived”"
    )
