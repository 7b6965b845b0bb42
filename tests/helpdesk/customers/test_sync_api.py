from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import override_settings
from rest_framework.test import APIClient

from helpdesk.customers import services
from helpdesk.customers.models import Customer, Order
from tests.conftest import api_client_for
from tests.factories import make_shop

SYNC = "/api/v1/shop/sync/"


def customer_record(external_id: str = "c-1", **fields: Any) -> dict[str, Any]:
    return {"id": external_id, "email": f"{external_id}@example.com", "name": "Dana Cohen", "tier": "gold", **fields}


def order_record(external_id: str = "o-1", customer_id: str = "c-1", **fields: Any) -> dict[str, Any]:
    return {
        "id": external_id,
        "customer_id": customer_id,
        "number": "10900",
        "status": "shipped",
        "placed_at": "2026-01-02T10:00:00Z",
        "total": "89.90",
        "currency": "EUR",
        "shipping_status": "in_transit",
        "items": [{"sku": "TENT-2", "name": "Two-person tent", "quantity": 1, "unit_price": "89.90"}],
        "shipping_events": [{"occurred_at": "2026-01-03T08:00:00Z", "status": "in_transit", "location": "Leipzig"}],
        **fields,
    }


def batch(customers: list | None = None, orders: list | None = None) -> dict[str, list]:
    return {"customers": customers or [], "orders": orders or []}


@pytest.fixture
def shop_client(shop_and_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {shop_and_key[1]}")
    return client


def counts(created: int = 0, updated: int = 0, unchanged: int = 0) -> dict[str, int]:
    return {"created": created, "updated": updated, "unchanged": unchanged}


def test_a_batch_creates_customers_orders_items_and_tracking(shop_client, shop):
    response = shop_client.post(SYNC, batch([customer_record("c-1"), customer_record("c-2")], [order_record()]))

    assert response.status_code == 200
    assert response.json() == {"customers": counts(created=2), "orders": counts(created=1)}
    order = Order.objects.get(shop=shop, external_id="o-1")
    assert order.customer.external_id == "c-1"
    assert [i.sku for i in order.items.all()] == ["TENT-2"]
    assert [(e.status, e.location) for e in order.shipping_events.all()] == [("in_transit", "Leipzig")]


def test_sending_the_same_batch_again_changes_nothing(shop_client, shop):
    payload = batch([customer_record()], [order_record()])
    shop_client.post(SYNC, payload)
    stamps = (
        list(Customer.objects.values_list("updated_at", flat=True)),
        list(Order.objects.values_list("updated_at", flat=True)),
    )

    response = shop_client.post(SYNC, payload)

    assert response.status_code == 200
    assert response.json() == {"customers": counts(unchanged=1), "orders": counts(unchanged=1)}
    assert stamps == (
        list(Customer.objects.values_list("updated_at", flat=True)),
        list(Order.objects.values_list("updated_at", flat=True)),
    )


def test_changed_items_and_tracking_replace_the_stored_ones(shop_client, shop):
    shop_client.post(SYNC, batch([customer_record()], [order_record()]))
    changed = order_record(
        items=[
            {"sku": "TENT-2", "name": "Two-person tent", "quantity": 1, "unit_price": "89.90"},
            {"sku": "PEG-10", "name": "Tent pegs", "quantity": 2, "unit_price": "4.50"},
        ],
        shipping_events=[
            {"occurred_at": "2026-01-04T09:00:00Z", "status": "delivered", "location": "Berlin"},
            {"occurred_at": "2026-01-03T08:00:00Z", "status": "in_transit", "location": "Leipzig"},
        ],
    )

    response = shop_client.post(SYNC, batch(orders=[changed]))

    assert response.json()["orders"] == counts(updated=1)
    order = Order.objects.get(shop=shop, external_id="o-1")
    assert [(i.position, i.sku, i.quantity) for i in order.items.all()] == [(1, "TENT-2", 1), (2, "PEG-10", 2)]
    assert [e.status for e in order.shipping_events.all()] == ["in_transit", "delivered"]


def test_one_bad_record_rejects_the_batch_naming_it_and_nothing_is_stored(shop_client):
    payload = batch(
        [customer_record("c-1"), customer_record("c-2", email="not-an-email"), customer_record("c-3")],
        [order_record(customer_id="c-1")],
    )

    response = shop_client.post(SYNC, payload)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customers"]
    assert list(response.json()["errors"]["customers"]) == ["1"]
    assert "email" in response.json()["errors"]["customers"]["1"]
    assert (Customer.objects.count(), Order.objects.count()) == (0, 0)


def test_an_order_for_an_unknown_customer_is_rejected(shop_client):
    response = shop_client.post(SYNC, batch([customer_record("c-1")], [order_record(customer_id="c-404")]))

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "orders": {"0": {"customer_id": ["No customer with this id in the shop or the batch."]}}
    }
    assert Customer.objects.count() == 0


