from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.customers.models import Customer, CustomerTier, OrderItem, ShippingEvent
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order, make_ticket

CUSTOMERS = "/api/v1/customers/"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def add_items_and_tracking(order, n: int = 2) -> None:
    OrderItem.objects.bulk_create(
        OrderItem(order=order, position=i, sku=f"SKU-{i}", name=f"Thing {i}", quantity=1, unit_price=Decimal("10"))
        for i in range(1, n + 1)
    )
    ShippingEvent.objects.create(order=order, occurred_at=order.placed_at, status="in_transit", location="Haifa")


@pytest.fixture
def returns_customer(shop, returns) -> Customer:
    customer = make_customer(shop, name="Rivka Levi", email="rivka@example.org", tier=CustomerTier.GOLD)
    make_ticket(customer, returns)
    return customer


def test_a_request_without_credentials_is_a_401(anonymous_client):
    assert anonymous_client.get(CUSTOMERS).status_code == 401


def test_agents_see_customers_of_tickets_they_may_see_and_managers_see_all(
    shop, customer, logistics, returns_customer, logistics_agent, manager
):
    make_ticket(customer, logistics)
    quiet = make_customer(shop, name="No Tickets")

    assert ids(api_client_for(logistics_agent).get(CUSTOMERS)) == [customer.pk]
    assert ids(api_client_for(manager).get(CUSTOMERS)) == [customer.pk, returns_customer.pk, quiet.pk]


def test_search_by_part_of_name_or_email_and_filter_by_tier(customer, returns_customer, manager):
    client = api_client_for(manager)

    assert ids(client.get(CUSTOMERS, {"q": "cohen"})) == [customer.pk]
    assert ids(client.get(CUSTOMERS, {"q": "EXAMPLE.ORG"})) == [returns_customer.pk]
    assert ids(client.get(CUSTOMERS, {"tier": "gold"})) == [returns_customer.pk]
    assert ids(client.get(CUSTOMERS, {"q": "example", "tier": "standard"})) == [customer.pk]


def test_an_unknown_tier_is_a_400(customer, manager):
    response = api_client_for(manager).get(CUSTOMERS, {"tier": "platinum"})

    assert response.status_code == 400
    assert "tier" in response.json()


def test_a_list_item_has_the_profile(customer, manager):
    [item] = api_client_for(manager).get(CUSTOMERS).json()["results"]

    assert item["name"] == "Dana Cohen"
    assert item["email"] == "dana@example.com"
    assert item["shop"] == {"slug": "acme", "name": "Acme"}
    assert set(item) >= {"external_id", "tier", "tags", "phone", "locale", "first_seen_at"}


def test_pages_walk_every_customer_once_even_when_names_repeat(shop, manager, django_assert_num_queries):
    expected = [make_customer(shop, name="").pk for _ in range(7)]
    client = api_client_for(manager)

    seen, next_url = [], f"{CUSTOMERS}?page_size=3"
    while next_url:
        body = client.get(next_url).json()
        seen += [item["id"] for item in body["results"]]
        next_url = body["next"]

    assert seen == expected
    with django_assert_num_queries(4):  # session, user, agent, one page of customers with their shop
        client.get(CUSTOMERS)


def test_a_made_up_cursor_is_a_404(customer, manager):
    response = api_client_for(manager).get(CUSTOMERS, {"cursor": "cD1hYmM="})  # "p=abc"

    assert response.status_code == 404


def test_detail_has_metrics_orders_newest_first_with_items_and_tracking(customer, logistics, logistics_agent):
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(first_seen_at=now - timedelta(days=365))
    older = make_order(customer, number="1001", total=Decimal("30.00"), placed_at=now - timedelta(days=100))
    newer = make_order(customer, number="1002", total=Decimal("70.00"), placed_at=now - timedelta(days=5))
    make_order(customer, number="1003", status="cancelled", total=Decimal("999.00"), placed_at=now - timedelta(days=1))
    add_items_and_tracking(newer)
    ticket = make_ticket(customer, logistics, order=newer)

    detail = api_client_for(logistics_agent).get(f"{CUSTOMERS}{customer.pk}/").json()

    assert detail["name"] == "Dana Cohen"
    assert detail["metrics"] == {
        "lifetime_value": "100.00",
        "order_count": 2,
        "average_order_value": "50.00",
        "purchase_frequency": "2.00",
        "tenure_days": 365,
        "days_since_last_order": 5,
    }
    assert [o["number"] for o in detail["orders"]] == ["1003", "1002", "1001"]
    assert [(i["position"], i["sku"]) for i in detail["orders"][1]["items"]] == [(1, "SKU-1"), (2, "SKU-2")]
    assert [e["status"] for e in detail["orders"][1]["shipping_events"]] == ["in_transit"]
    assert older.pk == detail["orders"][2]["id"]
    assert detail["tickets"] == [
        {
            "id": ticket.pk,
            "subject": "Parcel",
            "status": "new",
            "category": "",
            "created_at": detail["tickets"][0]["created_at"],
            "first_response_at": None,
        }
    ]


def test_detail_lists_only_the_tickets_the_agent_may_see(customer, logistics, returns, logistics_agent, manager):
    mine = make_ticket(customer, logistics)
    theirs = make_ticket(customer, returns)

    as_agent = api_client_for(logistics_agent).get(f"{CUSTOMERS}{customer.pk}/").json()
    as_manager = api_client_for(manager).get(f"{CUSTOMERS}{customer.pk}/").json()

    assert [t["id"] for t in as_agent["tickets"]] == [mine.pk]
    assert [t["id"] for t in as_manager["tickets"]] == [theirs.pk, mine.pk]


def test_a_customer_the_agent_may_not_see_is_a_404(customer, logistics, returns_agent):
    make_ticket(customer, logistics)

    assert api_client_for(returns_agent).get(f"{CUSTOMERS}{customer.pk}/").status_code == 404
    assert api_client_for(returns_agent).get(f"{CUSTOMERS}999999/").status_code == 404


def test_detail_query_count_does_not_grow_with_orders_and_tickets(
    customer, logistics, logistics_agent, django_assert_num_queries
):
    client = api_client_for(logistics_agent)
    add_items_and_tracking(make_order(customer))
    make_ticket(customer, logistics)
    # session, user, agent, customer, orders, their items, their shipping events, tickets
    with django_assert_num_queries(8):
        client.get(f"{CUSTOMERS}{customer.pk}/")
    for _ in range(4):
        add_items_and_tracking(make_order(customer), n=3)
        make_ticket(customer, logistics)

    with django_assert_num_queries(8):
        detail = client.get(f"{CUSTOMERS}{customer.pk}/").json()
    assert (len(detail["orders"]), len(detail["tickets"])) == (5, 5)
