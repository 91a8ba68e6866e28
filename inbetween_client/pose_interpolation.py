"""Pose interpolation on arcs: the one rule every backend and both clients use (standard library only).

Between two posed times t_i < t < t_j of a segment the pose is interpolated at
u = (t - t_i) / (t_j - t_i). Times already include the segment's timing curve (an ease-in
in-between sits at a small t), so u is linear in t.

"arc" (the default) moves the skeleton the way an animator moves a rig, joint by joint down
the kinematic tree (`BODY_PARENTS`, neck at the root):

- the root (neck) moves from one position to the next;
- the body turns as one: its orientation is the neck -> mid-hip axis, turned the short way;
- every bone turns about its parent joint, the short way, by its angle *relative to its parent
  bone* (a forearm keeps its bend while the upper arm swings), and its length blends, so a
  swinging arm moves on an arc, never along the chord, and squash and stretch blend;
- confidence blends linearly.

With two poses (the keys) every quantity (root position, angles, lengths) blends linearly in u.
With more (a breakdown), the poses next to the interval shape the motion: each quantity follows
a cubic through the poses with continuous velocity, monotone-limited so it never overshoots a
pose and a hold does not drift (`_Blend`); a root on an arc through a breakdown keeps the arc.

Joints present in only one of the two poses show in the half of the interval nearer the pose
that has them (a hand that goes behind the body disappears half way), carried rigidly by their
nearest present ancestor, so they move with the limb. Joints missing in both stay missing.
Hands follow their forearm (the hand's root rides on the body's wrist, its bones are measured
from the forearm); the face turns and scales with the neck -> nose bone. A hand or face given
in only one pose is kept in the nearer half.

"linear" moves every point on its chord (what a plain morph does), for comparison and for tools
that want it.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

from .poses import (
    BODY_PARENTS,
    HAND_PARENTS,
    MISSING,
    NECK,
    TIME_TOLERANCE,
    Point,
    Pose,
    PoseTrack,
    TimedPose,
)

METHODS = ("arc", "linear")
_NOSE, _R_HIP, _L_HIP = 0, 8, 11
# hand -> (elbow, wrist) of the body that carries it
_HAND_ARM = {"hand_left": (6, 7), "hand_right": (3, 4)}


def _lerp(a: float, b: float, u: float) -> float:
    return a + (b - a) * u


def _short(delta: float) -> float:
    """The signed angle in (-pi, pi] that turns by `delta` the short way."""
    d = math.fmod(delta, 2.0 * math.pi)
    if d > math.pi:
        d -= 2.0 * math.pi
    elif d <= -math.pi:
        d += 2.0 * math.pi
    return d


def _angle(p: Point, q: Point) -> float:
    return math.atan2(q[1] - p[1], q[0] - p[0])


def _rotate(dx: float, dy: float, a: float) -> tuple[float, float]:
    c, s = math.cos(a), math.sin(a)
    return dx * c - dy * s, dx * s + dy * c


def _present(p: Point) -> bool:
    return p[2] > 0.0


def _limit(m: float, left: float | None, right: float | None) -> float:
    """Monotone limiting of a tangent (as PCHIP does): no overshoot past a pose, no drift in a hold."""
    slopes = [s for s in (left, right) if s is not None]
    if any(s == 0.0 or (s > 0.0) != (m > 0.0) for s in slopes) or (
            left is not None and right is not None and (left > 0.0) != (right > 0.0)):
        return 0.0
    bound = 3.0 * min(abs(s) for s in slopes)
    return max(-bound, min(bound, m))


def _parabola_slope(s1: float, s2: float, h1: float, h2: float, at: str) -> float:
    """Slope of the parabola through three points at its first, middle or last point, from the
    slopes s1, s2 of the two chords and their lengths h1, h2 in time."""
    if at == "first":
        return s1 - (s2 - s1) * h1 / (h1 + h2)
    if at == "middle":
        return (s1 * h2 + s2 * h1) / (h1 + h2)
    return s2 + (s2 - s1) * h2 / (h1 + h2)


class _Blend:
    """How one quantity (a coordinate, an angle, a length) moves from pose a to pose b.

    With only a and b it blends linearly in u. With the neighbouring posed times (the pose before
    a, the pose after b) it follows a cubic Hermite curve through the poses whose tangents are
    those of the parabola through each pose and its neighbours, monotone-limited like PCHIP: the
    motion passes every pose with a continuous velocity (a root travelling on an arc through a
    breakdown keeps that arc) and never overshoots a pose or drifts during a hold.
    """

    def __init__(self, u: float, t_a: float, t_b: float,
                 t_p: float | None = None, t_n: float | None = None) -> None:
        self.u, self.t_a, self.t_b, self.t_p, self.t_n = u, t_a, t_b, t_p, t_n

    def value(self, va: float, vb: float, vp: float | None = None, vn: float | None = None) -> float:
        """The quantity at u, from its values at a and b and (None: unknown) before a and after b."""
        h = self.t_b - self.t_a
        d = (vb - va) / h
        hp = None if vp is None or self.t_p is None else self.t_a - self.t_p
        hn = None if vn is None or self.t_n is None else self.t_n - self.t_b
        if hp is None and hn is None:
            return _lerp(va, vb, self.u)
        left = None if hp is None else (va - vp) / hp  # type: ignore[operator]
        right = None if hn is None else (vn - vb) / hn  # type: ignore[operator]
        if left is not None:
            m_a = _limit(_parabola_slope(left, d, hp, h, "middle"), left, d)  # type: ignore[arg-type]
        else:
            m_a = _limit(_parabola_slope(d, right, h, hn, "first"), None, d)  # type: ignore[arg-type]
        if right is not None:
            m_b = _limit(_parabola_slope(d, right, h, hn, "middle"), d, right)  # type: ignore[arg-type]
        else:
            m_b = _limit(_parabola_slope(left, d, hp, h, "last"), d, None)  # type: ignore[arg-type]
        u = self.u
        u2, u3 = u * u, u * u * u
        return ((2 * u3 - 3 * u2 + 1) * va + (u3 - 2 * u2 + u) * h * m_a
                + (-2 * u3 + 3 * u2) * vb + (u3 - u2) * h * m_b)

    def angle(self, va: float, vb: float, vp: float | None = None, vn: float | None = None) -> float:
        """An angle (radians), each step between poses taken the short way."""
        vb = va + _short(vb - va)
        vp = None if vp is None else va - _short(va - vp)
        vn = None if vn is None else vb + _short(vn - vb)
        return self.value(va, vb, vp, vn)


def _order(parents: Sequence[int | None]) -> list[int]:
    """Joints root first, every parent before its children."""
    children: dict[int | None, list[int]] = {}
    for j, p in enumerate(parents):
        children.setdefault(p, []).append(j)
    out: list[int] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        j = stack.pop()
        out.append(j)
        stack.extend(reversed(children.get(j, [])))
    return out


class _Frame(NamedTuple):
    """A local coordinate frame: origin, orientation (radians) and scale (pixels per unit)."""

    x: float
    y: float
    angle: float
    scale: float = 1.0

    def to_local(self, p: Point) -> tuple[float, float]:
        dx, dy = _rotate(p[0] - self.x, p[1] - self.y, -self.angle)
        return dx / self.scale, dy / self.scale

    def to_world(self, lx: float, ly: float) -> tuple[float, float]:
        dx, dy = _rotate(lx * self.scale, ly * self.scale, self.angle)
        return self.x + dx, self.y + dy


#: What carries a point set: its frame in pose a, in pose b and in the interpolated pose.
_Carrier = tuple[_Frame, _Frame, _Frame]


def _carried(p: Point, src: _Frame, dst: _Frame, c: float) -> Point:
    x, y = dst.to_world(*src.to_local(p))
    return (x, y, c)


def _blend_carried(pa: Point, pb: Point, carrier: _Carrier, u: float, c: float) -> Point:
    """A point moving with its carrier, its offset in the carrier's frame blended."""
    fa, fb, fu = carrier
    (ax, ay), (bx, by) = fa.to_local(pa), fb.to_local(pb)
    x, y = fu.to_world(_lerp(ax, bx, u), _lerp(ay, by, u))
    return (x, y, c)


