"""Parsing SENTIMENT_LABEL_MAP. No Django import: settings.py validates the value with it at start-up."""

from __future__ import annotations

# The order is the output order of every model this app trains; SentimentLabel has the same values.
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


def parse_label_map(raw: str) -> dict[str, str]:
    """``"LABEL_0=negative, LABEL_1=neutral, 4 stars=positive"`` -> {model label: our label}.

    Model labels compare case-insensitively. Raises ValueError on a malformed pair or a target
    that is not negative/neutral/positive.
    """
    mapping: dict[str, str] = {}
    for pair in raw.split(","):
        if not pair.strip():
            continue
        source, sep, target = pair.rpartition("=")
        source, target = source.strip(), target.strip().lower()
        if not sep or not source:
            raise ValueError(f"entry {pair.strip()!r} is not MODEL_LABEL=ours")
        if target not in LABELS:
            raise ValueError(f"entry {pair.strip()!r} maps to {target!r}, expected one of {', '.join(LABELS)}")
        mapping[source.lower()] = target
    return mapping
