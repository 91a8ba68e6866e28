"""Pose images exactly as DWPose's `draw_pose` draws them (what Animate Anyone's pose guider saw in training).

The drawing rules, written from the facts of the reference (Moore-AnimateAnyone's
`src/dwpose/__init__.py::draw_pose` and `src/dwpose/util.py`, see
../shared/fixtures/animate_anyone/public/README.md, "Pose rendering"), and checked pixel for
pixel against the fixture's `pose_render/` images:

- a black RGB canvas of H x W;
- body: the 17 bones of the OpenPose tree (`LIMBS`, in this order), each a filled convex
  polygon of `cv2.ellipse2Poly` around the bone (half-axes: half its length and 4 px, angle in
  whole degrees, centre truncated to whole pixels) in the colour of the bone's index; then the
  whole canvas times 0.6 (the bones are dimmed, joints drawn after them are not); then a filled
  circle of radius 4 on every visible joint in the joint's colour;
- hands: per hand, 20 lines of thickness 2 in hue e/20 (full saturation and value) where both
  ends have integer coordinates > 0.01, then a red (0, 0, 255) dot of radius 4 on every such point;
- face: a white dot of radius 3 on every point with integer coordinates > 0.01.

Coordinates are DWPose's: x / W and y / H (float64), -1 for a missing point; a body joint is
missing where its `subset` entry is -1. Quirks kept on purpose: two more bones of the
reference's list (shoulders to ears) are never drawn; hand and face points on the first pixel
row or column (integer coordinate 0) are skipped like missing ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from inbetween_client.poses import BODY_JOINTS, FACE_POINTS, HAND_POINTS, Point, Pose

#: The bones, (from joint, to joint), in drawing order; bone i is drawn in COLORS[i].
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
#: One colour per body joint (and per bone), RGB: the hue wheel in 18 steps from red.
COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
#: Hand bones (wrist 0, then four points per finger from its base out).
HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    (0 if k == 0 else 4 * f + k, 4 * f + k + 1) for f in range(5) for k in range(4)
)
STICK_WIDTH = 4
BODY_DIM = 0.6
JOINT_RADIUS = 4
HAND_THICKNESS = 2
HAND_POINT_RADIUS = 4
HAND_POINT_COLOR = (0, 0, 255)
FACE_RADIUS = 3
FACE_COLOR = (255, 255, 255)
EPS = 0.01


@dataclass(frozen=True)
class DwPose:
    """A pose in DWPose's normalised layout (float64 arrays), the renderer's input.

    candidate: (N, 2) x/W, y/H (-1 missing); subset: (P, 18) index into candidate or -1 per
    person; hands: (K, 21, 2); faces: (F, 68, 2), both normalised, -1 missing.
    """

    candidate: np.ndarray
    subset: np.ndarray
    hands: np.ndarray
    faces: np.ndarray


def _hue(h: float) -> tuple[float, float, float]:
    """RGB (0..255 floats) of hue h at full saturation and value, by the common HSV formula
    (sector i = int(6h), fraction f; values as matplotlib's hsv_to_rgb computes them)."""
    h6 = h * 6.0
    i = int(h6)
    f = h6 - i
    v, p, q, t = 1.0, 0.0, 1.0 - f, 1.0 - (1.0 - f)
    rgb = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))[i % 6]
    return (rgb[0] * 255.0, rgb[1] * 255.0, rgb[2] * 255.0)


def _draw_body(canvas: np.ndarray, candidate: np.ndarray, subset: np.ndarray) -> np.ndarray:
    h, w = canvas.shape[:2]
    for i, (j0, j1) in enumerate(LIMBS):
        for person in subset:
            i0, i1 = person[j0], person[j1]
            if i0 == -1 or i1 == -1:
                continue
            xs = candidate[[int(i0), int(i1)], 0] * float(w)
            ys = candidate[[int(i0), int(i1)], 1] * float(h)
            cx, cy = np.mean(xs), np.mean(ys)
            length = ((ys[0] - ys[1]) ** 2 + (xs[0] - xs[1]) ** 2) ** 0.5
            angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
            polygon = cv2.ellipse2Poly((int(cx), int(cy)), (int(length / 2), STICK_WIDTH),
                                       int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, COLORS[i])
    canvas = (canvas * BODY_DIM).astype(np.uint8)
    for j in range(len(BODY_JOINTS)):
        for person in subset:
            index = int(person[j])
            if index == -1:
                continue
            x, y = candidate[index][0:2]
            cv2.circle(canvas, (int(x * w), int(y * h)), JOINT_RADIUS, COLORS[j], thickness=-1)
    return canvas


