"""The shipped default model, for real: clear messages per supported language and awkward inputs."""

from __future__ import annotations

import time

import pytest

from sentiment.adapter import SentimentModel
from sentiment.label_map import LABELS

# Written for these tests; none of them is in sentiment/corpus/.
CLEAR_MESSAGES = [
    ("en", "Thank you so much, the parcel came early and everything is perfect!", "positive"),
    ("en", "The blender arrived broken and nobody answers my emails. Terrible.", "negative"),
    ("en", "I was charged twice and I still have no refund, this is unacceptable.", "negative"),
    ("en", "Do you ship to Portugal?", "neutral"),
    ("he", "תודה רבה, קיבלתי את החבילה והכל מושלם!", "positive"),
    ("he", "המוצר הגיע שבור ואף אחד לא עונה לי, שירות גרוע", "negative"),
    ("he", "אתם שולחים גם לנתניה?", "neutral"),
    ("fa", "خیلی ممنون، بسته رسید و همه چیز عالی است!", "positive"),
    ("fa", "کالا شکسته رسید و هیچ کس جواب نمی‌دهد، خیلی بد است", "negative"),
    ("fa", "به اصفهان هم ارسال دارید؟", "neutral"),
]

# A busy 2-core machine is slow; what matters is that a message costs bounded time, not seconds per KB.
BOUND_SECONDS = 20


@pytest.mark.parametrize(("lang", "text", "expected"), CLEAR_MESSAGES, ids=[f"{m[0]}-{m[2]}" for m in CLEAR_MESSAGES])
def test_clear_messages_get_their_label(default_model: SentimentModel, lang: str, text: str, expected: str) -> None:
    # when
    [result] = default_model.predict([text])

    # then
    assert result.label == expected, f"{lang}: {text!r} -> {result}"
    assert 0.0 < result.confidence <= 1.0


def test_a_batch_keeps_the_order_and_names_the_model(default_model: SentimentModel) -> None:
    # given messages in three scripts, mixed in one batch
    texts = [text for _, text, _ in CLEAR_MESSAGES]

    # when
    results = default_model.predict(texts)

    # then
    assert [r.label for r in results] == [expected for _, _, expected in CLEAR_MESSAGES]
    assert all(r.model_name and r.model_version == default_model.version for r in results)
    assert {r.model_name for r in results[4:]} != {results[0].model_name}, "Hebrew/Persian take the second model"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_neutral_and_certain(default_model: SentimentModel, text: str) -> None:
    [result] = default_model.predict([text])

    assert (result.label, result.confidence) == ("neutral", 1.0)


@pytest.mark.parametrize(
    "text",
    [
        "😡😡😡",
        "🙏❤️🎉",
        "📦",
        "The package arrived but החבילה שבורה و کالا خراب است",
        "שלום, my order 4471 هنوز نرسیده",
        "ok " * 34_000 + "thanks",  # 100 KB
        "החבילה " * 15_000,  # 100 KB of Hebrew
        "x" * 100_000,
    ],
    ids=["angry-emoji", "happy-emoji", "box-emoji", "mixed-3", "mixed-2", "100kb-en", "100kb-he", "100kb-one-word"],
)
def test_awkward_input_is_tagged_in_bounded_time(default_model: SentimentModel, text: str) -> None:
    # when
    started = time.perf_counter()
    [result] = default_model.predict([text])
    elapsed = time.perf_counter() - started

    # then
    assert result.label in LABELS
    assert 0.0 <= result.confidence <= 1.0
    assert elapsed < BOUND_SECONDS
