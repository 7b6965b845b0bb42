"""Load the demo desk in one transaction, once.

The shop's customers and orders go through shop_import, the path a real shop
uses; the past tickets through ticket_history_import, because the ticket
services can only write the present. What the SLA, sentiment and survey
services would have added to them is written by helpdesk.demo.backfill.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction

from helpdesk.customers.models import Customer, Order, Shop
from helpdesk.customers.services import shop_create, shop_import
from helpdesk.demo.backfill import demo_backfill
from helpdesk.demo.shop import demo_shop_build, demo_shop_payload
from helpdesk.demo.tickets import DemoStaff, DemoTickets
from helpdesk.tickets.history import ticket_history_import
from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    AgentStatus,
    CannedReply,
    RoutingRule,
    Team,
    Ticket,
    TicketStatus,
)

DEMO_SHOP_SLUG = "demo"
DEMO_SHOP_NAME = "Demo Outdoor Shop"
# Published on purpose, for local demos; seed_demo refuses to run with DEBUG
# off unless told that known passwords are fine.
DEMO_API_KEY = "shk_demo_key_for_local_use_only"
DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105
SEED = 42

TEAMS = (
    ("general", "General", "Everything without a team of its own; web-form tickets start here."),
    ("logistics", "Logistics", "Shipping, carriers, late and lost parcels."),
    ("returns", "Returns", "Returns, exchanges, damaged and wrong items, refunds."),
    ("payments", "Payments", "Failed payments, double charges, invoices."),
)

# Routing: (rule name, categories, team slug); everything else stays in General.
ROUTING_RULES = (
    ("Payments", ["payment"], "payments"),
    ("Logistics", ["delivery"], "logistics"),
    ("Returns and damage", ["return", "damaged"], "returns"),
)

# (team slug or None for every team, title, body); placeholders as in helpdesk.tickets.placeholders.
CANNED_REPLIES = (
    (None, "Thanks for waiting", "Hi {customer.first_name}, thanks for your patience! {agent.first_name}"),
    (
        "logistics",
        "Parcel on its way",
        "Hi {customer.first_name}, your order {order.number} is on its way with {order.carrier}. "
        "You can follow it here: {order.tracking_url}",
    ),
    (
        "returns",
        "Return label sent",
        "Hi {customer.first_name}, we have emailed you a return label for order {order.number}.",
    ),
    ("payments", "Refund issued", "Hi {customer.first_name}, the refund for order {order.number} is on its way."),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    first_name: str
    last_name: str
    role: AgentRole
    teams: tuple[str, ...]
    status: AgentStatus

    @property
    def is_superuser(self) -> bool:
        return self.role == AgentRole.MANAGER


LOGINS = (
    DemoLogin("manager", "Miriam", "Adler", AgentRole.MANAGER, (), AgentStatus.AWAY),
    DemoLogin("lead", "Lior", "Ben-David", AgentRole.TEAM_LEAD, ("logistics",), AgentStatus.ONLINE),
    DemoLogin("alice", "Alice", "Novak", AgentRole.AGENT, ("logistics",), AgentStatus.ONLINE),
    DemoLogin("bob", "Bob", "Fischer", AgentRole.AGENT, ("returns",), AgentStatus.OFFLINE),
    DemoLogin("carol", "Carol", "Méndez", AgentRole.AGENT, ("payments", "general"), AgentStatus.ONLINE),
)


class DemoConflict(Exception):
    """The database holds users the demo would create; nothing was changed."""


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False: the demo was already loaded and nothing changed
    customers: int
    orders: int
    tickets: int
    unsolved: int


def _summary(shop: Shop, *, created: bool) -> DemoSummary:
    tickets = Ticket.objects.filter(customer__shop=shop)
    return DemoSummary(
        created=created,
        customers=shop.customers.count(),
        orders=shop.orders.count(),
        tickets=tickets.count(),
        unsolved=tickets.exclude(status__in=[TicketStatus.SOLVED, TicketStatus.CLOSED]).count(),
    )


def _staff(now: datetime) -> DemoStaff:
    teams = {}
    for slug, name, description in TEAMS:
        teams[slug], _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    password = make_password(DEMO_PASSWORD)  # hashed once: five slow hashes would dominate the run
    agents: dict[str, Agent] = {}
    members: dict[str, list[Agent]] = {slug: [] for slug in teams}
    for login in LOGINS:
        user = User.objects.create(
            username=login.username,
            first_name=login.first_name,
            last_name=login.last_name,
            email=f"{login.username}@demo.example.com",
            password=password,
            is_staff=True,
            is_superuser=login.is_superuser,
        )
        agent = Agent.objects.create(user=user, role=login.role, status=login.status, status_changed_at=now)
        agent.teams.set([teams[slug] for slug in login.teams])
        agents[login.username] = agent
        for slug in login.teams:
            members[slug].append(agent)
    # The logistics lead answers tickets too, fewer than alice.
    members["logistics"] = [agents["alice"], agents["lead"]]
    for position, (name, categories, team_slug) in enumerate(ROUTING_RULES, start=1):
        RoutingRule.objects.get_or_create(
            name=name, defaults={"position": position * 10, "categories": categories, "team": teams[team_slug]}
        )
    for canned_team, title, body in CANNED_REPLIES:
        CannedReply.objects.get_or_create(
            team=teams[canned_team] if canned_team else None, title=title, defaults={"body": body}
        )
    return DemoStaff(manager=agents["manager"], lead=agents["lead"], teams=teams, members=members)


def demo_seed(*, now: datetime) -> DemoSummary:
    """Build the demo desk as it looks at ``now``. Deterministic for a given
    ``now``. Does nothing when the demo shop exists; raises DemoConflict when
    a demo username is taken."""
    existing = Shop.objects.filter(slug=DEMO_SHOP_SLUG).first()
    if existing is not None:
        return _summary(existing, created=False)
    taken = sorted(
        User.objects.filter(username__in=[login.username for login in LOGINS]).values_list("username", flat=True)
    )
    if taken:
        raise DemoConflict(f"Users {', '.join(taken)} already exist; the demo is meant for an empty database.")

    rng = random.Random(SEED)
    with transaction.atomic():
        shop, _ = shop_create(slug=DEMO_SHOP_SLUG, name=DEMO_SHOP_NAME, currency="EUR", raw_key=DEMO_API_KEY)
        customers, orders = demo_shop_build(rng, now)
        shop_import(shop=shop, payload=demo_shop_payload(customers, orders))
        staff = _staff(now)
        stored_customers = {c.external_id: c for c in Customer.objects.filter(shop=shop)}
        stored_orders = {o.external_id: o for o in Order.objects.filter(shop=shop)}
        builder = DemoTickets(rng, now, staff)
        plans = builder.build(orders, customers, stored_customers, stored_orders)
        stored = ticket_history_import(tickets=[plan.past for plan in plans])
        demo_backfill(
            rng=rng,
            now=now,
            plans=plans,
            stored=stored,
            builder=builder,
            customers={customer.external_id: customer for customer in customers},
        )
    return _summary(shop, created=True)