Points = Sequence[Point]


class _Tree:
    """Arc interpolation of one point set (the body, or a hand) down a kinematic tree."""

    def __init__(self, parents: Sequence[int | None]) -> None:
        self.parents = parents
        self.order = _order(parents)

    def _ancestor(self, j: int, ok) -> int | None:
        p = self.parents[j]
        while p is not None and not ok(p):
            p = self.parents[p]
        return p

    def interpolate(self, a: Points, b: Points, blend: _Blend,
                    base: tuple[float | None, float, float, float | None],
                    carrier: _Carrier | None = None,
                    p: Points | None = None, n: Points | None = None) -> list[Point]:
        """The points a fraction `blend.u` of the way from a to b.

        `p`, `n`: the points of the poses before a and after b (None: none), which shape the
        motion (see `_Blend`). `base`: the orientation (in p, a, b, n) that bones without a
        parent bone are measured from. `carrier`: what the root rides on (the body's wrist and
        forearm for a hand); None: a root moves on its own.
        """
        u = blend.u
        count = len(self.parents)
        both = [_present(a[j]) and _present(b[j]) for j in range(count)]
        out: list[Point] = [MISSING] * count
        base_u = blend.angle(base[1], base[2], base[0], base[3])
        # bone[j]: world angle of j's bone in (p, a, b, n, result); None: j has no bone
        bone: list[tuple[float | None, float, float, float | None, float] | None] = [None] * count
        for j in self.order:
            pa, pb = a[j], b[j]
            if not both[j]:
                out[j] = self._one_sided(j, a, b, u, out, bone, base, base_u, carrier)
                continue
            c = _lerp(pa[2], pb[2], u)
            q = self._ancestor(j, lambda k: both[k])
            if q is None:  # a root: on its carrier, or on its own path
                if carrier is not None:
                    out[j] = _blend_carried(pa, pb, carrier, u, c)
                else:
                    vp, vn = (s[j] if s is not None and _present(s[j]) else None for s in (p, n))
                    out[j] = tuple(blend.value(pa[k], pb[k], vp and vp[k], vn and vn[k])  # type: ignore[assignment]
                                   for k in (0, 1)) + (c,)
                continue
            ref = bone[q] or (base[0], base[1], base[2], base[3], base_u)
            world = [None if s is None or not (_present(s[q]) and _present(s[j])) else _angle(s[q], s[j])
                     for s in (p, a, b, n)]
            length = [None if s is None or not (_present(s[q]) and _present(s[j]))
                      else math.dist(s[q][:2], s[j][:2]) for s in (p, a, b, n)]
            rel = [None if w is None or r is None else _short(w - r) for w, r in zip(world, ref[:4])]
            au = ref[4] + blend.angle(rel[1], rel[2], rel[0], rel[3])  # type: ignore[arg-type]
            lu = blend.value(length[1], length[2], length[0], length[3])  # type: ignore[arg-type]
            o = out[q]
            out[j] = (o[0] + lu * math.cos(au), o[1] + lu * math.sin(au), c)
            bone[j] = (world[0], world[1], world[2], world[3], au)  # type: ignore[assignment]
        return out

    def _one_sided(self, j, a, b, u, out, bone, base, base_u, carrier) -> Point:
        """A point present in one pose only: shown in the half nearer that pose, carried along."""
        side = 1 if u < 0.5 else 2  # index into (p, a, b, n)
        src = a if side == 1 else b
        ps = src[j]
        if not _present(ps):
            return MISSING
        q = self._ancestor(j, lambda k: _present(src[k]) and _present(out[k]))
        if q is not None:
            angles = bone[q] or (base[0], base[1], base[2], base[3], base_u)
            if angles[side] is None:
                return ps
            return _carried(ps, _Frame(src[q][0], src[q][1], angles[side]),  # type: ignore[arg-type]
                            _Frame(out[q][0], out[q][1], angles[4]), ps[2])
        if carrier is not None and self.parents[j] is None:
            return _carried(ps, carrier[side - 1], carrier[2], ps[2])
        return ps


