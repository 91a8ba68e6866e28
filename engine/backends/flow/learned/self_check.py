"""Does a learned frame still hold the drawing? The network fails quietly on motions beyond
its reach: a character that crosses most of the canvas between the keys comes out as an empty
frame (the bundled sample did), not as a wrong one. The amount of drawing is checked instead
of trusted: an in-between covers about as much (alpha) and carries about as much line ink as
the keys around it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...common.imaging import composite_rgb

#: Share of the keys' drawing (interpolated in time) under which a frame has lost it. Measured
#: at the middle frame: true in-betweens keep 0.93-1.0 (celanim, line art); the network's
#: frames keep 0.64-1.0 on celanim, 0.60-1.0 on real anime (blur thins the ink), and 0.0 on
#: the bundled sample, whose character vanishes.
MIN_KEPT = 0.4


def _coverage(rgba: np.ndarray) -> float:
    return float(rgba[..., 3].astype(np.float32).sum() / 255.0)


def _ink(rgba: np.ndarray) -> float:
    grey = cv2.cvtColor(composite_rgb(rgba).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    return float((cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel) > 40).sum())


def kept_share(frame: np.ndarray, key_a: np.ndarray, key_b: np.ndarray, t: float) -> float:
    """The smaller of (coverage, line ink) of `frame` relative to the keys' at time t; 1 when
    the keys have none of either to lose."""
    shares = []
    for measure in (_coverage, _ink):
        want = (1.0 - t) * measure(key_a) + t * measure(key_b)
        if want > 0.002 * key_a.shape[0] * key_a.shape[1]:
            shares.append(measure(frame) / want)
    return min(shares, default=1.0)


def lost_the_drawing(frame: np.ndarray, key_a: np.ndarray, key_b: np.ndarray, t: float) -> bool:
    return kept_share(frame, key_a, key_b, t) < MIN_KEPT
