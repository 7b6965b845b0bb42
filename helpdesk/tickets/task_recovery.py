"""Tasks whose worker died.

``db_worker`` (django_tasks_db) claims a task by setting it RUNNING in a
transaction of its own, then runs it and records SUCCESSFUL or FAILED. A
worker killed in between (SIGKILL, out of memory, its machine gone) leaves the
task RUNNING for ever: the package never looks at RUNNING tasks again.

So each worker holds a PostgreSQL advisory lock named after the task it runs,
taken when the task starts and let go when it finishes (the ``task_started``
and ``task_finished`` signals). The lock belongs to the worker's database
session and ends with it: a dead worker holds none, whichever machine it ran
on. ``tasks_stale_requeue`` (run by ``manage.py desk_sweep``) puts back to
READY every task RUNNING for longer than TASK_STALE_SECONDS whose lock is
free; a free worker runs it again. A task therefore runs at least once, and
every task of the desk is written to be run again (docs/configuration.md,
"Task workers").
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.signals import task_finished, task_started
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

log = logging.getLogger(__name__)


def task_lock_key(task_id: str) -> int:
    """The advisory lock of one task: a signed 64-bit number from its UUID."""
    key = uuid.UUID(task_id).int >> 64
    return key - (1 << 64) if key >= 1 << 63 else key


def _locks_work() -> bool:
    return connection.vendor == "postgresql"


def _from_db_worker(sender: type[BaseTaskBackend] | BaseTaskBackend) -> bool:
    # The immediate backend of tests and scripts sends these signals too. The
    # worker sends task_started with the backend itself, task_finished with its class.
    backend = sender if isinstance(sender, type) else type(sender)
    return issubclass(backend, DatabaseBackend) and _locks_work()


@receiver(task_started, dispatch_uid="task_recovery_hold")
def task_lock_hold(
    sender: type[BaseTaskBackend] | BaseTaskBackend, task_result: TaskResult[Any], **kwargs: Any
) -> None:
    """In the worker, before the task runs: hold its lock (never waiting)."""
    if _from_db_worker(sender):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [task_lock_key(task_result.id)])


@receiver(task_finished, dispatch_uid="task_recovery_release")
def task_lock_release(
    sender: type[BaseTaskBackend] | BaseTaskBackend, task_result: TaskResult[Any], **kwargs: Any
) -> None:
    """In the worker, once the task's outcome is recorded: let the lock go."""
    if _from_db_worker(sender) and connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [task_lock_key(task_result.id)])


def tasks_stale_requeue(*, now: datetime | None = None) -> list[str]:
    """Put back to READY every task RUNNING for longer than TASK_STALE_SECONDS
    whose worker is gone (its lock is free); returns their ids. Each task in
    its own transaction, its row locked: a worker recording the task's end
    meanwhile waits and then wins, and so does any other sweeper.

    On SQLite (one machine, development) there are no advisory locks and the
    age alone decides: keep TASK_STALE_SECONDS above the longest task there."""
    now = now or timezone.now()
    started_before = now - timedelta(seconds=settings.TASK_STALE_SECONDS)
    candidates = list(
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=started_before)
        .order_by("started_at")
        .values_list("pk", flat=True)
    )
    requeued = []
    for task_id in candidates:
        with transaction.atomic():
            task = (
                DBTaskResult.objects.select_for_update(skip_locked=True)
                .filter(pk=task_id, status=TaskResultStatus.RUNNING, started_at__lt=started_before)
                .first()
            )
            if task is None or not _worker_gone(str(task.pk)):
                continue
            DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.READY, started_at=None)
        log.warning(
            "task %s (%s) was RUNNING since %s and its worker %s is gone: queued again",
            task.pk,
            task.task_path,
            task.started_at,
            task.worker_ids[-1] if task.worker_ids else "?",
        )
        requeued.append(str(task.pk))
    return requeued


def _worker_gone(task_id: str) -> bool:
    """True when no session holds the task's lock. The lock taken here is
    the transaction's, so it goes with the caller's commit."""
    if not _locks_work():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [task_lock_key(task_id)])
        row = cursor.fetchone()
    return bool(row and row[0])
