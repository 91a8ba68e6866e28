"""Poses by frame on the timeline: which go with a Generate, and the pose of any frame between them.

No Krita and no Qt here. The animator poses frames (pose layers `pose 0012`); the engine wants
poses per segment at times t in [0, 1] (docs/poses.md). The times come from the client
library's own rule (`ShotRequest.frame_time`: keys at 0 and 1, an in-between at its curve's
time for the segment's timing and exposure), and the interpolated pose of a frame is
`pose_interpolation.pose_at` over the segment's poses with its keys' poses from either side,
exactly as the engine's `Shot.segment_poses` gathers them: the skeleton the docker shows for a
frame is the one a pose-guided backend draws it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import client_lib as cl
from .shot_plan import ShotPlan, frames_text


@dataclass
class PosedFrames:
    """The document's usable pose layers (frame -> pose, frame -> layer name) and the problems
    with the others (messages naming them)."""

    poses: dict[int, "cl.Pose"] = field(default_factory=dict)
    layers: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # stop a Generate that sends poses
    notes: list[str] = field(default_factory=list)  # shown, never stop anything

    @property
    def frames(self) -> list[int]:
        return sorted(self.poses)

    def nearest(self, frame: int) -> int | None:
        """The posed frame nearest to `frame` (the earlier one on a tie), other than itself."""
        others = [f for f in self.poses if f != frame]
        return min(others, key=lambda f: (abs(f - frame), f)) if others else None


def for_plan(posed: PosedFrames, plan: ShotPlan) -> tuple[dict[int, "cl.Pose"], list[str]]:
    """The poses a Generate of `plan` sends (those from its first key to its last) and a note
    naming each pose layer left out because its frame is outside them."""
    span = plan.span
    if span is None:
        return {}, []
    a, b = span
    sent = {f: p for f, p in posed.poses.items() if a <= f <= b}
    notes = [f"'{posed.layers[f]}' is at frame {f}, outside the keys {a}-{b}: it is not sent."
             for f in sorted(posed.poses) if not a <= f <= b]
    return sent, notes


def _request(plan: ShotPlan, timing_for: Callable[[int], str]) -> "cl.ShotRequest":
    """A request with the plan's keys (frames only: no pixels), timing and exposure, to ask the
    client library the engine's time of a frame."""
    keys = plan.keys
    return cl.ShotRequest(width=1, height=1, keys=dict.fromkeys(keys),  # type: ignore[arg-type]
                          timing={k: timing_for(k) for k in keys[:-1]}, exposure=plan.exposure)


def segment_poses(plan: ShotPlan, timing_for: Callable[[int], str], poses: dict[int, "cl.Pose"],
                  start: int) -> list["cl.TimedPose"]:
    """The poses of the segment starting at key `start`, by time, its keys' poses included."""
    keys = list(plan.keys)
    end = keys[keys.index(start) + 1]
    request = _request(plan, timing_for)
    out = []
    for f in sorted(poses):
        if f == start:
            out.append(cl.TimedPose(0.0, poses[f], f))
        elif f == end:
            out.append(cl.TimedPose(1.0, poses[f], f))
        elif start < f < end:
            out.append(cl.TimedPose(request.frame_time(f)[1], poses[f], f))
    return out


@dataclass(frozen=True)
class FramePose:
    """The pose of one frame: given, interpolated, or None with the reason."""

    frame: int
    pose: "cl.Pose | None"
    how: str  # "posed" | "interpolated" | "none"
    text: str


def pose_of_frame(plan: ShotPlan, timing_for: Callable[[int], str], posed: PosedFrames,
                  frame: int) -> FramePose:
    """What the engine would make of frame `frame`'s pose for a Generate of `plan`."""
    if frame in posed.poses:
        return FramePose(frame, posed.poses[frame], "posed", f"Frame {frame} has its own pose ('{posed.layers[frame]}').")
    span = plan.span
    if span is None:
        return FramePose(frame, None, "none", plan.problem or "There are no keys to interpolate between.")
    keys = list(plan.keys)
    if not span[0] < frame < span[1] or frame in keys:
        where = "a key" if frame in keys else f"outside the keys {span[0]}-{span[1]}"
        return FramePose(frame, None, "none", f"Frame {frame} is {where}: there is no pose to interpolate "
                                              "there. Pose it with 'Pose this frame'.")
    start = max(k for k in keys if k < frame)
    end = keys[keys.index(start) + 1]
    timed = segment_poses(plan, timing_for, posed.poses, start)
    t = _request(plan, timing_for).frame_time(frame)[1]
    pose = cl.pose_at(timed, t)
    if pose is None:
        have = [p.frame for p in timed]
        got = f"poses at {frames_text(have)} only" if have else "no poses"
        return FramePose(frame, None, "none",
                         f"Frame {frame} needs a pose on each side of it in the segment {start}-{end} "
                         f"({got}): pose frames {start} and {end}.")
    used = ", ".join(str(p.frame) for p in timed)
    return FramePose(frame, pose, "interpolated",
                     f"Frame {frame}: interpolated at t={t:.3f} of {start}-{end} ({timing_for(start)}) "
                     f"from the poses at {used}.")
