"""The background behind the character: the keys' background plates, which the network runs
on for the background's motion, and the gap the character covered in both keys."""

from __future__ import annotations

import cv2
import numpy as np

from .bone_geometry import sample_labels

#: Spreads (px) of the background that fills what the character covered in both keys.
HOLE_SIGMAS = (4.0, 16.0, 64.0, 256.0)


def background_plates(key_a: np.ndarray, key_b: np.ndarray, labels_a: np.ndarray,
                      labels_b: np.ndarray, shift: tuple[float, float],
                      grid: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Both keys (RGBA uint8) with the character's parts (labels >= 0) painted over by the
    background: from the other key where the background's motion (`shift`, A to B) shows
    it there, else from the background around. The network, run on these, sees the
    background's own motion, which it otherwise drags along with the character."""
    xs, ys = grid
    out = []
    for key, other, own, theirs, sign in ((key_a, key_b, labels_a, labels_b, 1.0),
                                          (key_b, key_a, labels_b, labels_a, -1.0)):
        mx, my = xs + sign * shift[0], ys + sign * shift[1]
        seen = sample_labels(theirs, mx, my) < 0
        character = own >= 0
        plate = key.copy()
        shown = character & seen
        if shown.any():
            moved = cv2.remap(other, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            plate[shown] = moved[shown]
        out.append(fill_holes(plate, character & ~seen, ~character))
    return out[0], out[1]


def fill_holes(rgba: np.ndarray, hole: np.ndarray, background: np.ndarray) -> np.ndarray:
    """`rgba` (uint8) with the `hole` pixels painted from the `background` pixels around them
    (a normalized blur, widening until every hole pixel has some): never from the character,
    whose dark outlines would smudge into the gap."""
    if not hole.any():
        return rgba
    out = rgba.astype(np.float32)
    weight = (background & ~hole).astype(np.float32)
    todo = hole.copy()
    for sigma in HOLE_SIGMAS:
        den = cv2.GaussianBlur(weight, (0, 0), sigma)
        num = np.dstack([cv2.GaussianBlur(out[..., c] * weight, (0, 0), sigma) for c in range(4)])
        ok = todo & (den > 1e-3)
        out[ok] = num[ok] / den[ok][:, None]
        todo &= ~ok
        if not todo.any():
            break
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
