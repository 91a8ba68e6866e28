"""Small hand-made skeletons for the pose tests (pixel coordinates on a 256x256 canvas)."""

from __future__ import annotations

import math

from inbetween_client.poses import MISSING, Pose

#: A standing figure facing the viewer: joint -> (x, y).
STANDING: dict[int, tuple[float, float]] = {
    0: (128, 60), 1: (128, 80),
    2: (110, 80), 3: (110, 105), 4: (110, 130),
    5: (146, 80), 6: (146, 105), 7: (146, 130),
    8: (118, 140), 9: (118, 175), 10: (118, 210),
    11: (138, 140), 12: (138, 175), 13: (138, 210),
    14: (123, 55), 15: (133, 55), 16: (118, 58), 17: (138, 58),
}


def pose(points: dict[int, tuple[float, float]] | None = None, missing: tuple[int, ...] = (),
         **parts) -> Pose:
    """STANDING with some joints moved (`points`) or removed (`missing`)."""
    pts = dict(STANDING)
    pts.update(points or {})
    body = tuple(MISSING if j in missing else (float(pts[j][0]), float(pts[j][1]), 1.0)
                 for j in range(18))
    return Pose(body, **parts)


def rotated(p: Pose, degrees: float, cx: float, cy: float, dx: float = 0.0, dy: float = 0.0) -> Pose:
    """The whole pose turned about (cx, cy), then moved by (dx, dy)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)

    def turn(pts):
        if pts is None:
            return None
        return tuple(q if q[2] == 0 else (cx + (q[0] - cx) * c - (q[1] - cy) * s + dx,
                                          cy + (q[0] - cx) * s + (q[1] - cy) * c + dy, q[2]) for q in pts)

    return Pose(turn(p.body), turn(p.hand_left), turn(p.hand_right), turn(p.face))


def hand_at(x: float, y: float, angle_deg: float = 90.0) -> tuple:
    """A flat 21-point hand: wrist at (x, y), five straight fingers fanning out along angle_deg."""
    pts = [(x, y, 1.0)]
    for finger in range(5):
        a = math.radians(angle_deg + (finger - 2) * 15)
        for k in range(1, 5):
            pts.append((x + 6 * k * math.cos(a), y + 6 * k * math.sin(a), 1.0))
    return tuple(pts)
