"""Inbox search: one box finds tickets by subject, message or note words,
customer name or email, order number or ticket id, within the agent's scope."""

from __future__ import annotations

import pytest

from helpdesk.customers.models import CustomerTier
from helpdesk.tickets.services import ticket_note
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order, make_ticket

TICKETS = "/api/v1/tickets/"


def subjects(client, **params) -> list[str]:
    response = client.get(TICKETS, params)
    assert response.status_code == 200, response.content
    return sorted(t["subject"] for t in response.json()["results"])


@pytest.fixture
def tickets(shop, customer, logistics, returns, logistics_agent):
    vip = make_customer(shop, name="Yael Mizrahi", email="yael@shop.example", tier=CustomerTier.VIP)
    tent = make_ticket(customer, logistics, subject="Tent poles", body="The tent arrived without its poles")
    stove = make_ticket(vip, logistics, subject="Stove", body="Gas stove leaks", order=make_order(vip, number="A-5521"))
    ticket_note(ticket=stove, agent=logistics_agent, body="Carrier confirmed damage")
    make_ticket(customer, returns, subject="Refund poles", body="I want my money back for the poles")
    return {"tent": tent, "stove": stove}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("poles", ["Tent poles"]),  # subject and message; the returns ticket is another team's
        ("arrived", ["Tent poles"]),  # a word of a message only
        ("carrier damage", ["Stove"]),  # words of an internal note
        ("Mizrahi", ["Stove"]),  # customer name
        ("yael@shop", ["Stove"]),  # part of the email
        ("A-5521", ["Stove"]),  # order number
        ("helicopter", []),
    ],
)
def test_one_box_finds_tickets_by_what_agents_remember(tickets, logistics_agent, text, found):
    assert subjects(api_client_for(logistics_agent), q=text) == found


def test_a_number_finds_the_ticket_with_that_id(tickets, logistics_agent):
    assert subjects(api_client_for(logistics_agent), q=str(tickets["stove"].pk)) == ["Stove"]


def test_a_manager_searches_every_team(tickets, manager):
    assert subjects(api_client_for(manager), q="poles") == ["Refund poles", "Tent poles"]


def test_search_combines_with_filters_such_as_customer_tier(tickets, logistics_agent):
    client = api_client_for(logistics_agent)

    assert subjects(client, tier="vip") == ["Stove"]
    assert subjects(client, tier="vip", q="poles") == []
    assert client.get(TICKETS, {"tier": "platinum"}).status_code == 400


def test_markup_and_operators_in_the_search_box_are_just_text(tickets, logistics_agent):
    client = api_client_for(logistics_agent)

    for text in ['"tent', "poles -", "<script>", "a' OR 1=1 --", "x" * 500]:
        assert client.get(TICKETS, {"q": text}).status_code == 200


def test_a_common_word_is_matched_ticket_by_ticket_with_the_same_result(tickets, logistics_agent, monkeypatch):
    client = api_client_for(logistics_agent)
    rare = subjects(client, q="poles")

    monkeypatch.setattr("helpdesk.tickets.selectors.SEARCH_RARE_HITS", 0)  # every word counts as common

    assert subjects(client, q="poles") == rare == ["Tent poles"]
    assert subjects(client, q="carrier damage") == ["Stove"]
