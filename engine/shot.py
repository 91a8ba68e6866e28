"""The shot request model: keys, sketches, timing and exposure, validated once, used by every backend.

A shot with keys k0 < k1 < ... < kn is in-betweened segment by segment; a sketch belongs
to the segment that contains it. Backends never see the wire format, only `Shot` and the
`Segment`s it splits into, so the rules below (what is a valid shot, which frames are drawn,
at which time each in-between sits, which pose each in-between has) are decided here and
nowhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inbetween_client.pose_interpolation import poses_at
from inbetween_client.poses import TIME_TOLERANCE, Pose, PoseError, PoseTrack, TimedPose
from inbetween_client.timing import drawn_frames

from .errors import ShotError
from .timing import TIMING_CURVES, Timing

#: Largest side of an image the engine accepts (pixels); also advertised in `capabilities`.
MAX_SIDE = 4096
#: Largest number of pixels of one image (width * height).
MAX_PIXELS = 4096 * 4096
#: Largest number of frames a shot may span (first key to last key, inclusive).
MAX_FRAMES = 1000
MAX_EXPOSURE = 4


@dataclass(frozen=True)
class BackendOptions:
    """Options every backend understands; backend-specific ones go in `extra`."""

    seed: int = 0
    steps: int | None = None
    guidance: float | None = None
    sketch_strength: float | None = None
    model_dir: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_wire(cls, raw: Any) -> "BackendOptions":
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ShotError("options must be an object")
        known = {"seed", "steps", "guidance", "sketch_strength", "model_dir"}
        seed = raw.get("seed", 0)
        if not _is_int(seed) or not 0 <= seed < 2**63:
            raise ShotError(f"options.seed must be a non-negative integer, got {seed!r}")
        steps = raw.get("steps")
        if steps is not None and (not _is_int(steps) or not 1 <= steps <= 1000):
            raise ShotError(f"options.steps must be an integer in 1..1000, got {steps!r}")
        guidance = _optional_float(raw, "guidance", 0.0, 100.0)
        strength = _optional_float(raw, "sketch_strength", 0.0, 10.0)
        model_dir = raw.get("model_dir")
        if model_dir is not None and not isinstance(model_dir, str):
            raise ShotError("options.model_dir must be a string")
        extra = {k: v for k, v in raw.items() if k not in known}
        return cls(seed, steps, guidance, strength, model_dir, extra)


@dataclass(frozen=True)
class Inbetween:
    """One drawn in-between: its frame index, its time in (0, 1) within the segment, its sketch."""

    frame: int
    t: float
    sketch: np.ndarray | None = None


@dataclass(frozen=True)
class Segment:
    """The frames between two consecutive keys; what a backend in-betweens in one go."""

    start: int
    end: int
    key_a: np.ndarray
    key_b: np.ndarray
    inbetweens: tuple[Inbetween, ...]
    #: Every pose of the segment by time (0 = key A, 1 = key B), the keys' poses included, also
    #: those at times where no frame is drawn: they all guide the motion. Empty: no poses.
    poses: tuple[TimedPose, ...] = ()

    @property
    def times(self) -> list[float]:
        return [ib.t for ib in self.inbetweens]

    def inbetween_poses(self) -> list[Pose | None]:
        """The pose of every in-between (in `inbetweens` order), by the one interpolation rule.

        A pose given at an in-between's time is that in-between's pose; the others are
        interpolated on arcs between the nearest posed times (inbetween_client.pose_interpolation).
        None where there is nothing to interpolate from (no poses, or none on one side).
        """
        if not self.poses:
            return [None] * len(self.inbetweens)
        return poses_at(self.poses, self.times)

    @property
    def sketches(self) -> dict[int, np.ndarray]:
        """Sketches of this segment by position in `inbetweens`."""
        return {i: ib.sketch for i, ib in enumerate(self.inbetweens) if ib.sketch is not None}


@dataclass(frozen=True)
class Shot:
    """A validated request: all images RGBA uint8 of one size, frames indexed on the shot timeline."""

    width: int
    height: int
    keys: dict[int, np.ndarray]
    sketches: dict[int, np.ndarray] = field(default_factory=dict)
    timing: dict[int, Timing] = field(default_factory=dict)
    exposure: int = 1
    fps: float = 24.0
    backend: str = "flow"
    options: BackendOptions = field(default_factory=BackendOptions)
    #: Poses by segment (the frame of its first key), as in `timing`; canvas pixels.
    poses: dict[int, PoseTrack] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self)

    @staticmethod
    def check_canvas(w: int, h: int) -> None:
        if not (_is_int(w) and _is_int(h)) or w < 1 or h < 1:
            raise ShotError(f"canvas size must be positive integers, got {w!r} x {h!r}")
        if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
            raise ShotError(
                f"canvas {w}x{h} is over the size limit ({MAX_SIDE} px per side, {MAX_PIXELS} pixels)"
            )

    @property
    def key_frames(self) -> list[int]:
        return sorted(self.keys)

    def drawn_frames(self, start: int, end: int) -> list[int]:
        """In-between frames that get a drawing between keys at `start` and `end` (exposure rule)."""
        return drawn_frames(start, end, self.exposure)

    def held_frames(self) -> dict[int, int]:
        """Frames that repeat an earlier drawing (exposure > 1): frame -> frame it holds."""
        holds: dict[int, int] = {}
        keys = self.key_frames
        for a, b in zip(keys, keys[1:]):
            for f in range(a + 1, b):
                if (f - a) % self.exposure:
                    holds[f] = f - (f - a) % self.exposure
        return holds

    def segments(self) -> list[Segment]:
        keys = self.key_frames
        out = []
        for a, b in zip(keys, keys[1:]):
            frame_times = self.timing.get(a, Timing()).frame_times(a, b, self.exposure)
            inbetweens = tuple(Inbetween(f, t, self.sketches.get(f)) for f, t in frame_times)
            if inbetweens:
                out.append(Segment(a, b, self.keys[a], self.keys[b], inbetweens, self.segment_poses(a)))
        return out

    def key_pose(self, frame: int) -> Pose | None:
        """The pose of the key at `frame`: t = 0 of the segment it starts or t = 1 of the one it ends."""
        keys = self.key_frames
        i = keys.index(frame)
        if frame in self.poses and self.poses[frame].at(0.0) is not None:
            return self.poses[frame].at(0.0)
        if i > 0 and keys[i - 1] in self.poses:
            return self.poses[keys[i - 1]].at(1.0)
        return None

    def segment_poses(self, start: int) -> tuple[TimedPose, ...]:
        """Poses of the segment starting at `start`, with its keys' poses from either side."""
        keys = self.key_frames
        end = keys[keys.index(start) + 1]
        own = list(self.poses[start].poses) if start in self.poses else []
        ends = {round(p.t): p for p in own if p.t < TIME_TOLERANCE or p.t > 1.0 - TIME_TOLERANCE}
        for t, frame in ((0, start), (1, end)):
            pose = self.key_pose(frame)
            if t not in ends and pose is not None:
                own.append(TimedPose(float(t), pose, frame))
        return tuple(sorted(own, key=lambda p: p.t))

    @property
    def inbetween_count(self) -> int:
        return sum(len(s.inbetweens) for s in self.segments())


