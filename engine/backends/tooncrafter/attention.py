"""Attention layers of the UNet and the sketch encoder (ControlNet).

All softmax attention goes through `torch.nn.functional.scaled_dot_product_attention`
(memory-efficient/flash kernels on GPU, no xformers). Module and parameter names follow
the official checkpoint (`to_q`, `to_k_ip`, `ff.net.0.proj`, ...) so weights load by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def sdpa_heads(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int) -> torch.Tensor:
    """Multi-head softmax attention on (B, N, heads*d) tensors; returns (B, Nq, heads*d)."""
    b, nq, inner = q.shape
    d = inner // heads
    q = q.view(b, nq, heads, d).transpose(1, 2)
    k = k.view(b, k.shape[1], heads, d).transpose(1, 2)
    v = v.view(b, v.shape[1], heads, d).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v)
    return out.transpose(1, 2).reshape(b, nq, inner)


class CrossAttention(nn.Module):
    """Self- or cross-attention; optionally a second (image) key/value set with its own weights.

    With `image_cross_attention`, the context is split after `text_len` tokens: text tokens go
    through `to_k/to_v`, image tokens through `to_k_ip/to_v_ip`, both attended with the same
    query, and the two results are summed (the official image cross-attention, scale 1.0).
    Without it, the whole context is attended jointly (SD-2.1 behaviour, used by the sketch
    encoder).
    """

    def __init__(self, query_dim: int, context_dim: int | None, heads: int, dim_head: int,
                 image_cross_attention: bool = False, text_len: int = 77) -> None:
        super().__init__()
        inner = heads * dim_head
        context_dim = context_dim or query_dim
        self.heads = heads
        self.text_len = text_len
        self.image_cross_attention = image_cross_attention
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        if image_cross_attention:
            self.to_k_ip = nn.Linear(context_dim, inner, bias=False)
            self.to_v_ip = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        q = self.to_q(x)
        if context is None:
            out = sdpa_heads(q, self.to_k(x), self.to_v(x), self.heads)
        elif self.image_cross_attention:
            text, image = context[:, : self.text_len], context[:, self.text_len:]
            out = sdpa_heads(q, self.to_k(text), self.to_v(text), self.heads)
            out = out + sdpa_heads(q, self.to_k_ip(image), self.to_v_ip(image), self.heads)
        else:
            out = sdpa_heads(q, self.to_k(context), self.to_v(context), self.heads)
        return self.to_out(out)


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        inner = dim * mult
        self.net = nn.Sequential(GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    """attn1 (self) -> attn2 (cross, or a second self-attention when context is None) -> GEGLU FF."""

    def __init__(self, dim: int, heads: int, dim_head: int, context_dim: int | None,
                 image_cross_attention: bool = False, text_len: int = 77) -> None:
        super().__init__()
        self.attn1 = CrossAttention(dim, None, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = CrossAttention(dim, context_dim, heads, dim_head, image_cross_attention, text_len)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class SpatialTransformer(nn.Module):
    """Per-frame transformer over the h*w tokens of (N, C, H, W) maps."""

    def __init__(self, channels: int, heads: int, dim_head: int, depth: int, context_dim: int,
                 use_linear: bool = True, image_cross_attention: bool = False, text_len: int = 77) -> None:
        super().__init__()
        inner = heads * dim_head
        self.use_linear = use_linear
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if use_linear else nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(inner, heads, dim_head, context_dim, image_cross_attention, text_len)
            for _ in range(depth)
        )
        self.proj_out = nn.Linear(inner, channels) if use_linear else nn.Conv2d(inner, channels, 1)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        n, c, h, w = x.shape
        x_in = x
        x = self.norm(x)
        if not self.use_linear:
            x = self.proj_in(x)
        x = x.flatten(2).transpose(1, 2)
        if self.use_linear:
            x = self.proj_in(x)
        for block in self.transformer_blocks:
            x = block(x, context)
        if self.use_linear:
            x = self.proj_out(x)
        # NCHW-contiguous like the reference: the memory format picks the conv and GroupNorm
        # kernels downstream, and their summation order matters at ill-conditioned 1x1 levels
        x = x.transpose(1, 2).reshape(n, -1, h, w).contiguous()
        if not self.use_linear:
            x = self.proj_out(x)
        return x + x_in


class TemporalTransformer(nn.Module):
    """Self-attention along time for every pixel of (B, C, T, H, W) maps.

    Both attentions of its blocks are self-attentions (the official `only_self_att`);
    the entry GroupNorm normalises over (T, H, W) jointly, as in the reference.
    """

    def __init__(self, channels: int, heads: int, dim_head: int, depth: int, use_linear: bool) -> None:
        super().__init__()
        inner = heads * dim_head
        self.use_linear = use_linear
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner) if use_linear else nn.Conv1d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            BasicTransformerBlock(inner, heads, dim_head, None) for _ in range(depth)
        )
        self.proj_out = nn.Linear(inner, channels) if use_linear else nn.Conv1d(inner, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        x_in = x
        x = self.norm(x)
        x = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, c, t)  # (b h w) c t
        if not self.use_linear:
            x = self.proj_in(x)
        x = x.transpose(1, 2)  # (bhw) t c
        if self.use_linear:
            x = self.proj_in(x)
        for block in self.transformer_blocks:
            x = block(x, None)
        if self.use_linear:
            x = self.proj_out(x)
        else:
            x = self.proj_out(x.transpose(1, 2)).transpose(1, 2)
        x = x.reshape(b, h, w, t, c).permute(0, 4, 3, 1, 2).contiguous()
        return x + x_in
