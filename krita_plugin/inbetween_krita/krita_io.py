"""Everything that reads from or writes to a Krita document: the only module using the node API.

Facts this relies on (measured on Krita 5.1.5, see the project's DESIGN.md section 5):
- the scripting API cannot create a keyframe; what works is `doc.setCurrentTime(t)`, the
  `add_blank_frame` action on the active layer, `doc.waitForDone()` and then `setPixelData`.
  Without `waitForDone()` the pixels land one frame off.
- `pixelDataAtTime` is empty on hold frames, so keys are read only where `hasKeyframeAtTime`.
- `Document.importAnimation` crashed Krita in 1-3 runs of 10: it is not used.
- pixel data is BGRA (8-bit RGBA documents); it is passed through untouched here, and the
  client logic converts it.
Keeping the API calls here lets the rest of the plugin be tested without Krita.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

ADD_FRAME_ACTION = "add_blank_frame"
PAINT_LAYER = "paintlayer"

# Krita 5.1's scripting API has no undo macro (no beginMacro/endMacro, no way to reach
# KisUndoAdapter): every inserted keyframe is its own undo step, and pixel writes made through
# setPixelData are not on the undo stack at all. The docker shows this note.
UNDO_IS_ONE_STEP = False
UNDO_NOTE = (
    "Krita's scripting API cannot group the insertion into one undo step: "
    "to take a result back, delete the generated layer."
)


class KritaIOError(Exception):
    """A problem with the document the user can fix; the message is shown in the docker."""


@dataclass
class ShotSource:
    """Keys and sketches as read from the document: BGRA bytes of the whole canvas, by frame."""

    width: int
    height: int
    keys: dict[int, bytes]
    sketches: dict[int, bytes] = field(default_factory=dict)

    @property
    def inbetween_frames(self) -> list[int]:
        """Frames strictly between the first and last key that are not keys: what gets generated."""
        ks = sorted(self.keys)
        return [t for t in range(ks[0] + 1, ks[-1]) if t not in self.keys]


def _app() -> Any:
    from krita import Krita  # imported late: unit tests install a fake module first

    return Krita.instance()


def iter_nodes(root: Any) -> Iterator[Any]:
    """Every node below `root`, depth first, top of the stack first (like the Layers docker)."""
    for child in reversed(list(root.childNodes())):
        yield child
        yield from iter_nodes(child)


def paint_layers(doc: Any) -> list[Any]:
    """The document's paint layers: the only kind that can hold raster keyframes we can read."""
    return [n for n in iter_nodes(doc.rootNode()) if n.type() == PAINT_LAYER]


def find_layer(doc: Any, name: str) -> Any | None:
    for node in paint_layers(doc):
        if node.name() == name:
            return node
    return None


def default_sketch_layer(doc: Any, key_layer: Any | None, hint: str = "sketch") -> Any | None:
    """The first paint layer (other than the key layer) whose name contains `hint`, any case."""
    hint = hint.strip().lower()
    if not hint:
        return None
    for node in paint_layers(doc):
        if key_layer is not None and node.uniqueId() == key_layer.uniqueId():
            continue
        if hint in node.name().lower():
            return node
    return None


def default_key_layer(doc: Any) -> Any | None:
    """The active layer if it is a paint layer, else the first animated paint layer."""
    active = doc.activeNode()
    if active is not None and active.type() == PAINT_LAYER:
        return active
    for node in paint_layers(doc):
        if node.animated():
            return node
    return None


def playback_range(doc: Any) -> tuple[int, int]:
    return int(doc.playBackStartTime()), int(doc.playBackEndTime())


def keyframe_times(node: Any, start: int, end: int) -> list[int]:
    return [t for t in range(start, end + 1) if node.hasKeyframeAtTime(t)]


def _check_layer(node: Any, what: str) -> None:
    if node.type() != PAINT_LAYER:
        raise KritaIOError(f"the {what} layer '{node.name()}' is not a paint layer")
    if node.colorModel() != "RGBA" or node.colorDepth() != "U8":
        raise KritaIOError(
            f"the {what} layer '{node.name()}' is {node.colorModel()}/{node.colorDepth()}; "
            "the plugin needs an 8-bit RGBA document (Image > Convert Image Color Space)"
        )


def _pixels(node: Any, t: int, w: int, h: int, what: str) -> bytes:
    data = bytes(node.pixelDataAtTime(0, 0, w, h, t))
    if len(data) != w * h * 4:
        raise KritaIOError(f"could not read the {what} at frame {t} of '{node.name()}'")
    return data