def validate(shot: Shot) -> None:
    """Every rule a shot must satisfy; raises ShotError with a message naming the problem."""
    w, h = shot.width, shot.height
    Shot.check_canvas(w, h)
    if len(shot.keys) < 2:
        raise ShotError(f"a shot needs two or more keyframes, got {len(shot.keys)}")
    if not _is_int(shot.exposure) or not 1 <= shot.exposure <= MAX_EXPOSURE:
        raise ShotError(f"exposure must be 1..{MAX_EXPOSURE} (on 1s, 2s, ...), got {shot.exposure!r}")
    if not isinstance(shot.fps, (int, float)) or not 0 < shot.fps <= 240 or math.isnan(shot.fps):
        raise ShotError(f"fps must be in (0, 240], got {shot.fps!r}")
    keys = sorted(shot.keys)
    if any(not _is_int(k) or k < 0 for k in keys):
        raise ShotError(f"keyframe indices must be non-negative integers, got {keys}")
    if keys[-1] - keys[0] + 1 > MAX_FRAMES:
        raise ShotError(f"the shot spans {keys[-1] - keys[0] + 1} frames, more than {MAX_FRAMES}")
    if not any(b - a > shot.exposure for a, b in zip(keys, keys[1:])):
        raise ShotError(
            "there is nothing to in-between: no two consecutive keys have a frame between them"
            + (f" at exposure {shot.exposure}" if shot.exposure > 1 else "")
        )
    for f, img in shot.keys.items():
        _check_image(img, w, h, f"key at frame {f}")
    for f, img in shot.sketches.items():
        if not _is_int(f):
            raise ShotError(f"sketch frame must be an integer, got {f!r}")
        if f in shot.keys:
            raise ShotError(f"sketch at frame {f} is on a keyframe; sketches go on in-between frames")
        if f < keys[0] or f > keys[-1]:
            raise ShotError(f"sketch at frame {f} is outside the shot (keys span {keys[0]}..{keys[-1]})")
        a = max(k for k in keys if k < f)
        if (f - a) % shot.exposure:
            raise ShotError(
                f"sketch at frame {f} falls on a hold (exposure {shot.exposure}: drawings at "
                f"{a}+{shot.exposure}n)"
            )
        _check_image(img, w, h, f"sketch at frame {f}")
    for start, timing in shot.timing.items():
        if start not in shot.keys or start == keys[-1]:
            raise ShotError(f"timing for segment starting at {start}: no segment starts at that frame")
        b = keys[keys.index(start) + 1]
        timing.check(len(shot.drawn_frames(start, b)), f"timing of segment {start}-{b}")
    _check_poses(shot, keys)


