"""Small factories for tests: plain functions with believable defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.customers.models import Customer, Order, Shop
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
