from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sentiment.adapter import sentiment_model_reset


@pytest.fixture(autouse=True)
def _default_model(settings) -> None:
    settings.SENTIMENT_MODEL = ""
    sentiment_model_reset()


def test_sentiment_eval_prints_figures_per_language(tmp_path: Path) -> None:
    # given a small labeled file in two languages
    path = tmp_path / "messages.jsonl"
    path.write_text(
        '{"text": "Thank you, it arrived early and works perfectly!", "label": "positive", "lang": "en"}\n'
        '{"text": "Broken on arrival and still no refund.", "label": "negative", "lang": "en"}\n'
        '{"text": "תודה רבה, הכל הגיע מושלם!", "label": "positive", "lang": "he"}\n',
        encoding="utf-8",
    )
    out = StringIO()

    # when
    call_command("sentiment_eval", str(path), stdout=out)

    # then
    text = out.getvalue()
    for section in ("all: n=3", "en: n=2", "he: n=1", "macro-F1=", "gold \\ predicted"):
        assert section in text


def test_sentiment_eval_rejects_a_file_without_labels(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("text,label\n", encoding="utf-8")

    with pytest.raises(CommandError, match="no labeled rows"):
        call_command("sentiment_eval", str(path))
