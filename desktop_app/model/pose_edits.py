"""Every pose edit, as a function that pushes one undo command (like `model.edits`).

A pose is a field of the immutable `Frame`, so a pose edit swaps the frame tuple through the
same `ReplaceFramesCommand` as every other edit: undo/redo, the undo memory budget, save and
autosave cover poses with nothing added, and retiming, copy/paste, insert and remove carry a
frame's pose with it.
"""

from __future__ import annotations

from typing import Mapping

from inbetween_client.poses import BODY_JOINTS, PoseError, PoseTrack, TIME_TOLERANCE

from . import pose_timing
from .edits import _push
from .pose_layer import PoseLayer, default_pose
from .shot import ShotDocument


def _label(i: int) -> str:
    return f"frame {i + 1}"


def set_pose(doc: ShotDocument, index: int, layer: PoseLayer | None, text: str | None = None) -> None:
    """Give frame `index` this pose (None removes it), as one undo step."""
    if not 0 <= index < len(doc):
        raise IndexError(f"no frame {index + 1} in a shot of {len(doc)} frames")
    f = doc.frames[index]
    if text is None:
        text = ("Remove pose" if layer is None else "Pose key" if f.pose is None and not f.role.is_anchor
                else "Add pose" if f.pose is None else "Move joint")
    frames = list(doc.frames)
    frames[index] = f.with_pose(layer)
    _push(doc, f"{text} ({_label(index)})", frames)


def add_pose(doc: ShotDocument, index: int) -> PoseLayer:
    """The default 18-joint skeleton fitted to the frame's drawing (its bounding box; the
    canvas with a margin when nothing is drawn), replacing any pose the frame had."""
    box = pose_timing.drawing_box(doc, doc.source_index(index))
    if box is None:
        mx, my = doc.width * 0.1, doc.height * 0.08
        box = (mx, my, doc.width - mx, doc.height - my)
    layer = PoseLayer(default_pose(box, doc.width, doc.height))
    set_pose(doc, index, layer, "Add pose")
    return layer


def adjust(doc: ShotDocument, index: int, layer: PoseLayer) -> str:
    """A pose changed on the canvas: the frame's own pose, or a new pose of a frame that only
    showed one (an interpolated in-between becomes a pose key; a key showing the previous
    pose gets a copy). Returns what it was, for the status bar."""
    f = doc.frames[index]
    if f.pose is not None:
        what = "Move joint"
    elif f.role.is_anchor:
        what = "Pose key" if pose_timing.shown(doc, index) is None else "Copy and adjust pose"
    else:
        what = "Pose key"
    set_pose(doc, index, layer, what)
    return what


def move_joints(doc: ShotDocument, index: int, positions: Mapping[int, tuple[float, float]]) -> None:
    """Place joints of the frame's shown pose (its own, or the one it shows) by number."""
    shown = pose_timing.shown(doc, index)
    if shown is None:
        raise PoseError(f"{_label(index)} has no pose to move: add one first")
    adjust(doc, index, shown.layer.moved(positions))


def drag_joint(doc: ShotDocument, index: int, joint: int, x: float, y: float, keep_lengths: bool = False) -> PoseLayer:
    """A joint of the shown pose dragged to (x, y) (on the canvas), optionally keeping the
    previous pose's bone lengths (`PoseLayer.dragged`); one undo step."""
    shown = pose_timing.shown(doc, index)
    if shown is None:
        raise PoseError(f"{_label(index)} has no pose to move: add one first")
    lengths = None
    if keep_lengths:
        lengths = pose_timing.reference_lengths(doc, index) or shown.layer.bone_lengths()
    layer = shown.layer.dragged(joint, x, y, lengths).clamped(doc.width, doc.height)
    adjust(doc, index, layer)
    return layer


