"""A sketch at an in-between moves the drawing onto the sketch's lines, and the frames around
it onto a smooth path through the sketched pose.

IFNet's flows put a part where a straight, even motion would; the sketch says where it is.
Per key, the lines of the key as the network warps it are matched to the sketch's lines
(DIS optical flow between the two line images, both blurred so that a thinner, wobblier
sketch stroke still meets its outline), only the matches that land on a line count, and
they are spread over the parts by a normalized Gaussian: every pixel near a matched line
moves with it, so a fill moves with its outline and a part moves whole. Four passes, from a
wide spread to a narrow one, first bring whole limbs near their sketched place, then the
outlines onto the strokes; each pass starts from the last one's warp.

The result is an offset field in the sketched frame (pixel -> where the network's frame
should be sampled instead). At other times of the segment the same offsets, carried along
the network's motion to where the parts are then, apply with a weight that is 1 at the
sketch, 0 at both ends of its interval (the keys or the next sketches) and smooth in
between: the path bends through the sketched pose with no corner there.

Measured on celanim (36 clips, the middle sketch, `bench/quality.py --case sketch`): numbers
in docs/flow.md. Variants measured and dropped: one pass at a single spread (0.0915 against
0.0811 for the four passes, 9 clips' sketched frames), leaving the keys' static lines out of
the matching, limiting the offsets to the sketch's filled silhouette (both worse: a sketch's
gaps leak the fill), and a linear or squared rather than a cubed weight at the other frames (worse
than no sketch next to the keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..flow_init import backward_warp as sample_at
from .ifnet import backward_warp
from .sketch_choice import SKETCH_LINE, drawing_lines, sketch_darkness

#: Spreads (px at the work size) of the passes, wide to narrow.
PASS_SIGMAS = (20.0, 8.0, 4.0, 2.0)
#: Blur (px) of both line images before matching: a sketch's thin, offset stroke meets its outline.
LINE_BLUR = 2.0
#: Weight of "no offset" in the normalized spread: far from every matched line nothing moves.
PRIOR = 0.05
#: Longest side the fit works at; larger frames are fitted reduced and the offsets scaled up.
MAX_FIT_SIDE = 1024
#: Exponent of the weight at the frames around a sketch: cubed, a frame next to a key
#: moves little (the network is right near the keys; the sketch knows its own frame best).
BUMP_POWER = 3.0
#: Blur (px) of the carried offsets at the frames around a sketch: the fine part of the fit
#: lays outlines onto strokes at the sketched frame only; carried elsewhere it shreds thin
#: props (measured on 12 clips' frames 1, 2, 6, 7: LPIPS 0.0617 unblurred with a squared
#: weight, 0.0585 blurred 12 px with a cubed one, RIFE 0.0587).
NEIGHBOUR_BLUR = 12.0


@dataclass(frozen=True)
class SketchFit:
    """Offsets (H, W, 2 float32, keys' pixels) of both keys' warps at the sketched time."""

    offset_a: np.ndarray
    offset_b: np.ndarray


def _line_image(strength: np.ndarray) -> np.ndarray:
    """uint8 dark-on-white image of a 0-1 line strength, blurred and brought to full contrast."""
    s = cv2.GaussianBlur(strength.astype(np.float32), (0, 0), LINE_BLUR)
    inked = s > 0.05
    top = float(np.percentile(s[inked], 95)) if inked.any() else 1.0
    return (255.0 - 255.0 * np.clip(s / max(top, 1e-3), 0.0, 1.0)).astype(np.uint8)


def _pass_offsets(lines: np.ndarray, dark: np.ndarray, sketch_img: np.ndarray,
                  sigma: float) -> np.ndarray:
    """One pass: where each sketch pixel's content is in the warped key, spread from the
    sketch lines that found a line."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    match = dis.calc(sketch_img, _line_image(lines), None)
    landed = sample_at(lines.astype(np.float32), match)
    conf = ((dark > SKETCH_LINE) * np.clip(landed / 0.5, 0.0, 1.0)).astype(np.float32)
    num = np.dstack([cv2.GaussianBlur(conf * match[..., i], (0, 0), sigma) for i in range(2)])
    den = cv2.GaussianBlur(conf, (0, 0), sigma)
    return num / (den[..., None] + PRIOR)


def offset_flow(flow: torch.Tensor, offset: np.ndarray) -> torch.Tensor:
    """The backward flow that samples the key where `flow` would at x + offset(x)."""
    off = torch.from_numpy(np.ascontiguousarray(offset.transpose(2, 0, 1)[None], np.float32))
    return off + backward_warp(flow, off)


def _fit_one(key: torch.Tensor, flow: torch.Tensor, dark: np.ndarray, sketch_img: np.ndarray,
             factor: float, to_rgb: Callable[[torch.Tensor], np.ndarray]) -> np.ndarray:
    """One key's offsets, found at the work size and returned at the key's size."""
    h, w = key.shape[-2:]
    if factor != 1.0:  # the key and its flow at the work size (flows in work pixels)
        size = dark.shape
        key = F.interpolate(key, size=size, mode="area")
        flow = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
        flow = torch.cat((flow[:, :1] * (size[1] / w), flow[:, 1:2] * (size[0] / h)), 1)
    total = np.zeros(dark.shape + (2,), np.float32)
    for sigma in PASS_SIGMAS:
        lines = drawing_lines(to_rgb(backward_warp(key, offset_flow(flow, total))))
        step = _pass_offsets(lines, dark, sketch_img, sigma)
        total = step + sample_at(total, step)  # the new step first, then where the last ones led
    if factor == 1.0:
        return total
    full = cv2.resize(total, (w, h), interpolation=cv2.INTER_LINEAR)
    full[..., 0] *= w / dark.shape[1]
    full[..., 1] *= h / dark.shape[0]
    return full


def fit_sketch(sketch: np.ndarray, key_a: torch.Tensor, key_b: torch.Tensor,
               flow_a: torch.Tensor, flow_b: torch.Tensor,
               to_rgb: Callable[[torch.Tensor], np.ndarray]) -> SketchFit | None:
    """The offsets that bring both keys' warps onto the sketch (None for a sketch
    of another size or one with no lines). `key_*` are premultiplied (1, 4, H, W), `flow_*`
    the network's backward flows at the sketch's time, `to_rgb` composites a warp to RGB uint8."""
    h, w = key_a.shape[-2:]
    dark = sketch_darkness(sketch)
    if dark.shape != (h, w) or not (dark > SKETCH_LINE).any():
        return None
    factor = min(1.0, MAX_FIT_SIDE / max(h, w))
    if factor != 1.0:
        dark = cv2.resize(dark, (max(1, round(w * factor)), max(1, round(h * factor))),
                          interpolation=cv2.INTER_AREA)
    sketch_img = _line_image(dark)
    return SketchFit(_fit_one(key_a, flow_a, dark, sketch_img, factor, to_rgb),
                     _fit_one(key_b, flow_b, dark, sketch_img, factor, to_rgb))


def bump(t: float, at: float, lo: float = 0.0, hi: float = 1.0) -> float:
    """Weight of a sketch at `at` for the frame at `t`, in the sketch's interval (lo, hi):
    1 at the sketch, 0 at the ends, smooth (a parabola, squared) with no corner at the sketch."""
    if not lo < t < hi or not lo < at < hi:
        return 0.0
    return float(((t - lo) * (hi - t) / ((at - lo) * (hi - at))) ** BUMP_POWER)


def carried(offset: np.ndarray, flow_a: torch.Tensor, flow_b: torch.Tensor,
            t: float, at: float) -> np.ndarray:
    """The sketched frame's offsets where the parts are at time `t`: each pixel looks up the
    offset at its place at the sketch's time, along the network's motion (flow_b - flow_a is
    the motion from key A to key B through the pixel)."""
    if abs(t - at) < 1e-9:
        return offset
    motion = (flow_b - flow_a)[0].numpy().transpose(1, 2, 0)
    moved = sample_at(offset, np.ascontiguousarray((at - t) * motion, np.float32))
    return np.dstack([cv2.GaussianBlur(np.ascontiguousarray(moved[..., i]), (0, 0), NEIGHBOUR_BLUR)
                      for i in range(2)])
