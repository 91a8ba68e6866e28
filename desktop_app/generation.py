"""From the document to a `ShotRequest` and back: which frames a generate run covers.

"Generate segment" sends only the two anchors around the playhead (and the sketches between
them), so the engine works on that segment alone and its result can replace exactly that
segment's generated layers. "Generate shot" sends every anchor.

The poses of the frames in range go with the request (`ShotRequest.set_frame_poses`: each
at the engine's time of its frame); a pose with a joint off the canvas stops the run with the
client's message naming the frame and the joint, before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inbetween_client.images import ImageData
from inbetween_client.poses import PoseError
from inbetween_client.shot import ShotRequest

from .model import images, pose_timing
from .model.shot import Role, ShotDocument


class GenerateError(Exception):
    """The shot cannot be generated as it is; the message tells the animator what to fix."""


@dataclass
class Plan:
    request: ShotRequest
    first: int  # first anchor of the covered range
    last: int  # last anchor
    skipped_sketches: list[int] = field(default_factory=list)  # sketches on holds (not sent)
    poses: list[int] = field(default_factory=list)  # frames whose poses are sent
    unplaced_poses: list[int] = field(default_factory=list)  # posed frames outside every segment

    @property
    def targets(self) -> list[int]:
        return [i for i in range(self.first + 1, self.last) if i not in self.request.keys]


def plan(doc: ShotDocument, first: int | None = None, last: int | None = None,
         backend: str = "flow", seed: int = 0, options: dict | None = None) -> Plan:
    """A request for anchors first..last (default: the whole shot); `options` are the
    backend's own (flow's `preview`), sent with the seed."""
    anchors = doc.anchors()
    if len(anchors) < 2:
        raise GenerateError("Mark at least two frames as keys (K) to generate the frames between them.")
    first = anchors[0] if first is None else first
    last = anchors[-1] if last is None else last
    scope = [a for a in anchors if first <= a <= last]
    if len(scope) < 2:
        raise GenerateError("The selected range has fewer than two keys.")
    if not any(b - a > doc.exposure for a, b in zip(scope, scope[1:])):
        raise GenerateError("There is nothing to generate: insert in-between frames between the keys"
                            + (f" (exposure is on {doc.exposure}s)" if doc.exposure > 1 else "") + ".")
    w, h = doc.width, doc.height

    def data(img) -> ImageData:
        return ImageData.rgba(images.to_rgba_bytes(img), w, h)

    keys = {a: data(doc.drawing_for_engine(a)) for a in scope}
    sketches: dict[int, ImageData] = {}
    skipped = []
    for a, b in zip(scope, scope[1:]):
        for i in range(a + 1, b):
            f = doc.frames[i]
            if f.sketch is None or images.is_blank(f.sketch):
                continue
            if f.role is Role.HOLD or (i - a) % doc.exposure:
                skipped.append(i)
                continue
            sketches[i] = data(f.sketch)
    timing = {a: doc.frames[a].timing for a in scope[:-1]}
    request = ShotRequest(width=w, height=h, keys=keys, sketches=sketches, timing=timing,
                          exposure=doc.exposure, fps=doc.fps, backend=backend,
                          options={"seed": int(seed), **(options or {})}, encoding="rgba",
                          previews=True)
    poses = pose_timing.frame_poses(doc, scope[0], scope[-1])
    try:
        pose_timing.check_on_canvas(doc, sorted(poses))
    except PoseError as exc:
        raise GenerateError(f"Cannot generate: {exc}. Drag the joint onto the canvas, or mark it hidden "
                            "if it leaves the picture (Pose ▸ Hide Joint).") from None
    request.set_frame_poses(poses)
    unplaced = pose_timing.unplaced(doc) if (first, last) == (anchors[0], anchors[-1]) else []
    return Plan(request, scope[0], scope[-1], skipped, sorted(poses), unplaced)
