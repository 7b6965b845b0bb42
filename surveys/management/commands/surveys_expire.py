"""Mark surveys past their answering time expired (answers check the time
themselves; this keeps lists and reports tidy). Safe to run from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from surveys.services import survey_expire_due


class Command(BaseCommand):
    help = "Mark pending surveys whose time is up as expired."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{survey_expire_due()} surveys expired")
