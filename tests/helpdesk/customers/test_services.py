from __future__ import annotations

from decimal import Decimal

import pytest

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, api_key_digest
from helpdesk.customers.selectors import shop_for_api_key
from helpdesk.customers.services import SyncRejected, shop_import, shop_rotate_key, shop_sync
from tests.factories import make_shop, sync_batch, sync_customer, sync_order


def counts(result) -> dict[str, tuple[int, int, int]]:
    return {
        kind: (getattr(result, kind).created, getattr(result, kind).updated, getattr(result, kind).unchanged)
        for kind in ("customers", "orders")
    }


# -- shop_sync --------------------------------------------------------------------


def test_a_new_batch_creates_customers_orders_items_and_events(shop):
    result = shop_sync(shop=shop, payload=sync_batch([sync_customer("c1"), sync_customer("c2")], [sync_order()]))

    assert counts(result) == {"customers": (2, 0, 0), "orders": (1, 0, 0)}
    order = Order.objects.get(shop=shop, external_id="o1")
    assert order.customer.external_id == "c1"
    assert order.total == Decimal("133.90")
    assert list(order.items.values_list("position", "sku", "quantity")) == [(1, "TNT-1", 1), (2, "GAS-1", 5)]
    assert list(order.shipping_events.values_list("location", flat=True)) == ["Leipzig", "Kassel"]
    customer = Customer.objects.get(shop=shop, external_id="c1")
    assert (customer.tier, customer.tags, customer.first_seen_at.isoformat()) == (
        "silver",
        ["newsletter"],
        "2024-01-10T09:00:00+00:00",
    )


def test_the_same_batch_again_changes_nothing(shop):
    payload = sync_batch([sync_customer("c1")], [sync_order()])
    shop_sync(shop=shop, payload=payload)
    customer_before = Customer.objects.get(external_id="c1")
    order_before = Order.objects.get(external_id="o1")
    item_ids = set(OrderItem.objects.values_list("id", flat=True))
    event_ids = set(ShippingEvent.objects.values_list("id", flat=True))

    result = shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")], [sync_order()]))

    assert counts(result) == {"customers": (0, 0, 1), "orders": (0, 0, 1)}
    assert Customer.objects.get(external_id="c1").updated_at == customer_before.updated_at
    assert Order.objects.get(external_id="o1").updated_at == order_before.updated_at
    assert set(OrderItem.objects.values_list("id", flat=True)) == item_ids
    assert set(ShippingEvent.objects.values_list("id", flat=True)) == event_ids


def test_only_changed_records_are_updated(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1"), sync_customer("c2")], [sync_order()]))

    result = shop_sync(
        shop=shop,
        payload=sync_batch([sync_customer("c1", tier="gold"), sync_customer("c2")], [sync_order(status="delivered")]),
    )

    assert counts(result) == {"customers": (0, 1, 1), "orders": (0, 1, 0)}
    assert Customer.objects.get(external_id="c1").tier == "gold"
    assert Order.objects.get(external_id="o1").status == "delivered"


def test_an_omitted_optional_field_is_stored_as_its_default(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")]))
    record = sync_customer("c1")
    del record["phone"], record["tags"]

    shop_sync(shop=shop, payload=sync_batch([record]))

    customer = Customer.objects.get(external_id="c1")
    assert (customer.phone, customer.tags) == ("", [])


def test_first_seen_is_kept_when_a_later_record_leaves_it_out(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")]))

    result = shop_sync(shop=shop, payload=sync_batch([sync_customer("c1", first_seen_at=None)]))

    assert counts(result)["customers"] == (0, 0, 1)
    assert Customer.objects.get(external_id="c1").first_seen_at.isoformat() == "2024-01-10T09:00:00+00:00"


def test_items_are_replaced_only_when_they_change(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer()], [sync_order()]))
    before = set(OrderItem.objects.values_list("id", flat=True))
    items = sync_order()["items"]
    items[1]["quantity"] = 6

    result = shop_sync(shop=shop, payload=sync_batch([], [sync_order(items=items)]))

    assert counts(result)["orders"] == (0, 1, 0)
    order = Order.objects.get(external_id="o1")
    assert list(order.items.values_list("sku", "quantity")) == [("TNT-1", 1), ("GAS-1", 6)]
    assert set(order.items.values_list("id", flat=True)).isdisjoint(before)


def test_a_new_shipping_event_alone_updates_the_order(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer()], [sync_order()]))
    items_before = set(OrderItem.objects.values_list("id", flat=True))
    events = [
        *sync_order()["shipping_events"],
        {"occurred_at": "2025-03-04T12:00:00+00:00", "status": "delivered", "location": "Berlin"},
    ]

    result = shop_sync(shop=shop, payload=sync_batch([], [sync_order(shipping_events=events)]))

    assert counts(result)["orders"] == (0, 1, 0)
    assert set(OrderItem.objects.values_list("id", flat=True)) == items_before
    assert list(ShippingEvent.objects.values_list("location", flat=True)) == ["Leipzig", "Kassel", "Berlin"]