def _draw_hands(canvas: np.ndarray, hands: np.ndarray) -> None:
    h, w = canvas.shape[:2]
    for peaks in hands:
        px = [(int(x * w), int(y * h)) for x, y in np.asarray(peaks)]
        for e, (a, b) in enumerate(HAND_EDGES):
            (x1, y1), (x2, y2) = px[a], px[b]
            if x1 > EPS and y1 > EPS and x2 > EPS and y2 > EPS:
                cv2.line(canvas, (x1, y1), (x2, y2), _hue(e / float(len(HAND_EDGES))),
                         thickness=HAND_THICKNESS)
        for x, y in px:
            if x > EPS and y > EPS:
                cv2.circle(canvas, (x, y), HAND_POINT_RADIUS, HAND_POINT_COLOR, thickness=-1)


def _draw_faces(canvas: np.ndarray, faces: np.ndarray) -> None:
    h, w = canvas.shape[:2]
    for points in faces:
        for x, y in np.asarray(points):
            x, y = int(x * w), int(y * h)
            if x > EPS and y > EPS:
                cv2.circle(canvas, (x, y), FACE_RADIUS, FACE_COLOR, thickness=-1)


def draw_pose(pose: DwPose, height: int, width: int) -> np.ndarray:
    """The pose image (H x W x 3 uint8, RGB) of a pose in DWPose's layout: body, hands, face."""
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas = _draw_body(canvas, np.asarray(pose.candidate, np.float64),
                        np.asarray(pose.subset, np.float64).reshape(-1, len(BODY_JOINTS)))
    _draw_hands(canvas, np.asarray(pose.hands, np.float64).reshape(-1, HAND_POINTS, 2))
    _draw_faces(canvas, np.asarray(pose.faces, np.float64).reshape(-1, FACE_POINTS, 2))
    return canvas


def _normalised(points: tuple[Point, ...], w: float, h: float) -> np.ndarray:
    return np.array([(x / w, y / h) if c > 0.0 else (-1.0, -1.0) for x, y, c in points], np.float64)


def to_dwpose(pose: Pose, width: int, height: int) -> DwPose:
    """Our pose (pixels of a width x height canvas) in DWPose's layout: coordinates divided by
    float(width) / float(height) as DWPose divides its detections; missing points -1."""
    w, h = float(width), float(height)
    candidate = _normalised(pose.body, w, h)
    subset = np.array([[float(j) if c > 0.0 else -1.0 for j, (_, _, c) in enumerate(pose.body)]])
    hands = [_normalised(hand, w, h) for hand in (pose.hand_left, pose.hand_right) if hand is not None]
    faces = [_normalised(pose.face, w, h)] if pose.face is not None else []
    return DwPose(candidate, subset, np.array(hands, np.float64).reshape(-1, HAND_POINTS, 2),
                  np.array(faces, np.float64).reshape(-1, FACE_POINTS, 2))


def render_pose(pose: Pose, width: int, height: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """The pose image of `pose` (drawn on a width x height canvas) at `size` (w, h; default the
    canvas size), H x W x 3 uint8 RGB: how a backend makes the image its model sees for a frame."""
    out_w, out_h = size if size is not None else (width, height)
    return draw_pose(to_dwpose(pose, width, height), out_h, out_w)


__all__ = ["COLORS", "DwPose", "HAND_EDGES", "LIMBS", "draw_pose", "render_pose", "to_dwpose"]
