"""The sweeper as the process operators run: it records a breach whose task
was lost, in the database the desk uses, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.tickets.models import SlaClock, SlaPolicy
from tests import servers
from tests.factories import make_ticket

pytestmark = pytest.mark.multiprocess


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_process_records_a_lost_breach_and_stops_on_sigterm(customer, logistics):
    SlaPolicy.objects.update_or_create(
        team=None, priority="", defaults={"name": "Default", "first_response_minutes": 10}
    )
    ticket = make_ticket(customer, logistics)
    # Overdue, and its timers lost: only the sweeper can record it.
    SlaClock.objects.filter(ticket=ticket).update(due_at=timezone.now() - timedelta(seconds=5))
    DBTaskResult.objects.all().delete()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test",
        "DATABASE_URL": servers.test_database_url(),  # a module attribute: pytest would collect test_*
        "REDIS_URL": "",
    }
    process = subprocess.Popen([sys.executable, "manage.py", "desk_sweep", "--every", "0.5"], cwd=servers.ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while not SlaClock.objects.filter(ticket=ticket, breached_at__isnull=False).exists():
            assert time.monotonic() < deadline, "no breach recorded"
            assert process.poll() is None, f"the sweeper exited with {process.returncode}"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)

    assert code == 0
    assert ticket.events.filter(kind="sla_breached").count() == 1
