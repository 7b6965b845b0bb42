from __future__ import annotations

import pytest

from sentiment.adapter import SentimentModel, SentimentOptions


@pytest.fixture(scope="session")
def default_model() -> SentimentModel:
    """The real shipped model, loaded once for the whole run (as a worker process would)."""
    return SentimentModel.load(SentimentOptions(source="", label_map={}, batch_size=32, threads=2, max_length=128))
