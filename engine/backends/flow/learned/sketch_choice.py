"""A sketch at an in-between decides, where the two warped keys disagree, which key's
pixels the frame takes.

IFNet's mask blends the two backward-warped keys; where they show different things at a
pixel (a limb in one, background in the other: a motion the network did not resolve) the
blend draws a ghost. The sketch says where the lines of the in-between are, so there the
key whose warped lines lie nearer the sketch's lines wins. It runs after `sketch_fit` has
moved both warps onto the sketch, on what they still disagree about."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ...common.imaging import composite_rgb

#: Darkness (0-1) from which a sketch pixel is a line.
SKETCH_LINE = 0.3
#: How far (px) around the sketch's lines it has a say.
REACH_PX = 12
#: Distances (px) are capped here: a line far from every line is simply wrong.
CAP_PX = 30.0
#: Colour difference (0-1) from which the two warps disagree.
DISAGREE = 0.25


def sketch_darkness(sketch: np.ndarray) -> np.ndarray:
    """0-1 line strength of a sketch (grey, RGB or RGBA; dark strokes on light, or strokes
    on a transparent layer)."""
    if sketch.ndim == 2:
        grey = sketch.astype(np.float32)
    elif sketch.shape[2] == 4:
        grey = cv2.cvtColor(composite_rgb(sketch), cv2.COLOR_RGB2GRAY)
    else:
        grey = cv2.cvtColor(sketch[..., :3].astype(np.float32), cv2.COLOR_RGB2GRAY)
    return np.clip((255.0 - grey) / 160.0, 0.0, 1.0)


def drawing_lines(rgb: np.ndarray) -> np.ndarray:
    """0-1 strength of the thin dark strokes of a drawing (black-hat: outlines, not dark fills)."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    return np.clip(cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel).astype(np.float32) / 60.0,
                   0.0, 1.0)


def _distance_to(lines: np.ndarray) -> np.ndarray:
    return np.minimum(cv2.distanceTransform((lines < SKETCH_LINE).astype(np.uint8),
                                            cv2.DIST_L2, 3), CAP_PX)


def _misfit(lines: np.ndarray, sketch: np.ndarray, dist_sketch: np.ndarray) -> np.ndarray:
    """Per pixel, how badly a warped key's lines and the sketch's lines lie on each other
    (both ways: lines the sketch lacks, sketch lines the key lacks), smoothed to a basin."""
    bad = lines * dist_sketch + (sketch > SKETCH_LINE) * _distance_to(lines)
    return cv2.GaussianBlur(bad.astype(np.float32), (0, 0), 6)


def sketch_mask(warped_a: torch.Tensor, warped_b: torch.Tensor, mask: torch.Tensor,
                sketch: np.ndarray, to_rgb) -> torch.Tensor:
    """The blend weight of key A for a sketched in-between (same shape as `mask`).

    `warped_*` are the premultiplied warped keys (1, 4, H, W), `to_rgb` turns one into an
    RGB uint8 image composited over white.
    """
    dark = sketch_darkness(sketch)
    if dark.shape != tuple(mask.shape[-2:]) or not (dark > SKETCH_LINE).any():
        return mask
    reach = cv2.dilate((dark > SKETCH_LINE).astype(np.uint8),
                       cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * REACH_PX + 1,) * 2))
    reach = cv2.GaussianBlur(reach.astype(np.float32), (0, 0), REACH_PX / 2)
    dist_sketch = _distance_to(dark)
    bad_a = _misfit(drawing_lines(to_rgb(warped_a)), dark, dist_sketch)
    bad_b = _misfit(drawing_lines(to_rgb(warped_b)), dark, dist_sketch)
    prefer_a = 1.0 / (1.0 + np.exp(np.clip(bad_a - bad_b, -30.0, 30.0)))
    disagree = ((warped_a - warped_b).abs().amax(1)[0] > DISAGREE).float().numpy()
    say = reach * cv2.GaussianBlur(disagree, (0, 0), 2)
    say_t = torch.from_numpy(say)[None, None]
    return say_t * torch.from_numpy(prefer_a.astype(np.float32))[None, None] + (1 - say_t) * mask
