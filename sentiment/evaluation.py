"""Accuracy, macro-F1 and confusion matrices: pure functions over label lists, no model and no ORM."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sentiment.label_map import LABELS


@dataclass(frozen=True, slots=True)
class LabeledText:
    text: str
    label: str
    lang: str


@dataclass(frozen=True, slots=True)
class Scores:
    count: int
    accuracy: float
    macro_f1: float
    # confusion[gold][predicted], rows and columns in LABELS order.
    confusion: tuple[tuple[int, ...], ...]


def scores(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    index = {label: i for i, label in enumerate(LABELS)}
    matrix = [[0] * len(LABELS) for _ in LABELS]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    f1s = []
    for i in range(len(LABELS)):
        true_pos = matrix[i][i]
        predicted_i = sum(row[i] for row in matrix)
        gold_i = sum(matrix[i])
        if gold_i == 0 and predicted_i == 0:
            continue  # a label absent from both sides does not drag the mean down
        f1s.append(2 * true_pos / (predicted_i + gold_i))
    correct = sum(matrix[i][i] for i in range(len(LABELS)))
    return Scores(
        count=len(gold),
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        confusion=tuple(tuple(row) for row in matrix),
    )


def scores_by_language(items: Sequence[LabeledText], predicted: Sequence[str]) -> dict[str, Scores]:
    """Scores per language, plus "all" over every item."""
    by_lang: dict[str, tuple[list[str], list[str]]] = {}
    for item, pred in zip(items, predicted, strict=True):
        for key in (item.lang, "all"):
            gold_list, pred_list = by_lang.setdefault(key, ([], []))
            gold_list.append(item.label)
            pred_list.append(pred)
    return {lang: scores(g, p) for lang, (g, p) in sorted(by_lang.items())}


def format_scores(title: str, result: Scores) -> str:
    width = max(len(label) for label in LABELS)
    corner = "gold \\ predicted"
    lines = [
        f"{title}: n={result.count} accuracy={result.accuracy:.3f} macro-F1={result.macro_f1:.3f}",
        f"  {corner:<{width + 2}} " + " ".join(f"{label:>{width}}" for label in LABELS),
    ]
    for label, row in zip(LABELS, result.confusion, strict=True):
        lines.append(f"  {label:<{width + 2}} " + " ".join(f"{n:>{width}}" for n in row))
    return "\n".join(lines)


def read_labeled_file(path: Path, *, split: str | None = None) -> list[LabeledText]:
    """Read ``text``/``label``/``lang`` rows from JSONL (``.jsonl``) or CSV (anything else).

    ``lang`` may be missing (then "und"). With ``split`` given, rows whose ``split`` field differs are
    skipped. A row with an unknown label raises ValueError naming the line.
    """
    rows: list[dict[str, str]]
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in handle if line.strip()]
        else:
            rows = list(csv.DictReader(handle))
    items = []
    for number, row in enumerate(rows, start=1):
        if split is not None and row.get("split") != split:
            continue
        label = str(row.get("label", "")).strip().lower()
        if label not in LABELS:
            raise ValueError(f"{path}: row {number} has label {row.get('label')!r}, expected one of {LABELS}")
        items.append(LabeledText(text=str(row.get("text", "")), label=label, lang=str(row.get("lang") or "und")))
    return items
