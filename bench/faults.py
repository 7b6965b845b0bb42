"""Faults under traffic: the scenarios of tests/chat/test_faults.py with more
customers and messages, through real processes, printing what was sent,
stored and shown to each side, and how long the desk took to recover.

    .venv/bin/python bench/faults.py --customers 20 --rounds 5 --tasks 20

Scenarios: daphne SIGKILLed and restarted on its port; a private Redis
killed and restarted empty; PostgreSQL cut off by a TCP proxy for a few
seconds; a task worker SIGKILLed right after committing a survey_send,
before recording it. It makes a fresh database (helpdesk_bench_faults),
migrates it, and uses the Redis of --redis-url only for the scenarios that do
not restart Redis (that one starts its own redis-server on a free port).
docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database_create  # noqa: E402

if TYPE_CHECKING:
    from tests.faults import Tally

SHOP_ORIGIN = "http://bench-shop.example"
SCENARIOS = ("daphne", "redis", "postgres", "worker")


def setup_django(database_url: str, redis_url: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings_faults",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": f"bench-faults-{uuid.uuid4().hex[:8]}",
        "WIDGET_ALLOWED_ORIGINS": SHOP_ORIGIN,
        "CHAT_RATE_LIMIT_PER_MINUTE": "100000",
        "WIDGET_SESSION_RATE_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    return env


def chat_scenarios(env: dict[str, str], customers: int, rounds: int, logs: Path, only: set[str]) -> list[Tally]:
    from django.db import connection
    from django.test import Client

    from tests.factories import make_agent, make_shop, make_team
    from tests.faults import chat_through_fault, tally
    from tests.servers import Daphne, RedisServer, TcpProxy, test_database_url

    make_shop("acme")
    agent = make_agent("bench-agent", teams=(make_team("general"),))
    client = Client()
    client.force_login(agent.user)
    session = client.cookies["sessionid"].value
    results = []

    def run(
        name: str,
        customer_url: str,
        agent_url: str,
        breaks: Callable[[], object],
        repairs: Callable[[], object],
        **kw: Any,
    ) -> None:
        print(f"{name}...", flush=True)
        chat = asyncio.run(
            chat_through_fault(
                customer_url=customer_url,
                agent_url=agent_url,
                breaks=breaks,
                repairs=repairs,
                timeout=60,
                agent_session=session,
                shop="acme",
                origin=SHOP_ORIGIN,
                customers=customers,
                rounds=rounds,
                **kw,
            )
        )
        results.append(tally(name, chat))
        connection.close()

    if "daphne" in only:
        desk = Daphne(env=env, log=logs / "daphne.log").start()
        try:
            run("daphne SIGKILL + restart", desk.url, desk.url, desk.kill, desk.start)
        finally:
            desk.stop()

    if "redis" in only:
        redis = RedisServer().start()
        a = Daphne(env={**env, "REDIS_URL": redis.url}, log=logs / "daphne-a.log")
        b = Daphne(env={**env, "REDIS_URL": redis.url}, log=logs / "daphne-b.log")
        try:
            a.start()
            b.start()
            run("Redis killed + restarted empty", a.url, b.url, redis.kill, redis.start)
        finally:
            a.stop()
            b.stop()
            redis.kill()

    if "postgres" in only:
        db = connection.settings_dict
        proxy = TcpProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
        parts = urlsplit(test_database_url())
        proxied = urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}"))
        desk = Daphne(env={**env, "DATABASE_URL": proxied}, log=logs / "daphne-proxied.log")
        try:
            desk.start()
            run("PostgreSQL cut off 3 s", desk.url, desk.url, proxy.cut, proxy.restore, down_seconds=3)
        finally:
            desk.stop()
            proxy.stop()
    return results


def worker_scenario(env: dict[str, str], tasks: int, logs: Path) -> tuple[str, ...]:
    """``tasks`` surveys and ``tasks`` SLA breaches due; the first worker is
    killed right after committing a survey_send; a sweeper and a second worker recover."""
    from django.db import connection
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
        TicketStatus,
    )
    from helpdesk.tickets.services import ticket_set_status
    from helpdesk.tickets.sla_tasks import sla_breach
    from surveys.models import Survey, SurveyPolicy, SurveyStatus
    from surveys.services import SurveyEvent
    from tests.factories import make_customer, make_shop, make_ticket
    from tests.faults import mails_with
    from tests.servers import ManageCommand

    print("task worker SIGKILL...", flush=True)
    agent = Agent.objects.get(user__username="bench-agent")
    team = agent.teams.get()
    shop = make_shop("bench-mail")[0]
    SurveyPolicy.objects.get_or_create(
        name="Email: CSAT", defaults={"channel": TicketChannel.EMAIL, "delay_minutes": 0, "sampling_percent": 100}
    )
    surveyed = []
    for i in range(tasks):
        ticket = make_ticket(make_customer(shop, email=f"c{i}@example.com"), team, channel=TicketChannel.EMAIL)
        surveyed.append(ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED).pk)
    clocks = []
    past = timezone.now() - timedelta(minutes=1)
    for _ in range(tasks):
        ticket = make_ticket(make_customer(shop), team)
        clock = SlaClock.objects.get(ticket=ticket, kind=SlaClockKind.FIRST_RESPONSE)
        SlaClock.objects.filter(pk=clock.pk).update(due_at=past, warn_at=past - timedelta(minutes=1))
        sla_breach.enqueue(clock_id=clock.pk)
        clocks.append(clock)
    connection.close()

    mail, marker = logs / "mail", logs / "marker"
    hooks = {"FAULT_MAIL_DIR": str(mail), "FAULT_MARKER": str(marker)}
    worker_args = ("db_worker", "--no-startup-delay", "--interval", "0.2", "--queue-name", "default")
    first = ManageCommand(
        *worker_args, env={**env, **hooks, "FAULT_PAUSE_BEFORE_SUCCESS": "survey_send"}, log=logs / "worker.log"
    )
    sweeper = ManageCommand(
        "desk_sweep", "--every", "1", env={**env, **hooks, "TASK_STALE_SECONDS": "1"}, log=logs / "sweep.log"
    )
    second = ManageCommand(*worker_args, env={**env, **hooks}, log=logs / "worker.log")
    try:
        first.start()
        sweeper.start()
        while not marker.exists():
            time.sleep(0.1)
        first.kill()
        killed = time.monotonic()
        second.start()

        def settled() -> bool:
            due = DBTaskResult.objects.ready() | DBTaskResult.objects.running()
            return not due.filter(queue_name="default").exists()

        while not settled() and time.monotonic() - killed < 120:
            connection.close()
            time.sleep(0.2)
        recovery = time.monotonic() - killed
    finally:
        for process in (first, second, sweeper):
            process.stop()

    surveys = Survey.objects.filter(ticket_id__in=surveyed)
    sent_events = TicketEvent.objects.filter(ticket_id__in=surveyed, kind=SurveyEvent.SENT).count()
    emails = sum(mails_with(mail, f"X-Helpdesk-Survey: {s.pk}") for s in surveys)
    ticket_ids = [c.ticket_id for c in clocks]
    breaches = TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.SLA_BREACHED).count()
    escalations = TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.ESCALATED).count()
    opened = surveys.filter(status=SurveyStatus.PENDING).count()
    expected = 2 * tasks
    done = min(opened, tasks) + min(breaches, tasks)
    duplicates = (surveys.count() - tasks) + max(0, sent_events - tasks) + max(0, emails - tasks)
    duplicates += max(0, breaches - tasks) + max(0, escalations - tasks)
    attempts = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).values_list("worker_ids", flat=True)
    requeued = sum(len(ids) > 1 for ids in attempts)
    return (
        "worker SIGKILL after a survey_send commit",
        str(expected),
        f"{surveys.count()} surveys, {breaches} breaches",
        f"{emails} survey emails",
        f"{escalations} escalations",
        str(duplicates),
        str(expected - done),
        f"{recovery:.1f} ({requeued} task requeued)",
    )


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20, help="customers chatting with the agent (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="messages each way per phase and ticket (default 5)")
    parser.add_argument("--tasks", type=int, default=20, help="surveys and SLA breaches due (default 20 each)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    parser.add_argument(
        "--database-name", default="helpdesk_bench_faults", help="the bench's own database, DROPPED and created"
    )
    parser.add_argument(
        "--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="scenarios to run (default: all)"
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    database_url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + args.database_name))
    logs = Path(tempfile.mkdtemp(prefix="faults-bench-"))

    database_create(database_url)
    env = setup_django(database_url, args.redis_url)
    from tests.faults import Tally

    only = set(args.only)
    tallies = chat_scenarios(env, args.customers, args.rounds, logs, only)
    worker = worker_scenario(env, args.tasks, logs) if "worker" in only else None

    print()
    print(
        f"{args.customers} customers and one agent, {args.rounds} messages each way per phase and ticket; "
        f"{os.cpu_count()} CPUs; logs in {logs}"
    )
    print_table(Tally.HEADER, [t.row() for t in tallies])
    print()
    if worker is not None:
        header = ("scenario", "tasks due", "recorded", "sent", "escalations", "duplicates", "lost", "recovery s")
        print_table(header, [worker])


if __name__ == "__main__":
    main()
