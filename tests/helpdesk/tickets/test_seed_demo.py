from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

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
from helpdesk.reports.retention import retention_report
from helpdesk.reports.scope import ReportScope
from helpdesk.reports.selectors import people_report, satisfaction_report, speed_report, volume_report
from helpdesk.tickets.models import (
    Agent,
    AuthorKind,
    CannedReply,
    EventKind,
    Message,
    SlaClock,
    SlaClockKind,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from sentiment import mood
from surveys import policy
from surveys.models import FollowUp, Survey, SurveyResponse, SurveyStatus

HEBREW = re.compile(r"[\u0590-\u05FF]")
PERSIAN = re.compile(r"[\u0600-\u06FF]")
# The events whose service also stamps Ticket.updated_at (SLA timers, the
# sentiment worker and surveys write events without touching it).
STAMPING = {
    EventKind.OPENED,
    EventKind.MESSAGE,
    EventKind.REPLIED,
    EventKind.NOTE,
    EventKind.FIRST_RESPONSE,
    EventKind.ASSIGNED,
    EventKind.TEAM_CHANGED,
    EventKind.STATUS_CHANGED,
    EventKind.PRIORITY_CHANGED,
    EventKind.CATEGORY_CHANGED,
}


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
        SlaClock,
        Survey,
        SurveyResponse,
        FollowUp,
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
        assert ticket.updated_at == max(created for kind, _, created in logged if kind in STAMPING)


def test_every_demo_ticket_has_its_first_response_clock(db):
    seed()
    now = timezone.now()

    clocks = {clock.ticket_id: clock for clock in SlaClock.objects.all()}
    assert len(clocks) == SlaClock.objects.count() == Ticket.objects.count()
    for ticket in Ticket.objects.all():
        clock = clocks[ticket.pk]
        assert clock.kind == SlaClockKind.FIRST_RESPONSE and clock.started_at == ticket.created_at
        assert clock.due_at == ticket.created_at + timedelta(minutes=clock.target_minutes)
        stopped = ticket.first_response_at or ticket.solved_at
        assert clock.stopped_at == stopped
        assert (clock.breached_at is not None) == (clock.due_at < (stopped or now)), ticket
        if stopped is None:  # still running: the ticket shows its due time, and its breach
            assert (ticket.sla_due_at, ticket.sla_breached_at) == (clock.due_at, clock.breached_at)
        else:
            assert ticket.sla_due_at is None and ticket.sla_breached_at is None
    breaches = TicketEvent.objects.filter(kind=EventKind.SLA_BREACHED).count()
    assert breaches == SlaClock.objects.exclude(breached_at=None).count() > 0


def test_the_demo_customers_moods_follow_what_they_wrote(db):
    seed()

    customer_messages = Message.objects.filter(author_kind=AuthorKind.CUSTOMER).order_by("ticket_id", "seq")
    assert not customer_messages.filter(sentiment_tagged_at=None).exists()
    labels = Counter(customer_messages.values_list("sentiment", flat=True))
    assert {"negative", "neutral", "positive"} <= set(labels)
    assert set(customer_messages.filter(body__contains="arrived damaged").values_list("sentiment", flat=True)) == {
        "negative"
    }
    assert set(customer_messages.filter(body__startswith="Thank").values_list("sentiment", flat=True)) == {"positive"}
    scores = defaultdict(list)
    for message in customer_messages:
        assert message.sentiment_tagged_at is not None and message.sentiment_confidence is not None
        assert message.created_at < message.sentiment_tagged_at
        scores[message.ticket_id].append(mood.score(message.sentiment, message.sentiment_confidence))
    for ticket in Ticket.objects.all():
        current = mood.mood_score(scores[ticket.pk])
        assert ticket.sentiment == mood.mood_label(current)
        assert ticket.sentiment_trend == (
            mood.trend(scores[ticket.pk][0], current) if len(scores[ticket.pk]) > 1 else ""
        )


def test_demo_surveys_are_answered_as_the_survey_services_would_record(db):
    seed()

    surveys = Survey.objects.select_related("ticket", "response", "follow_up").all()
    assert Counter(surveys.values_list("kind", flat=True)).keys() == {"csat", "nps"}
    for survey in surveys:
        ticket = survey.ticket
        assert ticket.solved_at is not None and survey.created_at == ticket.solved_at <= survey.send_at
        if survey.status == SurveyStatus.SCHEDULED:
            assert survey.sent_at is None
            continue
        assert survey.sent_at == survey.send_at and survey.expires_at is not None
        answered = SurveyResponse.objects.filter(survey=survey).first()
        assert (answered is not None) == (survey.status == SurveyStatus.ANSWERED)
        if answered is None:
            continue
        assert survey.sent_at <= answered.answered_at < survey.expires_at
        unhappy = policy.is_unhappy(survey.kind, answered.score)
        assert bool(answered.reason) == unhappy
        follow_up = FollowUp.objects.filter(survey=survey).select_related("ticket").first()
        assert (follow_up is not None) == unhappy
        if follow_up is not None:
            assert follow_up.ticket.customer_id == ticket.customer_id
            assert follow_up.ticket.created_at == follow_up.created_at == answered.answered_at
            assert follow_up.ticket.subject.endswith(f"on #{ticket.pk}")
    assert FollowUp.objects.exists()


def _report_figures(report: dict[str, Any]) -> dict[str, Any]:
    return {figure["key"]: figure["value"] for figure in report["figures"]}


def test_the_demo_gives_every_manager_report_something_to_show(db):
    seed()
    manager = Agent.objects.get(user__username="manager")
    today = timezone.localdate()
    month = ReportScope(date_from=today - timedelta(days=29), date_to=today)  # the reports' default period
    half_year = ReportScope(date_from=today - timedelta(days=179), date_to=today)

    satisfaction = _report_figures(satisfaction_report(viewer=manager, scope=month))
    speed = _report_figures(speed_report(viewer=manager, scope=month))
    volume = _report_figures(volume_report(viewer=manager, scope=month))
    retention = retention_report(viewer=manager, scope=half_year)
    people = people_report(viewer=manager, scope=month)

    assert 50 <= satisfaction["csat"] <= 100
    assert satisfaction["nps"] is not None and satisfaction["csat_response_rate"] is not None
    assert _report_figures(satisfaction_report(viewer=manager, scope=half_year))["follow_ups_opened"] > 0
    assert 2 <= speed["frt_median"] <= 10  # a chat desk with a ten-minute target
    assert 60 <= speed["sla_compliance"] < 100
    assert speed["sla_breaches"] > 0
    assert volume["negative_share"] is not None and volume["sentiment_improved"] is not None
    month_retention = _report_figures(retention_report(viewer=manager, scope=month))
    assert month_retention["churn"] > 0 and month_retention["customers_lost"] > 0
    assert month_retention["crr"] < 100
    feedback = {row["key"]: row["cells"] for row in retention["tables"][0]["rows"]}
    assert feedback["first_response_met"]["tickets"] > 0 and feedback["first_response_breached"]["tickets"] > 0
    assert sum(feedback[f"csat_{score}"]["tickets"] for score in range(1, 6)) > 0
    assert any(row["cells"]["csat"] is not None for row in people["tables"][0]["rows"])


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