def read_shot(doc: Any, key_layer: Any, sketch_layer: Any | None, start: int, end: int) -> ShotSource:
    """Keys = keyframes of `key_layer` in [start, end]; sketches = keyframes of `sketch_layer`
    at in-between times of that span (a sketch on a key frame or outside the keys is ignored)."""
    if key_layer is None:
        raise KritaIOError("choose the layer that holds the keys")
    if end < start:
        raise KritaIOError(f"the frame range {start}..{end} is empty")
    _check_layer(key_layer, "key")
    if not key_layer.animated():
        raise KritaIOError(f"the key layer '{key_layer.name()}' is not animated: draw keyframes on it first")
    w, h = int(doc.width()), int(doc.height())
    times = keyframe_times(key_layer, start, end)
    if len(times) < 2:
        raise KritaIOError(
            f"the layer '{key_layer.name()}' has {len(times)} keyframe(s) in frames {start}..{end}; "
            "in-betweening needs two or more"
        )
    keys = {t: _pixels(key_layer, t, w, h, "key") for t in times}
    source = ShotSource(w, h, keys)
    if sketch_layer is not None and sketch_layer.uniqueId() != key_layer.uniqueId():
        _check_layer(sketch_layer, "sketch")
        if sketch_layer.animated():
            for t in source.inbetween_frames:
                if sketch_layer.hasKeyframeAtTime(t):
                    source.sketches[t] = _pixels(sketch_layer, t, w, h, "sketch")
    if not source.inbetween_frames:
        raise KritaIOError(f"the keys at frames {times} leave no frame between them to fill")
    return source


def unique_layer_name(doc: Any, base: str) -> str:
    taken = {n.name() for n in iter_nodes(doc.rootNode())}
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def result_layer_name(source_name: str, backend: str) -> str:
    return f"{source_name} in-betweens ({backend})"


#: Pause (ms) the writer asks for after changing the layer stack or the active layer. Krita's
#: layer and animation-curve models learn of such changes through queued signals; adding a
#: keyframe channel before they have caught up aborts Krita (ASSERT "row >= 0" in
#: KisAnimCurvesChannelsModel, seen under Xvfb). Yielding to the event loop avoids it.
SETTLE_MS = 250


def write_frames_stepwise(
    doc: Any,
    source_layer: Any,
    name: str,
    frames: dict[int, bytes],
    width: int,
    height: int,
    on_frame: Callable[[int, int], None] | None = None,
) -> Iterator[int]:
    """Write `frames` (BGRA bytes by time) as keyframes of a new paint layer above `source_layer`.

    A generator: each value it yields is a pause in milliseconds during which the caller must
    let Krita's event loop run (a QTimer), then resume it. Its return value (StopIteration.value)
    is the new node. The layer is made active because `add_blank_frame` acts on the active
    layer; the user's current time is restored at the end.
    """
    app = _app()
    action = app.action(ADD_FRAME_ACTION)
    if action is None:
        raise KritaIOError(f"this Krita has no '{ADD_FRAME_ACTION}' action; cannot create keyframes")
    expected = width * height * 4
    for t, data in frames.items():
        if len(data) != expected:
            raise KritaIOError(f"frame {t} has {len(data)} bytes, expected {expected} for {width}x{height}")
    previous_time = int(doc.currentTime())
    node = doc.createNode(name, PAINT_LAYER)
    parent = source_layer.parentNode() or doc.rootNode()
    parent.addChildNode(node, source_layer)
    doc.waitForDone()
    yield SETTLE_MS
    for attempt in range(20):
        if attempt % 5 == 0:
            doc.setActiveNode(node)
        yield SETTLE_MS
        active = doc.activeNode()
        if active is not None and active.uniqueId() == node.uniqueId():
            break
    else:
        raise KritaIOError(f"Krita did not make '{name}' the active layer; cannot add keyframes to it")
    order = sorted(frames)
    for i, t in enumerate(order):
        doc.setCurrentTime(t)
        action.trigger()
        doc.waitForDone()
        node.setPixelData(frames[t], 0, 0, width, height)
        if on_frame is not None:
            on_frame(i + 1, len(order))
        if i == 0:
            yield SETTLE_MS  # the first keyframe created the layer's animation channel
    doc.waitForDone()
    doc.setCurrentTime(previous_time)
    doc.refreshProjection()
    return node


def write_frames(doc: Any, source_layer: Any, name: str, frames: dict[int, bytes], width: int,
                 height: int, on_frame: Callable[[int, int], None] | None = None) -> Any:
    """`write_frames_stepwise` without pauses: only for fakes and scripts outside the GUI loop."""
    steps = write_frames_stepwise(doc, source_layer, name, frames, width, height, on_frame)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def missing_keyframes(node: Any, times: Iterable[int]) -> list[int]:
    """Times at which `node` has no keyframe (a check after writing)."""
    return [t for t in times if not node.hasKeyframeAtTime(t)]


def active_document() -> Any | None:
    return _app().activeDocument()
