"""In-betweens of one pair of keys through IFNet: flows from the network, colours and alpha
from the full-size premultiplied keys.

IFNet sees the keys composited over white (as every RGB interpolator does), at a work size
no larger than `MAX_WORK_SIDE`; its flows are scaled back to the keys' size and warp the
premultiplied RGBA keys there, so alpha travels with the drawing and a large canvas costs
the network no more than a medium one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from inbetween_client.poses import BODY_PARENTS

from ...common.imaging import composite_rgb

from .ifnet import IFNet, IntermediateFlows, backward_warp
from .pose_flow import Joint, pose_guided
from .background import fill_holes
from .pose_layers import LayeredFlows, PoseLayers
from .sketch_choice import sketch_mask
from .sketch_fit import SketchFit, bump, carried, fit_sketch, offset_flow

#: IFNet's input sides must be multiples of this (four stride-2 levels below 1/8 scale).
PAD = 64
#: Longest side the network works at; larger keys are reduced for the flows only.
MAX_WORK_SIDE = 1024


@dataclass(frozen=True)
class PoseGuide:
    """Body skeletons (18 x (x, y, c), keys' pixels) of both keys and of in-betweens by time."""

    key_a: Sequence[Joint]
    key_b: Sequence[Joint]
    inbetweens: dict[float, Sequence[Joint]]

    def at(self, t: float) -> Sequence[Joint] | None:
        return at_time(self.inbetweens, t)


def at_time(by_time: dict[float, Any], t: float) -> Any | None:
    """The entry whose time is t (times come from the same segment, up to float noise)."""
    return next((v for ts, v in by_time.items() if abs(ts - t) < 1e-6), None)


@dataclass(frozen=True)
class LearnedOptions:
    #: Where one warped key is opaque and the other transparent, take the one the mask
    #: prefers: blending them draws a half-transparent ghost (a halo on transparent layers;
    #: measured on celanim's RGBA clips: 2-3x fewer partly transparent pixels, LPIPS equal).
    #: (Variants measured and dropped, with their numbers, are listed in docs/flow.md.)
    alpha_select: bool = True
    #: Alpha difference (0-1) from which the two warps disagree about coverage.
    alpha_threshold: float = 0.5
    #: Posed frames from the keys' part layers (`pose_layers.py`: each part carried whole by
    #: its bone over a background moved without the character). Off is the fast preview:
    #: the network's flows, moved by the bones near them (`pose_flow.py`), one network run
    #: per frame and no labelling of the keys, at about RIFE's speed and with its blur at
    #: the parts' edges (docs/flow.md gives both measured).
    pose_layers: bool = True


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255.0


def _pad(x: torch.Tensor, mult: int = PAD) -> torch.Tensor:
    h, w = x.shape[-2:]
    return F.pad(x, (0, (-w) % mult, 0, (-h) % mult))


def composite_white(rgba: np.ndarray) -> np.ndarray:
    """RGB uint8 of straight-alpha RGBA over white (what every RGB interpolator sees)."""
    return np.clip(composite_rgb(rgba) + 0.5, 0, 255).astype(np.uint8)


def premultiplied(rgba: np.ndarray) -> torch.Tensor:
    x = _to_tensor(rgba)
    return torch.cat((x[:, :3] * x[:, 3:4], x[:, 3:4]), 1)


def unpremultiply_u8(x: torch.Tensor) -> np.ndarray:
    """(1, 4, H, W) premultiplied in [0, 1] -> straight RGBA uint8 (H, W, 4)."""
    x = x.clamp(0.0, 1.0)
    a = x[:, 3:4]
    rgb = torch.where(a > 1e-6, x[:, :3] / a.clamp_min(1e-6), torch.ones_like(x[:, :3]))
    out = torch.cat((rgb.clamp(0.0, 1.0), a), 1)[0].permute(1, 2, 0).numpy()
    return (out * 255.0 + 0.5).astype(np.uint8)


def _warp_rgb(x: torch.Tensor) -> np.ndarray:
    """A premultiplied warp (1, 4, H, W) as RGB uint8 over white (how lines are found)."""
    return composite_white(unpremultiply_u8(x))


class LearnedPair:
    """Both keys prepared once; `frame(t)` runs the network for one time."""

    def __init__(self, net: IFNet, key_a: np.ndarray, key_b: np.ndarray,
                 options: LearnedOptions = LearnedOptions(),
                 sketches: dict[float, np.ndarray] | None = None,
                 poses: PoseGuide | None = None) -> None:
        """`sketches` maps an in-between time to its sketch (uint8 grey or RGB(A), keys' size);
        `poses` are the skeletons of the keys and of the in-betweens, when the shot has them."""
        self.net, self.options = net, options
        self.sketches = dict(sketches or {})
        self._fits: dict[float, SketchFit | None] = {}
        self.poses = poses
        self._layers: PoseLayers | None = None
        self._plate_inputs: tuple[tuple[np.ndarray, np.ndarray], torch.Tensor, torch.Tensor] | None = None
        self.h, self.w = key_a.shape[:2]
        self.key_a, self.key_b = key_a, key_b
        self.factor = min(1.0, MAX_WORK_SIDE / max(self.h, self.w))
        self.premul_a, self.premul_b = premultiplied(key_a), premultiplied(key_b)
        self.in_a = self._network_input(key_a)
        self.in_b = self._network_input(key_b)

    def _network_input(self, key: np.ndarray) -> torch.Tensor:
        """`key` (at the keys' size, or already at the work size) as the network takes it."""
        x = _to_tensor(composite_white(key))
        if self.factor < 1.0:
            size = (max(1, round(self.h * self.factor)), max(1, round(self.w * self.factor)))
            if tuple(x.shape[-2:]) != size:
                x = F.interpolate(x, size=size, mode="area")
        return _pad(x)

    def flows(self, t: float) -> IntermediateFlows:
        """Flows and mask at the keys' size (flows in key pixels)."""
        return self._flows_between(self.in_a, self.in_b, t)

    def _flows_between(self, in_a: torch.Tensor, in_b: torch.Tensor, t: float) -> IntermediateFlows:
        """The network's flows and mask between two inputs (`_network_input`), at the keys'
        size."""
        f = self.net.flows(in_a, in_b, t)
        if self.factor == 1.0:
            return IntermediateFlows(f.flow_a[..., :self.h, :self.w], f.flow_b[..., :self.h, :self.w],
                                     f.mask[..., :self.h, :self.w])
        hh, wh = round(self.h * self.factor), round(self.w * self.factor)
        sy, sx = self.h / hh, self.w / wh

        def up(x: torch.Tensor, scale: bool) -> torch.Tensor:
            x = F.interpolate(x[..., :hh, :wh], size=(self.h, self.w), mode="bilinear",
                              align_corners=False)
            if scale:
                x = torch.cat((x[:, :1] * sx, x[:, 1:2] * sy), 1)
            return x

        return IntermediateFlows(up(f.flow_a, True), up(f.flow_b, True), up(f.mask, False))

    def guided_flows(self, t: float) -> IntermediateFlows:
        """The network's flows at t, with the bones' motion where the frame has a pose."""
        f = self.flows(t)
        pose_t = self.poses.at(t) if self.poses is not None else None
        if pose_t is not None:
            guided = pose_guided(f.flow_a, f.flow_b, BODY_PARENTS, pose_t, self.poses.key_a,
                                 self.poses.key_b)
            if guided is not None:
                return IntermediateFlows(guided[0], guided[1], f.mask)
        return f

    def _fit(self, at: float, flows: IntermediateFlows | None) -> SketchFit | None:
        """The sketch at `at` fitted once (`flows`: the frame's own flows when it is the
        sketched frame, so the network does not run twice for it)."""
        if at not in self._fits:
            f = flows if flows is not None else self.guided_flows(at)
            self._fits[at] = fit_sketch(self.sketches[at], self.premul_a, self.premul_b,
                                        f.flow_a, f.flow_b, _warp_rgb)
        return self._fits[at]

    def _sketched(self, t: float, f: IntermediateFlows) -> IntermediateFlows:
        """Flows moved onto the nearest sketch (fully at its time, less and less toward the
        ends of its interval)."""
        if not self.sketches:
            return f
        times = sorted(self.sketches)
        at = min(times, key=lambda s: abs(s - t))
        i = times.index(at)
        lo = times[i - 1] if i > 0 else 0.0
        hi = times[i + 1] if i + 1 < len(times) else 1.0
        own = abs(t - at) < 1e-6
        weight = 1.0 if own else bump(t, at, lo, hi)
        fit = self._fit(at, f if own else None) if weight > 0.0 else None
        if fit is None:
            return f
        off_a = weight * carried(fit.offset_a, f.flow_a, f.flow_b, t, at)
        off_b = weight * carried(fit.offset_b, f.flow_a, f.flow_b, t, at)
        return IntermediateFlows(offset_flow(f.flow_a, off_a), offset_flow(f.flow_b, off_b),
                                 f.mask)

    def layered(self, t: float) -> LayeredFlows | None:
        """The posed frame built from the keys' part layers (`pose_layers.py`), when the
        frame has a pose and the segment no sketch (a sketch is fitted to the network's
        flows, which the pixels near the bones follow then: `guided_flows`)."""
        if self.poses is None or self.sketches or not self.options.pose_layers:
            return None
        pose_t = self.poses.at(t)
        if pose_t is None:
            return None
        if self._layers is None:
            self._layers = PoseLayers(self.key_a, self.key_b, self.poses.key_a, self.poses.key_b,
                                      BODY_PARENTS)
        layers = self._layers

        def key_flows() -> tuple[torch.Tensor, torch.Tensor]:  # once per pair, for the labels
            f = self.flows(t)
            return f.flow_a, f.flow_b

        plates = layers.plates(pose_t, key_flows)
        if plates is None:
            return None
        # the background's flows from the keys without the character (`background_plates`)
        if self._plate_inputs is None or self._plate_inputs[0] is not plates:
            self._plate_inputs = (plates, self._network_input(plates[0]), self._network_input(plates[1]))
        f = self._flows_between(self._plate_inputs[1], self._plate_inputs[2], t)
        return layers.flows(t, pose_t, f.flow_a, f.flow_b, f.mask)

    def _blend(self, wa: torch.Tensor, wb: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        if self.options.alpha_select:
            torn = (wa[:, 3:4] - wb[:, 3:4]).abs() > self.options.alpha_threshold
            m = torch.where(torn, (m > 0.5).to(m.dtype), m)
        return wa * m + wb * (1.0 - m)

    def frame_premultiplied(self, t: float) -> torch.Tensor:
        """The frame from the network's flows (moved by the poses near the bones, and onto
        the sketches)."""
        f = self._sketched(t, self.guided_flows(t))
        wa = backward_warp(self.premul_a, f.flow_a)
        wb = backward_warp(self.premul_b, f.flow_b)
        m = f.mask
        sketch = at_time(self.sketches, t)
        if sketch is not None:
            m = sketch_mask(wa, wb, m, sketch, _warp_rgb)
        return self._blend(wa, wb, m)

    def frame(self, t: float) -> np.ndarray:
        with torch.inference_mode():
            layers = self.layered(t)
            if layers is None:
                return unpremultiply_u8(self.frame_premultiplied(t))
            out = self._blend(backward_warp(self.premul_a, layers.flow_a),
                              backward_warp(self.premul_b, layers.flow_b), layers.share_a)
            return fill_holes(unpremultiply_u8(out), layers.hole, layers.background)
