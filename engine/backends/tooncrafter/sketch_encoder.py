"""The sketch encoder: a per-frame, SD-2.1-style ControlNet producing 13 UNet residuals.

It sees only the noisy latent (no concat condition), no temporal layers and no fps
embedding; its cross-attention attends jointly to the whole context (text + image tokens).
Names follow `sketch_encoder.ckpt` (`input_hint_block`, `zero_convs`, `middle_block_out`).
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import SpatialTransformer
from .config import ControlNetConfig
from .unet import Block, Downsample, ResBlock, timestep_embedding


class ZeroConv(nn.ModuleList):
    """`zero_convs.N.0`: a 1x1 conv (zero-initialised in training, trained weights at inference)."""

    def __init__(self, ch: int) -> None:
        super().__init__([nn.Conv2d(ch, ch, 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self[0](x)


class SketchEncoder(nn.Module):
    def __init__(self, cfg: ControlNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        mc = cfg.model_channels
        ted = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, ted), nn.SiLU(), nn.Linear(ted, ted))
        hint: list[nn.Module] = []
        prev = cfg.hint_channels
        for i, c in enumerate(cfg.hint_block_channels):
            stride = 2 if i in (2, 4, 6) else 1
            hint += [nn.Conv2d(prev, c, 3, padding=1, stride=stride), nn.SiLU()]
            prev = c
        hint.append(nn.Conv2d(prev, mc, 3, padding=1))
        self.input_hint_block = nn.Sequential(*hint)
        self.input_blocks = nn.ModuleList([Block([nn.Conv2d(cfg.in_channels, mc, 3, padding=1)])])
        self.zero_convs = nn.ModuleList([ZeroConv(mc)])
        ch, ds = mc, 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, ted, mult * mc, temporal_conv=False)]
                ch = mult * mc
                if ds in cfg.attention_resolutions:
                    layers.append(self._transformer(ch))
                self.input_blocks.append(Block(layers))
                self.zero_convs.append(ZeroConv(ch))
            if level != len(cfg.channel_mult) - 1:
                self.input_blocks.append(Block([Downsample(ch)]))
                self.zero_convs.append(ZeroConv(ch))
                ds *= 2
        self.middle_block = Block([ResBlock(ch, ted, ch, False), self._transformer(ch),
                                   ResBlock(ch, ted, ch, False)])
        self.middle_block_out = ZeroConv(ch)

    def _transformer(self, ch: int) -> SpatialTransformer:
        heads = ch // self.cfg.num_head_channels
        return SpatialTransformer(ch, heads, self.cfg.num_head_channels, self.cfg.transformer_depth,
                                  self.cfg.context_dim, self.cfg.use_linear, image_cross_attention=False)

    @property
    def num_residuals(self) -> int:
        return len(self.zero_convs) + 1

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor,
                context: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, C, h, w) noisy latents of N frames, hint: (N, 1, H, W) in [0, 1] (lines = 1),
        timesteps: (1,) or (N,), context: (N, L, C). Returns the raw (unscaled) residuals."""
        dtype = self.time_embed[0].weight.dtype
        emb = self.time_embed(timestep_embedding(timesteps, self.cfg.model_channels).to(dtype))
        guided = self.input_hint_block(hint.to(dtype))
        h = x.to(dtype)
        context = context.to(dtype)
        outs = []
        for i, (block, zc) in enumerate(zip(self.input_blocks, self.zero_convs)):
            h = block(h, emb, context, 0)
            if i == 0:
                h = h + guided
            outs.append(zc(h))
        h = self.middle_block(h, emb, context, 0)
        outs.append(self.middle_block_out(h))
        return outs
