"""Faults during a live conversation and a running task, with real processes
on the test database: a daphne killed, Redis restarted, PostgreSQL cut off,
a task worker killed. Each ends with every stored message shown exactly once
on both sides, or with each task's side effect done exactly once.

The scenarios live in tests/faults.py; bench/faults.py runs them with more
traffic. The ORM checks run outside the scenarios' event loops."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets.models import (
    Agent,
    EventKind,
    SlaClock,
    SlaClockKind,
    TicketChannel,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.services import ticket_set_status
from helpdesk.tickets.sla_tasks import sla_breach
from helpdesk.tickets.task_recovery import tasks_stale_requeue
from surveys.models import Survey, SurveyPolicy, SurveyStatus
from surveys.services import SurveyEvent
from tests import servers
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.faults import assert_every_message_once, chat_through_fault, mails_with
from tests.servers import SHOP_ORIGIN, Daphne, ManageCommand, RedisServer, TcpProxy, shared_desk_env

pytestmark = pytest.mark.multiprocess


@pytest.fixture
def desk_env() -> dict[str, str]:
    # The scenario's agent answers every ticket on one connection.
    return shared_desk_env("faults", CHAT_RATE_LIMIT_PER_MINUTE="6000")


@pytest.fixture
def agent(transactional_db) -> Agent:
    """An agent of the general team, where widget chats open."""
    make_shop("acme")
    return make_agent("gina", teams=(make_team("general"),))


@pytest.fixture
def agent_session(agent) -> str:
    client = Client()
    client.force_login(agent.user)
    return client.cookies["sessionid"].value


@pytest.fixture
def started() -> Iterator[list[Daphne | ManageCommand]]:
    """Processes a test starts, stopped at its end whatever happened."""
    processes: list[Daphne | ManageCommand] = []
    yield processes
    for process in processes:
        process.stop()


def test_a_desk_killed_and_restarted_mid_conversation_loses_and_repeats_nothing(desk_env, agent_session, started):
    # Given a customer and an agent on the same daphne, in conversation
    desk = Daphne(env=desk_env)
    started.append(desk.start())

    # When it is SIGKILLed with messages in flight, both sides write on, and it restarts on its port
    run = asyncio.run(
        chat_through_fault(
            customer_url=desk.url,
            agent_url=desk.url,
            breaks=desk.kill,
            repairs=desk.start,
            agent_session=agent_session,
            shop="acme",
            origin=SHOP_ORIGIN,
        )
    )

    # Then both reconnect, resend their outboxes and catch up: every message once on both sides
    assert_every_message_once(run)


def test_redis_restarted_mid_conversation_costs_a_resync_not_a_message(desk_env, agent_session, started):
    # Given a customer on daphne A and the agent on daphne B, linked by a private Redis
    redis = RedisServer().start()
    env = {**desk_env, "REDIS_URL": redis.url}
    a, b = Daphne(env=env), Daphne(env=env)
    started.extend([a.start(), b.start()])

    # When Redis dies (with everything it held) mid-conversation and comes back empty
    try:
        run = asyncio.run(
            chat_through_fault(
                customer_url=a.url,
                agent_url=b.url,
                breaks=redis.kill,
                repairs=redis.start,
                agent_session=agent_session,
                shop="acme",
                origin=SHOP_ORIGIN,
            )
        )
    finally:
        redis.kill()

    # Then the notifications lost with it are fetched by sync: every message once on both sides
    assert_every_message_once(run)


def proxied_database_url(proxy: TcpProxy) -> str:
    parts = urlsplit(servers.test_database_url())
    user = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}"))


def test_a_message_sent_while_the_database_is_cut_off_is_refused_then_stored_once(desk_env, agent_session, started):
    # Given a daphne reaching PostgreSQL through a proxy, and a conversation on it
    db = connection.settings_dict
    proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
    desk = Daphne(env={**desk_env, "DATABASE_URL": proxied_database_url(proxy)})
    started.append(desk.start())

    # When the proxy resets every connection and refuses new ones for 3 s while both sides send
    try:
        run = asyncio.run(
            chat_through_fault(
                customer_url=desk.url,
                agent_url=desk.url,
                breaks=proxy.cut,
                repairs=proxy.restore,
                down_seconds=3,
                agent_session=agent_session,
                shop="acme",
                origin=SHOP_ORIGIN,
            )
        )
    finally:
        desk.stop()
        proxy.stop()

    # Then the senders were told (a retryable error, not a hang), resent with
    # the same client_msg_id once it was back, and each message is stored once
    assert "unavailable" in run.error_codes
    assert_every_message_once(run)


# The task worker.


def worker(tmp_path: Path, **env: str) -> ManageCommand:
    return ManageCommand(
        "db_worker",
        "--no-startup-delay",
        "--interval",
        "0.2",
        "--queue-name",
        "default",
        env={
            "DJANGO_SETTINGS_MODULE": "tests.settings_faults",
            "FAULT_MAIL_DIR": str(tmp_path / "mail"),
            "FAULT_MARKER": str(tmp_path / "marker"),
            **env,
        },
        log=tmp_path / "workers.log",
    )


def sweep_once(tmp_path: Path) -> None:
    """One pass of the sweeper in its own process, taking tasks RUNNING for a second as stale."""
    sweeper = ManageCommand(
        "desk_sweep", "--once", env={"TASK_STALE_SECONDS": "1"}, log=tmp_path / "sweeper.log"
    ).start()
    assert sweeper.process is not None
    assert sweeper.process.wait(timeout=30) == 0


def wait_for(condition, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def task_status(task_id: str) -> str:
    return DBTaskResult.objects.values_list("status", flat=True).get(pk=task_id)


def survey_due(agent: Agent) -> tuple[Survey, str]:
    """An email ticket just solved: its survey is scheduled and survey_send queued."""
    SurveyPolicy.objects.create(name="Email: CSAT", channel=TicketChannel.EMAIL, delay_minutes=0, sampling_percent=100)
    shop = make_shop("fault-shop")[0]
    ticket = make_ticket(make_customer(shop, email="dana@example.com"), agent.teams.get(), channel=TicketChannel.EMAIL)
    ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.SCHEDULED
    return survey, str(DBTaskResult.objects.get(task_path__endswith="survey_send").pk)


def breach_due(agent: Agent) -> tuple[SlaClock, str]:
    """A chat ticket whose first-response clock passed its due time, and its breach task."""
    shop = make_shop("fault-shop")[0]
    ticket = make_ticket(make_customer(shop), agent.teams.get())
    clock = SlaClock.objects.get(ticket=ticket, kind=SlaClockKind.FIRST_RESPONSE)
    past = timezone.now() - timedelta(minutes=1)
    SlaClock.objects.filter(pk=clock.pk).update(due_at=past, warn_at=past - timedelta(minutes=1))
    return clock, str(sla_breach.enqueue(clock_id=clock.pk).id)


@pytest.mark.parametrize("task_name", ["survey_send", "sla_breach"])
def test_a_worker_killed_inside_a_task_is_recovered_and_the_rerun_repeats_nothing(
    agent, started, tmp_path, settings, task_name
):
    # Given a task due, and a worker that will stop right after committing its
    # work, before recording the task's success
    survey, task_id = survey_due(agent) if task_name == "survey_send" else (None, "")
    clock, task_id = breach_due(agent) if task_name == "sla_breach" else (None, task_id)
    first = worker(tmp_path, FAULT_PAUSE_BEFORE_SUCCESS=task_name)
    started.append(first.start())
    marker = tmp_path / "marker"
    wait_for(lambda: marker.exists() and marker.read_text() == task_id, what="the worker never reached the task")

    # While the worker lives, recovery leaves its task alone however long it runs
    settings.TASK_STALE_SECONDS = 1
    assert tasks_stale_requeue(now=timezone.now() + timedelta(seconds=2)) == []
    assert task_status(task_id) == TaskResultStatus.RUNNING

    # When the worker is SIGKILLed there, the task stays RUNNING with its work done
    first.kill()
    assert task_status(task_id) == TaskResultStatus.RUNNING

    # Then the sweeper queues it again and another worker runs it to the end
    sweep_once(tmp_path)
    assert task_status(task_id) == TaskResultStatus.READY
    started.append(worker(tmp_path).start())
    wait_for(lambda: task_status(task_id) == TaskResultStatus.SUCCESSFUL, what="the rerun did not finish")
    task = DBTaskResult.objects.get(pk=task_id)
    assert len(task.worker_ids) == 2

    # And its side effect happened once
    if survey is not None:
        assert Survey.objects.filter(ticket_id=survey.ticket_id).count() == 1
        assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.PENDING
        assert TicketEvent.objects.filter(ticket_id=survey.ticket_id, kind=SurveyEvent.SENT).count() == 1
        assert mails_with(tmp_path / "mail", f"X-Helpdesk-Survey: {survey.pk}") == 1
        assert task.return_value is False  # the rerun found the survey sent
    if clock is not None:
        assert TicketEvent.objects.filter(ticket_id=clock.ticket_id, kind=EventKind.SLA_BREACHED).count() == 1
        assert TicketEvent.objects.filter(ticket_id=clock.ticket_id, kind=EventKind.ESCALATED).count() == 1
        clock.ticket.refresh_from_db()
        assert clock.ticket.priority == TicketPriority.HIGH  # one step up from normal, once
        assert task.return_value is False
