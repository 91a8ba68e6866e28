"""Architecture and sampling settings of the ToonCrafter port.

The full ToonCrafter 512 configuration is the default. A models folder (or a parity fixture)
may carry a `config.json` in the official vocabulary (the layout of the fixture's config.json:
`model.params.unet_config.params`, `first_stage_config`, `image_proj_stage_config`,
`open_clip`, `control_stage_config`, `schedule`, `tokens`, `run`), which describes a
different (e.g. tiny) architecture. Nothing elsewhere in the package hard-codes a size:
every module is built from these dataclasses.

This module imports neither torch nor numpy so the engine can read it without the runtime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class UNetConfig:
    in_channels: int = 8
    out_channels: int = 4
    model_channels: int = 320
    attention_resolutions: tuple[int, ...] = (4, 2, 1)
    num_res_blocks: int = 2
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_head_channels: int = 64
    transformer_depth: int = 1
    context_dim: int = 1024
    use_linear: bool = True
    temporal_conv: bool = True
    temporal_attention: bool = True
    temporal_length: int = 16
    addition_attention: bool = True
    image_cross_attention: bool = True
    fs_condition: bool = True
    default_fs: int = 24
    #: text tokens at the head of the context; the rest are image tokens (per frame)
    text_context_len: int = 77
    #: image tokens per frame (Resampler queries); the official code hard-codes 16
    image_tokens_per_frame: int = 16
    #: heads of the `init_attn` temporal transformer (hard-coded 8 in the official code)
    init_attn_heads: int = 8


@dataclass(frozen=True)
class VAEConfig:
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    z_channels: int = 4
    embed_dim: int = 4
    in_channels: int = 3
    out_ch: int = 3
    #: decoder fusion attention heads x dims (hard-coded in the official decoder)
    fusion_heads: int = 8
    fusion_dim_head: int = 64


@dataclass(frozen=True)
class TextTowerConfig:
    width: int = 1024
    heads: int = 16
    layers: int = 24
    context_length: int = 77
    vocab_size: int = 49408
    mlp_ratio: float = 4.0
    embed_dim: int = 1024
    sot_id: int = 49406
    eot_id: int = 49407


@dataclass(frozen=True)
class VisionTowerConfig:
    width: int = 1280
    heads: int = 16
    layers: int = 32
    patch_size: int = 14
    image_size: int = 224
    mlp_ratio: float = 4.0
    embed_dim: int = 1024
    mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class ResamplerConfig:
    dim: int = 1024
    depth: int = 4
    dim_head: int = 64
    heads: int = 12
    num_queries: int = 16
    embedding_dim: int = 1280
    output_dim: int = 1024
    ff_mult: int = 4
    video_length: int = 16


@dataclass(frozen=True)
class ControlNetConfig:
    in_channels: int = 4
    hint_channels: int = 1
    model_channels: int = 320
    attention_resolutions: tuple[int, ...] = (4, 2, 1)
    num_res_blocks: int = 2
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_head_channels: int = 64
    transformer_depth: int = 1
    context_dim: int = 1024
    use_linear: bool = True
    hint_block_channels: tuple[int, ...] = (16, 16, 32, 32, 96, 96, 256)


@dataclass(frozen=True)
class ScheduleConfig:
    timesteps: int = 1000
    linear_start: float = 0.00085
    linear_end: float = 0.012
    zero_terminal_snr: bool = True
    scale_factor: float = 0.18215
    use_dynamic_rescale: bool = True
    base_scale: float = 0.7
    turning_step: int = 400


@dataclass(frozen=True)
class RunDefaults:
    """Sampling defaults of the reference (scripts/run.sh of the interp model)."""

    steps: int = 50
    guidance: float = 7.5
    guidance_rescale: float = 0.7
    eta: float = 1.0
    fs: int = 10
    control_scale: float = 0.6
    frames: int = 16
    height: int = 320
    width: int = 512


@dataclass(frozen=True)
class ToonCrafterConfig:
    unet: UNetConfig = field(default_factory=UNetConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    text: TextTowerConfig = field(default_factory=TextTowerConfig)
    vision: VisionTowerConfig = field(default_factory=VisionTowerConfig)
    resampler: ResamplerConfig = field(default_factory=ResamplerConfig)
    control: ControlNetConfig = field(default_factory=ControlNetConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    run: RunDefaults = field(default_factory=RunDefaults)

    @property
    def latent_size(self) -> tuple[int, int]:
        f = 2 ** (len(self.vae.ch_mult) - 1)
        return self.run.height // f, self.run.width // f

    @classmethod
    def full(cls) -> "ToonCrafterConfig":
        return cls()

    @classmethod
    def from_json_file(cls, path: str | Path) -> "ToonCrafterConfig":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ToonCrafterConfig":
        """Read the official-vocabulary config (the fixture's config.json format)."""
        base = cls()
        mp = raw.get("model", {}).get("params", {})
        u = mp.get("unet_config", {}).get("params", {})
        unet = base.unet
        if u:
            unet = UNetConfig(
                in_channels=u["in_channels"], out_channels=u["out_channels"],
                model_channels=u["model_channels"],
                attention_resolutions=tuple(u["attention_resolutions"]),
                num_res_blocks=u["num_res_blocks"], channel_mult=tuple(u["channel_mult"]),
                num_head_channels=u["num_head_channels"],
                transformer_depth=u.get("transformer_depth", 1), context_dim=u["context_dim"],
                use_linear=u.get("use_linear", True), temporal_conv=u.get("temporal_conv", True),
                temporal_attention=u.get("temporal_attention", True),
                temporal_length=u.get("temporal_length", 16),
                addition_attention=u.get("addition_attention", True),
                image_cross_attention=u.get("image_cross_attention", True),
                fs_condition=u.get("fs_condition", True), default_fs=u.get("default_fs", 24),
            )
        dd = mp.get("first_stage_config", {}).get("params", {})
        vae = base.vae
        if dd:
            d = dd["ddconfig"]
            vae = VAEConfig(ch=d["ch"], ch_mult=tuple(d["ch_mult"]), num_res_blocks=d["num_res_blocks"],
                            z_channels=d["z_channels"], embed_dim=dd.get("embed_dim", 4),
                            in_channels=d.get("in_channels", 3), out_ch=d.get("out_ch", 3))
        rp = mp.get("image_proj_stage_config", {}).get("params", {})
        res = base.resampler
        if rp:
            res = ResamplerConfig(dim=rp["dim"], depth=rp["depth"], dim_head=rp["dim_head"],
                                  heads=rp["heads"], num_queries=rp["num_queries"],
                                  embedding_dim=rp["embedding_dim"], output_dim=rp["output_dim"],
                                  ff_mult=rp.get("ff_mult", 4), video_length=rp.get("video_length", 16))
        unet = replace(unet, image_tokens_per_frame=res.num_queries)
        oc = raw.get("open_clip", {})
        tok = raw.get("tokens", {})
        text, vision = base.text, base.vision
        if oc:
            t, v = oc["text"], oc["vision"]
            text = TextTowerConfig(width=t["width"], heads=t["heads"], layers=t["layers"],
                                   context_length=t["context_length"], vocab_size=t["vocab_size"],
                                   mlp_ratio=t.get("mlp_ratio", 4.0), embed_dim=oc.get("embed_dim", 1024),
                                   sot_id=tok.get("sot_id", t["vocab_size"] - 2),
                                   eot_id=tok.get("eot_id", t["vocab_size"] - 1))
            vision = VisionTowerConfig(width=v["width"], heads=v["heads"], layers=v["layers"],
                                       patch_size=v["patch_size"], image_size=v["image_size"],
                                       mlp_ratio=v.get("mlp_ratio", 4.0), embed_dim=oc.get("embed_dim", 1024))
        unet = replace(unet, text_context_len=text.context_length)
        hc = raw.get("hardcoded_in_official_code", {})
        if "clip_mean" in hc:
            vision = replace(vision, mean=tuple(hc["clip_mean"]), std=tuple(hc["clip_std"]))
        cp = raw.get("control_stage_config", {}).get("params", {})
        control = base.control
        if cp:
            control = ControlNetConfig(
                in_channels=cp["in_channels"], hint_channels=cp["hint_channels"],
                model_channels=cp["model_channels"],
                attention_resolutions=tuple(cp["attention_resolutions"]),
                num_res_blocks=cp["num_res_blocks"], channel_mult=tuple(cp["channel_mult"]),
                num_head_channels=cp["num_head_channels"],
                transformer_depth=cp.get("transformer_depth", 1), context_dim=cp["context_dim"],
                use_linear=cp.get("use_linear_in_transformer", True),
                hint_block_channels=tuple(hc.get("controlnet_hint_block_channels",
                                                 base.control.hint_block_channels)),
            )
        s = raw.get("schedule", {})
        schedule = base.schedule
        if s or mp:
            schedule = ScheduleConfig(
                timesteps=s.get("timesteps", mp.get("timesteps", 1000)),
                linear_start=s.get("linear_start", mp.get("linear_start", 0.00085)),
                linear_end=s.get("linear_end", mp.get("linear_end", 0.012)),
                zero_terminal_snr=s.get("rescale_betas_zero_snr", mp.get("rescale_betas_zero_snr", True)),
                scale_factor=s.get("scale_factor", mp.get("scale_factor", 0.18215)),
                use_dynamic_rescale=s.get("use_dynamic_rescale", mp.get("use_dynamic_rescale", True)),
                base_scale=s.get("base_scale", mp.get("base_scale", 0.7)),
                turning_step=s.get("turning_step", 400),
            )
        r = raw.get("run", {})
        run = base.run
        if r:
            run = RunDefaults(
                steps=base.run.steps, guidance=r.get("cfg_scale", 7.5),
                guidance_rescale=r.get("guidance_rescale", 0.7), eta=r.get("eta", 1.0),
                fs=r.get("fs", 10), control_scale=r.get("control_scale", 0.6),
                frames=r.get("frames", unet.temporal_length), height=r["height"], width=r["width"],
            )
        return cls(unet=unet, vae=vae, text=text, vision=vision, resampler=res, control=control,
                   schedule=schedule, run=run)
