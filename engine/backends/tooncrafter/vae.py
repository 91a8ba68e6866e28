"""KL-f8 autoencoder: the encoder (with the hidden maps the dual-reference decoder needs) and
the building blocks shared with the decoder.

Frames are independent in the encoder, so it runs in frame chunks to bound memory.
Names follow `first_stage_model.*` of the official checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import VAEConfig


def vae_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = vae_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = vae_norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1)
        self.has_shortcut = in_channels != out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.has_shortcut:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    """Single-head softmax self-attention over the h*w pixels of each frame."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = vae_norm(channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        y = self.norm(x)
        q, k, v = (m(y).flatten(2).transpose(1, 2)[:, None] for m in (self.q, self.k, self.v))
        out = F.scaled_dot_product_attention(q, k, v)[:, 0]
        return x + self.proj_out(out.transpose(1, 2).reshape(n, c, h, w))


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    """One resolution level (`down.i` / `up.i`): its blocks and optional resampling."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.ModuleList()
        self.attn = nn.ModuleList()


class Mid(nn.Module):
    def __init__(self, block_1: nn.Module, attn_1: nn.Module, block_2: nn.Module) -> None:
        super().__init__()
        self.block_1, self.attn_1, self.block_2 = block_1, attn_1, block_2


class Encoder(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        ch = cfg.ch
        self.conv_in = nn.Conv2d(cfg.in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        block_in = ch
        for i, mult in enumerate(cfg.ch_mult):
            level = Level()
            block_out = ch * mult
            for _ in range(cfg.num_res_blocks):
                level.block.append(ResnetBlock(block_in, block_out))
                block_in = block_out
            if i != len(cfg.ch_mult) - 1:
                level.downsample = Downsample(block_in)
            self.down.append(level)
        self.mid = Mid(ResnetBlock(block_in, block_in), AttnBlock(block_in), ResnetBlock(block_in, block_in))
        self.norm_out = vae_norm(block_in)
        self.conv_out = nn.Conv2d(block_in, 2 * cfg.z_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns the pre-quant moments and hidden maps [level 0..n-1 outputs, conv_in output]."""
        h = self.conv_in(x)
        hidden = []
        first = h
        for level in self.down:
            for block in level.block:
                h = block(h)
            hidden.append(h)
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        h = self.conv_out(F.silu(self.norm_out(h)))
        hidden.append(first)
        return h, hidden


@dataclass
class Encoded:
    """Result of encoding a clip: latents (B, C, T, h, w) and the dual references."""

    z: torch.Tensor
    moments: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    refs: list[torch.Tensor]  # each (B, C, 2, H, W): first and last frame


class VAEEncoder(nn.Module):
    """`first_stage_model.encoder` + `quant_conv`, with the posterior sample."""

    def __init__(self, cfg: VAEConfig, scale_factor: float) -> None:
        super().__init__()
        self.encoder = Encoder(cfg)
        self.quant_conv = nn.Conv2d(2 * cfg.embed_dim, 2 * cfg.embed_dim, 1)
        self.scale_factor = scale_factor

    def forward(self, video: torch.Tensor, noise: torch.Tensor, frame_chunk: int = 4) -> Encoded:
        """video: (B, 3, T, H, W) in [-1, 1]; noise: (B*T, C, h, w) standard normal."""
        b, _, t, hh, ww = video.shape
        frames = video.transpose(1, 2).reshape(b * t, -1, hh, ww)
        dtype = self.quant_conv.weight.dtype
        moments: list[torch.Tensor] = []
        keep = {0, t - 1}
        ref_parts: list[list[torch.Tensor]] = []  # per chunk: hidden maps of first/last frames
        for s in range(0, b * t, frame_chunk):
            chunk = frames[s:s + frame_chunk].to(dtype)
            m, hidden = self.encoder(chunk)
            moments.append(self.quant_conv(m))
            idx = [i for i in range(chunk.shape[0]) if (s + i) % t in keep]
            if idx:
                ref_parts.append([hmap[idx] for hmap in hidden])
        moments_t = torch.cat(moments).float()
        mean, logvar = moments_t.chunk(2, dim=1)
        std = torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
        z = self.scale_factor * (mean + std * noise.to(mean))
        z5 = z.reshape(b, t, *z.shape[1:]).transpose(1, 2)
        refs = []
        for level in range(len(ref_parts[0])):
            maps = torch.cat([p[level] for p in ref_parts])  # (B*2, C, H, W) in frame order
            refs.append(maps.reshape(b, 2, *maps.shape[1:]).transpose(1, 2))
        return Encoded(z5, moments_t, mean, std, refs)
