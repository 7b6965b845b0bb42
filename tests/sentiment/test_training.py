"""The pure parts of training: batching order and the int8 artifact format."""

from __future__ import annotations

import random

import torch

from sentiment import artifact
from sentiment.training import _batches


def test_batches_cover_every_row_once_and_repeat_for_a_seed() -> None:
    lengths = [random.Random(1).randint(1, 64) for _ in range(1000)]

    first = _batches(lengths, 32, random.Random(13))
    again = _batches(lengths, 32, random.Random(13))

    assert first == again
    assert sorted(i for batch in first for i in batch) == list(range(1000))
    assert all(len(batch) <= 32 for batch in first)


def test_int8_packing_keeps_weights_within_half_a_step_and_vectors_exact() -> None:
    # given a matrix and a vector as in a transformer's state dict
    generator = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(64, 128, generator=generator), "b": torch.randn(128, generator=generator)}

    # when
    packed = artifact.pack_state_dict(state)
    restored = artifact.unpack_state_dict(packed)

    # then
    assert packed["w"].dtype == torch.int8
    step = state["w"].abs().amax(dim=1, keepdim=True) / 127
    assert bool(((restored["w"] - state["w"]).abs() <= step / 2 + 1e-6).all())
    assert torch.equal(restored["b"], state["b"])
    assert set(restored) == {"w", "b"}
