"""Write agents' sentiment corrections as JSONL: one labeled message a line,
in the format `manage.py sentiment_eval` and `train_sentiment` read."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.dateparse import parse_datetime

from helpdesk.tickets.selectors import sentiment_corrections


class Command(BaseCommand):
    help = "Export agents' sentiment corrections as JSONL (text, label, lang, model_label, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="output file; - (default) for standard output")
        parser.add_argument("--since", help="only corrections made at or after this ISO time")

    def handle(self, *args: Any, file: str, since: str | None, **options: Any) -> None:
        after: datetime | None = None
        if since:
            after = parse_datetime(since)
            if after is None:
                self.stderr.write(f"--since: {since!r} is not an ISO date and time")
                raise SystemExit(2)
        out = sys.stdout if file == "-" else open(file, "w", encoding="utf-8")  # noqa: SIM115
        count = 0
        try:
            for row in sentiment_corrections(since=after):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{count} corrections written")
