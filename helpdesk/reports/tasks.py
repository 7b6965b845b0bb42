"""Background work of the reports, run by the durable task queue (django-tasks,
database backend; `manage.py db_worker` runs it)."""

from __future__ import annotations

from django_tasks import task


@task(queue_name="default")
def digest_send(*, run_id: int) -> int:
    """Email the weekly digest of a DigestRun to every manager; returns how
    many were emailed. Enqueued by reports.services.digest_schedule; running
    it again for the same week emails nobody."""
    # Imported here: reports.services enqueues this task, so it imports this module.
    from helpdesk.reports.services import digest_run_send

    return digest_run_send(run_id=run_id)