def test_an_order_can_move_to_another_customer(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1"), sync_customer("c2")], [sync_order("o1", "c1")]))

    result = shop_sync(shop=shop, payload=sync_batch([], [sync_order("o1", "c2")]))

    assert counts(result)["orders"] == (0, 1, 0)
    assert Order.objects.get(external_id="o1").customer.external_id == "c2"


def test_an_order_may_name_a_customer_stored_by_an_earlier_batch(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")]))

    result = shop_sync(shop=shop, payload=sync_batch([], [sync_order("o1", "c1")]))

    assert counts(result)["orders"] == (1, 0, 0)


def test_one_bad_record_rejects_the_batch_and_stores_nothing(shop):
    payload = sync_batch(
        [sync_customer("c1"), sync_customer("c2", email="not-an-email"), sync_customer("c3")],
        [sync_order("o1", "c1")],
    )

    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=payload)

    assert list(rejected.value.errors) == ["customers"]
    assert list(rejected.value.errors["customers"]) == ["1"]
    assert "email" in rejected.value.errors["customers"]["1"]
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_a_rejected_batch_leaves_earlier_data_as_it_was(shop):
    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")], [sync_order()]))

    with pytest.raises(SyncRejected):
        shop_sync(
            shop=shop,
            payload=sync_batch([sync_customer("c1", tier="vip")], [sync_order(status="delivered", total="-1")]),
        )

    assert Customer.objects.get(external_id="c1").tier == "silver"
    assert Order.objects.get(external_id="o1").status == "shipped"


def test_errors_name_each_bad_record_and_field(shop):
    bad_item = {"sku": "X", "name": "X", "quantity": 0, "unit_price": "1.00"}
    payload = sync_batch(
        [sync_customer("c1")],
        [
            sync_order("o1", "c1"),
            sync_order("o2", "c1", status="lost"),
            sync_order("o3", "c1", items=[bad_item]),
            sync_order("o4", "c1", shipped_at="2025-02-01T00:00:00+00:00"),
        ],
    )

    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=payload)

    errors = rejected.value.errors["orders"]
    assert set(errors) == {"1", "2", "3"}
    assert "status" in errors["1"]
    assert "items" in errors["2"]
    assert "shipped_at" in errors["3"]


def test_duplicate_ids_in_a_batch_are_rejected_at_the_second_record(shop):
    payload = sync_batch(
        [sync_customer("c1"), sync_customer("c1", name="Again")],
        [sync_order("o1", "c1"), sync_order("o1", "c1")],
    )

    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=payload)

    assert rejected.value.errors == {
        "customers": {"1": {"id": ["This customer id appears twice in the batch."]}},
        "orders": {"1": {"id": ["This order id appears twice in the batch."]}},
    }
    assert not Customer.objects.exists()


def test_an_order_for_an_unknown_customer_is_rejected(shop):
    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=sync_batch([sync_customer("c1")], [sync_order("o1", "nobody")]))

    assert rejected.value.errors == {
        "orders": {"0": {"customer_id": ["No customer with this id in the shop or the batch."]}}
    }
    assert not Customer.objects.exists()


