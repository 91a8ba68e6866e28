"""Where the frames' poses sit in time, and the pose every other frame gets: the engine's rule.

A segment runs from one anchor (key or breakdown) to the next, as in a generate request. Its
anchors are at t = 0 and t = 1; a frame between them sits at the time its segment's timing
curve gives it (`inbetween_client.timing.curve_time`, what `ShotRequest.frame_time` and the
engine compute). A frame without a pose of its own shows `pose_at(segment track, t)`
(`inbetween_client.pose_interpolation`), the very function `Segment.inbetween_poses()` calls
in the engine, on the same track (the segment's posed frames, its anchors' poses included) and
the same times, so the ghost the animator sees is the pose a backend gets for that frame.

Nothing here edits: `model.pose_edits` does, one undo step each.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbetween_client.pose_interpolation import pose_at
from inbetween_client.poses import Pose, PoseTrack, TimedPose
from inbetween_client.timing import curve_time

from . import images
from .pose_layer import Box, PoseLayer
from .shot import LayerKind, ShotDocument

OWN, INTERPOLATED, CARRIED = "own", "interpolated", "carried"


@dataclass(frozen=True)
class ShownPose:
    """What the pose layer shows on a frame.

    OWN: the frame's pose (editable). INTERPOLATED: the engine's pose for this frame, from its
    segment's poses (dragging a joint makes it a pose key). CARRIED: on a key or breakdown
    without a pose, the nearest earlier pose (`source`), shown so that dragging a joint copies
    it here and adjusts it in one step; the engine does not get it until then.
    """

    kind: str
    layer: PoseLayer
    source: int  # the frame the pose belongs to (itself for OWN and INTERPOLATED)
    t: float | None = None  # the frame's time in its segment, when it has one


def frame_time(doc: ShotDocument, index: int) -> tuple[int, int, float] | None:
    """(first anchor, next anchor, t) of a frame: an anchor is t = 0 of the segment it
    starts (the last anchor t = 1 of the one it ends), any other frame the time its segment's
    curve gives it. None outside every segment (before the first anchor, after the last)."""
    seg = doc.segment_of(index)
    if seg is None:
        return None
    a, b = seg
    if index == a:
        return a, b, 0.0
    if index == b:
        return a, b, 1.0
    return a, b, curve_time(doc.frames[a].timing, index, a, b)


def segment_track(doc: ShotDocument, a: int, b: int) -> PoseTrack:
    """The posed frames of segment a..b at their times (what the engine's `Segment.poses`
    holds for it): `frame` is the shot's frame index."""
    poses = []
    for i in range(a, b + 1):
        layer = doc.frames[i].pose
        if layer is None:
            continue
        t = 0.0 if i == a else 1.0 if i == b else curve_time(doc.frames[a].timing, i, a, b)
        poses.append(TimedPose(t, layer.pose, i))
    return PoseTrack(tuple(poses), (doc.width, doc.height))


def interpolated(doc: ShotDocument, index: int) -> tuple[Pose, float] | None:
    """The engine's pose for a frame without one of its own, and its time; None when its
    segment has no poses on both sides of it (the engine has none either)."""
    where = frame_time(doc, index)
    if where is None:
        return None
    a, b, t = where
    pose = pose_at(segment_track(doc, a, b), t)
    return None if pose is None else (pose, t)


def shown(doc: ShotDocument, index: int) -> ShownPose | None:
    """The pose the pose layer shows on a frame (see `ShownPose`), or None."""
    if not 0 <= index < len(doc):
        return None
    f = doc.frames[index]
    where = frame_time(doc, index)
    t = where[2] if where is not None else None
    if f.pose is not None:
        return ShownPose(OWN, f.pose, index, t)
    ghost = interpolated(doc, index)
    if ghost is not None:
        return ShownPose(INTERPOLATED, PoseLayer(ghost[0]), index, ghost[1])
    if f.role.is_anchor:
        earlier = previous_posed(doc, index)
        if earlier is not None:
            return ShownPose(CARRIED, doc.frames[earlier].pose, earlier, t)  # type: ignore[arg-type]
    return None


def previous_posed(doc: ShotDocument, index: int) -> int | None:
    """The nearest frame before `index` with a pose of its own."""
    for i in range(index - 1, -1, -1):
        if doc.frames[i].pose is not None:
            return i
    return None


def next_anchor(doc: ShotDocument, index: int) -> int | None:
    return next((a for a in doc.anchors() if a > index), None)


def reference_lengths(doc: ShotDocument, index: int) -> dict[int, float] | None:
    """Bone lengths to snap to when dragging on `index`: the previous pose's (the nearest
    posed frame before it, else after it); None when no other frame has a pose."""
    before = previous_posed(doc, index)
    if before is not None:
        return doc.frames[before].pose.bone_lengths()  # type: ignore[union-attr]
    after = next((i for i in range(index + 1, len(doc)) if doc.frames[i].pose is not None), None)
    return None if after is None else doc.frames[after].pose.bone_lengths()  # type: ignore[union-attr]


def posed_frames(doc: ShotDocument) -> list[int]:
    return [i for i, f in enumerate(doc.frames) if f.pose is not None]


def unplaced(doc: ShotDocument) -> list[int]:
    """Posed frames outside every segment (before the first anchor or after the last): no
    time in any segment, so the engine cannot be given them."""
    return [i for i in posed_frames(doc) if frame_time(doc, i) is None]


def frame_poses(doc: ShotDocument, first: int, last: int) -> dict[int, Pose]:
    """The poses of frames first..last (a generate run's anchors), for
    `ShotRequest.set_frame_poses`."""
    return {i: doc.frames[i].pose.pose for i in range(first, last + 1)  # type: ignore[union-attr]
            if doc.frames[i].pose is not None}


def check_on_canvas(doc: ShotDocument, frames: list[int]) -> None:
    """PoseError naming the frame (1-based, as on the timeline) and the joint of the first
    pose with a joint off the canvas."""
    for i in frames:
        layer = doc.frames[i].pose
        if layer is not None:
            layer.pose.check_canvas(doc.width, doc.height, f"the pose on frame {i + 1}")


def drawing_box(doc: ShotDocument, index: int) -> Box | None:
    """Bounding box of what is drawn on a frame (drawing, accepted or generated pixels, else
    the sketch), in canvas pixels; None when the frame is empty."""
    for kinds in ((LayerKind.GENERATED, LayerKind.DRAWING), (LayerKind.SKETCH,)):
        box = _alpha_box(doc.composite(index, kinds, previews=False))
        if box is not None:
            return box
    return None


def _alpha_box(img) -> Box | None:
    if images.is_blank(img):
        return None
    w, h = img.width(), img.height()
    alpha = images.to_rgba_bytes(img)[3::4]
    x0, x1, y0, y1 = w, -1, None, -1
    for y in range(h):
        row = alpha[y * w:(y + 1) * w]
        left = len(row) - len(row.lstrip(b"\x00"))
        if left == w:
            continue
        right = len(row.rstrip(b"\x00")) - 1
        y0 = y if y0 is None else y0
        y1 = y
        x0, x1 = min(x0, left), max(x1, right)
    if y0 is None:
        return None
    return float(x0), float(y0), float(x1 + 1), float(y1 + 1)