_BODY = _Tree(BODY_PARENTS)
_HAND = _Tree(HAND_PARENTS)


def _torso_angle(p: Points | None, hips: tuple[bool, bool]) -> float | None:
    """Orientation of the body: the neck -> mid-hip axis (from the hips a and b both have)."""
    if p is None or not _present(p[NECK]):
        return None
    pts = [p[h] for h, use in zip((_R_HIP, _L_HIP), hips) if use]
    if not pts or not all(_present(h) for h in pts):
        return None
    mx = sum(h[0] for h in pts) / len(pts)
    my = sum(h[1] for h in pts) / len(pts)
    if (mx, my) == (p[NECK][0], p[NECK][1]):
        return None
    return math.atan2(my - p[NECK][1], mx - p[NECK][0])


def _body_base(p: Points | None, a: Points, b: Points, n: Points | None
               ) -> tuple[float | None, float, float, float | None]:
    hips = (_present(a[_R_HIP]) and _present(b[_R_HIP]), _present(a[_L_HIP]) and _present(b[_L_HIP]))
    ta, tb = _torso_angle(a, hips), _torso_angle(b, hips)
    if ta is None or tb is None:
        return (None, 0.0, 0.0, None)
    return (_torso_angle(p, hips), ta, tb, _torso_angle(n, hips))


