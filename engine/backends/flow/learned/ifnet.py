"""IFNet: coarse-to-fine intermediate flows and a fusion mask (RIFE 4.0, "HDv3" layout).

Facts from the RIFE paper and the published 4.0 network; the code is ours. Four blocks run
from 1/8 to full scale. Each block sees both keys (warped by the flows so far), the time and
the current mask, and predicts residual flows from the in-between to each key plus a mask
residual. The frame is the two backward-warped keys blended by sigmoid(mask).

The parameter names follow the published checkpoint (`blockN.conv0.*`, `blockN.convblock.*`,
`blockN.lastconv`), so the state dict loads without renaming.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Block widths of RIFE 4.0, coarse to fine.
BLOCK_WIDTHS = (192, 128, 96, 64)
#: Scales (downsampling of the input) of the four blocks at `scale` 1.
BASE_SCALES = (8.0, 4.0, 2.0, 1.0)
#: Residual flow (px at block 1's scale) above which the frame counts as large motion and
#: the pyramid restarts at twice the scales, as the published inference code does.
LARGE_MOTION_PX = 32.0


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.PReLU(cout))


def _resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    if factor == 1.0:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False,
                         recompute_scale_factor=False)


class IFBlock(nn.Module):
    """One pyramid level: stride-4 encoder, eight residual 3x3 convs, a x2 transposed conv."""

    def __init__(self, in_planes: int, width: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv(in_planes, width // 2, 2), _conv(width // 2, width, 2))
        self.convblock = nn.Sequential(*[_conv(width, width) for _ in range(8)])
        self.lastconv = nn.ConvTranspose2d(width, 5, 4, 2, 1)

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False,
                          recompute_scale_factor=False)
        if flow is not None:
            flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear",
                                 align_corners=False, recompute_scale_factor=False) / scale
            x = torch.cat((x, flow), 1)
        feat = self.conv0(x)
        feat = self.convblock(feat) + feat
        out = _resize(self.lastconv(feat), scale * 2)
        return out[:, :4] * (scale * 2), out[:, 4:5]


def backward_warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample `img` at x + flow(x) (bilinear, border clamp; pixel-centre grid as RIFE's)."""
    _, _, h, w = flow.shape
    ys = torch.linspace(-1.0, 1.0, h, dtype=flow.dtype, device=flow.device)
    xs = torch.linspace(-1.0, 1.0, w, dtype=flow.dtype, device=flow.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    gx = gx[None] + flow[:, 0] / ((w - 1.0) / 2.0)
    gy = gy[None] + flow[:, 1] / ((h - 1.0) / 2.0)
    grid = torch.stack((gx, gy), -1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


@dataclass
class IntermediateFlows:
    """What IFNet says about the in-between at one time, at the padded input size."""

    flow_a: torch.Tensor  # (N, 2, H, W): from the in-between to key A (backward warp of A)
    flow_b: torch.Tensor  # (N, 2, H, W): from the in-between to key B
    mask: torch.Tensor    # (N, 1, H, W): weight of key A after the sigmoid


class IFNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block0 = IFBlock(7, BLOCK_WIDTHS[0])
        self.block1 = IFBlock(8 + 4, BLOCK_WIDTHS[1])
        self.block2 = IFBlock(8 + 4, BLOCK_WIDTHS[2])
        self.block3 = IFBlock(8 + 4, BLOCK_WIDTHS[3])

    def flows(self, img_a: torch.Tensor, img_b: torch.Tensor, t: float, scale: float = 1.0
              ) -> IntermediateFlows:
        """Intermediate flows for RGB inputs in [0, 1] whose sides are multiples of 64.

        `scale` < 1 runs the pyramid on coarser levels (larger motions, faster).
        """
        scales = [s / scale for s in BASE_SCALES]
        blocks = (self.block0, self.block1, self.block2, self.block3)
        time = torch.full_like(img_a[:, :1], float(t))
        flow, mask = blocks[0](torch.cat((img_a, img_b, time), 1), None, scales[0])
        wa, wb = backward_warp(img_a, flow[:, :2]), backward_warp(img_b, flow[:, 2:4])
        for i in range(1, 4):
            df, dm = blocks[i](torch.cat((wa, wb, time, mask), 1), flow, scales[i])
            if i == 1 and df[:, :2].abs().max() > LARGE_MOTION_PX \
                    and df[:, 2:4].abs().max() > LARGE_MOTION_PX:
                scales = [s * 2 for s in scales]
                flow, mask = blocks[0](torch.cat((img_a, img_b, time), 1), None, scales[0])
                wa, wb = backward_warp(img_a, flow[:, :2]), backward_warp(img_b, flow[:, 2:4])
                df, dm = blocks[i](torch.cat((wa, wb, time, mask), 1), flow, scales[i])
            flow, mask = flow + df, mask + dm
            wa, wb = backward_warp(img_a, flow[:, :2]), backward_warp(img_b, flow[:, 2:4])
        return IntermediateFlows(flow[:, :2], flow[:, 2:4], torch.sigmoid(mask))

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor, t: float, scale: float = 1.0
                ) -> torch.Tensor:
        f = self.flows(img_a, img_b, t, scale)
        return (backward_warp(img_a, f.flow_a) * f.mask
                + backward_warp(img_b, f.flow_b) * (1.0 - f.mask))
