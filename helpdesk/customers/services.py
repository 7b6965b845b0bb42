"""Writes of the shop's data: shops and their API keys, and the bulk sync."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, Shop, api_key_digest
from helpdesk.customers.sync_schema import (
    SyncBatchSerializer,
    SyncCustomerSerializer,
    SyncOrderSerializer,
)
from helpdesk.tickets.services import customer_context_changed

KEY_PREFIX = "shk_"

CUSTOMER_FIELDS = ("email", "name", "phone", "locale", "tier", "tags")
ORDER_FIELDS = (
    "number",
    "status",
    "placed_at",
    "paid_at",
    "shipped_at",
    "expected_delivery_at",
    "delivered_at",
    "total",
    "currency",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipping_status",
)
ITEM_FIELDS = ("sku", "name", "category", "quantity", "unit_price")
SHIPPING_EVENT_FIELDS = ("occurred_at", "status", "location", "description")


class SyncRejected(Exception):
    """The batch had errors; nothing of it was stored. ``errors`` maps
    ``customers``/``orders`` to {record index: field errors}."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("shop sync batch rejected")
        self.errors = errors


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class SyncResult:
    customers: SyncCounts = field(default_factory=SyncCounts)
    orders: SyncCounts = field(default_factory=SyncCounts)


def shop_create(*, slug: str, name: str, currency: str = "EUR", raw_key: str | None = None) -> tuple[Shop, str]:
    """Create a shop and return it with its API key, which is not stored in clear."""
    raw_key = raw_key or KEY_PREFIX + secrets.token_urlsafe(32)
    shop = Shop.objects.create(
        slug=slug,
        name=name,
        currency=currency,
        api_key_digest=api_key_digest(raw_key),
        api_key_prefix=raw_key[:12],
    )
    return shop, raw_key


def shop_rotate_key(*, shop: Shop) -> str:
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    shop.api_key_digest, shop.api_key_prefix = api_key_digest(raw_key), raw_key[:12]
    shop.save(update_fields=["api_key_digest", "api_key_prefix"])
    return raw_key


def _validate(shop: Shop, payload: Any) -> tuple[list[dict], list[dict]]:
    batch = SyncBatchSerializer(data=payload)
    if not isinstance(payload, Mapping) or not batch.is_valid():
        raise SyncRejected(
            batch.errors if isinstance(payload, Mapping) else {"non_field_errors": ["Expected an object."]}
        )
    raw_customers, raw_orders = batch.validated_data["customers"], batch.validated_data["orders"]
    if len(raw_customers) + len(raw_orders) > settings.SHOP_SYNC_MAX_RECORDS:
        raise SyncRejected({"non_field_errors": [f"At most {settings.SHOP_SYNC_MAX_RECORDS} records per batch."]})

    errors: dict[str, dict[str, Any]] = {"customers": {}, "orders": {}}
    customers: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_customers):
        serializer = SyncCustomerSerializer(data=raw)
        if not serializer.is_valid():
            errors["customers"][str(index)] = serializer.errors
            continue
        record = dict(serializer.validated_data)
        if record["id"] in seen:
            errors["customers"][str(index)] = {"id": ["This customer id appears twice in the batch."]}
        seen.add(record["id"])
        customers.append(record)

    known = seen | set(
        Customer.objects.filter(
            shop=shop, external_id__in={str(o.get("customer_id")) for o in raw_orders if isinstance(o, Mapping)}
        ).values_list("external_id", flat=True)
    )
    orders: list[dict] = []
    seen_orders: set[str] = set()
    for index, raw in enumerate(raw_orders):
        order_serializer = SyncOrderSerializer(data=raw)
        if not order_serializer.is_valid():
            errors["orders"][str(index)] = order_serializer.errors
            continue
        record = dict(order_serializer.validated_data)
        if record["id"] in seen_orders:
            errors["orders"][str(index)] = {"id": ["This order id appears twice in the batch."]}
        elif record["customer_id"] not in known:
            errors["orders"][str(index)] = {"customer_id": ["No customer with this id in the shop or the batch."]}
        seen_orders.add(record["id"])
        orders.append(record)

    errors = {kind: by_index for kind, by_index in errors.items() if by_index}
    if errors:
        raise SyncRejected(errors)
    return customers, orders


def _apply(instance: Any, record: Mapping[str, Any], fields: tuple[str, ...]) -> bool:
    changed = False
    for name in fields:
        if getattr(instance, name) != record[name]:
            setattr(instance, name, record[name])
            changed = True
    return changed


def _rows(records: list[Mapping[str, Any]], fields: tuple[str, ...]) -> list[tuple]:
    return [tuple(r[f] for f in fields) for r in records]


def _sync_children(order: Order, record: Mapping[str, Any]) -> bool:
    """Replace the order's items and shipping events when they differ."""
    changed = False
    items = list(order.items.all())
    if _rows([vars(i) for i in items], ITEM_FIELDS) != _rows(record["items"], ITEM_FIELDS):
        order.items.all().delete()
        OrderItem.objects.bulk_create(
            OrderItem(order=order, position=pos, **{f: item[f] for f in ITEM_FIELDS})
            for pos, item in enumerate(record["items"], start=1)
        )
        changed = True
    events = sorted(record["shipping_events"], key=lambda e: e["occurred_at"])
    if _rows([vars(e) for e in order.shipping_events.all()], SHIPPING_EVENT_FIELDS) != _rows(
        events, SHIPPING_EVENT_FIELDS
    ):
        order.shipping_events.all().delete()
        ShippingEvent.objects.bulk_create(
            ShippingEvent(order=order, **{f: e[f] for f in SHIPPING_EVENT_FIELDS}) for e in events
        )
        changed = True
    return changed


