"""The desk's sweeper: an ordinary long-running process beside the task worker.

Each pass records the SLA warnings and breaches whose time has passed but that
no task recorded (sla_services.sla_sweep), marks agents whose desk went silent
offline (assignment_services.agents_offline_sweep), drains team queues no
trigger announced (assignment_sweep), queues a sentiment run for messages
left untagged (sentiment_services.sentiment_sweep), queues again tasks whose
worker died while running them (task_recovery.tasks_stale_requeue), and the
managers' weekly digest once it is due (reports.services.digest_schedule). Every write is a
conditional update, so any number of sweepers, and the tasks, may run at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from helpdesk.tickets.assignment_services import agents_offline_sweep, assignment_sweep
from helpdesk.tickets.sentiment_services import sentiment_sweep
from helpdesk.tickets.sla_services import sla_sweep
from helpdesk.tickets.task_recovery import tasks_stale_requeue

log = logging.getLogger("helpdesk.sweep")


def _close_stale_connections() -> None:
    # Not inside a caller's transaction (a test calling the command): closing
    # would abort it.
    if not connection.in_atomic_block:
        close_old_connections()


class Command(BaseCommand):
    verbosity = 1
    help = (
        "Record SLA warnings and breaches that are due but unrecorded, mark silent agents offline, "
        "queue again tasks whose worker died; "
        "every --every seconds until SIGTERM, or one pass with --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--every", type=float, default=15.0, help="Seconds between passes (default 15).")

    def handle(self, *args: Any, once: bool = False, every: float = 15.0, **options: Any) -> None:
        self.verbosity = int(options.get("verbosity", 1))
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds")
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            log.info("sweeper: stopping after this pass (signal %s)", signum)
            stop.set()

        if not once:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
            log.info("sweeper: a pass every %ss", every)
        while True:
            _close_stale_connections()  # a connection the database dropped while we slept
            try:
                self.sweep()
            except Exception:
                if once:
                    raise
                log.exception("sweeper: pass failed; trying again in %ss", every)
            finally:
                _close_stale_connections()
            if once or stop.wait(every):
                return

    def sweep(self) -> None:
        started = time.monotonic()
        now = timezone.now()
        sla = sla_sweep(now=now)
        offline = agents_offline_sweep(now=now)
        assigned = assignment_sweep(now=now)
        tagging = sentiment_sweep(now=now)
        requeued = len(tasks_stale_requeue(now=now))
        # Imported here: reports read tickets, so tickets import reports only at this one call.
        from helpdesk.reports.services import digest_schedule

        digest = digest_schedule(now=now)
        took = time.monotonic() - started
        summary = (
            f"warned={sla.warned} breached={sla.breached} offline={offline} assigned={assigned} "
            f"tagging_queued={tagging} tasks_requeued={requeued} digest_queued={int(digest)} seconds={took:.4f}"
        )
        if sla.warned or sla.breached or offline or assigned or tagging or requeued or digest:
            log.info("sweeper: %s", summary)
        if self.verbosity >= 2:
            self.stdout.write(summary)
