"""Test-only hooks for crashing a task worker at the worst moment, installed
in child processes by tests/settings_faults.py; the desk itself has none.

FAULT_PAUSE_BEFORE_SUCCESS=survey_send,sla_breach: the worker runs such a
task, commits its work, writes the task's id to the file FAULT_MARKER and
sleeps before recording the success, so a test can SIGKILL it there. The
task then stays RUNNING with its side effects done: a rerun must not repeat them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig


class FaultHooksConfig(AppConfig):
    name = "tests"
    label = "fault_hooks"

    def ready(self) -> None:
        names = {n for n in os.environ.get("FAULT_PAUSE_BEFORE_SUCCESS", "").split(",") if n}
        if names:
            _pause_before_success(names, Path(os.environ["FAULT_MARKER"]))


def _pause_before_success(names: set[str], marker: Path) -> None:
    from django_tasks_db.models import DBTaskResult

    record = DBTaskResult.set_successful

    def paused(self: DBTaskResult, return_value: Any) -> None:
        if self.task_path.rsplit(".", 1)[-1] in names:
            marker.write_text(str(self.pk))
            time.sleep(3600)  # until killed
        record(self, return_value)

    DBTaskResult.set_successful = paused  # type: ignore[method-assign]
