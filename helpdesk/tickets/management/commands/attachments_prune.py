"""Delete uploads that were never sent with a message (run daily, e.g. from cron)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from helpdesk.tickets.services import attachments_prune


class Command(BaseCommand):
    help = "Delete attachments uploaded but not sent for longer than --hours (default 24), and their files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=24, help="Keep unsent uploads this long.")

    def handle(self, *args: Any, hours: int, **options: Any) -> None:
        removed = attachments_prune(older_than=timedelta(hours=max(1, hours)))
        self.stdout.write(f"Deleted {removed} unsent attachment(s).")
