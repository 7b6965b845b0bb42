"""Our own support corpus: big enough, well formed, and its held-out part kept apart."""

from __future__ import annotations

import collections

from sentiment import data


def test_corpus_sizes_and_held_out_split() -> None:
    examples = data.load_corpus()

    per_lang = collections.Counter(e.lang for e in examples)
    assert per_lang["en"] >= 300 and per_lang["he"] >= 150 and per_lang["fa"] >= 150
    held = collections.Counter((e.lang, e.label) for e in examples if e.held_out)
    assert all(
        held[(lang, label)] >= 10 for lang in ("en", "he", "fa") for label in ("negative", "neutral", "positive")
    )


def test_no_text_is_both_trained_on_and_held_out() -> None:
    examples = data.load_corpus()

    train = {e.text.strip().lower() for e in examples if not e.held_out}
    assert not [e.text for e in examples if e.held_out and e.text.strip().lower() in train]
