"""SLA timers under load: how late after its deadline each breach is recorded,
and what one sweep pass costs.

    .venv/bin/python bench/sla.py                      # 10,000 tickets, deadlines over an hour
    .venv/bin/python bench/sla.py --window-seconds 600 # the same over ten minutes

It makes a fresh database (helpdesk_sla_bench), migrates it, and opens
``--tickets`` tickets through the real SLA service (sla_ticket_opened: policy,
clock, events, the warning and breach tasks), the tickets' creation times
spaced so that their 10-minute first-response deadlines spread evenly over
``--window-seconds``. The schedule is built a day ahead and then shifted, in
one UPDATE of the clocks and their queued tasks, to start a few seconds after
the processes are up, so setup time does not count as lateness. Then it
starts ``--workers`` ``manage.py db_worker`` processes and one
``manage.py desk_sweep`` and waits for the window to pass.

Printed: breach lateness (breached_at - due_at) p50/p95/p99/max, and how
many breaches the tasks recorded versus the sweeper; warning lateness; the
cost of one sweep pass with every clock running and nothing due, and with
``--sweep-due`` clocks overdue (workers stopped, so the sweep records them).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import database_create  # noqa: E402

SECRET_KEY = "bench-only-secret-key-" + "x" * 40
TARGET = timedelta(minutes=10)
# From the processes' start to the first deadline: longer than the 2-minute
# warning margin, so the first warnings are not due before the workers run.
START_DELAY = timedelta(seconds=130)


def desk_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url,
        # Notifications reach nobody here: the in-memory layer (per process).
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def open_tickets(count: int, *, first_deadline, spacing: timedelta, subject: str) -> list[int]:
    """``count`` open tickets whose first-response deadlines are first_deadline + i * spacing."""
    from django.db import transaction

    from helpdesk.customers.models import Customer
    from helpdesk.tickets.models import Team, Ticket, TicketChannel, TicketStatus
    from helpdesk.tickets.sla_services import sla_ticket_opened

    customer = Customer.objects.get(external_id="bench")
    team = Team.objects.get(slug="general")
    tickets = Ticket.objects.bulk_create(
        Ticket(
            customer=customer,
            subject=f"{subject} {i}",
            channel=TicketChannel.CHAT,
            status=TicketStatus.NEW,
            team=team,
            created_at=first_deadline + i * spacing - TARGET,
            updated_at=first_deadline + i * spacing - TARGET,
        )
        for i in range(count)
    )
    for start in range(0, count, 500):
        with transaction.atomic():
            for ticket in tickets[start : start + 500]:
                ticket.team = team
                sla_ticket_opened(ticket=ticket, at=ticket.created_at)
    return [t.pk for t in tickets]


def shift(ticket_ids: list[int], by: timedelta) -> None:
    """Move the clocks of these tickets, and their queued timers, by ``by``."""
    from django.db.models import F
    from django_tasks_db.models import DBTaskResult

    from helpdesk.tickets.models import SlaClock, Ticket

    SlaClock.objects.filter(ticket_id__in=ticket_ids).update(
        started_at=F("started_at") + by, due_at=F("due_at") + by, warn_at=F("warn_at") + by
    )
    Ticket.objects.filter(pk__in=ticket_ids).update(sla_due_at=F("sla_due_at") + by, created_at=F("created_at") + by)
    DBTaskResult.objects.filter(task_path__startswith="helpdesk.tickets.sla_tasks.", status="READY").update(
        run_after=F("run_after") + by
    )


def sweep_seconds(repeat: int) -> list[float]:
    from helpdesk.tickets.sla_services import sla_sweep

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = sla_sweep()
        times.append(time.perf_counter() - started)
        assert result.breached == 0 and result.warned == 0, result
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--window-seconds", type=float, default=3600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-interval", type=float, default=1.0, help="db_worker --interval when idle")
    parser.add_argument("--sweep-every", type=float, default=15.0)
    parser.add_argument("--sweep-due", type=int, default=1000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    args = parser.parse_args()

    base = args.database_url or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    url = urlunsplit(urlsplit(base)._replace(path="/helpdesk_sla_bench"))
    env = desk_env(url)
    database_create(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)

    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from helpdesk.customers.models import Customer
    from helpdesk.customers.services import shop_create
    from helpdesk.tickets.models import SlaClock, SlaPolicy, Team

    shop, _ = shop_create(slug="bench", name="Bench")
    Customer.objects.create(shop=shop, external_id="bench", email="bench@example.com", name="Bench")
    Team.objects.get_or_create(slug="general", defaults={"name": "General"})
    assert SlaPolicy.objects.get(team=None, priority="").first_response_minutes == 10  # seeded by 0008

    spacing = timedelta(seconds=args.window_seconds / args.tickets)
    setup = time.perf_counter()
    ahead = timezone.now() + timedelta(days=1)
    ids = open_tickets(args.tickets, first_deadline=ahead, spacing=spacing, subject="bench")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"opened {args.tickets} tickets with clocks and timers in {time.perf_counter() - setup:.1f}s")

    idle = sweep_seconds(20)
    print(
        f"sweep, {args.tickets} clocks running, nothing due: median {statistics.median(idle) * 1000:.2f} ms, "
        f"max {max(idle) * 1000:.2f} ms"
    )

    processes = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "-v0",
                "--interval",
                str(args.worker_interval),
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(args.workers)
    ]
    processes.append(
        subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "desk_sweep", "--every", str(args.sweep_every)], cwd=ROOT, env=env
        )
    )
    try:
        first = timezone.now() + START_DELAY
        shift(ids, first - ahead)
        end = first + spacing * args.tickets
        print(
            f"deadlines from {first:%H:%M:%S} to {end:%H:%M:%S} UTC ({args.window_seconds:.0f}s); "
            f"{args.workers} workers (idle poll {args.worker_interval}s), a sweeper every {args.sweep_every}s"
        )
        while True:
            time.sleep(5)
            left = SlaClock.objects.filter(ticket_id__in=ids, breached_at__isnull=True).count()
            if left == 0 or timezone.now() > end + timedelta(seconds=max(60, args.sweep_every * 3)):
                break
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)

    clocks = list(
        SlaClock.objects.filter(ticket_id__in=ids).values_list("due_at", "breached_at", "warn_at", "warned_at")
    )
    late = [(b - d).total_seconds() for d, b, _, _ in clocks if b is not None and d is not None]
    warned = [(w2 - w1).total_seconds() for _, _, w1, w2 in clocks if w2 is not None and w1 is not None]
    from django_tasks_db.models import DBTaskResult

    by_task = DBTaskResult.objects.filter(
        task_path="helpdesk.tickets.sla_tasks.sla_breach", status="SUCCESSFUL", return_value=True
    ).count()
    print(
        f"breaches recorded: {len(late)} of {len(clocks)} "
        f"({by_task} by their task, {len(late) - by_task} by the sweeper)"
    )
    print(
        "breach lateness after the deadline: "
        f"p50 {percentile(late, 50):.3f}s, p95 {percentile(late, 95):.3f}s, "
        f"p99 {percentile(late, 99):.3f}s, max {max(late, default=float('nan')):.3f}s"
    )
    print(
        f"warnings recorded: {len(warned)}; lateness p50 {percentile(warned, 50):.3f}s, "
        f"p99 {percentile(warned, 99):.3f}s"
    )

    # One sweep recording --sweep-due overdue breaches (workers stopped).
    from helpdesk.tickets.sla_services import sla_sweep

    overdue = open_tickets(
        args.sweep_due, first_deadline=timezone.now() - timedelta(minutes=1), spacing=timedelta(0), subject="overdue"
    )
    started = time.perf_counter()
    result = sla_sweep(batch=args.sweep_due)
    took = time.perf_counter() - started
    print(
        f"sweep recording {result.breached} overdue breaches (escalation included): {took:.2f}s, "
        f"{took / max(1, result.breached) * 1000:.2f} ms each"
    )
    assert result.breached == len(overdue)


if __name__ == "__main__":
    main()
