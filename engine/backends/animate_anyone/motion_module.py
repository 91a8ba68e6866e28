"""AnimateDiff's temporal layers ("VanillaTemporalModule") as Moore-AnimateAnyone runs them.

Why not diffusers' `AnimateDiffTransformer3D`: it applies its GroupNorm to (batch, channels,
frames, h, w), i.e. across all frames of the clip, where the reference normalises every frame
on its own; that changes every output. The transformer block itself is the same computation
as diffusers' `BasicTransformerBlock` with two self-attentions (`double_self_attention`), a
sinusoidal position encoding added after each LayerNorm and a GEGLU feed-forward, so that is
what runs here; only the per-frame norm and the token layout are ours.

Key names differ from diffusers' (the loader maps them, see `motion_key_renames`):
`temporal_transformer.transformer_blocks.N.attention_blocks.{0,1}` -> `attn1/attn2`,
`norms.{0,1}` -> `norm1/norm2`, `ff_norm` -> `norm3`, and the two identical
`attention_blocks.{0,1}.pos_encoder.pe` buffers -> the block's one `pos_embed.pe`.
"""

from __future__ import annotations

import re

import torch
from diffusers.models.attention import BasicTransformerBlock
from torch import nn

from .config import MotionConfig


class TemporalTransformer(nn.Module):
    """(batch*frames, C, h, w) -> same: attention over the frames of each pixel, + residual."""

    def __init__(self, channels: int, cfg: MotionConfig, groups: int = 32) -> None:
        super().__init__()
        head_dim = channels // cfg.heads // cfg.dim_div
        inner = cfg.heads * head_dim
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(channels, inner)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(
                inner, cfg.heads, head_dim, cross_attention_dim=None, activation_fn="geglu",
                attention_bias=False, double_self_attention=len(cfg.attention_block_types) == 2,
                positional_embeddings="sinusoidal" if cfg.position_encoding else None,
                num_positional_embeddings=cfg.position_encoding_max_len if cfg.position_encoding else None,
            )
            for _ in range(cfg.transformer_blocks)
        )
        self.proj_out = nn.Linear(inner, channels)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        bf, c, h, w = x.shape
        b = bf // frames
        residual = x
        y = self.norm(x)  # per frame: each (frame, channel group) is normalised on its own
        # (b f) c h w -> (b h w) f c: one sequence of frames per pixel
        y = y.view(b, frames, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, frames, c)
        y = self.proj_in(y)
        for block in self.transformer_blocks:
            y = block(y)
        y = self.proj_out(y)
        y = y.view(b, h * w, frames, c).permute(0, 2, 3, 1).reshape(bf, c, h, w)
        return y + residual


class TemporalModule(nn.Module):
    """One motion module (the reference's VanillaTemporalModule wrapper around the transformer)."""

    def __init__(self, channels: int, cfg: MotionConfig, groups: int = 32) -> None:
        super().__init__()
        self.temporal_transformer = TemporalTransformer(channels, cfg, groups)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        return self.temporal_transformer(x, frames)


_BLOCK_RENAMES = (
    (re.compile(r"\.attention_blocks\.0\.pos_encoder\.pe$"), ".pos_embed.pe"),
    (re.compile(r"\.attention_blocks\.1\.pos_encoder\.pe$"), ".pos_embed.pe"),
    (re.compile(r"\.attention_blocks\.0\."), ".attn1."),
    (re.compile(r"\.attention_blocks\.1\."), ".attn2."),
    (re.compile(r"\.norms\.0\."), ".norm1."),
    (re.compile(r"\.norms\.1\."), ".norm2."),
    (re.compile(r"\.ff_norm\."), ".norm3."),
)


def motion_key_rename(key: str) -> str:
    """Official motion-module key -> the key of our module (same tensor)."""
    for pattern, repl in _BLOCK_RENAMES:
        key, n = pattern.subn(repl, key)
        if n and repl == ".pos_embed.pe":
            return key
    return key
