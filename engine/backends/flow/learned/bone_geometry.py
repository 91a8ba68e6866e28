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


def similarity(frm: tuple[Joint, Joint], to: tuple[Joint, Joint]) -> tuple[complex, complex]:
    """(r, b): the similarity z -> r z + b (complex pixel coordinates) taking bone `frm`
    (parent, joint) onto bone `to`."""
    (f0, f1), (t0, t1) = frm, to
    r = complex(t1[0] - t0[0], t1[1] - t0[1]) / complex(f1[0] - f0[0], f1[1] - f0[1])
    return r, complex(t0[0], t0[1]) - r * complex(f0[0], f0[1])


def carry(xs: np.ndarray, ys: np.ndarray, frm: tuple[Joint, Joint], to: tuple[Joint, Joint]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Where the similarity taking bone `frm` (parent, joint) onto bone `to` sends (xs, ys)."""
    r, b = similarity(frm, to)
    return ((b.real + r.real * xs - r.imag * ys).astype(np.float32),
            (b.imag + r.imag * xs + r.real * ys).astype(np.float32))


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


def sample_labels(labels: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Part labels (float32 already on the hot path: no copy) at the maps (sx, sy), the
    nearest label, -1 (background) outside."""
    return cv2.remap(labels.astype(np.float32, copy=False), sx, sy, cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)


#: The head's joints (nose, eyes, ears): one rigid body, though its bones are a few pixels
#: long, so the similarity of any one of them swings with a joint's rounding or the head's
#: turn in depth (celanim: eye-nose bones 17 degrees apart on one head).
HEAD_JOINTS = (0, 14, 15, 16, 17)
#: The bones whose parts move with the whole head: those between head joints, and the
#: neck-nose bone, nearest to most of a head's fills (the neck's own fill turns with it).
HEAD_BONES = frozenset({(0, 1), (14, 0), (15, 0), (16, 14), (17, 15)})
#: Where `with_head_frame` puts the head's frame (parent, then joint) after the 18 joints.
HEAD_FRAME: Bone = (19, 18)
#: Head joints two poses must share for the frame: with two, it is one short bone again.
HEAD_FIT_JOINTS = 3


def with_head_frame(reference: Sequence[Joint], pose: Sequence[Joint]) -> list[Joint]:
    """`pose` with two joints more: the head's frame, the least-squares similarity of the
    head's joints that `reference` and `pose` both show, applied to a segment fixed in
    `reference` (its head's centroid and a point a head's spread to the right of it). A bone
    between them moves the way the whole head does. Hidden (0 confidence) when they share
    fewer than `HEAD_FIT_JOINTS` head joints."""
    shared = [j for j in HEAD_JOINTS if reference[j][2] > 0 and pose[j][2] > 0]
    out = [tuple(q) for q in pose[:18]]
    hidden = [(-1.0, -1.0, 0.0), (-1.0, -1.0, 0.0)]
    if len(shared) < HEAD_FIT_JOINTS:
        return out + hidden
    p = np.array([complex(reference[j][0], reference[j][1]) for j in shared])
    q = np.array([complex(pose[j][0], pose[j][1]) for j in shared])
    pc, qc = p.mean(), q.mean()
    spread = float(np.sqrt(np.mean(np.abs(p - pc) ** 2)))
    if spread < 1e-3:
        return out + hidden
    a = np.vdot(p - pc, q - qc) / np.vdot(p - pc, p - pc)  # q - qc = a (p - pc), least squares
    if abs(a) < 1e-3:
        return out + hidden
    start, end = qc, qc + a * spread  # the images of pc and pc + spread
    return out + [(float(start.real), float(start.imag), 1.0), (float(end.real), float(end.imag), 1.0)]


def mover(bone: Bone, poses: Sequence[Sequence[Joint]]) -> Bone:
    """The bone whose motion carries `bone`'s part between `poses` (from `with_head_frame`):
    the head's frame for a head bone where all of them show it, else the bone itself."""
    if bone in HEAD_BONES and all(len(p) > HEAD_FRAME[0] and p[HEAD_FRAME[1]][2] > 0 for p in poses):
        return HEAD_FRAME
    return bone
