"""Poses as Krita vector layers, in krita-ai-diffusion's convention (no Krita, no Qt here).

A pose layer is a vector layer whose shapes are one skeleton, the way krita-ai-diffusion
(Acly/krita-ai-diffusion, `ai_diffusion/pose.py`) keeps its OpenPose control layers, so a
pose made in either plugin reads in the other:

- joint j of character p is a circle named `P{p:02d}_J{j:02d}` (the 18 OpenPose body joints,
  `BODY_JOINTS` order) centred on the joint, filled with the joint's colour;
- bone b is a line named `P{p:02d}_B{b:02d}` between its two joints, in OpenPose's limb order,
  the bone's colour, 60 % opaque; bones are drawn first, so joints are on top (easier to grab);
- colours: the hue wheel in 18 steps from red (OpenPose's palette); circle radius and line
  width: 4 px, or diagonal / 250 px on canvases whose diagonal is over 2000 px;
- SVG user units are canvas pixels (Krita maps them through the document's resolution).

A joint that is not there has no circle. (A shape's visibility is no sign: Krita reports the
shapes of a hidden layer as hidden, and the plugin hides the pose layers of other frames.)
Where the plugin reads joint
positions, it takes the centre of each circle's bounding box, so a circle the animator moved
or resized still gives its joint. This plugin adds one rule of its own: which frame a layer
poses, from its name, `pose 0012` (Krita 5.1 vector layers hold no keyframes).
"""

from __future__ import annotations

import colorsys
import math
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .client_lib import BODY_JOINTS, Pose, PoseError

#: OpenPose's 17 limbs (joint pairs) in its drawing order; the index is the bone's number.
BONES: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
JOINT_COUNT = len(BODY_JOINTS)
BONE_OPACITY = 0.6
_SHAPE = re.compile(r"^P(\d{2})_([JB])(\d{2})$")
_POSE_LAYER = re.compile(r"^\s*pose\s+(\d{1,6})\s*$", re.IGNORECASE)
_POSE_LIKE = re.compile(r"^\s*pose(\s|\d|$)", re.IGNORECASE)
INTERPOLATED_PREFIX = "interpolated pose "
_INTERPOLATED = re.compile(r"^\s*interpolated pose\s+(\d{1,6})\s*$", re.IGNORECASE)


class PoseLayerError(ValueError):
    """A layer named like a pose that is not a usable one; the message names the layer."""


# ------------------------------------------------------------------ names


def joint_id(joint: int, person: int = 0) -> str:
    return f"P{person:02d}_J{joint:02d}"


def bone_id(bone: int, person: int = 0) -> str:
    return f"P{person:02d}_B{bone:02d}"


def parse_shape_name(name: str) -> tuple[str, int, int] | None:
    """("J" or "B", person, index) for a skeleton shape's name, else None."""
    m = _SHAPE.match(name or "")
    if m is None:
        return None
    kind, person, index = m.group(2), int(m.group(1)), int(m.group(3))
    limit = JOINT_COUNT if kind == "J" else len(BONES)
    return (kind, person, index) if index < limit else None


def pose_layer_name(frame: int) -> str:
    return f"pose {frame:04d}"


def frame_of(layer_name: str) -> int | None:
    """The frame a pose layer poses ('pose 0012' -> 12), else None."""
    m = _POSE_LAYER.match(layer_name or "")
    return int(m.group(1)) if m else None


def looks_like_pose(layer_name: str) -> bool:
    """Named 'pose...' (a pose layer, or one whose name the plugin cannot read a frame from)."""
    return bool(_POSE_LIKE.match(layer_name or ""))


def interpolated_layer_name(frame: int) -> str:
    return f"{INTERPOLATED_PREFIX}{frame:04d}"


def interpolated_frame_of(layer_name: str) -> int | None:
    m = _INTERPOLATED.match(layer_name or "")
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------ drawing


