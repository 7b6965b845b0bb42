"""Tasks whose worker died: queued again once stale, never while a live
worker holds them (helpdesk.tickets.task_recovery). The crash itself, with
real worker processes, is in tests/chat/test_faults.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets.task_recovery import task_lock_hold, task_lock_key, task_lock_release, tasks_stale_requeue
from helpdesk.tickets.tasks import assignment_run
from tests import servers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def stale_after_a_minute(settings):
    settings.TASK_STALE_SECONDS = 60


def running_task(*, minutes_ago: float) -> DBTaskResult:
    task = DBTaskResult.objects.get(pk=assignment_run.enqueue(team_id=1).id)
    task.claim("worker-1")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return task


@pytest.fixture
def other_session() -> Iterator[psycopg.Connection]:
    """Another process's database session, such as a live worker's."""
    with psycopg.connect(servers.test_database_url().replace("postgres://", "postgresql://"), autocommit=True) as conn:
        yield conn


def test_a_task_running_long_with_no_worker_is_queued_again():
    # Given a task claimed five minutes ago by a worker that died
    task = running_task(minutes_ago=5)

    # When recovery runs
    requeued = tasks_stale_requeue()

    # Then it is ready for the next worker, its first attempt still on record
    task.refresh_from_db()
    assert requeued == [str(task.pk)]
    assert task.status == TaskResultStatus.READY and task.started_at is None
    assert task.worker_ids == ["worker-1"]
    assert tasks_stale_requeue() == []


def test_a_task_whose_worker_lives_is_left_alone_however_long_it_runs(other_session):
    # Given a task running for an hour in a worker that holds its lock
    task = running_task(minutes_ago=60)
    other_session.execute("SELECT pg_advisory_lock(%s)", [task_lock_key(str(task.pk))])

    # When recovery runs, it is left alone; once that session ends, it is queued again
    assert tasks_stale_requeue() == []
    other_session.close()
    assert tasks_stale_requeue() == [str(task.pk)]


def test_a_task_that_just_started_is_left_alone():
    running_task(minutes_ago=0.5)

    assert tasks_stale_requeue() == []


def test_the_worker_holds_the_lock_from_start_to_finish(other_session):
    # Given a task the worker starts (the signals db_worker sends around it)
    task = running_task(minutes_ago=5)
    key = task_lock_key(str(task.pk))
    task_lock_hold(sender=DatabaseBackend, task_result=task.task_result)

    # Then no other session can take its lock until it finishes
    assert other_session.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (False,)
    task_lock_release(sender=DatabaseBackend, task_result=task.task_result)
    assert other_session.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone() == (True,)