def test_a_customer_of_another_shop_is_unknown_here(shop_client):
    _, other_key = make_shop("globex")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    other.post(SYNC, batch([customer_record("c-1")]))

    response = shop_client.post(SYNC, batch(orders=[order_record(customer_id="c-1")]))

    assert response.status_code == 400
    assert "customer_id" in response.json()["errors"]["orders"]["0"]


@override_settings(SHOP_SYNC_MAX_RECORDS=2)
def test_a_batch_over_the_record_limit_is_rejected(shop_client):
    response = shop_client.post(SYNC, batch([customer_record("c-1"), customer_record("c-2")], [order_record()]))

    assert response.status_code == 400
    assert "non_field_errors" in response.json()["errors"]
    assert Customer.objects.count() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_refused(shop_client):
    response = shop_client.post(SYNC, batch([customer_record(f"c-{i}") for i in range(20)]))

    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_an_email_longer_than_the_desk_stores_is_a_400_not_a_500(shop_client):
    long_email = "a" * 250 + "@example.com"

    response = shop_client.post(SYNC, batch([customer_record(email=long_email)]))

    assert response.status_code == 400
    assert "email" in response.json()["errors"]["customers"]["0"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[]", "application/json", 400),
        ('{"customers": "all of them"}', "application/json", 400),
        ("{not json", "application/json", 400),
        ("customers=1", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_batch_is_refused(shop_client, body, content_type, status):
    response = shop_client.generic("POST", SYNC, body, content_type=content_type)

    assert response.status_code == status


def test_the_key_also_works_as_an_x_shop_key_header(shop_and_key):
    client = APIClient()

    response = client.post(SYNC, batch([customer_record()]), HTTP_X_SHOP_KEY=shop_and_key[1])

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer shk_wrong"},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Bearer two words"},
        {"HTTP_X_SHOP_KEY": "shk_wrong"},
    ],
    ids=["no key", "wrong key", "empty bearer", "malformed bearer", "wrong x-shop-key"],
)
def test_a_missing_or_wrong_key_is_a_401_and_stores_nothing(shop_and_key, headers):
    response = APIClient().post(SYNC, batch([customer_record()]), **headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
    assert Customer.objects.count() == 0


def test_an_agent_session_or_token_cannot_sync(shop_and_key, manager, anonymous_client):
    token = anonymous_client.post("/api/v1/auth/token/", {"username": "maya", "password": "pw-maya"}).json()["token"]
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    by_session = api_client_for(manager).post(SYNC, batch([customer_record()]))
    by_token = with_token.post(SYNC, batch([customer_record()]))

    assert (by_session.status_code, by_token.status_code) == (401, 401)
    assert Customer.objects.count() == 0


def test_a_shop_key_does_not_open_the_agent_api(shop_and_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {shop_and_key[1]}")

    assert client.get("/api/v1/tickets/").status_code == 401


def test_a_concurrent_sync_that_collides_is_a_409_asking_to_retry(shop_client, monkeypatch):
    def collide(**kwargs: Any) -> None:
        raise IntegrityError('duplicate key value violates unique constraint "customer_unique_external_id"')

    monkeypatch.setattr(services, "shop_sync", collide)

    response = shop_client.post(SYNC, batch([customer_record()]))

    assert response.status_code == 409
    assert "again" in response.json()["detail"]