def _check_poses(shot: Shot, keys: list[int]) -> None:
    for start, track in shot.poses.items():
        if not isinstance(track, PoseTrack):
            raise ShotError(f"poses of segment {start}: expected a PoseTrack")
        if not _is_int(start) or start not in shot.keys or start == keys[-1]:
            raise ShotError(f"poses for segment starting at {start}: no segment starts at that frame "
                            f"(keys at {keys})")
        end = keys[keys.index(start) + 1]
        try:
            track.check_canvas(shot.width, shot.height)
        except PoseError as exc:
            raise ShotError(f"poses of segment {start}-{end}: {exc}") from None
    # a key has one drawing, so one pose: both segments that meet at it must agree
    for a, b in zip(keys, keys[1:]):
        if a in shot.poses and b in shot.poses:
            end_pose, start_pose = shot.poses[a].at(1.0), shot.poses[b].at(0.0)
            if end_pose is not None and start_pose is not None and end_pose != start_pose:
                raise ShotError(f"two different poses for the key at frame {b}: t=1 of segment "
                                f"{a}-{b} and t=0 of the segment that starts there")


def _check_image(img: Any, w: int, h: int, what: str) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 4:
        raise ShotError(f"{what}: expected an RGBA uint8 image")
    if img.shape[:2] != (h, w):
        raise ShotError(
            f"{what} is {img.shape[1]}x{img.shape[0]}, but the shot is {w}x{h}; "
            "all keys and sketches must have the same size"
        )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _optional_float(raw: dict, name: str, lo: float, hi: float) -> float | None:
    v = raw.get(name)
    if v is None:
        return None
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo <= v <= hi:
        raise ShotError(f"options.{name} must be a number in [{lo}, {hi}], got {v!r}")
    return float(v)


__all__ = [
    "BackendOptions",
    "Inbetween",
    "MAX_FRAMES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "Pose",
    "PoseTrack",
    "Segment",
    "Shot",
    "TIMING_CURVES",
    "Timing",
    "validate",
]
