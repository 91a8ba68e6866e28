"""Reading from Krita documents: documents, layers, keyframes and pixels (no writing here).

Facts this relies on (measured on Krita 5.1.5 under Xvfb; DESIGN.md section 5, docs/krita.md):
- `Document` wrappers are new objects on every call; the root node's `uniqueId()` is stable for
  an open document, so it is the document's identity here.
- `pixelDataAtTime` is empty on hold frames, so keys are read only where `hasKeyframeAtTime`.
  Every call copies a snapshot of the layer first (about 10 ms at 4096x4096, whatever the
  rectangle), and a whole 4096x4096 frame takes 50-130 ms: frames are read in bands of a few
  MB, one band per event-loop turn, so Krita never freezes while the keys are read.
- Krita adds an empty keyframe at frame 0 when a layer's first keyframe is added later; an
  empty keyframe is not a key (`shot_plan.is_blank`).
- Pixel data is BGRA (8-bit RGBA documents) and is passed on untouched.
Only paint layers hold raster keyframes; other kinds are refused by name. Pose layers (vector
layers named `pose 0012`) are read by pose_layers.py; they are never keys or sketches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import pose_convention, shot_plan

PAINT_LAYER = "paintlayer"
RESULT_MARK = " in-betweens ("  # result layers are named "<keys> in-betweens (<backend>)"
#: bytes per pixelDataAtTime/setPixelData call: a 4096-wide canvas goes in 512-row bands
BAND_BYTES = 8 << 20

KIND_NAMES = {
    "paintlayer": "a paint layer",
    "vectorlayer": "a vector layer",
    "grouplayer": "a group layer",
    "filelayer": "a file layer",
    "filterlayer": "a filter layer",
    "filllayer": "a fill layer",
    "clonelayer": "a clone layer",
    "referenceimageslayer": "a reference images layer",
    "transparencymask": "a transparency mask",
    "filtermask": "a filter mask",
    "transformmask": "a transform mask",
    "selectionmask": "a selection mask",
    "colorizemask": "a colorize mask",
}


class KritaIOError(Exception):
    """A problem with the document the user can fix; the message is shown in the docker."""


@dataclass
class ShotSource:
    """Keys and sketches as read from the document: BGRA bytes of the whole canvas, by frame.

    Straight from the reader a frame may still be a list of bands; `materialize()` joins them
    (64 MB at 4096x4096: done in a worker thread, not in Krita's event loop).
    """

    width: int
    height: int
    keys: dict[int, Any]
    sketches: dict[int, Any] = field(default_factory=dict)
    blank: list[int] = field(default_factory=list)  # keyframes found empty (not keys)
    poses: dict[int, Any] = field(default_factory=dict)  # frame -> client Pose, from the pose layers

    def materialize(self) -> "ShotSource":
        for frames in (self.keys, self.sketches):
            for t, data in frames.items():
                if isinstance(data, list):
                    frames[t] = b"".join(data)
        return self

    @property
    def inbetween_frames(self) -> list[int]:
        """Frames strictly between the first and last key that are not keys."""
        ks = sorted(self.keys)
        return [t for t in range(ks[0] + 1, ks[-1]) if t not in self.keys]


def _app() -> Any:
    from krita import Krita  # imported late: unit tests install a fake module first

    return Krita.instance()


# ------------------------------------------------------------------ documents


def active_document() -> Any | None:
    return _app().activeDocument()


def doc_key(doc: Any) -> str:
    """A stable identity of an open document (wrappers differ on every call)."""
    return str(doc.rootNode().uniqueId())


def doc_title(doc: Any) -> str:
    name = doc.fileName() or doc.name() or "untitled"
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def open_documents() -> list[Any]:
    return list(_app().documents())


def find_document(key: str) -> Any | None:
    """The open document with this identity, or None once it was closed."""
    for doc in _app().documents():
        try:
            if doc_key(doc) == key:
                return doc
        except Exception:  # noqa: BLE001 - a document being closed
            continue
    return None


def same_document(a: Any, b: Any) -> bool:
    return a is not None and b is not None and doc_key(a) == doc_key(b)


def fps(doc: Any) -> float:
    try:
        value = float(doc.framesPerSecond())
    except Exception:  # noqa: BLE001
        return 24.0
    return value if 0 < value <= 240 else 24.0


def playback_range(doc: Any) -> tuple[int, int]:
    return int(doc.playBackStartTime()), int(doc.playBackEndTime())


# ------------------------------------------------------------------ layers


def iter_nodes(root: Any) -> Iterator[Any]:
    """Every node below `root`, depth first, top of the stack first (like the Layers docker)."""
    for child in reversed(list(root.childNodes())):
        yield child
        yield from iter_nodes(child)


def node_by_id(doc: Any, uid: str) -> Any | None:
    for node in iter_nodes(doc.rootNode()):
        if str(node.uniqueId()) == uid:
            return node
    return None


def kind_name(node: Any) -> str:
    kind = node.type()
    return KIND_NAMES.get(kind, f"a {kind or 'special'} layer")


def paint_layers(doc: Any) -> list[Any]:
    """The document's paint layers (also inside groups): the only kind with raster keyframes.
    A paint layer named like a pose layer is left out: it can be neither keys nor sketches."""
    return [n for n in iter_nodes(doc.rootNode()) if n.type() == PAINT_LAYER and pose_layer_frame(n) is None]


def layer_path(node: Any) -> str:
    """'group/ink' for a layer inside a group: how the docker lists it."""
    parts = [node.name()]
    parent = node.parentNode()
    while parent is not None and parent.parentNode() is not None:
        parts.append(parent.name())
        parent = parent.parentNode()
    return "/".join(reversed(parts))


def looks_like_result(node: Any) -> bool:
    return RESULT_MARK in node.name() and node.name().endswith(")")


def pose_layer_frame(node: Any) -> int | None:
    """The frame a pose layer ('pose 0012', or its interpolated preview) is of, else None."""
    name = node.name()
    frame = pose_convention.frame_of(name)
    return frame if frame is not None else pose_convention.interpolated_frame_of(name)


def check_paint_layer(node: Any, role: str) -> None:
    """Refuse anything but an 8-bit RGBA paint layer, naming the layer and what it is."""
    frame = pose_layer_frame(node)
    if frame is not None:
        raise KritaIOError(
            f"'{node.name()}' is the pose layer of frame {frame}: poses guide the in-betweens, the {role} are "
            "read from the keyframes of a paint layer. Choose a paint layer in the docker.")
    if node.type() != PAINT_LAYER:
        raise KritaIOError(
            f"'{node.name()}' is {kind_name(node)}: the {role} are read from the keyframes of a "
            "paint layer. Choose a paint layer in the docker.")
    if node.colorModel() != "RGBA" or node.colorDepth() != "U8":
        raise KritaIOError(
            f"The {role} layer '{node.name()}' is {node.colorModel()}/{node.colorDepth()}; the "
            "plugin needs an 8-bit RGBA document (Image > Convert Image Color Space).")


def keyframe_times(node: Any, start: int, end: int) -> list[int]:
    if not node.animated():
        return []
    return [t for t in range(start, end + 1) if node.hasKeyframeAtTime(t)]


# ------------------------------------------------------------------ pixels


def band_rows(width: int) -> int:
    return max(1, BAND_BYTES // max(1, width * 4))


@dataclass
class FrameRead:
    bands: list[bytes]
    drawn: bool  # some pixel has alpha

    @property
    def data(self) -> bytes:
        return b"".join(self.bands)


def read_frame_stepwise(node: Any, t: int, width: int, height: int,
                        stop_when_drawn: bool = False) -> Iterator[int]:
    """Read frame `t` of `node` band by band; yields 0 between bands (let Krita breathe).

    Returns (StopIteration.value) a FrameRead (the bands, and whether anything is drawn), or
    with `stop_when_drawn` just True as soon as a band has a visible pixel, False for an empty
    frame (a cheap blank test for drawn keys).
    """
    rows = band_rows(width)
    bands: list[bytes] = []
    drawn = False
    for y in range(0, height, rows):
        h = min(rows, height - y)
        band = bytes(node.pixelDataAtTime(0, y, width, h, t))
        if len(band) != width * h * 4:
            raise KritaIOError(f"Could not read frame {t} of '{node.name()}' (is it still a keyframe?)")
        drawn = drawn or not shot_plan.is_blank(band)
        if stop_when_drawn:
            if drawn:
                return True
        else:
            bands.append(band)
        if y + h < height:
            yield 0
    return False if stop_when_drawn else FrameRead(bands, drawn)


def run_steps(steps: Iterator[int]) -> Any:
    """Run a stepwise generator to its end at once (tests and scripts outside the GUI loop)."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


@dataclass
class ReadRequest:
    """What to read for one Generate."""

    doc: Any
    key_layer: Any
    sketch_layer: Any | None
    start: int
    end: int
    exposure: int = 1


def read_shot_stepwise(req: ReadRequest,
                       on_progress: Callable[[int, int], None] | None = None) -> Iterator[int]:
    """Read the keys (drawn keyframes only) and the sketches at drawn in-betweens, band by band.

    Returns (StopIteration.value) a ShotSource; raises KritaIOError with a message naming the
    layer when there is nothing to in-between.
    """
    key_layer = req.key_layer
    if key_layer is None:
        raise KritaIOError("Choose the layer that holds the keys.")
    check_paint_layer(key_layer, "keys")
    if req.end < req.start:
        raise KritaIOError(f"The frame range {req.start}-{req.end} is empty.")
    doc = req.doc
    w, h = int(doc.width()), int(doc.height())
    times = keyframe_times(key_layer, req.start, req.end)
    if not times:
        raise KritaIOError(
            f"The keys layer '{key_layer.name()}' has no keyframes in frames {req.start}-{req.end}: "
            "draw the keys as keyframes on it (Animation Timeline), or choose another keys layer.")
    sketch = req.sketch_layer
    if sketch is not None and str(sketch.uniqueId()) == str(key_layer.uniqueId()):
        sketch = None
    if sketch is not None:
        check_paint_layer(sketch, "sketches")
    total = len(times)
    keys: dict[int, bytes] = {}
    blank: list[int] = []
    for i, t in enumerate(times):
        frame = yield from read_frame_stepwise(key_layer, t, w, h)
        (keys.__setitem__(t, frame.bands) if frame.drawn else blank.append(t))
        if on_progress:
            on_progress(i + 1, total)
        yield 0
    plan = shot_plan.make_plan(key_layer.name(), (req.start, req.end), times, blank, req.exposure,
                               keyframe_times(sketch, req.start, req.end) if sketch else ())
    if plan.problem:
        raise KritaIOError(plan.problem)
    source = ShotSource(w, h, keys, blank=blank)
    for t in plan.sketches:
        frame = yield from read_frame_stepwise(sketch, t, w, h)  # type: ignore[arg-type]
        if frame.drawn:
            source.sketches[t] = frame.bands
        yield 0
    return source


def read_shot(doc: Any, key_layer: Any, sketch_layer: Any | None, start: int, end: int,
              exposure: int = 1) -> ShotSource:
    """`read_shot_stepwise` at once (tests, scripts)."""
    steps = read_shot_stepwise(ReadRequest(doc, key_layer, sketch_layer, start, end, exposure))
    return run_steps(steps).materialize()


def plan_for(doc: Any, key_layer: Any, sketch_layer: Any | None, start: int, end: int,
             exposure: int, blank: Callable[[Any, int], bool | None]) -> shot_plan.ShotPlan:
    """The plan shown before Generate, from keyframe times (cheap) and `blank(node, t)`: a cached
    blank test (None when not yet known: treated as drawn until the scanner has looked)."""
    times = keyframe_times(key_layer, start, end)
    empty = [t for t in times if blank(key_layer, t)]
    sketches = keyframe_times(sketch_layer, start, end) if sketch_layer is not None else []
    return shot_plan.make_plan(key_layer.name(), (start, end), times, empty, exposure, sketches)
