"""SLA clocks through the ticket services, with frozen time: the 10-minute
first response, warnings, breaches and escalation, pauses, reopening,
policies and business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets import notify
from helpdesk.tickets.models import (
    AuthorKind,
    BusinessCalendar,
    EventKind,
    SlaClock,
    SlaClockKind,
    SlaPolicy,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import MANAGERS_GROUP, agent_group, customer_group, team_group
from helpdesk.tickets.services import (
    message_post,
    ticket_assign,
    ticket_note,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
)
from helpdesk.tickets.sla_services import sla_clock_breach, sla_clock_warn, sla_policy_for, sla_sweep
from tests.factories import make_ticket

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
Sent = list[tuple[list[str], dict[str, Any]]]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def default_policy(db) -> SlaPolicy:
    policy, _ = SlaPolicy.objects.update_or_create(
        team=None,
        priority="",
        defaults={"name": "Default", "first_response_minutes": 10, "warn_before_minutes": 2},
    )
    return policy


@pytest.fixture
def sent(monkeypatch) -> Sent:
    calls: Sent = []
    monkeypatch.setattr(notify, "_send", lambda events: calls.extend((list(g), e) for g, e in events))
    return calls


@pytest.fixture
def clock_time():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticket(clock_time, customer, logistics) -> Ticket:
    return make_ticket(customer, logistics)


def clock_of(ticket: Ticket, kind: SlaClockKind = SlaClockKind.FIRST_RESPONSE) -> SlaClock:
    return SlaClock.objects.filter(ticket=ticket, kind=kind).latest("id")


def count(ticket: Ticket, kind: EventKind) -> int:
    return ticket.events.filter(kind=kind).count()


def queued(task_name: str) -> list[datetime]:
    return sorted(
        DBTaskResult.objects.filter(task_path=f"helpdesk.tickets.sla_tasks.{task_name}").values_list(
            "run_after", flat=True
        )
    )


# -- first response ------------------------------------------------------------------------


def test_opening_starts_a_ten_minute_first_response_clock_with_its_timers_queued(ticket):
    clock = clock_of(ticket)

    assert (clock.started_at, clock.target_minutes, clock.due_at, clock.warn_at) == (T0, 10, at(10), at(8))
    assert clock.stopped_at is None and clock.breached_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(10)
    assert ticket.sla_breached_at is None
    started = ticket.events.get(kind=EventKind.SLA_STARTED).data
    assert started["clock"] == "first_response" and started["target_minutes"] == 10
    # Durable timers, enqueued with the clock: the warning two minutes before the breach.
    assert queued("sla_warn") == [at(8)]
    assert queued("sla_breach") == [at(10)]


def test_a_public_reply_meets_the_first_response_and_a_note_does_not(ticket, logistics_agent, clock_time):
    clock_time.move_to(at(3))
    ticket_note(ticket=ticket, agent=logistics_agent, body="checking with DHL")
    assert clock_of(ticket).stopped_at is None

    clock_time.move_to(at(6))
    ticket_reply(ticket=ticket, agent=logistics_agent, body="It is on its way")

    assert clock_of(ticket).stopped_at == at(6)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None
    clock_time.move_to(at(30))
    assert sla_sweep().breached == 0
    assert count(ticket, EventKind.SLA_BREACHED) == 0


def test_a_system_message_does_not_count_as_a_response(ticket, clock_time):
    clock_time.move_to(at(2))
    message_post(ticket=ticket, author_kind=AuthorKind.SYSTEM, body="We got your message.")

    assert clock_of(ticket).stopped_at is None


# -- warning -------------------------------------------------------------------------------


def test_the_warning_comes_two_minutes_before_the_due_time_exactly_once(
    ticket, logistics_agent, team_lead, customer, logistics, clock_time, sent, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, actor=team_lead, assignee=logistics_agent)
    clock = clock_of(ticket)

    clock_time.move_to(at(8) - timedelta(seconds=1))
    assert sla_clock_warn(clock_id=clock.pk) is False  # too early: a task that ran early does nothing

    clock_time.move_to(at(8))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_clock_warn(clock_id=clock.pk) is True
    assert sla_clock_warn(clock_id=clock.pk) is False
    assert sla_sweep().warned == 0

    assert count(ticket, EventKind.SLA_WARNED) == 1
    clock.refresh_from_db()
    assert clock.warned_at == at(8)
    [(groups, event)] = [(g, e) for g, e in sent if e["change"] == "sla_warned"]
    # Live to the assignee and the team's inbox; never to the customer's widget.
    assert set(groups) == {agent_group(logistics_agent.pk), team_group(logistics.pk), MANAGERS_GROUP}
    assert customer_group(customer.pk) not in groups
    assert event["ticket"]["sla_due_at"] == at(10).isoformat()


def test_no_warning_for_a_clock_already_met(ticket, logistics_agent, clock_time):
    clock_time.move_to(at(5))
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Hello")
    clock_time.move_to(at(8))

    assert sla_clock_warn(clock_id=clock_of(ticket).pk) is False


# -- breach and escalation ---------------------------------------------------------------


def test_the_breach_is_recorded_once_with_its_reason_and_escalates_once(
    ticket, logistics_agent, team_lead, logistics, clock_time, sent, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, actor=team_lead, assignee=logistics_agent)
    clock = clock_of(ticket)

    clock_time.move_to(at(10) - timedelta(microseconds=1))
    assert sla_clock_breach(clock_id=clock.pk) is None  # not yet

    clock_time.move_to(at(10))
    with django_capture_on_commit_callbacks(execute=True):
        breach = sla_clock_breach(clock_id=clock.pk)
    assert breach is not None
    assert breach.reason == "first response due 2026-11-24 09:10 UTC; no public agent reply"
    assert breach.escalated_to == TicketPriority.HIGH
    assert breach.leads == (team_lead.pk,)

    # Again, from a duplicate task and a sweeper: nothing more.
    clock_time.move_to(at(11))
    assert sla_clock_breach(clock_id=clock.pk) is None
    assert sla_sweep().breached == 0

    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH  # raised one step, once
    assert ticket.sla_breached_at == at(10)  # on top of the team queue
    assert ticket.sla_due_at == at(10)  # still running: the list counts below zero
    assert count(ticket, EventKind.SLA_BREACHED) == 1
    assert ticket.events.get(kind=EventKind.SLA_BREACHED).data["reason"] == breach.reason
    assert ticket.events.get(kind=EventKind.PRIORITY_CHANGED).data["reason"].startswith("SLA breached: first response")
    escalated = ticket.events.get(kind=EventKind.ESCALATED).data
    assert (escalated["old"], escalated["new"], escalated["leads"]) == ("normal", "high", [team_lead.pk])
    [(groups, event)] = [(g, e) for g, e in sent if e["change"] == "sla_breached"]
    assert agent_group(team_lead.pk) in groups  # the lead hears of it live
    assert agent_group(logistics_agent.pk) in groups
    assert team_group(logistics.pk) in groups
    assert event["ticket"]["priority"] == "high"
    assert event["ticket"]["sla_breached_at"] == at(10).isoformat()


def test_a_reply_after_the_breach_clears_the_ticket_s_breach_mark_but_not_the_record(
    ticket, logistics_agent, clock_time
):
    clock_time.move_to(at(12))
    sla_sweep()
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Sorry for the wait")

    ticket.refresh_from_db()
    assert (ticket.sla_due_at, ticket.sla_breached_at) == (None, None)
    clock = clock_of(ticket)
    assert (clock.breached_at, clock.stopped_at) == (at(12), at(12))


def test_an_urgent_ticket_is_not_raised_further_but_leads_still_hear(ticket, team_lead, clock_time):
    ticket_set_priority(ticket=ticket, actor=team_lead, priority=TicketPriority.URGENT, reason="vip")
    clock_time.move_to(at(10))

    breach = sla_clock_breach(clock_id=clock_of(ticket).pk)

    assert breach is not None and breach.escalated_to == "" and breach.leads == (team_lead.pk,)
    assert ticket.events.get(kind=EventKind.ESCALATED).data["new"] == "urgent"


# -- pauses, reopening, changes ------------------------------------------------------------


def test_pending_pauses_the_resolution_clock_and_the_customer_s_reply_resumes_it(
    ticket, default_policy, logistics_agent, clock_time
):
    default_policy.resolution_minutes = 60
    default_policy.save()
    ticket = make_ticket(ticket.customer, ticket.team)  # opened at T0 under the new policy
    clock_time.move_to(at(5))
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Which size?")
    clock_time.move_to(at(10))
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.PENDING)

    paused = clock_of(ticket, SlaClockKind.RESOLUTION)
    assert paused.due_at is None and paused.pauses == [[at(10).isoformat(), None]]
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # nothing counts down while it waits on the customer

    clock_time.move_to(at(40))
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Size M")

    resumed = clock_of(ticket, SlaClockKind.RESOLUTION)
    assert resumed.due_at == at(90)  # 60 minutes of which 30 were paused
    assert resumed.warn_at == at(88)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.sla_due_at == at(90)
    assert at(90) in queued("sla_breach")


def test_solving_stops_every_clock(ticket, logistics_agent, clock_time):
    clock_time.move_to(at(4))
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    assert not SlaClock.objects.filter(ticket=ticket, stopped_at__isnull=True).exists()
    clock_time.move_to(at(20))
    assert sla_sweep().breached == 0


def test_a_customer_message_on_a_solved_ticket_starts_a_next_response_clock(
    ticket, default_policy, logistics_agent, clock_time
):
    default_policy.next_response_minutes = 15
    default_policy.save()
    clock_time.move_to(at(5))
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Done")
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)

    clock_time.move_to(at(30))
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="It broke again")

    clock = clock_of(ticket, SlaClockKind.NEXT_RESPONSE)
    assert (clock.started_at, clock.due_at, clock.stopped_at) == (at(30), at(45), None)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(45)

    clock_time.move_to(at(35))
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Sending a new one")
    assert clock_of(ticket, SlaClockKind.NEXT_RESPONSE).stopped_at == at(35)


def test_a_customer_message_on_a_solved_ticket_without_a_next_response_target_starts_nothing(
    ticket, logistics_agent, clock_time
):
    ticket_set_status(ticket=ticket, actor=logistics_agent, status=TicketStatus.SOLVED)
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body="Again")

    assert not SlaClock.objects.filter(ticket=ticket, kind=SlaClockKind.NEXT_RESPONSE).exists()


def test_a_priority_change_recomputes_the_due_time_from_the_stored_start(ticket, team_lead, clock_time):
    SlaPolicy.objects.create(name="High", priority=TicketPriority.HIGH, first_response_minutes=5)
    clock_time.move_to(at(1))

    ticket_set_priority(ticket=ticket, actor=team_lead, priority=TicketPriority.HIGH, reason="angry")

    clock = clock_of(ticket)
    assert (clock.started_at, clock.target_minutes, clock.due_at, clock.warn_at) == (T0, 5, at(5), at(3))
    ticket.refresh_from_db()
    assert ticket.sla_due_at == at(5)
    assert at(5) in queued("sla_breach")


def test_a_team_change_applies_the_new_team_s_policy(ticket, returns, team_lead, clock_time):
    SlaPolicy.objects.create(name="Returns", team=returns, first_response_minutes=30)

    ticket_assign(ticket=ticket, actor=team_lead, assignee=None, team=returns)

    assert clock_of(ticket).due_at == at(30)


# -- policies and business hours ---------------------------------------------------------


def test_the_most_specific_policy_wins(default_policy, logistics, returns):
    high = SlaPolicy.objects.create(name="High", priority=TicketPriority.HIGH, first_response_minutes=5)
    team = SlaPolicy.objects.create(name="Logistics", team=logistics, first_response_minutes=20)
    both = SlaPolicy.objects.create(
        name="Logistics high", team=logistics, priority=TicketPriority.HIGH, first_response_minutes=3
    )

    assert sla_policy_for(team_id=logistics.pk, priority=TicketPriority.HIGH) == both
    assert sla_policy_for(team_id=logistics.pk, priority=TicketPriority.LOW) == team
    assert sla_policy_for(team_id=returns.pk, priority=TicketPriority.HIGH) == high
    assert sla_policy_for(team_id=returns.pk, priority=TicketPriority.NORMAL) == default_policy


def test_without_any_policy_the_first_response_target_is_still_ten_minutes(default_policy, returns):
    default_policy.delete()

    policy = sla_policy_for(team_id=returns.pk, priority=TicketPriority.NORMAL)

    assert (policy.pk, policy.first_response_minutes, policy.resolution_minutes) == (None, 10, None)


def test_a_business_hours_policy_counts_over_the_weekend_in_the_team_s_time_zone(customer, logistics):
    logistics.calendar = BusinessCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", hours="Mon-Fri 09:00-18:00"
    )
    logistics.save()
    SlaPolicy.objects.create(name="Logistics", team=logistics, first_response_minutes=10, business_hours=True)
    friday_1755_berlin = datetime(2026, 11, 27, 16, 55, tzinfo=UTC)

    with time_machine.travel(friday_1755_berlin, tick=False):
        ticket = make_ticket(customer, logistics)

    clock = clock_of(ticket)
    # Five minutes on Friday, five on Monday: 09:05 in Berlin (CET, UTC+1).
    assert clock.due_at == datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
    # The warning counts business time too: Monday 09:03, not in the empty office.
    assert clock.warn_at == datetime(2026, 11, 30, 8, 3, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), tick=False):
        assert sla_sweep().breached == 0  # the weekend does not count
    with time_machine.travel(datetime(2026, 11, 30, 8, 5, tzinfo=UTC), tick=False):
        assert sla_sweep().breached == 1


# -- queues and the API ---------------------------------------------------------------------


def test_the_at_risk_and_breached_queues_follow_the_clocks(ticket, customer, logistics, logistics_agent, clock_time):
    from helpdesk.tickets.selectors import ticket_queue_counts

    clock_time.move_to(at(4))
    later = make_ticket(customer, logistics)  # due at 14 minutes
    assert ticket_queue_counts(agent=logistics_agent)["at_risk"] == 0

    clock_time.move_to(at(5))  # the first is due within SLA_AT_RISK_MINUTES (5)
    counts = ticket_queue_counts(agent=logistics_agent)
    assert (counts["at_risk"], counts["breached"]) == (1, 0)

    clock_time.move_to(at(10))
    sla_sweep()
    counts = ticket_queue_counts(agent=logistics_agent)
    assert (counts["at_risk"], counts["breached"]) == (1, 1)  # the later one is at risk now
    assert later.pk != ticket.pk


def test_the_api_shows_each_ticket_s_clock(ticket, logistics_agent, clock_time):
    from tests.conftest import api_client_for

    [item] = api_client_for(logistics_agent).get("/api/v1/tickets/").json()["results"]

    assert item["sla_due_at"] == "2026-11-24T09:10:00Z"
    assert item["sla_breached_at"] is None
