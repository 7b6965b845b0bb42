from __future__ import annotations

from pathlib import Path

import pytest

from sentiment.evaluation import format_scores, read_labeled_file, scores, scores_by_language


def test_scores_counts_a_confusion_matrix_and_macro_f1() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    predicted = ["negative", "neutral", "neutral", "positive"]

    result = scores(gold, predicted)

    assert result.accuracy == 0.75
    assert result.confusion == ((1, 1, 0), (0, 1, 0), (0, 0, 1))
    # F1: negative 2/3, neutral 2/3, positive 1
    assert result.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)


def test_a_label_absent_on_both_sides_is_left_out_of_the_mean() -> None:
    assert scores(["positive"], ["positive"]).macro_f1 == 1.0


def test_read_labeled_jsonl_and_csv_per_language(tmp_path: Path) -> None:
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text(
        '{"text": "a", "label": "Positive", "lang": "en", "split": "test"}\n'
        '{"text": "b", "label": "negative", "lang": "he", "split": "train"}\n',
        encoding="utf-8",
    )
    csv_file = tmp_path / "x.csv"
    csv_file.write_text("text,label\nhello,neutral\n", encoding="utf-8")

    assert [(i.text, i.label, i.lang) for i in read_labeled_file(jsonl, split="test")] == [("a", "positive", "en")]
    assert [(i.text, i.lang) for i in read_labeled_file(csv_file)] == [("hello", "und")]
    by_lang = scores_by_language(read_labeled_file(jsonl), ["positive", "neutral"])
    assert {lang: s.accuracy for lang, s in by_lang.items()} == {"all": 0.5, "en": 1.0, "he": 0.0}
    assert "macro-F1" in format_scores("en", by_lang["en"])


def test_an_unknown_label_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nok,neutral\nhm,angry\n", encoding="utf-8")

    with pytest.raises(ValueError, match="row 2"):
        read_labeled_file(path)
