"""Reading weight files without running pickled code, and checking a key layout against a model.

`.safetensors` are read with safetensors; pickled `.ckpt`/`.pt`/`.pth`/`.bin` with
`torch.load(weights_only=True)` (memory-mapped when the file allows it), so a checkpoint can
hold tensors and plain containers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch


class CheckpointError(RuntimeError):
    pass


def read_checkpoint(path: str | Path) -> Mapping[str, torch.Tensor]:
    """All tensors of a .safetensors or pickled .ckpt/.pt (weights only, memory-mapped if possible)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:  # a truncated or foreign file: say which one
            raise CheckpointError(f"{path.name}: not a readable safetensors file ({exc})") from exc
    try:
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) serialisation cannot be memory-mapped
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # an UnpicklingError names what weights_only refused to run
        raise CheckpointError(f"{path.name}: not a plain weights checkpoint ({exc})") from exc
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path.name}: no state_dict inside")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def read_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Key -> shape of a weights file; safetensors headers are read without loading tensors."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    return {k: tuple(v.shape) for k, v in read_checkpoint(path).items()}


@dataclass
class LayoutReport:
    """How a checkpoint key layout maps onto a model (computed without allocating weights)."""

    consumed: int
    unused: list[str]
    unknown: list[str]
    unfilled: list[str]  # model parameters no checkpoint key fills
    mismatched: list[str]  # "key: checkpoint shape vs model shape"

    @property
    def ok(self) -> bool:
        return not (self.unknown or self.unfilled or self.mismatched)


def check_shapes(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], what: str) -> None:
    """Raise CheckpointError naming the first problem if `state` does not fill `expected` exactly."""
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(f"{what}: {len(missing)} parameters not in the checkpoint, e.g. {missing[:3]}")
    for k, v in state.items():
        if k not in expected:
            raise CheckpointError(f"{what}: key {k} has no parameter in the model")
        if tuple(expected[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{what}: {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)}; "
                                  "is the config right for this checkpoint?")
