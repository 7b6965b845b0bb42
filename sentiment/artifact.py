"""The shipped model's on-disk form: weight-only int8 in safetensors, so the repo carries ~23 MB, not 90.

Every large matrix is stored as int8 with one fp32 scale per row (symmetric, round to nearest);
vectors (biases, LayerNorm) stay fp32. Loading dequantizes back to an fp32 state dict that a
``transformers`` model built from the saved config takes as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

WEIGHTS_FILE = "model.int8.safetensors"
HEAD_FILE = "multilingual_head.safetensors"
METADATA_FILE = "metadata.json"
FORMAT = "helpdesk-sentiment/1"
_SCALE_SUFFIX = ".__int8_scale__"


def pack_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    packed: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        tensor = tensor.detach().float().contiguous()
        if tensor.ndim == 2 and tensor.numel() >= 4096:
            scale = tensor.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
            packed[name] = torch.round(tensor / scale).clamp(-127, 127).to(torch.int8).contiguous()
            packed[name + _SCALE_SUFFIX] = scale.squeeze(1).contiguous()
        else:
            packed[name] = tensor
    return packed


def unpack_state_dict(packed: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for name, tensor in packed.items():
        if name.endswith(_SCALE_SUFFIX):
            continue
        scale = packed.get(name + _SCALE_SUFFIX)
        state[name] = tensor.float() * scale.unsqueeze(1) if scale is not None else tensor.float()
    return state


def is_shipped_artifact(path: Path) -> bool:
    return (path / METADATA_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


def read_metadata(path: Path) -> dict[str, Any]:
    with (path / METADATA_FILE).open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path / METADATA_FILE} has format {data.get('format')!r}, expected {FORMAT!r}")
    return data
