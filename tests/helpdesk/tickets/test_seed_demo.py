from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, Shop
from helpdesk.customers.selectors import shop_for_api_key
from helpdesk.demo.seed import DEMO_API_KEY, DEMO_PASSWORD, LOGINS
from helpdesk.demo.shop import demo_shop_build, demo_shop_payload
from helpdesk.tickets.models import (
    Agent,
    AuthorKind,
    CannedReply,
    EventKind,
    Message,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)

HEBREW = re.compile(r"[\u0590-\u05FF]")
PERSIAN = re.compile(r"[\u0600-\u06FF]")


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--allow-known-passwords", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    models = (
        Shop,
        Customer,
        Order,
        OrderItem,
        ShippingEvent,
        Team,
        Agent,
        User,
        Ticket,
        Message,
        TicketEvent,
        CannedReply,
    )
    return {
        "counts": {model.__name__: model.objects.count() for model in models},
        "customers_updated": sorted(Customer.objects.values_list("updated_at", flat=True)),
        "tickets": sorted(Ticket.objects.values_list("id", "status", "updated_at")),
    }


def test_seed_demo_loads_a_believable_shop(db):
    seed()

    shop = Shop.objects.get(slug="demo")
    assert shop_for_api_key(DEMO_API_KEY) == shop
    assert 250 <= shop.customers.count() <= 350
    assert 700 <= shop.orders.count() <= 1100
    assert 120 <= Ticket.objects.count() <= 180
    assert CannedReply.objects.filter(team__isnull=True).exists()
    assert CannedReply.objects.filter(team__slug="logistics").exists()

    statuses = Counter(shop.orders.values_list("status", flat=True))
    assert {"delivered", "shipped", "returned", "refunded", "cancelled"} <= set(statuses)
    assert statuses["delivered"] > shop.orders.count() / 2
    late = shop.orders.filter(
        expected_delivery_at__lt=timezone.now(), delivered_at__isnull=True, shipping_status="delayed"
    )
    assert late.exists()
    assert not shop.orders.filter(items__isnull=True).exists()
    assert ShippingEvent.objects.filter(order__shop=shop, status="delivered").count() >= statuses["delivered"]

    locales = {locale.split("-")[0] for locale in shop.customers.values_list("locale", flat=True)}
    assert {"en", "de", "es", "he", "fa"} <= locales
    bodies = list(Message.objects.values_list("body", flat=True))
    assert any(HEBREW.search(body) for body in bodies)
    assert any(PERSIAN.search(body) for body in bodies)

    assert set(Team.objects.values_list("slug", flat=True)) >= {"general", "logistics", "returns", "payments"}
    ticket_statuses = Counter(Ticket.objects.values_list("status", flat=True))
    done = ticket_statuses[TicketStatus.SOLVED] + ticket_statuses[TicketStatus.CLOSED]
    assert done > Ticket.objects.count() * 0.6
    assert Ticket.objects.count() - done >= 5  # work left in the inbox
    assert not Ticket.objects.exclude(order=None).exclude(order__customer_id=F("customer_id")).exists()
    assert Ticket.objects.filter(created_at__gt=timezone.now()).count() == 0


def test_every_demo_ticket_keeps_the_service_invariants(db):
    seed()

    messages = defaultdict(list)
    for ticket_id, seq, kind, internal, created in Message.objects.values_list(
        "ticket_id", "seq", "author_kind", "internal", "created_at"
    ).order_by("ticket_id", "seq"):
        messages[ticket_id].append((seq, kind, internal, created))
    events = defaultdict(list)
    for ticket_id, kind, data, created in TicketEvent.objects.values_list(
        "ticket_id", "kind", "data", "created_at"
    ).order_by("ticket_id", "created_at", "id"):
        events[ticket_id].append((kind, data, created))
    now = timezone.now()

    for ticket in Ticket.objects.all():
        said, logged = messages[ticket.pk], events[ticket.pk]
        assert [seq for seq, *_ in said] == list(range(1, ticket.last_seq + 1)), ticket
        assert said[0][1] == AuthorKind.CUSTOMER and said[0][3] == ticket.created_at
        assert logged[0][0] == EventKind.OPENED and logged[0][2] == ticket.created_at
        assert all(ticket.created_at <= created <= now for *_, created in logged)

        public_replies = [created for _, kind, internal, created in said if kind == AuthorKind.AGENT and not internal]
        first_responses = [created for kind, _, created in logged if kind == EventKind.FIRST_RESPONSE]
        if public_replies:
            assert ticket.first_response_at == public_replies[0] == first_responses[0]
            assert len(first_responses) == 1
        else:
            assert ticket.first_response_at is None and not first_responses

        # The status is where its change events lead.
        status = TicketStatus.NEW
        for kind, data, _ in logged:
            if kind == EventKind.STATUS_CHANGED:
                assert data["old"] == status
                status = data["new"]
        assert ticket.status == status
        assert (ticket.solved_at is not None) == (ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED))
        assert (ticket.closed_at is not None) == (ticket.status == TicketStatus.CLOSED)
        assert ticket.updated_at == max(created for *_, created in logged)


def test_demo_users_log_in_with_the_printed_password(db):
    out = seed()

    assert DEMO_PASSWORD in out
    for login in LOGINS:
        assert re.search(rf"^\s+{login.username}\s", out, re.MULTILINE)
        user = authenticate(username=login.username, password=DEMO_PASSWORD)
        assert user is not None, login.username
        assert user.is_staff
        assert user.is_superuser == (login.username == "manager")
        agent = Agent.objects.get(user=user)
        assert agent.role == login.role
        assert sorted(agent.teams.values_list("slug", flat=True)) == sorted(login.teams)


def test_running_seed_demo_twice_changes_nothing(db):
    seed()
    before = snapshot()

    out = seed()

    assert "Demo shop already loaded" in out
    assert DEMO_PASSWORD in out
    assert snapshot() == before


def test_seed_demo_refuses_to_publish_passwords_with_debug_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo", stdout=StringIO())

    assert not Shop.objects.exists()
    assert not User.objects.exists()


def test_seed_demo_leaves_a_database_with_a_demo_username_alone(db):
    User.objects.create_user(username="alice", password="her-own-password")

    with pytest.raises(CommandError, match="alice"):
        seed()

    assert not Shop.objects.exists()
    assert authenticate(username="alice", password="her-own-password") is not None


def test_the_demo_shop_is_the_same_every_time():
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    first = demo_shop_payload(*demo_shop_build(random.Random(42), now))
    second = demo_shop_payload(*demo_shop_build(random.Random(42), now))

    assert first == second
