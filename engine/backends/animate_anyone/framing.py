"""Canvas <-> model frame for the Animate Anyone backend (numpy/OpenCV only).

The model works at its own frame (512x768 portrait for the official weights; a parity fixture
says its own). A canvas of any size is fitted into that frame, in the canvas's orientation (a
landscape canvas uses the frame turned, 768x512), keeping its aspect ratio; the frame is then
shrunk to the fitted size rounded up to multiples of 8 (the VAE's factor), so at most 7 pixels
of padding remain. Generated frames are mapped back through the same letterbox.

Pose images are drawn by the DWPose renderer (`engine.poses.render`) directly at the fitted
size of the content, so limbs and joints have the widths the model saw in training (DWPose
draws at about the model's resolution), and pasted into the frame; the padding is black, as
the renderer's background.
"""

from __future__ import annotations

import math

import numpy as np

from engine.poses.render import render_pose
from inbetween_client.poses import Pose

from ..common.imaging import Letterbox, composite_rgb


def model_frame(canvas_w: int, canvas_h: int, model_w: int, model_h: int, factor: int = 8) -> Letterbox:
    """Where a canvas sits in the model frame (`dst_w`, `dst_h` multiples of `factor`)."""
    if (canvas_w > canvas_h) != (model_w > model_h) and canvas_w != canvas_h:
        model_w, model_h = model_h, model_w
    scale = min(model_w / canvas_w, model_h / canvas_h)
    w = min(model_w, max(factor, factor * math.ceil(canvas_w * scale / factor - 1e-6)))
    h = min(model_h, max(factor, factor * math.ceil(canvas_h * scale / factor - 1e-6)))
    return Letterbox.fit(canvas_h, canvas_w, h, w)


def reference_image(key_rgba: np.ndarray, box: Letterbox, matte: np.ndarray) -> np.ndarray:
    """A key (RGBA uint8, canvas size) composited on the matte and letterboxed: uint8 RGB frame."""
    rgb = box.forward(composite_rgb(key_rgba, matte), matte)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def pose_image(pose: Pose, box: Letterbox) -> np.ndarray:
    """The pose (canvas pixels) as the model's pose image: uint8 RGB at the model frame."""
    out = np.zeros((box.dst_h, box.dst_w, 3), np.uint8)
    out[box.y0:box.y0 + box.h, box.x0:box.x0 + box.w] = render_pose(pose, box.src_w, box.src_h, (box.w, box.h))
    return out
