"""The dual-reference 3D decoder (`first_stage_model.decoder`).

A KL-f8 decoder whose ResnetBlocks are followed by temporal (3,1,1) residual stacks blended
with a learned `mix_factor`, whose output conv has a temporal conv, and which looks at the
encoder features of the first and last keyframe: cross-attention fusion at the two lowest
levels, 1x1 "combiner" residuals added to the first/last frame at the others.

Memory: at full size one whole-clip map of the top level is 16x128x320x512 (0.67 GB in fp16),
and the reference holds several at once (about 5 GB of live tensors in the decode, traced with
`bench/tooncrafter_memory.py`). With `chunk` set, per-frame work (spatial convs, attention) runs
in frame chunks written into one output, and the temporal stacks run in row tiles: their
(3,1,1) convs never look across rows, and their GroupNorm statistics are gathered over the whole
clip first, so tiling only changes float rounding. The time-mix `alpha*(x+d) + (1-alpha)*x` is
applied as `x += alpha*d` in place. Without `chunk` the decoder follows the reference's
arithmetic step by step (the parity tests run both).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .attention import sdpa_heads
from .config import VAEConfig
from .unet import Norm32
from .vae import AttnBlock, Level, Mid, ResnetBlock, Upsample, vae_norm


def chunked(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int | None,
            in_place: bool = False) -> torch.Tensor:
    """fn over frame chunks of x, written into one output (no list of parts plus a concatenated
    copy). `in_place` writes each chunk's result over its own input: for per-frame maps that
    keep their shape and whose input nobody needs afterwards."""
    if not chunk or x.shape[0] <= chunk:
        return fn(x)
    out: torch.Tensor | None = x if in_place else None
    for i in range(0, x.shape[0], chunk):
        y = fn(x[i:i + chunk])
        if out is None:
            out = y.new_empty((x.shape[0],) + tuple(y.shape[1:]))
        out[i:i + y.shape[0]] = y
        del y
    assert out is not None
    return out


def row_tiles(video: torch.Tensor, frame_chunk: int) -> list[slice]:
    """Row slices of a (B, C, T, H, W) clip, each about `frame_chunk` frames' worth of pixels."""
    t, h = video.shape[2], video.shape[3]
    rows = max(1, h * frame_chunk // max(1, t))
    return [slice(r, min(h, r + rows)) for r in range(0, h, rows)]


def clip_group_stats(video: torch.Tensor, groups: int, eps: float,
                     tiles: list[slice]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-(batch, group) mean and 1/std over (C/groups, T, H, W), gathered tile by tile in two
    passes (mean, then centred squares) with float64 accumulation: what GroupNorm computes,
    without a float32 copy of the whole clip."""
    b, c = video.shape[:2]
    count = video[0, : c // groups].numel()
    total = torch.zeros((b, groups), dtype=torch.float64, device=video.device)
    for sl in tiles:
        part = video[:, :, :, sl].float().reshape(b, groups, -1)
        total += part.sum(-1, dtype=torch.float64)
    mean = (total / count).float()
    sq = torch.zeros_like(total)
    for sl in tiles:
        part = video[:, :, :, sl].float().reshape(b, groups, -1) - mean[..., None]
        sq += part.square().sum(-1, dtype=torch.float64)
    rstd = torch.rsqrt(sq / count + eps).float()
    return mean, rstd


def apply_group_norm(x: torch.Tensor, norm: nn.GroupNorm, mean: torch.Tensor, rstd: torch.Tensor) -> torch.Tensor:
    """GroupNorm of a tile of a (B, C, T, H, W) clip with the whole clip's statistics, in float32,
    folded into one per-channel scale and shift applied in place on a float32 copy of the tile."""
    b, c = x.shape[:2]
    g = norm.num_groups
    per_channel = (b, c) + (1,) * (x.dim() - 2)
    scale = rstd.repeat_interleave(c // g, dim=1) * norm.weight.float()
    shift = norm.bias.float() - mean.repeat_interleave(c // g, dim=1) * scale
    y = x.to(torch.float32, copy=True)
    y.mul_(scale.view(per_channel)).add_(shift.view(per_channel))
    return y.to(x.dtype)


class TimeStack(nn.Module):
    """Residual pair of (3,1,1) temporal convs (`time_stack`)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k, p = (3, 1, 1), (1, 0, 0)
        self.in_layers = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Conv3d(channels, channels, k, padding=p))
        self.out_layers = nn.Sequential(Norm32(channels), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv3d(channels, channels, k, padding=p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.out_layers(self.in_layers(x))

    def add_mixed_(self, video: torch.Tensor, alpha: torch.Tensor, frame_chunk: int) -> None:
        """video += alpha * (forward(video) - video), in row tiles; video is (B, C, T, H, W)."""
        tiles = row_tiles(video, frame_chunk)
        norm1, conv1 = self.in_layers[0], self.in_layers[2]
        norm2, conv2 = self.out_layers[0], self.out_layers[3]
        mean, rstd = clip_group_stats(video, norm1.num_groups, norm1.eps, tiles)
        hidden = torch.empty_like(video)
        for sl in tiles:
            hidden[:, :, :, sl] = conv1(F.silu(apply_group_norm(video[:, :, :, sl], norm1, mean, rstd)))
        mean, rstd = clip_group_stats(hidden, norm2.num_groups, norm2.eps, tiles)
        for sl in tiles:
            delta = conv2(F.silu(apply_group_norm(hidden[:, :, :, sl], norm2, mean, rstd)))
            video[:, :, :, sl] += alpha * delta
            del delta


class VideoResBlock(ResnetBlock):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels)
        self.time_stack = TimeStack(out_channels)
        self.mix_factor = nn.Parameter(torch.zeros(1))

    def forward_video(self, x: torch.Tensor, frames: int, chunk: int | None,
                      pre: nn.Module | None = None) -> torch.Tensor:
        """x: (B*T, C, H, W), owned by the decoder (overwritten when chunked). `pre` (the previous
        level's upsampler) runs per chunk, so the upsampled map never exists for the whole clip."""
        spatial = super().forward
        fn = spatial if pre is None else (lambda t: spatial(pre(t)))
        xs = chunked(fn, x, chunk, in_place=pre is None and not self.has_shortcut)
        n, c, h, w = xs.shape
        v = xs.view(n // frames, frames, c, h, w).transpose(1, 2)
        if chunk:
            self.time_stack.add_mixed_(v, torch.sigmoid(self.mix_factor).to(v.dtype), chunk)
            return xs  # v is a view of xs
        mixed = self.time_stack(v)
        alpha = torch.sigmoid(self.mix_factor).to(v.dtype)
        v = alpha * mixed + (1.0 - alpha) * v
        return v.transpose(1, 2).reshape(n, c, h, w)


class Combiner(nn.Module):
    """Adds a 1x1 conv of the first/last reference map to the first/last frame."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor, ref: torch.Tensor, frames: int, in_place: bool = False) -> torch.Tensor:
        n, c, h, w = x.shape
        b = n // frames
        r = ref.transpose(1, 2).reshape(b * 2, c, h, w).to(x.dtype)
        add = self.conv(r).view(b, 2, c, h, w)
        v = x.view(b, frames, c, h, w) if in_place else x.view(b, frames, c, h, w).clone()
        v[:, 0] = v[:, 0] + add[:, 0]
        v[:, -1] = v[:, -1] + add[:, 1]
        return v.view(n, c, h, w)


class FusionAttention(nn.Module):
    """Every frame's pixels attend to the pixels of both reference frames."""

    def __init__(self, channels: int, heads: int, dim_head: int) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.norm = vae_norm(channels)
        self.to_q = nn.Linear(channels, inner, bias=False)
        self.to_k = nn.Linear(channels, inner, bias=False)
        self.to_v = nn.Linear(channels, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, channels), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor, ref: torch.Tensor, frames: int, chunk: int | None) -> torch.Tensor:
        n, c, h, w = x.shape
        b = n // frames
        tokens = ref.to(x.dtype).flatten(2).transpose(1, 2)  # (B, 2*h*w, C)
        k, v = self.to_k(tokens), self.to_v(tokens)

        def run(xc: torch.Tensor, bi: int) -> torch.Tensor:
            q = self.to_q(self.norm(xc).flatten(2).transpose(1, 2))
            m = xc.shape[0]
            out = sdpa_heads(q, k[bi:bi + 1].expand(m, -1, -1), v[bi:bi + 1].expand(m, -1, -1), self.heads)
            return xc + self.to_out(out).transpose(1, 2).reshape(m, c, h, w)

        parts = []
        for bi in range(b):
            xb = x[bi * frames:(bi + 1) * frames]
            parts.append(chunked(lambda t, bi=bi: run(t, bi), xb, chunk))
        return torch.cat(parts)


class AE3DConvOut(nn.Conv2d):
    """`conv_out`: a 2D conv followed by a (3,1,1) temporal conv (`time_mix_conv`)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 3, padding=1)
        self.time_mix_conv = nn.Conv3d(out_channels, out_channels, (3, 1, 1), padding=(1, 0, 0))

    def forward_video(self, x: torch.Tensor, frames: int, chunk: int | None) -> torch.Tensor:
        y = chunked(super().forward, x, chunk)
        n, c, h, w = y.shape
        v = self.time_mix_conv(y.view(n // frames, frames, c, h, w).transpose(1, 2))
        return v.transpose(1, 2).reshape(n, c, h, w)


class DualRefDecoder(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        ch, mult = cfg.ch, cfg.ch_mult
        n = len(mult)
        block_in = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, padding=1)
        self.mid = Mid(VideoResBlock(block_in, block_in), AttnBlock(block_in), VideoResBlock(block_in, block_in))
        ups: list[Level] = []
        for i in reversed(range(n)):
            level = Level()
            block_out = ch * mult[i]
            for _ in range(cfg.num_res_blocks + 1):
                level.block.append(VideoResBlock(block_in, block_out))
                block_in = block_out
            if i != 0:
                level.upsample = Upsample(block_in)
            ups.insert(0, level)
        self.up = nn.ModuleList(ups)
        refine: list[nn.Module] = []
        for i in range(n):
            c = ch * mult[i]
            refine.append(FusionAttention(c, cfg.fusion_heads, cfg.fusion_dim_head) if i >= n - 2
                          else Combiner(c))
        refine.append(Combiner(ch))
        self.attn_refinement = nn.ModuleList(refine)
        self.norm_out = vae_norm(block_in)
        self.conv_out = AE3DConvOut(block_in, cfg.out_ch)

    def _refine(self, i: int, h: torch.Tensor, ref: torch.Tensor, frames: int, chunk: int | None) -> torch.Tensor:
        mod = self.attn_refinement[i]
        if isinstance(mod, FusionAttention):
            return mod(h, ref, frames, chunk)
        return mod(h, ref, frames, in_place=bool(chunk))  # h is the decoder's own intermediate

    def forward(self, z: torch.Tensor, refs: list[torch.Tensor], frames: int,
                chunk: int | None = None) -> torch.Tensor:
        """z: (B*T, C, h, w) unscaled latents (already divided by the scale factor);
        refs: the encoder's [level 0..n-1, conv_in] maps of the first/last key, each (B, C, 2, H, W)."""
        dtype = self.conv_in.weight.dtype
        h = self.conv_in(z.to(dtype))
        h = self.mid.block_1.forward_video(h, frames, chunk)
        h = chunked(self.mid.attn_1, h, chunk)
        h = self.mid.block_2.forward_video(h, frames, chunk)
        upsample: nn.Module | None = None  # fused into the next level's first block
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            for block in level.block:
                h = block.forward_video(h, frames, chunk, pre=upsample)
                upsample = None
            h = self._refine(i, h, refs[i], frames, chunk)
            upsample = getattr(level, "upsample", None)
        if upsample is not None:
            h = upsample(h)
        h = chunked(lambda t: F.silu(self.norm_out(t)), h, chunk, in_place=True)
        h = self._refine(len(self.up), h, refs[-1], frames, chunk)
        return self.conv_out.forward_video(h, frames, chunk)
