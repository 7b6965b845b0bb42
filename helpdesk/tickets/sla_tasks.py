"""SLA timers on the durable task queue (django-tasks, database backend).

helpdesk.tickets.sla_services enqueues one of each per clock start or
recompute, with ``run_after`` at the computed time, in the transaction that
changed the clock. Both re-read the clock and act only if it is still due, so
stale, duplicate and late runs are harmless; ``manage.py desk_sweep`` catches
anything whose task was lost.
"""

from __future__ import annotations

from django_tasks import task


@task()
def sla_warn(*, clock_id: int) -> bool:
    from helpdesk.tickets.sla_services import sla_clock_warn  # it imports this module

    return sla_clock_warn(clock_id=clock_id)


@task()
def sla_breach(*, clock_id: int) -> bool:
    from helpdesk.tickets.sla_services import sla_clock_breach

    return sla_clock_breach(clock_id=clock_id) is not None
