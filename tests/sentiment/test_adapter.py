"""The adapter's contract: loading once, typed unavailability, label maps. Fakes only stand in for the model here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from sentiment import adapter
from sentiment.adapter import (
    SentimentModel,
    SentimentOptions,
    SentimentUnavailable,
    _Route,
    _TransformerClassifier,
    sentiment_model,
    sentiment_model_reset,
)
from sentiment.label_map import LABELS, parse_label_map
from sentiment.labels import SentimentLabel, dominant_script


def _options(source: str = "", label_map: dict[str, str] | None = None) -> SentimentOptions:
    return SentimentOptions(source=source, label_map=label_map or {}, batch_size=4, threads=1, max_length=32)


def test_label_choices_match_the_model_output_order() -> None:
    assert tuple(label.value for label in SentimentLabel) == LABELS


def test_label_map_parses_pairs_case_insensitively() -> None:
    assert parse_label_map(" LABEL_0=negative, LABEL_1 = Neutral,4 stars=positive ,") == {
        "label_0": "negative",
        "label_1": "neutral",
        "4 stars": "positive",
    }
    assert parse_label_map("") == {}


@pytest.mark.parametrize("raw", ["LABEL_0", "=negative", "LABEL_0=angry"])
def test_label_map_rejects_bad_entries(raw: str) -> None:
    with pytest.raises(ValueError, match="entry"):
        parse_label_map(raw)


def test_unmapped_model_label_is_a_typed_error_naming_the_labels() -> None:
    with pytest.raises(SentimentUnavailable, match=r"SENTIMENT_LABEL_MAP.*LABEL_2"):
        adapter._resolve_labels({0: "negative", 1: "positive", 2: "LABEL_2"}, {})


class _FakeTokenizer:
    def __call__(self, texts: list[str], **kwargs: Any) -> dict[str, torch.Tensor]:
        return {"input_ids": torch.zeros(len(texts), 1, dtype=torch.long)}


class _FiveStars(torch.nn.Module):
    """Always the same distribution over five star ratings."""

    def forward(self, input_ids: torch.Tensor) -> Any:
        logits = torch.log(torch.tensor([[0.3, 0.2, 0.1, 0.15, 0.25]])).repeat(input_ids.shape[0], 1)
        return type("Output", (), {"logits": logits})()


def test_several_model_labels_fold_into_one_of_ours() -> None:
    # given a 1-5 star model mapped as 1-2 negative, 3 neutral, 4-5 positive
    label_map = parse_label_map("1 star=negative,2 stars=negative,3 stars=neutral,4 stars=positive,5 stars=positive")
    labels = adapter._resolve_labels({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}, label_map)
    classifier = _TransformerClassifier(_FiveStars(), _FakeTokenizer(), labels, max_length=16)
    model = SentimentModel(primary=_Route(classifier, "stars"), by_script={}, version="1", batch_size=8)

    # when
    [result] = model.predict(["fine"])

    # then the two negative stars add up to 0.5, beating positive's 0.4
    assert result.label == "negative"
    assert result.confidence == pytest.approx(0.5)


class _Exploding:
    def probabilities(self, texts: list[str]) -> Any:
        raise AssertionError("the model must not be asked")


def test_empty_text_never_reaches_the_model() -> None:
    model = SentimentModel(primary=_Route(_Exploding(), "x"), by_script={}, version="1", batch_size=8)

    assert [r.label for r in model.predict(["", "  "])] == ["neutral", "neutral"]


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("hello", "latin"),
        ("שלום", "hebrew"),
        ("سلام", "arabic"),
        ("שלום hello שלום", "hebrew"),
        ("123 !!! 😀", "none"),
        ("привет", "other"),
    ],
)
def test_dominant_script(text: str, script: str) -> None:
    assert dominant_script(text) == script


def test_a_folder_without_a_model_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(SentimentUnavailable, match="could not be loaded") as caught:
        SentimentModel.load(_options(source=str(tmp_path)))
    assert str(tmp_path) in caught.value.reason


def test_a_missing_shipped_artifact_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adapter, "DEFAULT_MODEL_DIR", tmp_path)

    with pytest.raises(SentimentUnavailable, match="make train-sentiment"):
        SentimentModel.load(_options())


def test_the_model_is_loaded_once_per_process(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a load that counts its calls
    loads: list[SentimentOptions] = []

    def fake_load(cls: type[SentimentModel], options: SentimentOptions) -> SentimentModel:
        loads.append(options)
        return SentimentModel(primary=_Route(_Exploding(), "fake"), by_script={}, version="1", batch_size=1)

    monkeypatch.setattr(SentimentModel, "load", classmethod(fake_load))
    settings.SENTIMENT_MODEL = "some/model"
    settings.SENTIMENT_LABEL_MAP = "LABEL_0=negative"
    sentiment_model_reset()
    try:
        # when
        first, second = sentiment_model(), sentiment_model()
    finally:
        sentiment_model_reset()

    # then
    assert first is second
    assert len(loads) == 1
    assert loads[0].source == "some/model"
    assert loads[0].label_map == {"label_0": "negative"}


def test_settings_unavailable_model_raises_from_the_cached_accessor(settings: Any, tmp_path: Path) -> None:
    settings.SENTIMENT_MODEL = str(tmp_path)
    sentiment_model_reset()
    try:
        with pytest.raises(SentimentUnavailable):
            sentiment_model()
    finally:
        sentiment_model_reset()