def set_hidden(doc: ShotDocument, index: int, joint: int, hide: bool) -> None:
    """Mark a joint hidden (the engine gets it as not there) or shown again, on the frame's
    own pose (an in-between showing an interpolated pose gets it as a pose key first)."""
    shown = pose_timing.shown(doc, index)
    if shown is None:
        raise PoseError(f"{_label(index)} has no pose: add one first")
    fallback = None
    if not hide and shown.layer.point(joint) is None:
        pts = shown.layer.points()
        if pts:
            xs, ys = [p[0] for p in pts.values()], [p[1] for p in pts.values()]
            fallback = default_pose((min(xs), min(ys), max(xs), max(ys)), doc.width, doc.height).body[joint][:2]
    layer = shown.layer.with_hidden(joint, hide, fallback)  # type: ignore[arg-type]
    if layer is shown.layer and shown.kind == pose_timing.OWN:
        return
    word = "Hide" if hide else "Show"
    set_pose(doc, index, layer, f"{word} {BODY_JOINTS[joint]}")


def mirror(doc: ShotDocument, index: int, swap_only: bool = False) -> None:
    """Mirror the frame's pose left to right (about the neck, sides exchanged), or with
    `swap_only` exchange right and left in place (the figure turns to face away)."""
    shown = pose_timing.shown(doc, index)
    if shown is None:
        raise PoseError(f"{_label(index)} has no pose to mirror: add one first")
    layer = shown.layer.swapped() if swap_only else shown.layer.mirrored().clamped(doc.width, doc.height)
    set_pose(doc, index, layer, "Swap left/right" if swap_only else "Mirror pose")


def remove_pose(doc: ShotDocument, index: int) -> bool:
    if doc.frames[index].pose is None:
        return False
    set_pose(doc, index, None, "Remove pose")
    return True


def copy_to_next_key(doc: ShotDocument, index: int) -> int:
    """Copy the pose shown on frame `index` to the next key or breakdown (one undo step);
    returns that frame, where the animator adjusts it. The copy keeps every bone; it moves
    with the drawing (by the shift between the two frames' drawings' bounding boxes), so it
    lands on the next key's character."""
    shown = pose_timing.shown(doc, index)
    if shown is None:
        raise PoseError(f"{_label(index)} has no pose to copy: add one first")
    target = pose_timing.next_anchor(doc, index)
    if target is None:
        raise PoseError(f"there is no key after {_label(index)} to copy its pose to")
    layer = shown.layer
    src, dst = (pose_timing.drawing_box(doc, doc.source_index(i)) for i in (index, target))
    if src is not None and dst is not None:
        dx = (dst[0] + dst[2] - src[0] - src[2]) / 2.0
        dy = (dst[1] + dst[3] - src[1] - src[3]) / 2.0
        layer = layer.translated(dx, dy).clamped(doc.width, doc.height)
    set_pose(doc, target, layer, "Copy pose to next key")
    return target


def import_track(doc: ShotDocument, a: int, b: int, track: PoseTrack) -> list[int]:
    """Put the poses of a poses.json (one segment, by time t) on the frames of segment a..b
    whose times they match (one undo step); returns the frames posed. A pose at a time where
    no frame of the segment sits, or one off the canvas, is a PoseError naming it."""
    track.check_canvas(doc.width, doc.height)
    times = {i: (0.0 if i == a else 1.0 if i == b else pose_timing.frame_time(doc, i)[2])  # type: ignore[index]
             for i in range(a, b + 1)}
    placed: dict[int, PoseLayer] = {}
    for p in track.poses:
        match = [i for i, t in times.items() if abs(t - p.t) < TIME_TOLERANCE]
        if not match:
            raise PoseError(f"{p.describe()} is at no frame of frames {a + 1}-{b + 1} (their times: "
                            + ", ".join(f"{t:.4g}" for t in times.values()) + ")")
        placed[match[0]] = PoseLayer(p.pose)
    frames = list(doc.frames)
    for i, layer in placed.items():
        frames[i] = frames[i].with_pose(layer)
    _push(doc, f"Import poses (frames {a + 1}-{b + 1})", frames)
    return sorted(placed)
