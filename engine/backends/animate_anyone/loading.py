"""Reading the Animate Anyone files into the port: key plans, unused keys, memory-lean loading.

Every file key maps to a parameter or buffer of the port, or to an explicit list of keys
the reference never uses at inference; anything else is an error. Networks are built on the
meta device and filled with `load_state_dict(assign=True)`, so every weight is allocated once,
directly in the target dtype. The same code reads the official `.pth` files
(`torch.load(weights_only=True)`), diffusers/transformers `.bin` and `.safetensors`, and
fp16 safetensors repacks with the official key names (the parity fixture is one).

Where the official files and diffusers/transformers disagree on names:
* motion modules: AnimateDiff names -> diffusers' `BasicTransformerBlock` names
  (`motion_module.motion_key_rename`); the two identical position-encoding buffers of a
  block become its one `pos_embed.pe` (checked equal);
* the VAE's pre-0.14 attention names (`query/key/value/proj_attn`) -> `to_q/to_k/to_v/to_out.0`;
* `vision_model.embeddings.position_ids` is a non-persistent buffer in transformers 5
  (recomputed, so the stored one is unused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import torch
from torch import nn

from ..common.checkpoints import CheckpointError, LayoutReport, check_shapes, read_checkpoint
from .config import AnimateAnyoneConfig
from .model_store import Installed
from .motion_module import motion_key_rename
from .pose_guider import PoseGuider
from .unet import DenoisingUNet, ReferenceNet

VAE_DEPRECATED = ((".query.", ".to_q."), (".key.", ".to_k."), (".value.", ".to_v."), (".proj_attn.", ".to_out.0."))
#: keys of the SD 1.5 UNet the ReferenceNet never built (reference_unet.pth does not hold them;
#: a full UNet state dict does)
REFERENCE_HEAD = ("conv_norm_out.", "conv_out.")


def _vae(cfg: AnimateAnyoneConfig) -> nn.Module:
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_config({k: v for k, v in cfg.vae.items() if not k.startswith("_")})


def _image_encoder(cfg: AnimateAnyoneConfig) -> nn.Module:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    conf = CLIPVisionConfig(**{k: v for k, v in cfg.image_encoder.items()
                               if k not in ("architectures", "model_type", "torch_dtype", "transformers_version")})
    conf.dtype = torch.float32
    return CLIPVisionModelWithProjection(conf)


class AnimateAnyoneModel(nn.Module):
    """The five networks of pose2vid.py."""

    def __init__(self, cfg: AnimateAnyoneConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.denoising = DenoisingUNet(cfg.unet, cfg.motion)
        self.reference = ReferenceNet(cfg.unet)
        self.pose_guider = PoseGuider(cfg.base_channels, cfg.pose_guider)
        self.vae = _vae(cfg)
        self.image_encoder = _image_encoder(cfg)


#: model part -> the official file(s) that fill it
PART_FILES = {"denoising": ("denoising_unet", "motion_module"), "reference": ("reference_unet",),
              "pose_guider": ("pose_guider",), "vae": ("vae",), "image_encoder": ("image_encoder",)}


@dataclass
class KeyPlan:
    """file key -> model key (two file keys may fill one tied model key); unused; unknown."""

    renames: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def consumed(self) -> int:
        return len(self.renames)


def plan_keys(file: str, keys: Iterable[str], model: AnimateAnyoneModel) -> KeyPlan:
    """How the keys of one official file (`NETWORKS` name, 'vae' or 'image_encoder') map onto
    the corresponding part of `model` (built on the meta device is enough)."""
    plan = KeyPlan()
    if file in ("denoising_unet", "motion_module"):
        for k in keys:
            plan.renames[k] = "unet." + (motion_key_rename(k) if ".motion_modules." in k else k)
    elif file == "reference_unet":
        params = set(model.reference.state_dict())
        last = model.reference.last_block
        dead = tuple(f"{last}.{n}." for n in ("attn1", "norm2", "attn2", "norm3", "ff"))
        dead += (last.rsplit(".transformer_blocks", 1)[0] + ".proj_out.",) + REFERENCE_HEAD
        for k in keys:
            if "unet." + k in params:
                plan.renames[k] = "unet." + k
            elif k.startswith(dead):
                plan.unused.append(k)
            else:
                plan.unknown.append(k)
    elif file == "vae":
        for k in keys:
            for old, new in VAE_DEPRECATED:
                if ".attentions." in k and old in k:
                    k_new = k.replace(old, new)
                    break
            else:
                k_new = k
            plan.renames[k] = k_new
    elif file == "image_encoder":
        params = set(model.image_encoder.state_dict())
        for k in keys:
            if k in params:
                plan.renames[k] = k
            elif k.endswith("embeddings.position_ids"):
                plan.unused.append(k)
            else:
                plan.unknown.append(k)
    elif file == "pose_guider":
        plan.renames.update({k: k for k in keys})
    else:
        raise ValueError(f"unknown file kind {file!r}")
    return plan


def build_state(files: Mapping[str, Mapping[str, torch.Tensor]], plans: Mapping[str, KeyPlan],
                dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """One part's state dict from its files (later files win on a shared key, as the reference's
    loading order makes `denoising_unet.pth` win over `motion_module.pth`); floating tensors in
    `dtype`, integer buffers as stored; tied targets must hold equal tensors."""
    out: dict[str, torch.Tensor] = {}
    sources: dict[str, str] = {}
    for name, sd in files.items():
        plan = plans[name]
        if plan.unknown:
            raise CheckpointError(f"{name}: {len(plan.unknown)} unexpected keys, e.g. {plan.unknown[:3]}")
        for src, dst in plan.renames.items():
            t = sd[src]
            t = t.to(dtype) if t.is_floating_point() else t
            if dst in out and sources[dst] == name:
                if not torch.equal(out[dst], t):
                    raise CheckpointError(f"{name}: {src} differs from the key it is tied to ({dst})")
                continue
            out[dst] = t
            sources[dst] = name
    return out


def materialize_buffers(module: nn.Module, device: torch.device | str) -> None:
    """Recreate non-persistent buffers left on the meta device by an `assign` load."""
    for mod in module.modules():
        for name, buf in list(mod._buffers.items()):
            if buf is None or not buf.is_meta:
                continue
            if name == "position_ids":
                mod._buffers[name] = torch.arange(buf.shape[-1], device=device).expand(buf.shape)
            else:
                raise CheckpointError(f"no rule to materialise buffer {name} of {type(mod).__name__}")


def _file_paths(inst: Installed) -> dict[str, Path]:
    paths = {n: p for n, p in inst.networks.items() if p is not None}
    if inst.vae is not None:
        paths["vae"] = inst.vae
    if inst.image_encoder is not None:
        paths["image_encoder"] = inst.image_encoder
    return paths


def load_model(inst: Installed, cfg: AnimateAnyoneConfig | None = None, dtype: torch.dtype = torch.float32,
               device: torch.device | str = "cpu") -> AnimateAnyoneModel:
    """All five networks from an installed folder, in `dtype` on `device` (eval mode, no grad)."""
    if not inst.ok:
        raise CheckpointError(f"{inst.folder}: missing {', '.join(inst.missing)}")
    cfg = cfg or AnimateAnyoneConfig.from_folder(inst.folder)
    with torch.device("meta"):
        model = AnimateAnyoneModel(cfg)
    paths = _file_paths(inst)
    for part, names in PART_FILES.items():
        files = {n: read_checkpoint(paths[n]) for n in names}
        plans = {n: plan_keys(n, sd.keys(), model) for n, sd in files.items()}
        module = getattr(model, part)
        state = build_state(files, plans, dtype)
        check_shapes(state, module.state_dict(), f"{part} ({', '.join(paths[n].name for n in names)})")
        module.load_state_dict(state, strict=True, assign=True)
        materialize_buffers(module, "cpu")
        del files, state
    model.to(device)
    model.eval().requires_grad_(False)
    return model


def check_layout(shapes: Mapping[str, Mapping[str, tuple[int, ...]]], cfg: AnimateAnyoneConfig
                 ) -> dict[str, LayoutReport]:
    """Compare file key -> shape layouts (one per official file, e.g. keys_full.json) with the
    port built on the meta device: per model part, what is consumed, unused, unknown, unfilled."""
    with torch.device("meta"):
        model = AnimateAnyoneModel(cfg)
    reports = {}
    for part, names in PART_FILES.items():
        params = {k: tuple(v.shape) for k, v in getattr(model, part).state_dict().items()}
        consumed, unused, unknown, mismatched, filled = 0, [], [], [], set()
        for n in names:
            plan = plan_keys(n, shapes[n], model)
            consumed += plan.consumed
            unused += plan.unused
            unknown += plan.unknown
            for src, dst in plan.renames.items():
                if dst not in params:
                    mismatched.append(f"{n}:{src}: no model key {dst}")
                elif tuple(shapes[n][src]) != params[dst]:
                    mismatched.append(f"{n}:{src}: {tuple(shapes[n][src])} vs {params[dst]}")
                filled.add(dst)
        reports[part] = LayoutReport(consumed, unused, unknown, sorted(set(params) - filled), mismatched)
    return reports