def _linear(a: Points | None, b: Points | None, u: float) -> tuple[Point, ...] | None:
    if a is None or b is None:  # a part given in one pose only: kept in the nearer half
        near = a if u < 0.5 else b
        return None if near is None else tuple(near)
    out = []
    for pa, pb in zip(a, b):
        if _present(pa) and _present(pb):
            out.append((_lerp(pa[0], pb[0], u), _lerp(pa[1], pb[1], u), _lerp(pa[2], pb[2], u)))
        else:
            src = pa if u < 0.5 else pb
            out.append(src if _present(src) else MISSING)
    return tuple(out)


def _bone_frames(a: Points, b: Points, out: Points, parent: int, child: int,
                 scaled: bool) -> _Carrier | None:
    """Frames of the bone parent -> child (origin at the child) in a, b and the result."""
    frames = []
    for pts in (a, b, out):
        if not (_present(pts[parent]) and _present(pts[child])):
            return None
        length = math.dist(pts[parent][:2], pts[child][:2])
        if length == 0.0:
            return None
        frames.append(_Frame(pts[child][0], pts[child][1], _angle(pts[parent], pts[child]),
                             length if scaled else 1.0))
    return frames[0], frames[1], frames[2]


def _face(a: Points, b: Points, u: float, head: _Carrier | None) -> tuple[Point, ...]:
    if head is None:
        return _linear(a, b, u)  # type: ignore[return-value]
    out = []
    for pa, pb in zip(a, b):
        if _present(pa) and _present(pb):
            out.append(_blend_carried(pa, pb, head, u, _lerp(pa[2], pb[2], u)))
        else:
            side = 0 if u < 0.5 else 1
            src = (pa, pb)[side]
            out.append(_carried(src, head[side], head[2], src[2]) if _present(src) else MISSING)
    return tuple(out)


def _forearm_angle(pts: Points | None, elbow: int, wrist: int) -> float | None:
    if pts is None or not (_present(pts[elbow]) and _present(pts[wrist])):
        return None
    return _angle(pts[elbow], pts[wrist])


