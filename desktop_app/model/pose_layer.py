"""The pose layer of a frame: an `inbetween_client.poses.Pose` plus what the editor needs.

A frame's pose is the engine's pose (18 OpenPose/DWPose body joints in canvas pixels, optional
hands and face), so what the animator places is exactly what a backend gets. The engine's format
stores a joint that is not there as `[-1, -1, 0]`, which forgets where it was; the editor keeps
that place (`hidden`), so a joint marked hidden (an arm behind the body) comes back where it was.

Everything here is plain Python on immutable values: a new `PoseLayer` per edit, which
`model.pose_edits` pushes as one undo step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from inbetween_client.poses import BODY_JOINTS, BODY_PARENTS, MISSING, NECK, Point, Pose, PoseError

XY = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

#: Right/left joint pairs of the body (the character's own right and left).
BODY_SIDES: tuple[tuple[int, int], ...] = ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13), (14, 15), (16, 17))
#: The 68-point face model's mirror image of each point (jaw, brows, nose, eyes, lips).
FACE_MIRROR: tuple[int, ...] = (
    tuple(range(16, -1, -1)) + tuple(range(26, 16, -1)) + (27, 28, 29, 30) + (35, 34, 33, 32, 31)
    + (45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40)
    + (54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55) + (64, 63, 62, 61, 60, 67, 66, 65)
)

#: A standing figure facing the viewer (its right on the image's left), in a unit box:
#: (u across the figure's width, v down its height).
DEFAULT_FIGURE: tuple[XY, ...] = (
    (0.50, 0.10), (0.50, 0.20),
    (0.30, 0.21), (0.22, 0.38), (0.18, 0.54),
    (0.70, 0.21), (0.78, 0.38), (0.82, 0.54),
    (0.40, 0.54), (0.39, 0.76), (0.38, 0.97),
    (0.60, 0.54), (0.61, 0.76), (0.62, 0.97),
    (0.46, 0.08), (0.54, 0.08), (0.42, 0.10), (0.58, 0.10),
)
FIGURE_ASPECT = (0.30, 0.60)  # the figure's width, as a fraction of its height: at least, at most


def _swap_map() -> list[int]:
    m = list(range(len(BODY_JOINTS)))
    for r, l in BODY_SIDES:
        m[r], m[l] = l, r
    return m


SWAP = tuple(_swap_map())


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {j: [] for j in range(len(BODY_JOINTS))}
    for j, p in enumerate(BODY_PARENTS):
        if p is not None:
            out[p].append(j)
    return out


CHILDREN = _children()


def descendants(joint: int) -> list[int]:
    """Every joint below `joint` in the kinematic tree (what moves with it)."""
    out, todo = [], list(CHILDREN[joint])
    while todo:
        j = todo.pop()
        out.append(j)
        todo.extend(CHILDREN[j])
    return out


def default_pose(box: Box, width: int, height: int) -> Pose:
    """The default skeleton fitted to a drawing's bounding box (on a width x height canvas):
    as tall as the box, as wide as it within human proportions, centred on it, on the canvas."""
    x0, y0, x1, y1 = box
    h = max(8.0, y1 - y0)
    w = min(max(x1 - x0, FIGURE_ASPECT[0] * h), FIGURE_ASPECT[1] * h)
    cx = (x0 + x1) / 2.0
    pts = []
    for u, v in DEFAULT_FIGURE:
        x = min(max(cx + (u - 0.5) * w, 0.0), float(width))
        y = min(max(y0 + v * h, 0.0), float(height))
        pts.append((round(x, 2), round(y, 2), 1.0))
    return Pose(tuple(pts))


@dataclass(frozen=True)
class PoseLayer:
    """A frame's pose and, for joints marked hidden, where they were (joint, x, y)."""

    pose: Pose
    hidden: tuple[tuple[int, float, float], ...] = ()

    # ------------------------------------------------------------------ reading

    def point(self, joint: int) -> XY | None:
        """Where the joint is drawn in the editor: its position, or for a hidden joint the
        place it was hidden at; None for a joint missing with no place (e.g. from a file)."""
        x, y, c = self.pose.body[joint]
        if c > 0.0:
            return x, y
        for j, hx, hy in self.hidden:
            if j == joint:
                return hx, hy
        return None

    def is_hidden(self, joint: int) -> bool:
        return self.pose.body[joint][2] <= 0.0

    def points(self) -> dict[int, XY]:
        return {j: p for j in range(len(BODY_JOINTS)) if (p := self.point(j)) is not None}

    def bone_lengths(self) -> dict[int, float]:
        """Length of the bone from each joint's parent to it, where both are placed."""
        pts = self.points()
        out = {}
        for j, parent in enumerate(BODY_PARENTS):
            if parent is not None and j in pts and parent in pts:
                out[j] = math.dist(pts[parent], pts[j])
        return out

    # ------------------------------------------------------------------ edits (new values)

    def _with(self, body: Iterable[Point], hidden: Iterable[tuple[int, float, float]],
              **parts: Any) -> "PoseLayer":
        p = self.pose
        pose = Pose(tuple(body), parts.get("hand_left", p.hand_left), parts.get("hand_right", p.hand_right),
                    parts.get("face", p.face))
        return PoseLayer(pose, tuple(sorted(hidden)))

    def moved(self, positions: Mapping[int, XY]) -> "PoseLayer":
        """Joints placed at new positions (a hidden joint moves where it will come back)."""
        body = list(self.pose.body)
        hidden = {j: (x, y) for j, x, y in self.hidden}
        for j, (x, y) in positions.items():
            x, y = round(float(x), 2), round(float(y), 2)
            if self.is_hidden(j):
                hidden[j] = (x, y)
            else:
                body[j] = (x, y, body[j][2])
        return self._with(body, ((j, x, y) for j, (x, y) in hidden.items()))

    def with_hidden(self, joint: int, hide: bool, fallback: XY | None = None) -> "PoseLayer":
        """Mark a joint hidden (not there for the engine, its place kept) or shown again (at the
        place it was hidden, or at `fallback` for a joint that never had one)."""
        if hide == self.is_hidden(joint):
            return self
        body = list(self.pose.body)
        hidden = [(j, x, y) for j, x, y in self.hidden if j != joint]
        if hide:
            x, y, _ = body[joint]
            body[joint] = MISSING
            hidden.append((joint, x, y))
        else:
            where = self.point(joint) or fallback
            if where is None:
                raise PoseError(f"joint {joint} ({BODY_JOINTS[joint]}) has no place to be shown at")
            body[joint] = (where[0], where[1], 1.0)
        return self._with(body, hidden)

    def swapped(self) -> "PoseLayer":
        """Right and left exchanged in place: the same figure, now facing the other way
        (the colours a model reads for each side swap; positions stay)."""
        body = [self.pose.body[SWAP[j]] for j in range(len(BODY_JOINTS))]
        hidden = [(SWAP[j], x, y) for j, x, y in self.hidden]
        return self._with(body, hidden, hand_left=self.pose.hand_right, hand_right=self.pose.hand_left)

    def mirrored(self) -> "PoseLayer":
        """The pose flipped left to right about the neck, sides exchanged: a raised right arm
        becomes a raised left arm, the figure still faces the same way."""
        pts = self.points()
        axis = pts.get(NECK, (0.0, 0.0))[0] if NECK in pts else (
            sum(x for x, _ in pts.values()) / len(pts) if pts else 0.0)

        def flip(p: Point) -> Point:
            return p if p[2] <= 0.0 else (round(2 * axis - p[0], 2), p[1], p[2])

        def flip_part(part: tuple[Point, ...] | None) -> tuple[Point, ...] | None:
            return None if part is None else tuple(flip(p) for p in part)

        body = [flip(self.pose.body[SWAP[j]]) for j in range(len(BODY_JOINTS))]
        hidden = [(SWAP[j], round(2 * axis - x, 2), y) for j, x, y in self.hidden]
        face = None if self.pose.face is None else tuple(flip(self.pose.face[FACE_MIRROR[i]])
                                                          for i in range(len(self.pose.face)))
        return self._with(body, hidden, hand_left=flip_part(self.pose.hand_right),
                          hand_right=flip_part(self.pose.hand_left), face=face)

    def dragged(self, joint: int, x: float, y: float, lengths: Mapping[int, float] | None = None) -> "PoseLayer":
        """The joint dragged to (x, y). Without `lengths` it moves alone. With them (keep bone
        lengths) it moves like a rig: the bone from its parent keeps the length `lengths[joint]`
        (the previous pose's) and turns towards (x, y), and everything below it turns along,
        rigidly; dragging the neck (the root) moves the whole skeleton."""
        pts = self.points()
        if joint not in pts:
            return self
        if lengths is None:
            return self.moved({joint: (x, y)})
        parent = BODY_PARENTS[joint]
        if parent is None or parent not in pts:
            dx, dy = x - pts[joint][0], y - pts[joint][1]
            moving = [joint] + descendants(joint)
            return self.moved({j: (pts[j][0] + dx, pts[j][1] + dy) for j in moving if j in pts})
        px, py = pts[parent]
        old = pts[joint]
        length = lengths.get(joint, math.dist((px, py), old))
        ang = math.atan2(y - py, x - px) if (x, y) != (px, py) else math.atan2(old[1] - py, old[0] - px)
        new = (px + length * math.cos(ang), py + length * math.sin(ang))
        turn = ang - math.atan2(old[1] - py, old[0] - px)
        c, s = math.cos(turn), math.sin(turn)
        # rotate the subtree about the parent, then carry it with the joint's new place
        rx, ry = old[0] - px, old[1] - py
        shift = (new[0] - (px + rx * c - ry * s), new[1] - (py + rx * s + ry * c))
        out = {joint: new}
        for d in descendants(joint):
            if d in pts:
                dx, dy = pts[d][0] - px, pts[d][1] - py
                out[d] = (px + dx * c - dy * s + shift[0], py + dx * s + dy * c + shift[1])
        return self.moved(out)

    def translated(self, dx: float, dy: float) -> "PoseLayer":
        """The whole pose moved by (dx, dy) (hands and face too)."""
        def shift(part: tuple[Point, ...] | None) -> tuple[Point, ...] | None:
            return None if part is None else tuple(
                p if p[2] <= 0.0 else (round(p[0] + dx, 2), round(p[1] + dy, 2), p[2]) for p in part)

        return self._with(shift(self.pose.body) or (), ((j, round(x + dx, 2), round(y + dy, 2))
                                                        for j, x, y in self.hidden),
                          hand_left=shift(self.pose.hand_left), hand_right=shift(self.pose.hand_right),
                          face=shift(self.pose.face))

    def clamped(self, width: int, height: int) -> "PoseLayer":
        """Every placed body joint moved onto the canvas (0..width, 0..height)."""
        pts = self.points()
        return self.moved({j: (min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height)))
                           for j, (x, y) in pts.items()})

    # ------------------------------------------------------------------ files

    def to_json(self) -> dict[str, Any]:
        out = self.pose.to_json()
        if self.hidden:
            out["hidden_at"] = [[j, x, y] for j, x, y in self.hidden]
        return out

    @classmethod
    def from_json(cls, raw: Any, what: str = "pose") -> "PoseLayer":
        """From `Pose.to_json()` plus `hidden_at` ([joint, x, y] of hidden joints); PoseError
        names the problem."""
        pose = Pose.from_json(raw, what)
        hidden = []
        for item in (raw.get("hidden_at") or []) if isinstance(raw, dict) else []:
            ok = (isinstance(item, list) and len(item) == 3 and isinstance(item[0], int)
                  and 0 <= item[0] < len(BODY_JOINTS) and all(isinstance(v, (int, float)) and
                                                               math.isfinite(v) for v in item[1:]))
            if not ok:
                raise PoseError(f"{what}: 'hidden_at' entries must be [joint, x, y], got {item!r}")
            if pose.body[item[0]][2] <= 0.0:  # a place only for joints that are hidden
                hidden.append((int(item[0]), float(item[1]), float(item[2])))
        return cls(pose, tuple(sorted(hidden)))


__all__ = ["BODY_SIDES", "Box", "CHILDREN", "DEFAULT_FIGURE", "FACE_MIRROR", "PoseLayer", "SWAP",
           "default_pose", "descendants"]
