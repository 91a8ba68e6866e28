"""The shot request as a client builds it (standard library only); the engine validates it.

See engine/shot.py for the rules (two or more keys, sketches only on in-betweens, one size).
Clients check only what they can cheaply, so that a user gets the engine's single, precise
message for everything else.

Poses (optional, see docs/poses.md) travel per segment like `timing`: `poses[start]` is the
`PoseTrack` of the segment whose first key is at frame `start`, each pose at its time t.
`set_frame_poses` places poses given by frame (what a timeline has) at the engine's times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, Union

from .images import ImageData
from .poses import Pose, PoseTrack, TimedPose
from .protocol import Message
from .timing import curve_time, segment_times

TimingSpec = Union[str, Sequence[float]]


@dataclass
class ShotRequest:
    """Keys (and optional sketches) at frame indices of the shot's timeline, plus how to fill it."""

    width: int
    height: int
    keys: dict[int, ImageData]
    sketches: dict[int, ImageData] = field(default_factory=dict)
    timing: dict[int, TimingSpec] = field(default_factory=dict)  # segment start -> curve or times
    exposure: int = 1
    fps: float = 24.0
    backend: str = "flow"
    options: dict[str, Any] = field(default_factory=dict)  # seed, steps, guidance, ...
    encoding: str = "rgba"  # how result frames come back: "rgba" (fast) or "png"
    previews: bool = True
    poses: dict[int, PoseTrack] = field(default_factory=dict)  # segment start -> its poses by t

    @classmethod
    def between(
        cls,
        key_a: ImageData,
        key_b: ImageData,
        inbetweens: int | None = None,
        times: Sequence[float] | None = None,
        timing: str = "linear",
        sketches: dict[int, ImageData] | None = None,
        poses: PoseTrack | None = None,
        **kwargs: Any,
    ) -> "ShotRequest":
        """Two keys with `inbetweens` frames (or explicit `times`) between them.

        Keys sit at frames 0 and M+1; `sketches` are keyed by in-between number 1..M, which
        is also their frame index; `poses` are the segment's poses by time t (a poses.json).
        """
        if (inbetweens is None) == (times is None):
            raise ValueError("give either inbetweens or times")
        count = len(times) if times is not None else int(inbetweens)  # type: ignore[arg-type]
        spec: TimingSpec = list(times) if times is not None else timing
        return cls(
            width=key_a.width,
            height=key_a.height,
            keys={0: key_a, count + 1: key_b},
            sketches=dict(sketches or {}),
            timing={0: spec},
            poses={0: poses} if poses is not None and poses.poses else {},
            **kwargs,
        )

    def frame_time(self, frame: int) -> tuple[int, float]:
        """(segment start, t) of a frame of the shot, by the engine's timing rule.

        A key is t = 0 of the segment it starts (the last key: t = 1 of the last segment). A
        drawn in-between has its in-between time; a held frame (exposure > 1) the time its
        segment's curve gives it. Raises ValueError for a frame outside the keys, or a held
        frame of a segment with explicit times (no time is defined there).
        """
        keys = sorted(self.keys)
        if not keys[0] <= frame <= keys[-1]:
            raise ValueError(f"frame {frame} is outside the shot (keys span {keys[0]}..{keys[-1]})")
        if frame == keys[-1]:
            return keys[-2], 1.0
        a = max(k for k in keys if k <= frame)
        if frame == a:
            return a, 0.0
        b = min(k for k in keys if k > frame)
        spec = self.timing.get(a, "linear")
        if isinstance(spec, str):
            return a, curve_time(spec, frame, a, b)
        times = dict(segment_times(a, b, times=list(spec), exposure=self.exposure))
        if frame not in times:
            raise ValueError(f"frame {frame} is a hold of segment {a}-{b}, which has explicit "
                             "times: pose a drawn frame instead")
        return a, times[frame]

    def set_frame_poses(self, poses: dict[int, Pose]) -> None:
        """Replace `self.poses` with poses given by frame (keys' and in-betweens'), at their times.

        An inner key's pose is sent once, at t = 0 of the segment it starts; the engine gives it
        to the segment that ends there too.
        """
        by_segment: dict[int, list[TimedPose]] = {}
        for frame, pose in sorted(poses.items()):
            start, t = self.frame_time(frame)
            by_segment.setdefault(start, []).append(TimedPose(t, pose, frame))
        size = (self.width, self.height)
        self.poses = {start: PoseTrack(tuple(p), size) for start, p in by_segment.items()}

    def to_message(self) -> Message:
        blobs: list[bytes] = []

        def ref(frame: int, img: ImageData) -> dict[str, Any]:
            blobs.append(img.data)
            entry: dict[str, Any] = {"frame": frame, "blob": len(blobs) - 1, "encoding": img.encoding}
            if img.encoding == "rgba":
                entry.update(width=img.width, height=img.height)
            return entry

        timing = []
        for start, spec in sorted(self.timing.items()):
            if isinstance(spec, str):
                timing.append({"start": start, "curve": spec})
            else:
                timing.append({"start": start, "times": [float(t) for t in spec]})
        shot = {
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "exposure": self.exposure,
            "keys": [ref(f, img) for f, img in sorted(self.keys.items())],
            "sketches": [ref(f, img) for f, img in sorted(self.sketches.items())],
            "timing": timing,
            "backend": self.backend,
            "options": dict(self.options),
            "output": {"encoding": self.encoding, "previews": self.previews},
        }
        if self.poses:  # only when given: engines before poses see the shot they always saw
            shot["poses"] = [_poses_entry(start, track) for start, track in sorted(self.poses.items())]
        return Message("submit", {"shot": shot}, blobs)


def _poses_entry(start: int, track: PoseTrack) -> dict[str, Any]:
    entry: dict[str, Any] = {"start": start, "poses": [p.to_json() for p in track.poses]}
    if track.size is not None:
        entry["size"] = list(track.size)
    return entry