def _create_orders(created: list[tuple[Order, Mapping[str, Any]]]) -> None:
    """Insert new orders, then all their items and shipping events at once."""
    Order.objects.bulk_create([order for order, _ in created])
    OrderItem.objects.bulk_create(
        OrderItem(order=order, position=pos, **{f: item[f] for f in ITEM_FIELDS})
        for order, record in created
        for pos, item in enumerate(record["items"], start=1)
    )
    ShippingEvent.objects.bulk_create(
        ShippingEvent(order=order, **{f: e[f] for f in SHIPPING_EVENT_FIELDS})
        for order, record in created
        for e in sorted(record["shipping_events"], key=lambda e: e["occurred_at"])
    )


def shop_sync(*, shop: Shop, payload: Any) -> SyncResult:
    """Upsert a batch of customers and orders. All or nothing: one bad record
    rejects the batch with SyncRejected. Sending the same batch again changes
    nothing and counts every record as unchanged."""
    customers, orders = _validate(shop, payload)
    result = SyncResult()
    touched: list[Customer] = []  # whose panel on the desk shows something new
    with transaction.atomic():
        existing = {
            c.external_id: c
            for c in Customer.objects.select_for_update().filter(
                shop=shop, external_id__in={c["id"] for c in customers} | {o["customer_id"] for o in orders}
            )
        }
        new_customers: list[Customer] = []
        for record in customers:
            customer = existing.get(record["id"])
            if customer is None:
                customer = Customer(shop=shop, external_id=record["id"], first_seen_at=timezone.now())
                if record["first_seen_at"]:
                    customer.first_seen_at = record["first_seen_at"]
                _apply(customer, record, CUSTOMER_FIELDS)
                new_customers.append(customer)
                existing[record["id"]] = customer
                result.customers.created += 1
                continue
            changed = _apply(customer, record, CUSTOMER_FIELDS)
            if record["first_seen_at"] and customer.first_seen_at != record["first_seen_at"]:
                customer.first_seen_at, changed = record["first_seen_at"], True
            if changed:
                customer.save()
                touched.append(customer)
                result.customers.updated += 1
            else:
                result.customers.unchanged += 1
        # New rows go in a few statements each; a first import is mostly new rows.
        Customer.objects.bulk_create(new_customers)

        known_orders = {
            o.external_id: o
            for o in Order.objects.select_for_update()
            .filter(shop=shop, external_id__in=[o["id"] for o in orders])
            .prefetch_related("items", "shipping_events")
        }
        new_orders: list[tuple[Order, Mapping[str, Any]]] = []
        for record in orders:
            customer = existing[record["customer_id"]]
            order = known_orders.get(record["id"])
            if order is None:
                order = Order(shop=shop, external_id=record["id"], customer=customer)
                _apply(order, record, ORDER_FIELDS)
                new_orders.append((order, record))
                touched.append(customer)
                result.orders.created += 1
                continue
            changed = _apply(order, record, ORDER_FIELDS)
            if order.customer_id != customer.pk:
                touched.append(order.customer)
                order.customer, changed = customer, True
            if changed:
                order.save()
            if _sync_children(order, record) or changed:
                touched.append(customer)
                result.orders.updated += 1
            else:
                result.orders.unchanged += 1
        _create_orders(new_orders)
        customer_context_changed(customer_ids={c.pk for c in touched if c.pk is not None})
    return result


def _shift(errors: dict[str, Any], kind: str, offset: int) -> dict[str, Any]:
    """Renumber a batch's per-record errors to positions in the whole payload."""
    by_index = errors.get(kind)
    if not offset or not isinstance(by_index, Mapping):
        return errors
    return {**errors, kind: {str(int(index) + offset): found for index, found in by_index.items()}}


def _duplicate_ids(records: list[Any], kind: str) -> dict[str, Any]:
    seen: set[str] = set()
    found: dict[str, Any] = {}
    for index, record in enumerate(records):
        if not isinstance(record, Mapping) or record.get("id") is None:
            continue  # the batch validation reports it
        key = str(record["id"])
        if key in seen:
            found[str(index)] = {"id": [f"This {kind[:-1]} id appears twice in the batch."]}
        seen.add(key)
    return found


def shop_import(*, shop: Shop, payload: Any) -> SyncResult:
    """Sync a payload of any size, such as a file: customers first, then
    orders, in batches of SHOP_SYNC_MAX_RECORDS inside one transaction, so the
    all-or-nothing rule holds for the whole payload. Record indices in
    SyncRejected errors count from the start of the payload. Stops at the
    first rejected batch; later batches are not checked."""
    if not isinstance(payload, Mapping):
        raise SyncRejected({"non_field_errors": ["Expected an object."]})
    parts: dict[str, list[Any]] = {}
    for kind in ("customers", "orders"):
        records = payload.get(kind, [])
        if not isinstance(records, list):
            raise SyncRejected({kind: ["Expected a list."]})
        parts[kind] = records
    # Within one batch shop_sync finds repeated ids; across batches only this can.
    duplicates = {kind: found for kind, records in parts.items() if (found := _duplicate_ids(records, kind))}
    if duplicates:
        raise SyncRejected(duplicates)

    size = settings.SHOP_SYNC_MAX_RECORDS
    total = SyncResult()
    with transaction.atomic():
        for kind, records in parts.items():
            counts: SyncCounts = getattr(total, kind)
            for start in range(0, len(records), size):
                try:
                    result = shop_sync(shop=shop, payload={kind: records[start : start + size]})
                except SyncRejected as rejected:
                    raise SyncRejected(_shift(rejected.errors, kind, start)) from None
                part: SyncCounts = getattr(result, kind)
                counts.created += part.created
                counts.updated += part.updated
                counts.unchanged += part.unchanged
    return total
