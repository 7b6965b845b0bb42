"""Durable SLA timers: tasks that run twice, early, late, or alongside the
sweeper record one breach; a worker restarted at the deadline records exactly
one; the sweeper catches a breach whose task was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets.models import EventKind, SlaClock, SlaPolicy, Ticket, TicketPriority
from helpdesk.tickets.services import ticket_reply
from helpdesk.tickets.sla_services import sla_sweep
from helpdesk.tickets.sla_tasks import sla_breach, sla_warn
from tests.factories import make_ticket

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BREACH_TASK = "helpdesk.tickets.sla_tasks.sla_breach"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def default_policy(db) -> SlaPolicy:
    policy, _ = SlaPolicy.objects.update_or_create(
        team=None, priority="", defaults={"name": "Default", "first_response_minutes": 10, "warn_before_minutes": 2}
    )
    return policy


@pytest.fixture
def clock_time():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticket(clock_time, customer, logistics) -> Ticket:
    return make_ticket(customer, logistics)


def breaches(ticket: Ticket) -> int:
    return ticket.events.filter(kind=EventKind.SLA_BREACHED).count()


def the_clock(ticket: Ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket)


def test_the_breach_task_running_twice_records_one_breach(ticket, clock_time):
    clock_time.move_to(at(10))

    assert sla_breach.call(clock_id=the_clock(ticket).pk) is True
    assert sla_breach.call(clock_id=the_clock(ticket).pk) is False

    assert breaches(ticket) == 1
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH


def test_the_sweeper_and_the_task_at_once_record_one_breach(ticket, clock_time):
    clock_time.move_to(at(10) + timedelta(seconds=3))

    swept = sla_sweep()
    ran = sla_breach.call(clock_id=the_clock(ticket).pk)

    assert (swept.breached, ran) == (1, False)
    assert breaches(ticket) == 1
    assert ticket.events.filter(kind=EventKind.ESCALATED).count() == 1


def test_tasks_that_run_early_or_after_the_reply_do_nothing(ticket, logistics_agent, clock_time):
    clock = the_clock(ticket)
    clock_time.move_to(at(5))
    assert sla_warn.call(clock_id=clock.pk) is False  # early
    assert sla_breach.call(clock_id=clock.pk) is False
    ticket_reply(ticket=ticket, agent=logistics_agent, body="On it")

    clock_time.move_to(at(10))
    assert sla_warn.call(clock_id=clock.pk) is False  # met: nothing to warn of
    assert sla_breach.call(clock_id=clock.pk) is False
    assert breaches(ticket) == 0


def test_the_sweeper_catches_a_breach_whose_task_was_lost(ticket, clock_time):
    DBTaskResult.objects.all().delete()  # the queue lost the timers
    clock_time.move_to(at(10) + timedelta(seconds=20))

    result = sla_sweep()

    assert (result.warned, result.breached) == (0, 1)  # past due: the breach, no late warning
    assert the_clock(ticket).breached_at == at(10) + timedelta(seconds=20)
    assert breaches(ticket) == 1


def test_the_sweeper_gives_a_warning_whose_task_was_lost(ticket, clock_time):
    DBTaskResult.objects.all().delete()
    clock_time.move_to(at(9))

    assert sla_sweep().warned == 1
    assert sla_sweep().warned == 0
    assert ticket.events.filter(kind=EventKind.SLA_WARNED).count() == 1


def test_the_sweep_command_runs_one_pass(ticket, clock_time):
    clock_time.move_to(at(11))

    call_command("desk_sweep", "--once")

    assert breaches(ticket) == 1


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0.01", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_worker_restarted_at_the_deadline_records_exactly_one_breach(customer, logistics):
    # Given a ticket whose first-response timers are queued
    with time_machine.travel(T0, tick=False) as clock_time:
        ticket = make_ticket(customer, logistics)

        # When the deadline comes, a worker runs the breach task...
        clock_time.move_to(at(10))
        run_worker()
        assert breaches(ticket) == 1
        task = DBTaskResult.objects.get(task_path=BREACH_TASK)
        assert task.status == TaskResultStatus.SUCCESSFUL

        # ...but dies before recording that it ran: the task is queued again,
        # a restarted worker runs it again, and a sweeper passes too.
        DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.READY, finished_at=None)
        clock_time.move_to(at(10) + timedelta(seconds=5))
        run_worker()
        sla_sweep()

    # Then there is one breach, one escalation, one priority step
    assert breaches(ticket) == 1
    assert ticket.events.filter(kind=EventKind.ESCALATED).count() == 1
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.HIGH
    assert the_clock(ticket).breached_at == at(10)


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_died_holding_the_task_is_covered_by_the_sweeper(customer, logistics):
    with time_machine.travel(T0, tick=False) as clock_time:
        ticket = make_ticket(customer, logistics)
        # The worker claimed the breach task at the deadline and died inside
        # it: its transaction rolled back, the task stays "running" for ever.
        clock_time.move_to(at(10))
        DBTaskResult.objects.filter(task_path=BREACH_TASK).update(status=TaskResultStatus.RUNNING, started_at=at(10))
        run_worker()  # a restarted worker never takes a running task
        assert breaches(ticket) == 0

        clock_time.move_to(at(10) + timedelta(seconds=15))
        call_command("desk_sweep", "--once")
        call_command("desk_sweep", "--once")  # a second sweeper

    assert breaches(ticket) == 1
    assert the_clock(ticket).breached_at == at(10) + timedelta(seconds=15)


def test_a_timer_scheduled_for_later_is_not_counted_as_waiting_since_it_was_queued(db):
    from helpdesk.health import _task_queue

    with time_machine.travel(T0, tick=False) as clock_time:
        sla_breach.using(run_after=at(60)).enqueue(clock_id=0)
        clock_time.move_to(at(60) + timedelta(seconds=10))

        health = _task_queue()

    assert (health["ok"], health["waiting"], health["oldest_waiting_seconds"]) == (True, 1, 10)


def test_a_clock_that_fails_does_not_stop_the_sweep(ticket, customer, logistics, clock_time, monkeypatch):
    from django.db import DatabaseError

    from helpdesk.tickets import sla_services

    other = make_ticket(customer, logistics)
    failing, real = the_clock(ticket).pk, sla_services.sla_clock_breach

    def flaky(*, clock_id, now):
        if clock_id == failing:
            raise DatabaseError("deadlock detected")
        return real(clock_id=clock_id, now=now)

    monkeypatch.setattr(sla_services, "sla_clock_breach", flaky)
    clock_time.move_to(at(11))

    assert sla_sweep().breached == 1
    assert (breaches(ticket), breaches(other)) == (0, 1)  # the failed one is tried again next pass
