"""Score the configured sentiment model on a labeled JSONL or CSV file, per language."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sentiment.adapter import SentimentUnavailable, sentiment_model
from sentiment.evaluation import format_scores, read_labeled_file, scores_by_language


class Command(BaseCommand):
    help = "Accuracy, macro-F1 and confusion matrix per language for a file of text,label[,lang] rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help=".jsonl (one object a line) or .csv with a header")
        parser.add_argument("--split", default=None, help="only rows whose split field is this (e.g. test)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            items = read_labeled_file(path, split=options["split"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        if not items:
            raise CommandError(f"{path} has no labeled rows")
        try:
            model = sentiment_model()
            started = time.perf_counter()
            results = model.predict([item.text for item in items])
        except SentimentUnavailable as exc:
            raise CommandError(f"sentiment model unavailable: {exc.reason}") from exc
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"model {results[0].model_name} {results[0].model_version}; {len(items)} messages in {elapsed:.1f}s"
        )
        for lang, result in scores_by_language(items, [r.label for r in results]).items():
            self.stdout.write(format_scores(lang, result))
