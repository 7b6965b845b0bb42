"""A conversation's mood from its customer messages' tags. Pure functions.

Each tag becomes a score in [-1, 1]: the model's confidence, signed by the
label (neutral is 0). The mood is the mean of the last few scores, each older
message counting half as much as the next one, so a conversation turns with
the customer. The trend compares the mood with the first message's score.
"""

from __future__ import annotations

from collections.abc import Sequence

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
IMPROVING, STEADY, WORSENING = "improving", "steady", "worsening"

# The newest this many customer messages make the mood.
MOOD_WINDOW = 5
# A score this far from zero is a mood; closer is neutral.
MOOD_THRESHOLD = 0.25
# The mood must move this much from the first message to be a trend.
TREND_THRESHOLD = 0.3


def score(label: str, confidence: float) -> float:
    """The signed score of one tag."""
    confidence = min(max(confidence, 0.0), 1.0)
    return {NEGATIVE: -confidence, POSITIVE: confidence}.get(label, 0.0)


def mood_score(scores: Sequence[float]) -> float | None:
    """The weighted mean of the newest MOOD_WINDOW scores (oldest first in
    ``scores``), the newest counting most; None without scores."""
    recent = list(scores)[-MOOD_WINDOW:]
    if not recent:
        return None
    weights = [0.5 ** (len(recent) - 1 - i) for i in range(len(recent))]
    return sum(w * s for w, s in zip(weights, recent, strict=True)) / sum(weights)


def mood_label(value: float | None) -> str:
    if value is None:
        return ""
    if value <= -MOOD_THRESHOLD:
        return NEGATIVE
    if value >= MOOD_THRESHOLD:
        return POSITIVE
    return NEUTRAL


def trend(first: float | None, current: float | None) -> str:
    """How the mood moved since the first customer message; "" before there are two."""
    if first is None or current is None:
        return ""
    if current - first >= TREND_THRESHOLD:
        return IMPROVING
    if first - current >= TREND_THRESHOLD:
        return WORSENING
    return STEADY


def confidently_negative(label: str, confidence: float, *, threshold: float) -> bool:
    return label == NEGATIVE and confidence >= threshold


def recovered(previous_mood: str, mood: str, *, was_ever_negative: bool) -> bool:
    """A conversation that was negative and is now positive has recovered."""
    return mood == POSITIVE and previous_mood != POSITIVE and was_ever_negative
