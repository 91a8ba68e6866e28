"""Architecture and sampling settings of the Animate Anyone port (Moore-AnimateAnyone weights).

What Moore-AnimateAnyone's `scripts/pose2vid.py` runs is the default: the SD 1.5 UNet config
(`unet_base/config.json` of a models folder), the motion-module settings of
`configs/inference/inference_v2.yaml`, the pose guider hard-coded in pose2vid.py, DDIM with
v-prediction, zero-terminal-SNR betas and trailing timesteps, CFG 3.5, 30 steps, windows of 24
frames overlapping by 4. A models folder (or a parity fixture) may carry a `config.json` in the
fixture's vocabulary (`models.unet_additional_kwargs`, `models.pose_guider`,
`scheduler.noise_scheduler_kwargs`, `pipeline`) for a different (e.g. tiny) model; nothing
elsewhere in the package hard-codes a size.

This module imports neither torch nor numpy so the engine can read it without the runtime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: SD 1.5 `unet/config.json` (the values every Moore-AnimateAnyone install uses)
SD15_UNET_CONFIG: dict[str, Any] = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}

#: sd-vae-ft-mse `config.json` (diffusers AutoencoderKL)
SD_VAE_FT_MSE_CONFIG: dict[str, Any] = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 256,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}

#: sd-image-variations-diffusers `image_encoder/config.json` (transformers CLIPVisionConfig)
IMAGE_ENCODER_CONFIG: dict[str, Any] = {
    "architectures": ["CLIPVisionModelWithProjection"],
    "attention_dropout": 0.0,
    "dropout": 0.0,
    "hidden_act": "quick_gelu",
    "hidden_size": 1024,
    "image_size": 224,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 4096,
    "layer_norm_eps": 1e-05,
    "model_type": "clip_vision_model",
    "num_attention_heads": 16,
    "num_channels": 3,
    "num_hidden_layers": 24,
    "patch_size": 14,
    "projection_dim": 768,
}

#: `noise_scheduler_kwargs` of inference_v2.yaml (diffusers DDIMScheduler arguments)
SCHEDULER_KWARGS: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "linear",
    "clip_sample": False,
    "steps_offset": 1,
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": True,
    "timestep_spacing": "trailing",
}

#: the scale pose2vid's pipelines hard-code for the VAE latents (not read from the VAE config)
LATENT_SCALE = 0.18215


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MotionConfig:
    """`unet_additional_kwargs` (AnimateDiff's VanillaTemporalModule settings)."""

    resolutions: tuple[int, ...] = (1, 2, 4, 8)
    mid_block: bool = True
    decoder_only: bool = False
    heads: int = 8
    transformer_blocks: int = 1
    attention_block_types: tuple[str, ...] = ("Temporal_Self", "Temporal_Self")
    position_encoding: bool = True
    position_encoding_max_len: int = 32
    dim_div: int = 1

    @classmethod
    def from_kwargs(cls, kw: dict[str, Any]) -> "MotionConfig":
        if not kw.get("use_inflated_groupnorm", True):
            raise ConfigError("use_inflated_groupnorm=false (GroupNorm across frames) is not supported")
        if kw.get("unet_use_cross_frame_attention") or kw.get("unet_use_temporal_attention"):
            raise ConfigError("unet_use_cross_frame_attention / unet_use_temporal_attention are not supported")
        if not kw.get("use_motion_module", True):
            raise ConfigError("a UNet without motion modules is not supported")
        if kw.get("motion_module_type", "Vanilla") != "Vanilla":
            raise ConfigError(f"motion_module_type {kw['motion_module_type']!r} is not supported")
        mm = kw.get("motion_module_kwargs", {})
        types = tuple(mm.get("attention_block_types", cls.attention_block_types))
        if not 1 <= len(types) <= 2 or any(t != "Temporal_Self" for t in types):
            raise ConfigError(f"attention_block_types {list(types)} not supported (one or two Temporal_Self)")
        return cls(
            resolutions=tuple(kw.get("motion_module_resolutions", cls.resolutions)),
            mid_block=bool(kw.get("motion_module_mid_block", cls.mid_block)),
            decoder_only=bool(kw.get("motion_module_decoder_only", cls.decoder_only)),
            heads=int(mm.get("num_attention_heads", cls.heads)),
            transformer_blocks=int(mm.get("num_transformer_block", cls.transformer_blocks)),
            attention_block_types=types,
            position_encoding=bool(mm.get("temporal_position_encoding", cls.position_encoding)),
            position_encoding_max_len=int(mm.get("temporal_position_encoding_max_len",
                                                 cls.position_encoding_max_len)),
            dim_div=int(mm.get("temporal_attention_dim_div", cls.dim_div)),
        )


@dataclass(frozen=True)
class PoseGuiderConfig:
    conditioning_channels: int = 3
    block_out_channels: tuple[int, ...] = (16, 32, 96, 256)  # hard-coded in pose2vid.py


@dataclass(frozen=True)
class RunConfig:
    """Sampling defaults and the model's working frame (width x height, multiples of 8)."""

    width: int = 512
    height: int = 768
    steps: int = 30
    guidance: float = 3.5
    context_frames: int = 24
    context_overlap: int = 4
    context_stride: int = 1


@dataclass(frozen=True)
class AnimateAnyoneConfig:
    unet: dict[str, Any] = field(default_factory=lambda: dict(SD15_UNET_CONFIG))
    vae: dict[str, Any] = field(default_factory=lambda: dict(SD_VAE_FT_MSE_CONFIG))
    image_encoder: dict[str, Any] = field(default_factory=lambda: dict(IMAGE_ENCODER_CONFIG))
    motion: MotionConfig = field(default_factory=MotionConfig)
    pose_guider: PoseGuiderConfig = field(default_factory=PoseGuiderConfig)
    scheduler: dict[str, Any] = field(default_factory=lambda: dict(SCHEDULER_KWARGS))
    run: RunConfig = field(default_factory=RunConfig)
    latent_scale: float = LATENT_SCALE

    def checked(self) -> "AnimateAnyoneConfig":
        """Self, if its parts fit together (else ConfigError naming the mismatch)."""
        guider = 2 ** (len(self.pose_guider.block_out_channels) - 1)
        if guider != self.vae_factor:
            raise ConfigError(f"the pose guider downsamples by {guider} but the VAE by {self.vae_factor}")
        m = self.motion
        if m.position_encoding and self.run.context_frames > m.position_encoding_max_len:
            raise ConfigError(f"context windows of {self.run.context_frames} frames exceed the motion modules' "
                              f"position encoding ({m.position_encoding_max_len})")
        if self.run.width % self.vae_factor or self.run.height % self.vae_factor:
            raise ConfigError(f"model frame {self.run.width}x{self.run.height} is not a multiple of {self.vae_factor}")
        return self

    @property
    def base_channels(self) -> int:
        """C0: the UNet's first width, which the pose guider's features must have."""
        return int(self.unet["block_out_channels"][0])

    @property
    def vae_factor(self) -> int:
        """Pixels per latent: one 2x downsampling per VAE level but the last."""
        return 2 ** (len(self.vae["block_out_channels"]) - 1)

    def latent_size(self, height: int, width: int) -> tuple[int, int]:
        return height // self.vae_factor, width // self.vae_factor

    @classmethod
    def full(cls) -> "AnimateAnyoneConfig":
        return cls().checked()

    @classmethod
    def from_folder(cls, folder: str | Path) -> "AnimateAnyoneConfig":
        """The base models' configs (`unet_base/`, `vae/`, `image_encoder/`; the published
        values when a folder lacks one) and the optional `config.json`."""
        folder = Path(folder)
        found = {}
        for name, sub in (("unet", "unet_base"), ("vae", "vae"), ("image_encoder", "image_encoder")):
            path = folder / sub / "config.json"
            if path.is_file():
                found[name] = _read_json(path)
        cfg = cls(**found)
        extra = folder / "config.json"
        return cfg.with_overrides(_read_json(extra)) if extra.is_file() else cfg.checked()

    def with_overrides(self, raw: dict[str, Any]) -> "AnimateAnyoneConfig":
        """Settings from a config.json in the fixture's vocabulary (any section may be absent)."""
        models = raw.get("models", {})
        cfg = self
        if "unet_base_config" in models and not isinstance(models["unet_base_config"], dict):
            raise ConfigError("models.unet_base_config must be an object")
        if isinstance(models.get("unet_base_config"), dict):
            cfg = replace(cfg, unet=dict(models["unet_base_config"]))
        if "unet_additional_kwargs" in models:
            cfg = replace(cfg, motion=MotionConfig.from_kwargs(models["unet_additional_kwargs"]))
        if "pose_guider" in models:
            pg = models["pose_guider"]
            cfg = replace(cfg, pose_guider=PoseGuiderConfig(
                int(pg.get("conditioning_channels", 3)), tuple(pg.get("block_out_channels", (16, 32, 96, 256)))))
            emb = pg.get("conditioning_embedding_channels")
            if emb is not None and int(emb) != cfg.base_channels:
                raise ConfigError(f"pose guider embedding channels {emb} != UNet width {cfg.base_channels}")
        sched = raw.get("scheduler", {})
        if "noise_scheduler_kwargs" in sched:
            cfg = replace(cfg, scheduler=dict(sched["noise_scheduler_kwargs"]))
        p = raw.get("pipeline", {})
        if p:
            r = cfg.run
            cfg = replace(cfg, run=RunConfig(
                width=int(p.get("width", r.width)), height=int(p.get("height", r.height)),
                steps=int(p.get("num_inference_steps", r.steps)),
                guidance=float(p.get("guidance_scale", r.guidance)),
                context_frames=int(p.get("context_frames", r.context_frames)),
                context_overlap=int(p.get("context_overlap", r.context_overlap)),
                context_stride=int(p.get("context_stride", r.context_stride))))
        return cfg.checked()


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data
