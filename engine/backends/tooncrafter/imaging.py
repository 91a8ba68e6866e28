"""Image plumbing specific to ToonCrafter (numpy/OpenCV only): sketch hints and retiming the
16 generated frames to the requested in-between times. The generic parts (letterbox, matte
and alpha, latent previews) live in `engine.backends.common.imaging` and are re-exported here.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..common.imaging import (  # noqa: F401  (re-exported: the backend and tests use imaging.X)
    BACKGROUND, MATTE_COLOURS, MATTE_HARD, LatentPreview, Letterbox, choose_matte_colour, composite_rgb,
    from_model_output, has_transparency, recover_alpha, to_model_tensor_layout)


def sketch_hint(sketch_rgba: np.ndarray, box: Letterbox) -> np.ndarray:
    """Line art RGBA (dark lines on light or transparent) -> (H, W) hint in [0, 1], lines = 1.
    The reference's rule is (255 - gray) / 255 on a white-background sketch; padding is 0."""
    rgb = composite_rgb(sketch_rgba)
    gray = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    hint = (255.0 - gray) / 255.0
    return box.forward(hint[..., None], 0.0)[..., 0]


def frame_position(t: float, frames: int) -> float:
    """Where time t in (0, 1) of the segment falls on the generated clip (frame 0 = key A)."""
    return t * (frames - 1)


def sketch_frame_index(t: float, frames: int) -> int:
    """Generated frame a sketch at time t constrains (never a key frame of the clip)."""
    return int(min(max(round(frame_position(t, frames)), 1), frames - 2))


def retime(video: np.ndarray, times: list[float], mode: str = "nearest") -> list[np.ndarray]:
    """Pick (or blend) generated frames for the requested in-between times.

    `video`: (T, H, W, C) float32. Nearest keeps lines crisp (a blend of two drawings ghosts);
    `blend` mixes the two neighbours linearly."""
    frames = video.shape[0]
    out = []
    for t in times:
        p = frame_position(t, frames)
        if mode == "blend":
            i = int(np.floor(p))
            j = min(i + 1, frames - 1)
            f = p - i
            out.append(video[i] * (1.0 - f) + video[j] * f)
        else:
            out.append(video[int(min(max(round(p), 1), frames - 2))])
    return out
