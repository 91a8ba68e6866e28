"""Reading checkpoints into the port: key plan, unused keys, memory-lean loading.

`plan_keys` maps every checkpoint key to a parameter of the port (or to the diffusion schedule)
or to an explicit list of keys the reference never uses at inference; anything else is an error.
Models are built on the meta device and filled with `load_state_dict(assign=True)`, so the
weights are allocated once, directly in the target dtype and device.

Pickled checkpoints are read with `torch.load(weights_only=True)`: no pickled code ever runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import torch
from torch import nn

from ..common.checkpoints import (  # noqa: F401  (CheckpointError, read_checkpoint re-exported)
    CheckpointError, LayoutReport, check_shapes, read_checkpoint)
from .clip import TextTower, VisionTower, text_key_map, vision_key_map
from .config import ToonCrafterConfig
from .decoder import DualRefDecoder
from .resampler import Resampler
from .sampler import DiffusionSchedule
from .sketch_encoder import SketchEncoder
from .unet import UNet3D
from .vae import VAEEncoder

SCHEDULE_USED = ("alphas_cumprod", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod", "scale_arr")
SCHEDULE_UNUSED = ("betas", "alphas_cumprod_prev", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
                   "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
                   "posterior_mean_coef1", "posterior_mean_coef2")
PREFIXES = {
    "model.diffusion_model.": "unet.",
    "first_stage_model.encoder.": "vae_encoder.encoder.",
    "first_stage_model.quant_conv.": "vae_encoder.quant_conv.",
    "first_stage_model.decoder.": "decoder.",
    "image_proj_model.": "resampler.",
}
UNUSED_PREFIXES = ("first_stage_model.post_quant_conv.",)


class ToonCrafterModel(nn.Module):
    """Everything of `model.ckpt` that inference uses."""

    def __init__(self, cfg: ToonCrafterConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.unet = UNet3D(cfg.unet)
        self.vae_encoder = VAEEncoder(cfg.vae, cfg.schedule.scale_factor)
        self.decoder = DualRefDecoder(cfg.vae)
        self.text = TextTower(cfg.text)
        self.vision = VisionTower(cfg.vision)
        self.resampler = Resampler(cfg.resampler)
        self.schedule: DiffusionSchedule | None = None


@dataclass
class KeyPlan:
    """checkpoint key -> port key (or (port key, third of a fused in_proj)); unused; unknown."""

    renames: dict[str, str] = field(default_factory=dict)
    splits: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    schedule: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def consumed(self) -> int:
        return len(self.renames) + len(self.splits) + len(self.schedule)

    def targets(self) -> set[str]:
        out = set(self.renames.values())
        for parts in self.splits.values():
            out.update(p for p, _ in parts)
        return out


def plan_model_keys(keys: Iterable[str], cfg: ToonCrafterConfig) -> KeyPlan:
    keys = list(keys)
    plan = KeyPlan()
    t_plain, t_split, t_unused = text_key_map(cfg.text)
    v_plain, v_split, v_unused = vision_key_map(cfg.vision)
    plain = {**t_plain, **v_plain}
    splits = {**t_split, **v_split}
    unused = set(t_unused) | set(v_unused) | set(SCHEDULE_UNUSED)
    for k in keys:
        if k in SCHEDULE_USED:
            plan.schedule.append(k)
        elif k in plain:
            plan.renames[k] = plain[k]
        elif k in splits:
            plan.splits[k] = splits[k]
        elif k in unused or k.startswith(UNUSED_PREFIXES):
            plan.unused.append(k)
        else:
            for src, dst in PREFIXES.items():
                if k.startswith(src):
                    plan.renames[k] = dst + k[len(src):]
                    break
            else:
                plan.unknown.append(k)
    return plan


def plan_sketch_keys(keys: Iterable[str]) -> KeyPlan:
    plan = KeyPlan()
    for k in keys:
        plan.renames[k] = k
    return plan


def build_state_dict(sd: Mapping[str, torch.Tensor], plan: KeyPlan, dtype: torch.dtype,
                     device: torch.device | str) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for src, dst in plan.renames.items():
        out[dst] = sd[src].to(device=device, dtype=dtype)
    for src, parts in plan.splits.items():
        chunks = sd[src].chunk(3, dim=0)
        for dst, j in parts:
            out[dst] = chunks[j].to(device=device, dtype=dtype).clone()
    return out


def materialize_buffers(model: nn.Module, device: torch.device | str, force: bool = False) -> None:
    """Recreate non-persistent buffers left on the meta device after an `assign` load
    (`force`: also those `to_empty` left uninitialised)."""
    for mod in model.modules():
        for name, buf in list(mod._buffers.items()):
            if buf is None or name not in mod._non_persistent_buffers_set or not (buf.is_meta or force):
                continue
            if name == "position_ids":
                new = torch.arange(buf.shape[-1], device=device).expand(buf.shape)
            elif isinstance(mod, VisionTower) and name in ("mean", "std"):
                new = torch.tensor(getattr(mod.cfg, name), device=device).view(1, 3, 1, 1)
            else:
                raise CheckpointError(f"no rule to materialise buffer {name} of {type(mod).__name__}")
            mod._buffers[name] = new


def _load_into(model: nn.Module, sd: Mapping[str, torch.Tensor], plan: KeyPlan, dtype: torch.dtype,
               device: torch.device | str, what: str) -> None:
    if plan.unknown:
        raise CheckpointError(f"{what}: {len(plan.unknown)} unexpected keys, e.g. {plan.unknown[:3]}")
    state = build_state_dict(sd, plan, dtype, device)
    check_shapes(state, model.state_dict(), what)
    model.load_state_dict(state, strict=True, assign=True)
    materialize_buffers(model, device)
    model.eval().requires_grad_(False)


def load_model(path: str | Path, cfg: ToonCrafterConfig, dtype: torch.dtype = torch.float32,
               device: torch.device | str = "cpu") -> ToonCrafterModel:
    sd = read_checkpoint(path)
    plan = plan_model_keys(sd.keys(), cfg)
    with torch.device("meta"):
        model = ToonCrafterModel(cfg)
    _load_into(model, sd, plan, dtype, device, Path(path).name)
    model.schedule = DiffusionSchedule.from_buffers({k: sd[k] for k in plan.schedule}, cfg.schedule)
    return model


def place_for_inference(model: ToonCrafterModel, device: torch.device | str) -> None:
    """UNet and VAE on the device; the text/vision towers and the Resampler stay on the CPU
    and visit the device only while the context is built (the pipeline moves them)."""
    for part in (model.unet, model.vae_encoder, model.decoder):
        part.to(device)


def load_sketch_encoder(path: str | Path, cfg: ToonCrafterConfig, dtype: torch.dtype = torch.float32,
                        device: torch.device | str = "cpu") -> SketchEncoder:
    sd = read_checkpoint(path)
    with torch.device("meta"):
        model = SketchEncoder(cfg.control)
    _load_into(model, sd, plan_sketch_keys(sd.keys()), dtype, device, Path(path).name)
    return model


def check_layout(shapes: Mapping[str, tuple[int, ...]], cfg: ToonCrafterConfig, sketch: bool = False) -> LayoutReport:
    """Compare a checkpoint's key->shape layout with the port built on the meta device."""
    with torch.device("meta"):
        model: nn.Module = SketchEncoder(cfg.control) if sketch else ToonCrafterModel(cfg)
    params = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    plan = plan_sketch_keys(shapes) if sketch else plan_model_keys(shapes, cfg)
    mismatched = []
    for src, dst in plan.renames.items():
        if dst not in params:
            mismatched.append(f"{src}: no port parameter {dst}")
        elif tuple(shapes[src]) != params[dst]:
            mismatched.append(f"{src}: {tuple(shapes[src])} vs {params[dst]}")
    for src, parts in plan.splits.items():
        s = tuple(shapes[src])
        third = (s[0] // 3,) + s[1:]
        for dst, _ in parts:
            if params.get(dst) != third:
                mismatched.append(f"{src}: third {third} vs {params.get(dst)}")
    unfilled = sorted(set(params) - plan.targets())
    return LayoutReport(plan.consumed, plan.unused, plan.unknown, unfilled, mismatched)
