"""The pose guider: a small per-frame CNN from a rendered skeleton image to UNet-width features
at latent resolution, added to the denoising UNet's `conv_in` output.

Layout of the official `pose_guider.pth`: `conv_in` (3x3), `blocks.0..` (pairs of a 3x3 conv
keeping the width and a stride-2 3x3 conv to the next width), `conv_out` (3x3 to C0); SiLU
after every conv except `conv_out`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import PoseGuiderConfig


class PoseGuider(nn.Module):
    def __init__(self, embedding_channels: int, cfg: PoseGuiderConfig) -> None:
        super().__init__()
        ch = cfg.block_out_channels
        self.conv_in = nn.Conv2d(cfg.conditioning_channels, ch[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for a, b in zip(ch, ch[1:]):
            self.blocks.append(nn.Conv2d(a, a, 3, padding=1))
            self.blocks.append(nn.Conv2d(a, b, 3, padding=1, stride=2))
        self.conv_out = nn.Conv2d(ch[-1], embedding_channels, 3, padding=1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) pose images in [0, 1] -> (N, C0, H/8, W/8) (N: frames, any batch)."""
        x = F.silu(self.conv_in(frames))
        for block in self.blocks:
            x = F.silu(block(x))
        return self.conv_out(x)
