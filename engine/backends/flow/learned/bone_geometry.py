"""Where a bone is and where its similarity takes points: the geometry the part layers and
the props share (bones as (joint, parent) indices into an 18-joint skeleton)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .pose_flow import Bone, Joint


def distance_to_bone(xs: np.ndarray, ys: np.ndarray, a: Sequence[float], b: Sequence[float]
                      ) -> np.ndarray:
    d = np.array(b[:2], np.float32) - np.array(a[:2], np.float32)
    u = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / float(d @ d), 0.0, 1.0)
    return np.hypot(xs - a[0] - u * d[0], ys - a[1] - u * d[1])


def carry(xs: np.ndarray, ys: np.ndarray, frm: tuple[Joint, Joint], to: tuple[Joint, Joint]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Where the similarity taking bone `frm` (parent, joint) onto bone `to` sends (xs, ys)."""
    (f0, f1), (t0, t1) = frm, to
    r = complex(t1[0] - t0[0], t1[1] - t0[1]) / complex(f1[0] - f0[0], f1[1] - f0[1])
    zx, zy = xs - f0[0], ys - f0[1]
    return ((t0[0] + r.real * zx - r.imag * zy).astype(np.float32),
            (t0[1] + r.imag * zx + r.real * zy).astype(np.float32))


def ends(pose: Sequence[Joint], bone: Bone, scale: float = 1.0) -> tuple[Joint, Joint]:
    j, p = bone
    return ((pose[p][0] * scale, pose[p][1] * scale), (pose[j][0] * scale, pose[j][1] * scale))


def median_bone_length(pose: Sequence[Joint], bones: Sequence[Bone]) -> float:
    return float(np.median([np.hypot(pose[j][0] - pose[p][0], pose[j][1] - pose[p][1])
                            for j, p in bones]))


def sample_points(img: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                   interpolation: int = cv2.INTER_LINEAR, outside: float | None = None) -> np.ndarray:
    """`img` at the points (xs, ys) (beyond its edges: `outside`, or the edge replicated),
    laid out in rows: `cv2.remap` takes maps no wider than 32767, and a close-up's torso
    has more pixels."""
    n = len(xs)
    width = min(max(n, 1), 4096)
    rows = -(-n // width)
    pad = rows * width - n
    mx = np.pad(xs.astype(np.float32), (0, pad)).reshape(rows, width)
    my = np.pad(ys.astype(np.float32), (0, pad)).reshape(rows, width)
    if outside is None:
        got = cv2.remap(img, mx, my, interpolation, borderMode=cv2.BORDER_REPLICATE)
    else:
        got = cv2.remap(img, mx, my, interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=outside)
    return got.reshape(rows * width, *img.shape[2:])[:n]
