"""Pose skeletons: the OpenPose/DWPose 18-joint body format, read, written and validated.

Standard library only: the Krita plugin (no numpy), the desktop app and the engine all use
this module, so a pose file means the same thing everywhere. See docs/poses.md.

A pose is the 18 body keypoints of the OpenPose / DWPose body model (`openpose-coco18`), each
`(x, y, c)` in the frame's pixels (x right, y down, origin at the top-left corner of the canvas)
with a confidence `c` in [0, 1]; `c = 0` (stored as x = y = -1) is a joint that is not there.
Hands (21 points each) and the face (68 points) are optional and travel with the pose when given.

A `PoseTrack` holds the poses of one segment by time `t` (0 = key A, 1 = key B, between: any
in-between time, whether or not a frame is drawn there). Its JSON form is the `poses.json`
format of the celanim benchmark:

    {"format": "openpose-coco18", "keypoint_names": [...], "size": [W, H],
     "frames": [{"t": 0.0, "frame": 0, "keypoints": [[x, y, c], ... 18]}, ...]}

with optional `hand_left`, `hand_right` (21 points) and `face` (68 points) per frame.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .atomic import write_text

FORMAT = "openpose-coco18"

#: The 18 body joints in OpenPose / DWPose order (the index is the joint's id everywhere).
BODY_JOINTS: tuple[str, ...] = (
    "nose", "neck",
    "r_shoulder", "r_elbow", "r_wrist",
    "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle",
    "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear",
)
NECK = 1

#: Kinematic tree of the body: parent of each joint (None for the root, the neck). These are
#: exactly the 17 bones OpenPose draws (its limb list), which form a tree rooted at the neck:
#: neck -> nose -> eyes -> ears, neck -> shoulders -> elbows -> wrists, neck -> hips -> knees -> ankles.
BODY_PARENTS: tuple[int | None, ...] = (
    1, None,
    1, 2, 3,
    1, 5, 6,
    1, 8, 9,
    1, 11, 12,
    0, 0, 14, 15,
)

HAND_POINTS = 21
#: Hand tree (DWPose / OpenPose hand order): point 0 is the wrist, then four points per finger
#: from the base out (thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20).
HAND_PARENTS: tuple[int | None, ...] = (None,) + tuple(
    0 if i % 4 == 1 else i - 1 for i in range(1, HAND_POINTS)
)
FACE_POINTS = 68

#: Two poses whose times differ by less than this are at the same time (a pose at t = 0.3333 is
#: the pose of the in-between at t = 1/3).
TIME_TOLERANCE = 1e-4

Point = tuple[float, float, float]
MISSING: Point = (-1.0, -1.0, 0.0)


class PoseError(ValueError):
    """A pose or pose file is invalid; the message names the pose (time / frame) and the joint."""


def _part_names() -> dict[str, tuple[int, Sequence[str] | None]]:
    return {
        "keypoints": (len(BODY_JOINTS), BODY_JOINTS),
        "hand_left": (HAND_POINTS, None),
        "hand_right": (HAND_POINTS, None),
        "face": (FACE_POINTS, None),
    }


def joint_label(part: str, index: int) -> str:
    """'joint 4 (r_wrist)', 'hand_left point 8', 'face point 30': how messages name a point."""
    if part == "keypoints":
        return f"joint {index} ({BODY_JOINTS[index]})"
    return f"{part} point {index}"


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _points(raw: Any, part: str, what: str) -> tuple[Point, ...]:
    count, _ = _part_names()[part]
    if not isinstance(raw, (list, tuple)):
        raise PoseError(f"{what}: '{part}' must be a list of {count} [x, y, c] points")
    if len(raw) != count:
        raise PoseError(f"{what}: '{part}' has {len(raw)} points, the format has {count}")
    out = []
    for i, p in enumerate(raw):
        label = joint_label(part, i)
        if not isinstance(p, (list, tuple)) or len(p) != 3 or not all(_number(v) for v in p):
            raise PoseError(f"{what}: {label} must be [x, y, c] (three numbers), got {p!r}")
        x, y, c = (float(v) for v in p)
        for name, v in (("x", x), ("y", y), ("confidence", c)):
            if not math.isfinite(v):
                raise PoseError(f"{what}: {label} {name} is {v}")
        if not 0.0 <= c <= 1.0:
            raise PoseError(f"{what}: {label} confidence must be in [0, 1], got {c}")
        out.append(MISSING if c == 0.0 else (x, y, c))
    return tuple(out)


@dataclass(frozen=True)
class Pose:
    """One skeleton: 18 body points, optional hands and face; `(x, y, c)` in canvas pixels.

    Points with c = 0 are missing and always stored as `MISSING` (-1, -1, 0).
    """

    body: tuple[Point, ...]
    hand_left: tuple[Point, ...] | None = None
    hand_right: tuple[Point, ...] | None = None
    face: tuple[Point, ...] | None = None

    def __post_init__(self) -> None:
        # normalises lists to tuples and checks counts/numbers, so every Pose is well formed
        for part, name in (("keypoints", "body"), ("hand_left", "hand_left"),
                           ("hand_right", "hand_right"), ("face", "face")):
            value = getattr(self, name)
            if value is None and name != "body":
                continue
            object.__setattr__(self, name, _points(value, part, "pose"))

    @staticmethod
    def present(point: Point) -> bool:
        return point[2] > 0.0

    def parts(self) -> dict[str, tuple[Point, ...]]:
        """The parts this pose has, by JSON name (`keypoints` is the body)."""
        out = {"keypoints": self.body}
        for name in ("hand_left", "hand_right", "face"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @classmethod
    def from_json(cls, raw: Any, what: str = "pose") -> "Pose":
        """From a JSON object with `keypoints` (and optionally `hand_left`, `hand_right`, `face`)."""
        if not isinstance(raw, dict):
            raise PoseError(f"{what} must be an object with 'keypoints'")
        if "keypoints" not in raw:
            raise PoseError(f"{what}: no 'keypoints' (the {len(BODY_JOINTS)} body joints)")
        parts = {
            name: _points(raw[part], part, what) if raw.get(part) is not None else None
            for part, name in (("keypoints", "body"), ("hand_left", "hand_left"),
                               ("hand_right", "hand_right"), ("face", "face"))
        }
        return cls(**parts)

    def to_json(self) -> dict[str, Any]:
        return {part: [list(p) for p in pts] for part, pts in self.parts().items()}

    def check_canvas(self, width: int, height: int, what: str = "pose") -> None:
        """Every present point must lie on the canvas: 0 <= x <= width, 0 <= y <= height."""
        for part, pts in self.parts().items():
            for i, (x, y, c) in enumerate(pts):
                if c > 0.0 and not (0.0 <= x <= width and 0.0 <= y <= height):
                    raise PoseError(
                        f"{what}: {joint_label(part, i)} at ({x:g}, {y:g}) is outside the "
                        f"{width}x{height} canvas"
                    )

    def scaled(self, sx: float, sy: float) -> "Pose":
        """The pose on a canvas resized by (sx, sy): how a backend maps poses to its model size."""

        def scale(pts: tuple[Point, ...] | None) -> tuple[Point, ...] | None:
            if pts is None:
                return None
            return tuple(p if p[2] == 0.0 else (p[0] * sx, p[1] * sy, p[2]) for p in pts)

        return Pose(scale(self.body), scale(self.hand_left), scale(self.hand_right),  # type: ignore[arg-type]
                    scale(self.face))


_PLACEHOLDER = Pose((MISSING,) * len(BODY_JOINTS))


@dataclass(frozen=True)
class TimedPose:
    """A pose at time t of a segment (0 = key A, 1 = key B); `frame` is kept for reference only."""

    t: float
    pose: Pose
    frame: int | None = None

    def describe(self) -> str:
        return f"pose at t={self.t:g}" + (f" (frame {self.frame})" if self.frame is not None else "")

    @classmethod
    def from_json(cls, raw: Any, what: str = "pose", source: str = "") -> "TimedPose":
        """`what` names the entry until its time is known ('entry 3'); `source` prefixes every
        message (a file name)."""
        prefix = f"{source}: " if source else ""
        if not isinstance(raw, dict):
            raise PoseError(f"{prefix}{what} must be an object with 't' and 'keypoints'")
        frame = raw.get("frame")
        if frame is not None and (not isinstance(frame, int) or isinstance(frame, bool)):
            raise PoseError(f"{prefix}{what}: 'frame' must be an integer, got {frame!r}")
        t = raw.get("t")
        if not _number(t) or not math.isfinite(t):
            raise PoseError(f"{prefix}{what}" + (f" (frame {frame})" if frame is not None else "")
                            + f": 't' must be a number (0 = key A, 1 = key B), got {t!r}")
        timed = cls(float(t), _PLACEHOLDER, frame)
        if not 0.0 <= timed.t <= 1.0:
            raise PoseError(f"{prefix}{timed.describe()} is outside the segment: t must be in [0, 1] "
                            "(0 = key A, 1 = key B)")
        return cls(timed.t, Pose.from_json(raw, prefix + timed.describe()), frame)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t}
        if self.frame is not None:
            out["frame"] = self.frame
        out.update(self.pose.to_json())
        return out


@dataclass(frozen=True)
class PoseTrack:
    """The poses of one segment, sorted by time; `size` is the canvas they were drawn on."""

    poses: tuple[TimedPose, ...] = ()
    size: tuple[int, int] | None = None  # (width, height)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # other top-level file fields

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.poses, key=lambda p: p.t))
        for prev, cur in zip(ordered, ordered[1:]):
            if cur.t - prev.t < TIME_TOLERANCE:
                raise PoseError(f"two poses at the same time: {prev.describe()} and {cur.describe()}")
        object.__setattr__(self, "poses", ordered)

    @classmethod
    def of(cls, poses: dict[float, Pose] | Iterable[tuple[float, Pose]],
           size: tuple[int, int] | None = None) -> "PoseTrack":
        """A track from {t: Pose} or (t, Pose) pairs."""
        items = poses.items() if isinstance(poses, dict) else poses
        return cls(tuple(TimedPose(float(t), p) for t, p in items), size)

    @property
    def times(self) -> list[float]:
        return [p.t for p in self.poses]

    def at(self, t: float) -> Pose | None:
        """The pose given at time t (within TIME_TOLERANCE), or None; no interpolation."""
        for p in self.poses:
            if abs(p.t - t) < TIME_TOLERANCE:
                return p.pose
        return None

    def check_canvas(self, width: int, height: int) -> None:
        """Raise PoseError when the track was drawn for another canvas or a joint is off it."""
        if self.size is not None and tuple(self.size) != (width, height):
            raise PoseError(f"the poses are for a {self.size[0]}x{self.size[1]} canvas, "
                            f"but the shot is {width}x{height}")
        for p in self.poses:
            p.pose.check_canvas(width, height, p.describe())

    # --- JSON -------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, raw: Any, source: str = "") -> "PoseTrack":
        """From the poses.json object (or a bare list of poses); `source` prefixes messages."""
        what = source or "poses"
        if isinstance(raw, list):  # a bare list of poses
            raw = {"frames": raw}
        if not isinstance(raw, dict):
            raise PoseError(f"{what}: expected an object with 'frames' (a list of poses)")
        fmt = raw.get("format", FORMAT)
        if fmt != FORMAT:
            raise PoseError(f"{what}: format {fmt!r} is not supported (only {FORMAT!r})")
        names = raw.get("keypoint_names")
        if names is not None and list(names) != list(BODY_JOINTS):
            raise PoseError(f"{what}: keypoint_names {names!r} are not the {FORMAT} order "
                            f"{list(BODY_JOINTS)}")
        size = raw.get("size")
        if size is not None:
            if (not isinstance(size, (list, tuple)) or len(size) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
                raise PoseError(f"{what}: 'size' must be [width, height] in pixels, got {size!r}")
            size = (int(size[0]), int(size[1]))
        frames = raw.get("frames")
        if not isinstance(frames, list):
            raise PoseError(f"{what}: 'frames' must be a list of poses")
        poses = tuple(TimedPose.from_json(f, f"entry {i}", source) for i, f in enumerate(frames))
        extra = {k: v for k, v in raw.items() if k not in ("format", "keypoint_names", "size", "frames")}
        return cls(poses, size, extra)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "keypoint_names": list(BODY_JOINTS)}
        if self.size is not None:
            out["size"] = list(self.size)
        out.update(self.extra)
        out["frames"] = [p.to_json() for p in self.poses]
        return out

    @classmethod
    def read(cls, path: str | os.PathLike) -> "PoseTrack":
        """Read a poses.json file; every problem is a PoseError naming the file."""
        name = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f, parse_constant=_reject_constant)
        except FileNotFoundError:
            raise PoseError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise PoseError(f"{name}: is a folder, not a poses JSON file") from None
        except UnicodeDecodeError:
            raise PoseError(f"{name}: not a text (UTF-8 JSON) file") from None
        except json.JSONDecodeError as exc:
            raise PoseError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} "
                            f"column {exc.colno})") from None
        except PoseError as exc:
            raise PoseError(f"{name}: {exc}") from None
        except OSError as exc:
            raise PoseError(f"{name}: {exc.strerror or exc}") from None
        return cls.from_json(raw, name)

    def write(self, path: str | os.PathLike) -> None:
        """Write atomically (the old file or the new one, never part of one)."""
        write_text(path, json.dumps(self.to_json(), indent=1, allow_nan=False) + "\n")


def _reject_constant(name: str) -> float:
    raise PoseError(f"{name} is not a number a pose may hold")


__all__ = [
    "BODY_JOINTS",
    "BODY_PARENTS",
    "FACE_POINTS",
    "FORMAT",
    "HAND_PARENTS",
    "HAND_POINTS",
    "MISSING",
    "NECK",
    "Point",
    "Pose",
    "PoseError",
    "PoseTrack",
    "TIME_TOLERANCE",
    "TimedPose",
    "joint_label",
]