def _interpolate(a: Pose, b: Pose, blend: _Blend, method: str,
                 p: Pose | None = None, n: Pose | None = None) -> Pose:
    u = blend.u
    if method not in METHODS:
        raise ValueError(f"unknown pose interpolation method {method!r} (use {', '.join(METHODS)})")
    if u <= 0.0:
        return a
    if u >= 1.0:
        return b
    if method == "linear":
        return Pose(_linear(a.body, b.body, u), _linear(a.hand_left, b.hand_left, u),  # type: ignore[arg-type]
                    _linear(a.hand_right, b.hand_right, u), _linear(a.face, b.face, u))
    pb_, nb_ = (None if p is None else p.body), (None if n is None else n.body)
    body = _BODY.interpolate(a.body, b.body, blend, _body_base(pb_, a.body, b.body, nb_), p=pb_, n=nb_)
    hands = {}
    for name, (elbow, wrist) in _HAND_ARM.items():
        ha, hb = getattr(a, name), getattr(b, name)
        if ha is None or hb is None:
            hands[name] = _linear(ha, hb, u)
            continue
        hp = None if p is None else getattr(p, name)
        hn = None if n is None else getattr(n, name)
        forearm = _bone_frames(a.body, b.body, body, elbow, wrist, scaled=False)
        if forearm is None:
            hands[name] = tuple(_HAND.interpolate(ha, hb, blend, (None, 0.0, 0.0, None), p=hp, n=hn))
            continue
        base = (_forearm_angle(pb_, elbow, wrist), forearm[0].angle, forearm[1].angle,
                _forearm_angle(nb_, elbow, wrist))
        hands[name] = tuple(_HAND.interpolate(ha, hb, blend, base, forearm, p=hp, n=hn))
    face = None
    if a.face is not None and b.face is not None:
        face = _face(a.face, b.face, u, _bone_frames(a.body, b.body, body, NECK, _NOSE, scaled=True))
    elif a.face is not None or b.face is not None:
        face = _linear(a.face, b.face, u)
    return Pose(tuple(body), hands["hand_left"], hands["hand_right"], face)


def interpolate_pose(a: Pose, b: Pose, u: float, method: str = "arc") -> Pose:
    """The pose a fraction u in [0, 1] of the way from `a` to `b`, from these two poses alone."""
    return _interpolate(a, b, _Blend(u, 0.0, 1.0), method)


def pose_at(track: PoseTrack | Sequence[TimedPose], t: float, method: str = "arc") -> Pose | None:
    """The pose at time t of a segment whose posed times are `track` (the rule of this module).

    A pose given at t (within TIME_TOLERANCE) is returned as it is. Between two posed times
    t_i < t < t_j the pose is interpolated at u = (t - t_i) / (t_j - t_i) from p_i and p_j, its
    motion shaped by the poses next to them (p_{i-1}, p_{j+1}) when there are any. Before the
    first or after the last posed time there is nothing to interpolate from: None (a backend
    that needs a pose on every frame asks for poses on both keys).
    """
    poses = track.poses if isinstance(track, PoseTrack) else tuple(sorted(track, key=lambda p: p.t))
    for i, p in enumerate(poses):
        if abs(p.t - t) < TIME_TOLERANCE:
            return p.pose
        if p.t > t:
            if i == 0:
                return None
            a, b = poses[i - 1], p
            before = poses[i - 2] if i >= 2 else None
            after = poses[i + 1] if i + 1 < len(poses) else None
            blend = _Blend((t - a.t) / (b.t - a.t), a.t, b.t,
                           None if before is None else before.t, None if after is None else after.t)
            return _interpolate(a.pose, b.pose, blend, method,
                                None if before is None else before.pose, None if after is None else after.pose)
    return None


def poses_at(track: PoseTrack | Sequence[TimedPose], times: Sequence[float],
             method: str = "arc") -> list[Pose | None]:
    """`pose_at` for each time (e.g. every in-between of a segment)."""
    return [pose_at(track, t, method) for t in times]


__all__ = ["METHODS", "interpolate_pose", "pose_at", "poses_at"]
