"""Pose export: the poses as the engine reads them (JSON) and as the pose-guided model sees them (PNG).

Layout, in the export folder (NAME is the shot's name, frame numbers 1-based as on the timeline):

- `NAME_poses_AAAA-BBBB.json`: one file per segment (anchor AAAA to anchor BBBB) that has poses,
  in the engine's `poses.json` format (`PoseTrack.write`, atomic): the segment's posed frames,
  keys included, each at its time `t` (0 = key A, 1 = key B, in-betweens on the timing curve)
  with `frame` counted from key A (0), as `inbetween-engine interpolate A B --inbetweens M
  --poses FILE` numbers them; `size` is the canvas; `shot_frames`, `timing`, `exposure` and
  `fps` say where the segment sits in the shot.
- `NAME_pose_FFFF.png`: the pose image of every frame that has a pose (its own or the one
  interpolated for it): RGB on black, DWPose's drawing, at the canvas size. The engine draws
  them (`render_poses`): the app has no OpenCV, and only the engine's renderer is pixel-exact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from inbetween_client.poses import Pose, PoseError, PoseTrack, TimedPose

from ..model import pose_timing
from ..model.shot import ShotDocument
from .atomic import write_bytes

#: poses in, PNG bytes out (one per pose): the engine's `render_poses`, as the window wires it
Renderer = Callable[[list[Pose], list[str]], list[bytes]]


class PoseExportError(Exception):
    """The poses could not be exported; the message says why (and names the frame)."""


def json_filename(name: str, a: int, b: int) -> str:
    return f"{name}_poses_{a + 1:04d}-{b + 1:04d}.json"


def image_filename(name: str, index: int) -> str:
    return f"{name}_pose_{index + 1:04d}.png"


def segment_file_track(doc: ShotDocument, a: int, b: int) -> PoseTrack:
    """The engine-format track of segment a..b, `frame` counted from key A (see module doc)."""
    track = pose_timing.segment_track(doc, a, b)
    extra = {"shot_frames": [a + 1, b + 1], "timing": doc.frames[a].timing, "exposure": doc.exposure,
             "fps": doc.fps}
    return PoseTrack(tuple(TimedPose(p.t, p.pose, (p.frame if p.frame is not None else a) - a) for p in track.poses),
                     (doc.width, doc.height), extra)


def _check(doc: ShotDocument, frames: Iterable[int]) -> None:
    try:
        pose_timing.check_on_canvas(doc, list(frames))
    except PoseError as exc:
        raise PoseExportError(f"{exc}. Drag the joint onto the canvas or mark it hidden, then export "
                              "again.") from None


def export_json(doc: ShotDocument, folder: str | os.PathLike, name: str) -> list[Path]:
    """One poses.json per segment with poses; returns the files written."""
    folder = Path(folder)
    _check(doc, pose_timing.posed_frames(doc))
    out = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for a, b in doc.segments():
            track = segment_file_track(doc, a, b)
            if track.poses:
                path = folder / json_filename(name, a, b)
                track.write(path)
                out.append(path)
    except OSError as exc:
        raise PoseExportError(f"could not write the poses to {folder}: {exc.strerror or exc}") from exc
    return out


def frames_with_poses(doc: ShotDocument, frames: Iterable[int] | None = None) -> dict[int, Pose]:
    """The pose of every frame (of `frames`, default all) that has one: its own or the one the
    engine interpolates for it; frames without (nothing to interpolate from) are left out."""
    out = {}
    for i in range(len(doc)) if frames is None else sorted(set(frames)):
        shown = pose_timing.shown(doc, i)
        if shown is not None and shown.kind != pose_timing.CARRIED:
            out[i] = shown.layer.pose
    return out


def export_images(doc: ShotDocument, folder: str | os.PathLike, name: str, render: Renderer,
                  frames: Iterable[int] | None = None) -> list[Path]:
    """The pose image of every frame with a pose; all are drawn before any is written, so an
    engine that fails leaves nothing half exported."""
    poses = frames_with_poses(doc, frames)
    if not poses:
        return []
    _check(doc, [i for i in poses if doc.frames[i].pose is not None])
    order = sorted(poses)
    pngs = render([poses[i] for i in order], [f"frame {i + 1}" for i in order])
    if len(pngs) != len(order):
        raise PoseExportError(f"the engine drew {len(pngs)} pose images for {len(order)} frames")
    folder = Path(folder)
    out = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in zip(order, pngs):
            path = folder / image_filename(name, i)
            write_bytes(path, data)
            out.append(path)
    except OSError as exc:
        raise PoseExportError(f"could not write the pose images to {folder}: {exc.strerror or exc}") from exc
    return out
