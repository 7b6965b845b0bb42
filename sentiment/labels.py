"""The three labels every model's output is mapped onto, and the scripts messages are routed by."""

from __future__ import annotations

import unicodedata

from django.db.models import TextChoices

from sentiment.label_map import LABELS


class SentimentLabel(TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


if tuple(label.value for label in SentimentLabel) != LABELS:  # pragma: no cover - a guard for editors
    raise AssertionError("SentimentLabel must list LABELS in the same order")


def dominant_script(text: str) -> str:
    """The writing system of most letters in ``text``: "hebrew", "arabic", "latin", "other" or "none".

    Persian is written in the Arabic script, so it counts as "arabic".
    """
    counts: dict[str, int] = {}
    for char in text[:2000]:
        if not char.isalpha():
            continue
        code = ord(char)
        if 0x0590 <= code <= 0x05FF or 0xFB1D <= code <= 0xFB4F:
            script = "hebrew"
        elif 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
            script = "arabic"
        elif code < 0x0250 or unicodedata.name(char, "").startswith("LATIN"):
            script = "latin"
        else:
            script = "other"
        counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "none"
    return max(sorted(counts), key=lambda name: counts[name])
