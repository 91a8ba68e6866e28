"""Bidirectional DIS optical-flow warping: the plain-video baseline the cartoon method must beat.

Kept as a module of its own because the quality benchmark measures it next to the real method.
Colors are blended premultiplied by alpha so transparent backgrounds do not bleed into edges.
"""

from __future__ import annotations

import cv2
import numpy as np


def dis_flow(a_gray: np.ndarray, b_gray: np.ndarray) -> np.ndarray:
    """Dense flow from a to b (H x W x 2, float32, pixels) with OpenCV's DIS at medium preset."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a_gray, b_gray, None)


def _gray(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    # composite on white so that transparent areas look like paper, as the animator sees them
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2GRAY)


def _backward_warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    f = rgba.astype(np.float32)
    f[..., :3] *= f[..., 3:4] / 255.0
    return f


def _unpremultiply(f: np.ndarray) -> np.ndarray:
    a = f[..., 3:4]
    rgb = np.where(a > 1e-3, f[..., :3] * 255.0 / np.maximum(a, 1e-3), 0.0)
    out = np.concatenate([rgb, a], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class DisInterpolator:
    """Computes the two flows once per pair of keys, then synthesises any time t."""

    def __init__(self, key_a: np.ndarray, key_b: np.ndarray) -> None:
        ga, gb = _gray(key_a), _gray(key_b)
        self.f_ab = dis_flow(ga, gb)
        self.f_ba = dis_flow(gb, ga)
        self.a = _premultiplied(key_a)
        self.b = _premultiplied(key_b)

    def frame(self, t: float) -> np.ndarray:
        # flows from the unknown frame at t back to each key (quadratic approximation, Super SloMo)
        f_ta = -(1.0 - t) * t * self.f_ab + t * t * self.f_ba
        f_tb = (1.0 - t) * (1.0 - t) * self.f_ab - t * (1.0 - t) * self.f_ba
        wa = _backward_warp(self.a, f_ta)
        wb = _backward_warp(self.b, f_tb)
        return _unpremultiply((1.0 - t) * wa + t * wb)


def crossfade(key_a: np.ndarray, key_b: np.ndarray, t: float) -> np.ndarray:
    """Linear cross-fade (premultiplied): the simplest baseline."""
    return _unpremultiply((1.0 - t) * _premultiplied(key_a) + t * _premultiplied(key_b))
