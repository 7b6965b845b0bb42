from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.tickets.models import AgentRole, CannedReply, Ticket
from helpdesk.tickets.selectors import canned_reply_list
from tests.conftest import api_client_for
from tests.factories import make_agent, make_customer, make_order, make_ticket


def canned_url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/canned/"


@pytest.fixture
def replies(logistics, returns) -> dict[str, CannedReply]:
    return {
        "global": CannedReply.objects.create(title="Thanks", body="Thanks, {customer.first_name}! {agent.first_name}"),
        "logistics": CannedReply.objects.create(
            team=logistics,
            title="Where is it",
            body="Order {order.number} is with {order.carrier}: {order.tracking_url}",
        ),
        "returns": CannedReply.objects.create(team=returns, title="Return label", body="Label for {order.number}"),
    }


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()]


def test_agents_get_their_teams_replies_and_the_global_ones_by_title(replies, logistics_agent, returns_agent, manager):
    assert list(canned_reply_list(agent=logistics_agent)) == [replies["global"], replies["logistics"]]
    assert list(canned_reply_list(agent=returns_agent)) == [replies["returns"], replies["global"]]
    assert list(canned_reply_list(agent=manager)) == [replies["returns"], replies["global"], replies["logistics"]]


def test_an_agent_without_teams_gets_the_global_replies(replies, db):
    assert list(canned_reply_list(agent=make_agent("loner"))) == [replies["global"]]


def test_a_title_is_unique_per_team_and_among_global_replies(replies, logistics):
    CannedReply.objects.create(team=logistics, title="Thanks", body="team copy of a global title is fine")
    with pytest.raises(IntegrityError), transaction.atomic():
        CannedReply.objects.create(team=logistics, title="Where is it", body="again")
    with pytest.raises(IntegrityError), transaction.atomic():
        CannedReply.objects.create(title="Thanks", body="again")


def test_replies_are_rendered_for_the_tickets_order_and_the_agent(replies, customer, logistics, logistics_agent):
    older = make_order(customer, number="A-1", carrier="DHL", tracking_url="https://t.example.com/A-1")
    make_order(customer, number="B-2", placed_at=timezone.now(), carrier="UPS")  # newer, but not the ticket's
    ticket = make_ticket(customer, logistics, order=older)

    response = api_client_for(logistics_agent).get(canned_url(ticket))

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": replies["global"].pk,
            "title": "Thanks",
            "body": f"Thanks, Dana! {logistics_agent.user.first_name}",
            "missing": [],
        },
        {
            "id": replies["logistics"].pk,
            "title": "Where is it",
            "body": "Order A-1 is with DHL: https://t.example.com/A-1",
            "missing": [],
        },
    ]


def test_without_a_ticket_order_the_customers_newest_order_is_used(replies, customer, logistics, logistics_agent):
    make_order(customer, number="OLD", placed_at=timezone.now() - timedelta(days=30), carrier="DHL")
    make_order(customer, number="NEW", placed_at=timezone.now() - timedelta(days=1), carrier="")
    ticket = make_ticket(customer, logistics)

    rows = api_client_for(logistics_agent).get(canned_url(ticket)).json()

    assert rows[1]["body"] == "Order NEW is with : "
    assert rows[1]["missing"] == ["{order.carrier}", "{order.tracking_url}"]


def test_a_customer_without_orders_renders_empty_order_values_and_says_so(
    replies, customer, logistics, logistics_agent
):
    ticket = make_ticket(customer, logistics)

    rows = api_client_for(logistics_agent).get(canned_url(ticket)).json()

    assert rows[0]["missing"] == []
    assert rows[1]["body"] == "Order  is with : "
    assert rows[1]["missing"] == ["{order.number}", "{order.carrier}", "{order.tracking_url}"]


def test_shop_text_is_not_expanded(replies, shop, logistics, logistics_agent):
    customer = make_customer(shop, name="{order.number} {agent.first_name}")
    make_order(customer, number="{customer.name}")
    ticket = make_ticket(customer, logistics)

    rows = api_client_for(logistics_agent).get(canned_url(ticket)).json()

    assert rows[0]["body"].startswith("Thanks, {order.number}! ")
    assert rows[1]["body"].startswith("Order {customer.name} is with")


def test_a_ticket_the_agent_cannot_see_is_a_404(replies, shop, returns, logistics_agent):
    ticket = make_ticket(make_customer(shop), returns)

    response = api_client_for(logistics_agent).get(canned_url(ticket))

    assert response.status_code == 404


def test_a_missing_ticket_is_a_404(db, manager):
    assert api_client_for(manager).get("/api/v1/tickets/999999/canned/").status_code == 404


def test_a_team_lead_and_a_manager_see_the_right_replies(replies, customer, logistics, team_lead, manager):
    ticket = make_ticket(customer, logistics)

    assert titles(api_client_for(team_lead).get(canned_url(ticket))) == ["Thanks", "Where is it"]
    assert titles(api_client_for(manager).get(canned_url(ticket))) == ["Return label", "Thanks", "Where is it"]
    assert team_lead.role == AgentRole.TEAM_LEAD


@pytest.mark.parametrize("with_order", [True, False])
def test_the_query_count_does_not_grow_with_the_replies(
    replies, customer, logistics, logistics_agent, django_assert_num_queries, with_order
):
    order = make_order(customer)
    ticket = make_ticket(customer, logistics, order=order if with_order else None)
    for n in range(10):
        CannedReply.objects.create(team=logistics, title=f"Extra {n}", body="{order.number} {customer.name}")
    client = api_client_for(logistics_agent)

    # session, user, agent, ticket, (customer's newest order), replies
    with django_assert_num_queries(5 if with_order else 6):
        response = client.get(canned_url(ticket))

    assert len(response.json()) == 12