def colour(index: int) -> str:
    """'#ff0000', '#ff5500', ...: hue index * 20 degrees, full saturation and value."""
    r, g, b = colorsys.hsv_to_rgb((index % 18) / 18.0, 1.0, 1.0)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def marker_size(width: int, height: int) -> float:
    """Joint radius and bone width in pixels (the convention's rule: grows on big canvases)."""
    return 4.0 + max(0.0, math.hypot(width, height) / 250.0 - 4.0)


def _num(v: float) -> str:
    return f"{round(v, 3):g}"


def _svg(width: int, height: int, body: Iterable[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">' + "".join(body) + "</svg>")


def _bone_line(pose: Pose, bone: int, size: float, person: int) -> str | None:
    a, b = (pose.body[j] for j in BONES[bone])
    if not (Pose.present(a) and Pose.present(b)):
        return None
    return (f'<line id="{bone_id(bone, person)}" x1="{_num(a[0])}" y1="{_num(a[1])}" x2="{_num(b[0])}" '
            f'y2="{_num(b[1])}" stroke="{colour(bone)}" stroke-width="{_num(size)}" '
            f'stroke-opacity="{BONE_OPACITY}"/>')


def pose_svg(pose: Pose, width: int, height: int, person: int = 0) -> str:
    """The whole skeleton: bones (where both joints are there), then the joints."""
    size = marker_size(width, height)
    lines = [_bone_line(pose, b, size, person) for b in range(len(BONES))]
    circles = [f'<circle id="{joint_id(j, person)}" cx="{_num(p[0])}" cy="{_num(p[1])}" r="{_num(size)}" '
               f'fill="{colour(j)}"/>' for j, p in enumerate(pose.body) if Pose.present(p)]
    return _svg(width, height, [ln for ln in lines if ln] + circles)


def bones_svg(pose: Pose, bones: Iterable[int], width: int, height: int, person: int = 0) -> str | None:
    """Just these bones (redrawn after their joints moved); None when none can be drawn."""
    size = marker_size(width, height)
    lines = [ln for ln in (_bone_line(pose, b, size, person) for b in sorted(set(bones))) if ln]
    return _svg(width, height, lines) if lines else None


def bones_of(joints: Iterable[int]) -> set[int]:
    """The bones that touch any of these joints."""
    js = set(joints)
    return {i for i, (a, b) in enumerate(BONES) if a in js or b in js}


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class ShapeInfo:
    """What the plugin needs of one shape: its name and bounding-box centre in canvas pixels."""

    name: str
    cx: float
    cy: float


def _listing(names: Sequence[str], limit: int = 4) -> str:
    shown = [f"'{n}'" if n else "an unnamed shape" for n in names[:limit]]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def person_of(shapes: Sequence[ShapeInfo]) -> int | None:
    """The character whose joints these shapes are, when there is exactly one."""
    people = {p[1] for p in (parse_shape_name(s.name) for s in shapes) if p and p[0] == "J"}
    return next(iter(people)) if len(people) == 1 else None


def pose_from_shapes(layer: str, shapes: Sequence[ShapeInfo]) -> Pose:
    """The skeleton of a pose layer; PoseLayerError (naming the layer) when it is not one."""
    unknown = [s.name for s in shapes if parse_shape_name(s.name) is None]
    if unknown:
        raise PoseLayerError(
            f"'{layer}' is named like a pose layer but is not a pose: {_listing(unknown)} "
            f"{'is not a joint or bone' if len(unknown) == 1 else 'are not joints or bones'} of a skeleton. "
            "A pose layer holds only circles named P00_J00 ... P00_J17 (the joints) and lines named "
            "P00_B00 ... P00_B16 (the bones); make one with 'Pose this frame', or rename this layer.")
    joints = [(parse_shape_name(s.name), s) for s in shapes]
    joints = [(p, s) for p, s in joints if p is not None and p[0] == "J"]
    people = sorted({p[1] for p, _ in joints})
    if not people:
        raise PoseLayerError(
            f"'{layer}' is named like a pose layer but has no joints (circles named P00_J00 ... P00_J17): "
            "make it with 'Pose this frame', or rename the layer.")
    if len(people) > 1:
        who = ", ".join(f"P{p:02d}" for p in people)
        raise PoseLayerError(
            f"'{layer}' holds the skeletons of {len(people)} characters ({who}); a pose layer holds one. "
            "Move the others to layers of their own (the in-betweens follow one skeleton).")
    body: list[tuple[float, float, float]] = [(-1.0, -1.0, 0.0)] * JOINT_COUNT
    seen: set[int] = set()
    for (_, _, j), s in joints:
        if j in seen:
            raise PoseLayerError(f"'{layer}' has two circles named {s.name} ({BODY_JOINTS[j]}): delete one.")
        seen.add(j)
        if not (math.isfinite(s.cx) and math.isfinite(s.cy)):
            raise PoseLayerError(f"'{layer}': the joint {s.name} ({BODY_JOINTS[j]}) has no position.")
        body[j] = (float(s.cx), float(s.cy), 1.0)
    return Pose(tuple(body))


def check_on_canvas(layer: str, pose: Pose, width: int, height: int) -> None:
    """Every joint on the canvas; PoseLayerError naming the layer and the joint otherwise."""
    try:
        pose.check_canvas(width, height, f"'{layer}'")
    except PoseError as exc:
        raise PoseLayerError(f"{exc}: move the joint onto the canvas, or delete its circle if the joint is "
                             "not seen in this frame.") from None


# ------------------------------------------------------------------ a default skeleton

#: A standing figure facing the viewer (so its right side is on the image's left), in units of
#: its height, x from the figure's centre line, y down from the top of the head.
DEFAULT_FIGURE: tuple[tuple[float, float], ...] = (
    (0.0, 0.07),  # nose
    (0.0, 0.19),  # neck
    (-0.12, 0.20), (-0.16, 0.34), (-0.19, 0.47),  # right shoulder, elbow, wrist
    (0.12, 0.20), (0.16, 0.34), (0.19, 0.47),  # left
    (-0.08, 0.51), (-0.09, 0.73), (-0.09, 0.95),  # right hip, knee, ankle
    (0.08, 0.51), (0.09, 0.73), (0.09, 0.95),  # left
    (-0.035, 0.045), (0.035, 0.045),  # eyes
    (-0.07, 0.06), (0.07, 0.06),  # ears
)
FIGURE_WIDTH = 0.38  # wrist to wrist, in units of its height


def default_pose(width: int, height: int, box: tuple[float, float, float, float] | None = None) -> Pose:
    """The default skeleton fitted into `box` (x0, y0, x1, y1: a drawing's bounds), else into the
    middle 80 % of the canvas: as tall as fits, centred, always on the canvas."""
    if box is None or box[2] - box[0] < 2 or box[3] - box[1] < 2:
        box = (0.1 * width, 0.1 * height, 0.9 * width, 0.9 * height)
    x0, y0, x1, y1 = box
    s = min(y1 - y0, (x1 - x0) / FIGURE_WIDTH)
    cx, top = (x0 + x1) / 2.0, (y0 + y1) / 2.0 - s / 2.0
    body = tuple((min(max(cx + fx * s, 0.0), float(width)), min(max(top + fy * s, 0.0), float(height)), 1.0)
                 for fx, fy in DEFAULT_FIGURE)
    return Pose(body)


def alpha_bounds(bands: Sequence[bytes], width: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the pixels with any alpha in BGRA bands of whole rows, or None."""
    x0, y0, x1, y1 = width, -1, -1, -1
    y = 0
    for band in bands:
        alpha = band[3::4]
        for r in range(len(alpha) // width):
            row = alpha[r * width:(r + 1) * width]
            left = len(row) - len(row.lstrip(b"\0"))
            if left < width:
                right = len(row.rstrip(b"\0"))
                x0, x1 = min(x0, left), max(x1, right)
                y0 = y if y0 < 0 else y0
                y1 = y + 1
            y += 1
    return None if y0 < 0 else (x0, y0, x1, y1)