def test_customers_of_another_shop_are_unknown(shop):
    other, _ = make_shop("other")
    shop_sync(shop=other, payload=sync_batch([sync_customer("c1")]))

    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=sync_batch([], [sync_order("o1", "c1")]))

    assert "customer_id" in rejected.value.errors["orders"]["0"]


def test_the_same_external_id_in_two_shops_is_two_customers(shop):
    other, _ = make_shop("other")

    shop_sync(shop=shop, payload=sync_batch([sync_customer("c1", name="Ours")]))
    shop_sync(shop=other, payload=sync_batch([sync_customer("c1", name="Theirs")]))

    assert sorted(Customer.objects.values_list("shop__slug", "name")) == [("acme", "Ours"), ("other", "Theirs")]


@pytest.mark.parametrize("payload", [[], "customers", None, {"customers": "c1"}])
def test_a_payload_of_the_wrong_shape_is_rejected(shop, payload):
    with pytest.raises(SyncRejected):
        shop_sync(shop=shop, payload=payload)


def test_a_batch_over_the_record_limit_is_rejected(shop, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2

    with pytest.raises(SyncRejected) as rejected:
        shop_sync(shop=shop, payload=sync_batch([sync_customer("c1"), sync_customer("c2")], [sync_order()]))

    assert "non_field_errors" in rejected.value.errors
    assert not Customer.objects.exists()


# -- shop_import: any size, one transaction -----------------------------------------


def test_import_splits_a_large_payload_into_batches(shop, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2
    payload = sync_batch(
        [sync_customer(f"c{n}") for n in range(5)],
        [sync_order(f"o{n}", f"c{n % 5}") for n in range(7)],
    )

    result = shop_import(shop=shop, payload=payload)

    assert counts(result) == {"customers": (5, 0, 0), "orders": (7, 0, 0)}
    assert Order.objects.filter(shop=shop).count() == 7

    again = shop_import(shop=shop, payload=payload)
    assert counts(again) == {"customers": (0, 0, 5), "orders": (0, 0, 7)}


def test_a_bad_record_in_a_later_batch_stores_nothing_and_is_numbered_from_the_start(shop, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2
    orders = [sync_order(f"o{n}", "c0") for n in range(5)]
    orders[4]["currency"] = "euro"

    with pytest.raises(SyncRejected) as rejected:
        shop_import(shop=shop, payload=sync_batch([sync_customer("c0"), sync_customer("c1")], orders))

    assert list(rejected.value.errors) == ["orders"]
    assert list(rejected.value.errors["orders"]) == ["4"]
    assert "currency" in rejected.value.errors["orders"]["4"]
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_import_finds_an_id_repeated_across_batches(shop, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2
    customers = [sync_customer("c1"), sync_customer("c2"), sync_customer("c1", name="Later")]

    with pytest.raises(SyncRejected) as rejected:
        shop_import(shop=shop, payload=sync_batch(customers))

    assert rejected.value.errors == {"customers": {"2": {"id": ["This customer id appears twice in the batch."]}}}
    assert not Customer.objects.exists()


@pytest.mark.parametrize("payload", [[], {"customers": {"id": "c1"}}, {"orders": "none"}])
def test_import_rejects_a_payload_of_the_wrong_shape(shop, payload):
    with pytest.raises(SyncRejected):
        shop_import(shop=shop, payload=payload)


# -- shops and keys -------------------------------------------------------------------


def test_a_new_shop_keeps_only_the_digest_of_its_key(db):
    shop, raw_key = make_shop("acme")

    assert raw_key.startswith("shk_")
    assert shop.api_key_digest == api_key_digest(raw_key) != raw_key
    assert shop.api_key_prefix == raw_key[:12]
    assert shop_for_api_key(raw_key) == shop


def test_rotating_the_key_retires_the_old_one(shop_and_key):
    shop, old_key = shop_and_key

    new_key = shop_rotate_key(shop=shop)

    assert new_key != old_key
    assert shop_for_api_key(old_key) is None
    assert shop_for_api_key(new_key) == shop
