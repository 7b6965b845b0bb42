"""Small factories for tests: plain functions with believable defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, Shop
from helpdesk.customers.services import shop_create
from helpdesk.tickets.models import Agent, AgentRole, Team, Ticket, TicketChannel
from helpdesk.tickets.services import ticket_open

_ids = itertools.count(1)


def make_shop(slug: str = "acme", raw_key: str | None = None) -> tuple[Shop, str]:
    return shop_create(slug=slug, name=slug.title(), raw_key=raw_key)


def make_team(slug: str) -> Team:
    return Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


def make_agent(username: str, *, role: str = AgentRole.AGENT, teams: tuple[Team, ...] = ()) -> Agent:
    user = User.objects.create_user(username=username, password="pw-" + username, first_name=username.title())
    agent = Agent.objects.create(user=user, role=role)
    agent.teams.set(teams)
    return agent


def make_customer(shop: Shop, **fields: Any) -> Customer:
    n = next(_ids)
    values: dict[str, Any] = {"external_id": f"cust-{n}", "email": f"customer{n}@example.com", "name": f"Customer {n}"}
    values.update(fields)
    return Customer.objects.create(shop=shop, **values)


def make_order(customer: Customer, **fields: Any) -> Order:
    n = next(_ids)
    values: dict[str, Any] = {
        "external_id": f"ord-{n}",
        "number": str(1000 + n),
        "status": "delivered",
        "placed_at": timezone.now() - timedelta(days=10),
        "total": Decimal("50.00"),
        "currency": "EUR",
    }
    values.update(fields)
    return Order.objects.create(shop=customer.shop, customer=customer, **values)


def make_ticket(customer: Customer, team: Team, *, body: str = "Where is my parcel?", **fields: Any) -> Ticket:
    fields.setdefault("subject", "Parcel")
    fields.setdefault("channel", TicketChannel.CHAT)
    return ticket_open(customer=customer, team=team, body=body, **fields)


def sync_customer(cid: str = "c1", **fields: Any) -> dict[str, Any]:
    """A customer record as the shop sync API takes it."""
    record: dict[str, Any] = {
        "id": cid,
        "email": f"{cid}@example.com",
        "name": f"Customer {cid}",
        "phone": "+49 151 1234567",
        "locale": "de",
        "tier": "silver",
        "tags": ["newsletter"],
        "first_seen_at": "2024-01-10T09:00:00+00:00",
    }
    record.update(fields)
    return record


def sync_order(oid: str = "o1", customer_id: str = "c1", **fields: Any) -> dict[str, Any]:
    """An order record as the shop sync API takes it: two items, two scans (out of time order)."""
    record: dict[str, Any] = {
        "id": oid,
        "customer_id": customer_id,
        "number": f"N-{oid}",
        "status": "shipped",
        "placed_at": "2025-03-01T10:00:00+00:00",
        "paid_at": "2025-03-01T10:05:00+00:00",
        "shipped_at": "2025-03-02T08:00:00+00:00",
        "expected_delivery_at": "2025-03-04T18:00:00+00:00",
        "total": "133.90",
        "currency": "EUR",
        "carrier": "DHL",
        "tracking_number": "00340434000000000001",
        "tracking_url": "https://www.dhl.com/track?id=00340434000000000001",
        "shipping_status": "in_transit",
        "items": [
            {"sku": "TNT-1", "name": "Tent", "category": "tents", "quantity": 1, "unit_price": "99.00"},
            {"sku": "GAS-1", "name": "Gas", "category": "stoves", "quantity": 5, "unit_price": "6.98"},
        ],
        "shipping_events": [
            {"occurred_at": "2025-03-03T07:00:00+00:00", "status": "in_transit", "location": "Kassel"},
            {"occurred_at": "2025-03-02T08:00:00+00:00", "status": "in_transit", "location": "Leipzig"},
        ],
    }
    record.update(fields)
    return record


def sync_batch(customers: Any = (), orders: Any = ()) -> dict[str, list[dict[str, Any]]]:
    return {"customers": list(customers), "orders": list(orders)}


def make_shipped_tent_order(customer: Customer) -> Order:
    """Order A-77: a tent shipped with DHL, tracked, last scanned in Kassel two days ago."""
    order = make_order(
        customer,
        number="A-77",
        status="shipped",
        placed_at=timezone.now() - timedelta(days=4),
        total=Decimal("133.90"),
        carrier="DHL",
        tracking_number="0034",
        tracking_url="https://www.dhl.com/track?id=0034",
        shipping_status="in_transit",
    )
    OrderItem.objects.create(order=order, position=1, sku="TNT-1", name="Tent", quantity=1, unit_price=99)
    ShippingEvent.objects.create(
        order=order, occurred_at=timezone.now() - timedelta(days=2), status="in_transit", location="Kassel"
    )
    return order


def desk_events(callbacks: Any) -> list[dict[str, Any]]:
    """The desk events that on_commit callbacks (captured with
    django_capture_on_commit_callbacks) send: notify's outboxes hold a
    transaction's events, each as (groups, event)."""
    from helpdesk.tickets.notify import _Outbox

    return [event for callback in callbacks if isinstance(callback, _Outbox) for _, event in callback]
