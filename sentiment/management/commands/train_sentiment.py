"""Rebuild the shipped sentiment model (sentiment/models/default/) from the packaged data and our corpus."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sentiment.adapter import DEFAULT_MODEL_DIR


class Command(BaseCommand):
    help = "Fine-tune all-MiniLM-L6-v2 for negative/neutral/positive and fit the Hebrew/Persian head."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output", type=Path, default=DEFAULT_MODEL_DIR, help="artifact folder (default: %(default)s)"
        )
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--limit", type=int, default=None, help="at most this many packaged training rows")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--max-length", type=int, default=64)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
        parser.add_argument("--head-english", type=int, default=3000, help="English rows for the e5 head")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")

    def handle(self, *args: Any, **options: Any) -> None:
        from sentiment import data, training

        train_options = training.TrainOptions(
            output=options["output"],
            epochs=options["epochs"],
            limit=options["limit"],
            batch_size=options["batch_size"],
            max_length=options["max_length"],
            seed=options["seed"],
            threads=options["threads"],
            head_english=options["head_english"],
            progress=not options["no_progress"],
        )
        try:
            metadata = training.train(train_options, log=self.stdout.write)
        except data.DataUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {train_options.output} version {metadata['version']}")
        for lang, figures in metadata["held_out"]["shipped"].items():
            self.stdout.write(f"  held out {lang}: n={figures['n']} macro-F1={figures['macro_f1']:.3f}")
        routes = ", ".join(metadata["routes"]) or "none"
        self.stdout.write(f"  scripts routed to the e5 head: {routes}")
