"""The 3D denoising UNet (spatial + temporal layers, fps conditioning, image cross-attention).

Frames travel as a (B*T, C, H, W) batch through the 2D layers; temporal layers reshape to
(B, C, T, H, W). Attribute names mirror the official checkpoint, including its misspelled
`temopral_conv`, so `model.diffusion_model.*` loads by name.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention import SpatialTransformer, TemporalTransformer
from .config import UNetConfig


def group_norm_f32(norm: nn.GroupNorm, x: torch.Tensor) -> torch.Tensor:
    return F.group_norm(x.float(), norm.num_groups, norm.weight.float(), norm.bias.float(),
                        norm.eps).type(x.dtype)


class Norm32(nn.GroupNorm):
    """32-group GroupNorm computed in float32 whatever the parameter/activation dtype."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__(32, channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return group_norm_f32(self, x)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: int = 10000) -> torch.Tensor:
    """Sinusoidal embedding, cosines first (the reference ordering)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[:, None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class TemporalConvBlock(nn.Module):
    """Four (3,1,1) temporal convolutions with a residual connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k, p = (3, 1, 1), (1, 0, 0)
        self.conv1 = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Conv3d(channels, channels, k, padding=p))
        self.conv2 = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Dropout(0.0), nn.Conv3d(channels, channels, k, padding=p))
        self.conv3 = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Dropout(0.0), nn.Conv3d(channels, channels, k, padding=p))
        self.conv4 = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Dropout(0.0), nn.Conv3d(channels, channels, k, padding=p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv4(self.conv3(self.conv2(self.conv1(x))))


class ResBlock(nn.Module):
    """Timestep-conditioned residual block, optionally followed by a TemporalConvBlock."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int, temporal_conv: bool) -> None:
        super().__init__()
        self.in_layers = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out_channels))
        self.out_layers = nn.Sequential(Norm32(out_channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = (nn.Identity() if channels == out_channels
                                else nn.Conv2d(channels, out_channels, 1))
        if temporal_conv:
            self.temopral_conv = TemporalConvBlock(out_channels)
        self.has_temporal = temporal_conv

    def forward(self, x: torch.Tensor, emb: torch.Tensor, frames: int) -> torch.Tensor:
        h = self.in_layers(x)
        h = h + self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        h = self.out_layers(h)
        h = self.skip_connection(x) + h
        if self.has_temporal and frames:
            n, c, hh, ww = h.shape
            v = h.view(n // frames, frames, c, hh, ww).transpose(1, 2)
            v = self.temopral_conv(v)
            h = v.transpose(1, 2).reshape(n, c, hh, ww)
        return h


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Block(nn.ModuleList):
    """One `input_blocks[i]` / `output_blocks[i]` entry: dispatches on layer type."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor, context: torch.Tensor | None,
                frames: int) -> torch.Tensor:
        for layer in self:
            if isinstance(layer, ResBlock):
                x = layer(x, emb, frames)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            elif isinstance(layer, TemporalTransformer):
                n, c, h, w = x.shape
                v = x.view(n // frames, frames, c, h, w).transpose(1, 2)
                x = layer(v).transpose(1, 2).reshape(n, c, h, w)
            else:
                x = layer(x)
        return x


def _heads(ch: int, num_head_channels: int) -> tuple[int, int]:
    return ch // num_head_channels, num_head_channels


class UNet3D(nn.Module):
    """The ToonCrafter denoiser: v-prediction from (noisy latent ++ concat condition)."""

    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        mc = cfg.model_channels
        ted = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, ted), nn.SiLU(), nn.Linear(ted, ted))
        if cfg.fs_condition:
            self.fps_embedding = nn.Sequential(nn.Linear(mc, ted), nn.SiLU(), nn.Linear(ted, ted))

        def attn_layers(ch: int) -> list[nn.Module]:
            heads, dh = _heads(ch, cfg.num_head_channels)
            out: list[nn.Module] = [SpatialTransformer(
                ch, heads, dh, cfg.transformer_depth, cfg.context_dim, cfg.use_linear,
                cfg.image_cross_attention, cfg.text_context_len)]
            if cfg.temporal_attention:
                out.append(TemporalTransformer(ch, heads, dh, cfg.transformer_depth, cfg.use_linear))
            return out

        self.input_blocks = nn.ModuleList([Block([nn.Conv2d(cfg.in_channels, mc, 3, padding=1)])])
        if cfg.addition_attention:
            self.init_attn = Block([TemporalTransformer(mc, cfg.init_attn_heads, cfg.num_head_channels,
                                                        cfg.transformer_depth, use_linear=False)])
        chans = [mc]
        ch, ds = mc, 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, ted, mult * mc, cfg.temporal_conv)]
                ch = mult * mc
                if ds in cfg.attention_resolutions:
                    layers += attn_layers(ch)
                self.input_blocks.append(Block(layers))
                chans.append(ch)
            if level != len(cfg.channel_mult) - 1:
                self.input_blocks.append(Block([Downsample(ch)]))
                chans.append(ch)
                ds *= 2
        mid: list[nn.Module] = [ResBlock(ch, ted, ch, cfg.temporal_conv)]
        mid += attn_layers(ch)
        mid.append(ResBlock(ch, ted, ch, cfg.temporal_conv))
        self.middle_block = Block(mid)
        self.output_blocks = nn.ModuleList()
        for level, mult in list(enumerate(cfg.channel_mult))[::-1]:
            for i in range(cfg.num_res_blocks + 1):
                layers = [ResBlock(ch + chans.pop(), ted, mult * mc, cfg.temporal_conv)]
                ch = mult * mc
                if ds in cfg.attention_resolutions:
                    layers += attn_layers(ch)
                if level and i == cfg.num_res_blocks:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.output_blocks.append(Block(layers))
        self.out = nn.Sequential(Norm32(ch), nn.SiLU(), nn.Conv2d(mc, cfg.out_channels, 3, padding=1))

    def per_frame_context(self, context: torch.Tensor, frames: int) -> torch.Tensor:
        """(B, L, C) -> (B*T, L', C): text repeated per frame, image tokens split per frame."""
        cfg = self.cfg
        if context.shape[1] == cfg.text_context_len + frames * cfg.image_tokens_per_frame:
            text, image = context[:, : cfg.text_context_len], context[:, cfg.text_context_len:]
            text = text.repeat_interleave(frames, dim=0)
            image = image.reshape(image.shape[0] * frames, cfg.image_tokens_per_frame, image.shape[-1])
            return torch.cat([text, image], dim=1)
        return context.repeat_interleave(frames, dim=0)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                fs: torch.Tensor | None = None, control: list[torch.Tensor] | None = None) -> torch.Tensor:
        """x: (B, C, T, H, W); timesteps, fs: (B,); control: 13 residuals (B*T, c, h, w), pre-scaled."""
        b, _, t, hh, ww = x.shape
        dtype = self.time_embed[0].weight.dtype
        emb = self.time_embed(timestep_embedding(timesteps, self.cfg.model_channels).to(dtype))
        ctx = self.per_frame_context(context.to(dtype), t)
        emb = emb.repeat_interleave(t, dim=0)
        if self.cfg.fs_condition:
            if fs is None:
                fs = torch.full((b,), self.cfg.default_fs, dtype=torch.long, device=x.device)
            fs_emb = self.fps_embedding(timestep_embedding(fs, self.cfg.model_channels).to(dtype))
            emb = emb + fs_emb.repeat_interleave(t, dim=0)
        h = x.transpose(1, 2).reshape(b * t, -1, hh, ww).to(dtype)
        hs = []
        for i, block in enumerate(self.input_blocks):
            h = block(h, emb, ctx, t)
            if i == 0 and self.cfg.addition_attention:
                h = self.init_attn(h, emb, ctx, t)
            hs.append(h)
        h = self.middle_block(h, emb, ctx, t)
        if control is not None:
            control = list(control)
            h = h + control.pop()
        for block in self.output_blocks:
            skip = hs.pop()
            if control is not None:
                skip = skip + control.pop()
            h = block(torch.cat([h, skip], dim=1), emb, ctx, t)
        y = self.out(h)
        return y.reshape(b, t, -1, hh, ww).transpose(1, 2).to(x.dtype)
