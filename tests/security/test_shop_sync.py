"""Attacks on the shop sync API (POST /api/v1/shop/sync/): hostile HTML and
javascript: links in every synced text, one shop's key reaching another
shop's customers and orders, missing and forged keys, and malformed and
oversized batches. A refused batch stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order, make_shop, make_team, make_ticket, sync_batch, sync_customer
from tests.factories import sync_order as sync_order_record
from tests.security.conftest import HOSTILE_TEXTS

SYNC = "/api/v1/shop/sync/"


@pytest.fixture
def shop_client(shop_and_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {shop_and_key[1]}")
    return client


@pytest.fixture
def other_shop_customer(db):
    """A customer, with an order, of another shop on the same desk."""
    other, _ = make_shop("rival")
    customer = make_customer(other, external_id="c1", name="Rival Customer", email="rival@example.com")
    make_order(customer, external_id="o1", number="R-1")
    return customer


def rows() -> tuple[int, int, int, int]:
    return Customer.objects.count(), Order.objects.count(), OrderItem.objects.count(), ShippingEvent.objects.count()


def sync_order(**fields: Any) -> dict[str, Any]:
    return sync_order_record("o1", "c1", **fields)


# Hostile text


def test_html_in_every_synced_text_is_stored_as_text_and_escaped_in_the_customer_panel(
    shop_client, shop, logistics_agent, logistics
):
    script, handler, link, bare = HOSTILE_TEXTS
    customer = sync_customer("c1", name=script, phone=handler, tags=["<b>vip</b>"])
    order = sync_order(
        number=handler,
        carrier=link,
        tracking_number=script,
        items=[{"sku": handler, "name": script, "category": link, "quantity": 1, "unit_price": "1.00"}],
        shipping_events=[
            {
                "occurred_at": "2025-03-02T08:00:00+00:00",
                "status": "in_transit",
                "location": script,
                "description": bare,
            }
        ],
    )

    response = shop_client.post(SYNC, sync_batch([customer], [order]), format="json")

    assert response.status_code == 200, response.content
    stored = Customer.objects.get(shop=shop, external_id="c1")
    assert stored.name == script and stored.phone == handler
    ticket = make_ticket(stored, logistics, order=Order.objects.get())
    html = api_client_for(logistics_agent).get(f"/desk/tickets/{ticket.pk}/context/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>vip</b>" not in html
    assert 'href="javascript:' not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/track",
        "file:///etc/passwd",
    ],
)
def test_a_tracking_url_that_is_not_a_web_link_rejects_the_batch(shop_client, url):
    response = shop_client.post(SYNC, sync_batch([sync_customer("c1")], [sync_order(tracking_url=url)]), format="json")

    assert response.status_code == 400
    assert "tracking_url" in response.json()["errors"]["orders"]["0"]
    assert rows() == (0, 0, 0, 0)


def test_a_tracking_url_with_quotes_cannot_break_out_of_its_link(shop_client, shop, logistics_agent, logistics):
    url = 'https://track.example/x"onmouseover="alert(1)'
    # A valid URL to the validator, so it is stored as sent
    shop_client.post(SYNC, sync_batch([sync_customer("c1")], [sync_order(tracking_url=url)]), format="json")
    order = Order.objects.get(tracking_url=url)

    ticket = make_ticket(order.customer, logistics, order=order)
    html = api_client_for(logistics_agent).get(f"/desk/tickets/{ticket.pk}/context/").content.decode()

    assert '"onmouseover="' not in html and "&quot;onmouseover=&quot;" in html


# Other shops


def test_a_shops_key_cannot_reach_another_shops_customers_or_orders(shop_client, shop, other_shop_customer):
    # When shop acme syncs records with the same ids as the rival's
    response = shop_client.post(
        SYNC,
        sync_batch([sync_customer("c1", name="Mallory", email="mallory@example.com")], [sync_order(number="M-1")]),
        format="json",
    )

    # Then it makes its own rows and the rival's are untouched
    assert response.status_code == 200
    other_shop_customer.refresh_from_db()
    assert (other_shop_customer.name, other_shop_customer.email) == ("Rival Customer", "rival@example.com")
    assert Order.objects.get(shop=other_shop_customer.shop).number == "R-1"
    assert Customer.objects.get(shop=shop, external_id="c1").name == "Mallory"
    assert "Rival" not in response.content.decode()


def test_an_order_for_another_shops_customer_is_refused(shop_client, other_shop_customer):
    before = rows()

    response = shop_client.post(SYNC, sync_batch([], [sync_order_record("o9", "c1")]), format="json")

    assert response.status_code == 400 and "Rival" not in response.content.decode()
    assert rows() == before


def test_fields_a_shop_may_not_set_are_not_applied(shop_client, shop, other_shop_customer):
    # Extra keys naming the row, the shop or the verified flag are not part of a record.
    record = sync_customer("c2", pk=other_shop_customer.pk, id_=other_shop_customer.pk, shop="rival", verified=False)

    response = shop_client.post(SYNC, sync_batch([record]), format="json")

    assert response.status_code == 200
    created = Customer.objects.get(external_id="c2")
    assert created.shop_id == shop.pk and created.pk != other_shop_customer.pk
    other_shop_customer.refresh_from_db()
    assert other_shop_customer.name == "Rival Customer"


# Keys


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer forged"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Bearer a b"},
        {"HTTP_X_SHOP_KEY": "forged"},
        {"HTTP_AUTHORIZATION": "Bearer \u00ff\u00fe"},
    ],
)
def test_a_missing_or_forged_key_is_401_and_stores_nothing(shop_and_key, headers):
    response = APIClient().post(SYNC, sync_batch([sync_customer("c1")]), format="json", **headers)

    assert response.status_code == 401 and rows() == (0, 0, 0, 0)


def test_another_shops_key_syncs_into_that_shop_only(shop, other_shop_customer):
    rival_key = make_shop("third")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rival_key}")

    client.post(SYNC, sync_batch([sync_customer("c1", name="Third")]), format="json")

    assert set(Customer.objects.filter(name="Third").values_list("shop__slug", flat=True)) == {"third"}


def test_an_agent_cannot_sync_with_their_session(manager):
    response = api_client_for(manager).post(SYNC, sync_batch([sync_customer("c1")]), format="json")

    assert response.status_code in (401, 403) and rows() == (0, 0, 0, 0)


# Malformed and oversized batches


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("[" * 50_000 + "]" * 50_000, id="deeply-nested"),
        pytest.param('{"customers": ' + "[" * 50_000 + "]" * 50_000 + "}", id="nested-value"),
        pytest.param('{"customers": [', id="truncated"),
        pytest.param('{"customers": {"c1": {}}}', id="customers-object"),
        pytest.param('{"customers": "c1"}', id="customers-string"),
        pytest.param("[]", id="list"),
        pytest.param("null", id="null"),
    ],
)
def test_an_unreadable_batch_is_a_400(shop_client, raw):
    response = shop_client.post(SYNC, raw, content_type="application/json")

    assert response.status_code == 400 and rows() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("customers", sync_customer("c1", name="Da\u0000na")),
        ("customers", sync_customer("c1", email="x" * 250 + "@example.com")),
        ("customers", sync_customer("c1", name="n" * 201)),
        ("customers", sync_customer("c" * 101)),
        ("customers", sync_customer("c1", tags=["t"] * 51)),
        ("customers", sync_customer("c1", tier="<script>")),
        ("orders", sync_order(total="NaN")),
        ("orders", sync_order(total="Infinity")),
        ("orders", sync_order(total="-1.00")),
        ("orders", sync_order(total="1e400")),
        ("orders", sync_order(currency="EU'R")),
        ("orders", sync_order(placed_at="2025-13-45")),
        ("orders", sync_order(items=[{"sku": "A", "name": "A", "quantity": -5, "unit_price": "1.00"}])),
        ("orders", sync_order(items=[{"sku": "A", "name": "A", "quantity": 10**12, "unit_price": "1.00"}])),
        ("orders", sync_order(items=[{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1.00"}] * 501)),
        ("orders", sync_order(tracking_url="https://x.example/" + "a" * 600)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_one_malformed_or_oversized_record_rejects_the_whole_batch(shop_client, kind, record):
    good_customer = sync_customer("c0")
    batch = {"customers": [good_customer], "orders": []}
    if kind == "orders":
        batch["customers"].append(sync_customer("c1"))
    batch[kind].append(record)

    response = shop_client.post(SYNC, batch, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][kind]
    assert rows() == (0, 0, 0, 0)


def test_a_batch_over_the_record_limit_or_the_upload_limit_is_refused(shop_client, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 3
    response = shop_client.post(SYNC, sync_batch([sync_customer(f"c{n}") for n in range(4)]), format="json")
    assert response.status_code == 400 and rows() == (0, 0, 0, 0)

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    padded = json.dumps(sync_batch([sync_customer("c1", name="x" * 200, tags=["y" * 50] * 50)] * 3))
    response = shop_client.post(SYNC, padded, content_type="application/json")
    assert response.status_code in (400, 413) and rows() == (0, 0, 0, 0)


def test_a_synced_customers_tickets_stay_with_the_desk(shop_client, shop, logistics_agent):
    # A sync never reassigns or exposes tickets: it answers counts only.
    customer = make_customer(shop, external_id="c1")
    make_ticket(customer, make_team("logistics"), body="private conversation")

    response = shop_client.post(SYNC, sync_batch([sync_customer("c1", name="Renamed")]), format="json")

    assert response.status_code == 200 and "private conversation" not in response.content.decode()
    assert set(response.json()) <= {"customers", "orders"}
