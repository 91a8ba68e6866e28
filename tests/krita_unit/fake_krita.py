"""A fake `krita` module: the document/node/window API the plugin uses, with Krita 5.1.5's
measured behaviour (tests/krita checks each of these in the real Krita):

- keyframes only through the `add_blank_frame` action, on the active layer of the active view's
  document (a document without a view gets none); a first keyframe after frame 0 also creates
  an empty one at 0; pixel data is empty on hold frames; `setPixelData` before `waitForDone()`
  lands one frame off (here: an assertion);
- the undo stack of each document: `setCurrentTime`, `add_blank_frame`, `addChildNode` and
  `remove` are one step each; `setVisible`, `setPinnedToTimeline`, `setActiveNode` and
  `setPixelData` are not on it; `edit_undo` acts on the active document;
- `Node.clone()` copies every keyframe; a paint layer holds pixels outside its canvas;
- closing the active view's document shows the previously active view again; `View.setVisible()`
  makes a view the active one (`Window.showView` does nothing for an open view in Krita 5.1);
- vector layers (`Document.createVectorLayer`) take `addShapesFromSvg` before they are in the
  document; SVG user units are canvas pixels, a shape's `boundingBox()` is in points
  (pixels * 72 / resolution); a shape's name is its SVG `id` ('' without one).
"""

from __future__ import annotations

import itertools
import types
import xml.etree.ElementTree as ET
from typing import Any

_ids = itertools.count(1)


class FakeNode:
    def __init__(self, doc: "FakeDocument | None", name: str, kind: str = "paintlayer") -> None:
        self.doc = doc
        self._name = name
        self._type = kind
        self._uid = f"{{uid-{next(_ids)}}}"
        self._children: list[FakeNode] = []  # bottom first, like Krita
        self._parent: FakeNode | None = None
        self.frames: dict[int, bytes] = {}  # b"" = an empty keyframe
        self.static = b""  # content of a non-animated layer
        self.color = ("RGBA", "U8")
        self._visible = True
        self.pinned = False
        self.reads = 0
        self._opacity = 255

    # -- identity and tree
    def name(self) -> str: return self._name
    def setName(self, name: str) -> None: self._name = name  # noqa: N802
    def type(self) -> str: return self._type
    def uniqueId(self) -> str: return self._uid  # noqa: N802
    def childNodes(self) -> list["FakeNode"]: return list(self._children)  # noqa: N802
    def parentNode(self) -> "FakeNode | None": return self._parent  # noqa: N802
    def colorModel(self) -> str: return self.color[0]  # noqa: N802
    def colorDepth(self) -> str: return self.color[1]  # noqa: N802
    def visible(self) -> bool: return self._visible
    def setVisible(self, v: bool) -> None: self._visible = bool(v)  # noqa: N802
    def setPinnedToTimeline(self, v: bool) -> None: self.pinned = bool(v)  # noqa: N802
    def opacity(self) -> int: return self._opacity
    def setOpacity(self, v: int) -> None: self._opacity = int(v)  # noqa: N802
    def isPinnedToTimeline(self) -> bool: return self.pinned  # noqa: N802

    def _set_doc(self, doc: "FakeDocument") -> None:
        self.doc = doc
        for c in self._children:
            c._set_doc(doc)

    def addChildNode(self, child: "FakeNode", above: "FakeNode | None") -> bool:  # noqa: N802
        doc = self.doc
        assert doc is not None and child._parent is None
        index = len(self._children) if above is None else self._children.index(above) + 1
        self._children.insert(index, child)
        child._parent = self
        child._set_doc(doc)
        doc.undo_stack.append(("add", child, self, index))
        return True

    def remove(self) -> bool:
        parent = self._parent
        if parent is None:
            return False
        index = parent._children.index(self)
        parent._children.remove(self)
        self._parent = None
        assert self.doc is not None
        self.doc.undo_stack.append(("remove", self, parent, index))
        return True

    def clone(self) -> "FakeNode":
        out = FakeNode(None, self._name, self._type)
        out.frames = dict(self.frames)
        out.static, out.color, out._visible = self.static, self.color, self._visible
        return out

    # -- animation
    def animated(self) -> bool:
        return bool(self.frames)

    def hasKeyframeAtTime(self, t: int) -> bool:  # noqa: N802
        return t in self.frames

    def pixelDataAtTime(self, x: int, y: int, w: int, h: int, t: int) -> bytes:  # noqa: N802
        assert x == 0, "the fake reads whole rows only"
        self.reads += 1
        if t not in self.frames:
            return b""  # Krita: empty on hold frames
        data = self.frames[t]
        if not data:
            return bytes(w * h * 4)
        stride = w * 4
        return data[y * stride:(y + h) * stride]

    def setPixelData(self, data: bytes, x: int, y: int, w: int, h: int) -> None:  # noqa: N802
        assert x == 0 and len(data) == w * h * 4
        doc = self.doc
        assert doc is not None
        t = doc._time
        if self.frames:
            if t not in self.frames:
                raise AssertionError(f"setPixelData at {t}, which is a hold frame: it would change key "
                                     f"{max(k for k in self.frames if k <= t)}")
            if doc.pending_frame_op:
                raise AssertionError("setPixelData before waitForDone(): Krita puts it one frame off")
            stride = w * 4
            buf = bytearray(self.frames[t] or b"")
            need = (y + h) * stride
            if len(buf) < need:
                buf.extend(bytes(need - len(buf)))
            buf[y * stride:(y + h) * stride] = data
            self.frames[t] = bytes(buf)
        else:
            self.static = bytes(data)

    def add_blank_frame(self, t: int) -> None:
        if not self.frames and t != 0:
            self.frames[0] = self.static
        self.frames[t] = b""


class FakeRect:
    def __init__(self, x: float, y: float, w: float, h: float) -> None:
        self._r = (x, y, w, h)

    def x(self) -> float: return self._r[0]
    def y(self) -> float: return self._r[1]
    def width(self) -> float: return self._r[2]
    def height(self) -> float: return self._r[3]


class FakeShape:
    """A shape of a vector layer; geometry kept in points, as Krita's boundingBox() gives it."""

    def __init__(self, layer: "FakeVectorLayer", name: str, kind: str, box: tuple[float, float, float, float],
                 attrs: dict[str, str]) -> None:
        self.layer, self._name, self.kind, self.box, self.attrs = layer, name, kind, list(box), attrs
        self._visible = True
        self.z = 0

    def name(self) -> str: return self._name
    def setName(self, name: str) -> None: self._name = name  # noqa: N802
    def type(self) -> str: return "KoPathShape"
    def boundingBox(self) -> FakeRect: return FakeRect(*self.box)  # noqa: N802
    def visible(self) -> bool: return self._visible
    def setVisible(self, v: bool) -> None: self._visible = bool(v)  # noqa: N802
    def zIndex(self) -> int: return self.z  # noqa: N802
    def setZIndex(self, z: int) -> None: self.z = int(z)  # noqa: N802

    def remove(self) -> None:
        self.layer._shapes.remove(self)

    def move_px(self, dx: float, dy: float) -> None:
        """What dragging it with the Shape Selection tool does (test helper)."""
        k = 72.0 / self.layer.resolution()
        self.box[0] += dx * k
        self.box[1] += dy * k

    def centre_px(self) -> tuple[float, float]:
        k = self.layer.resolution() / 72.0
        return ((self.box[0] + self.box[2] / 2) * k, (self.box[1] + self.box[3] / 2) * k)


class FakeVectorLayer(FakeNode):
    def __init__(self, doc: "FakeDocument", name: str) -> None:
        super().__init__(doc, name, "vectorlayer")
        self._shapes: list[FakeShape] = []

    def resolution(self) -> float:
        return float(self.doc.resolution()) if self.doc is not None else 72.0

    def shapes(self) -> list[FakeShape]:
        return list(self._shapes)

    def shape(self, name: str) -> FakeShape:
        return next(s for s in self._shapes if s.name() == name)

    def addShapesFromSvg(self, svg: str) -> list[FakeShape]:  # noqa: N802
        k = 72.0 / self.resolution()
        added = []
        for el in ET.fromstring(svg):
            tag = el.tag.split("}")[-1]
            a = {key: str(v) for key, v in el.attrib.items()}
            if tag == "circle":
                cx, cy, r = float(a["cx"]), float(a["cy"]), float(a["r"])
                box = (cx - r, cy - r, 2 * r, 2 * r)
            elif tag == "line":
                x1, y1, x2, y2 = (float(a[n]) for n in ("x1", "y1", "x2", "y2"))
                box = (min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
            elif tag == "rect":
                box = (float(a["x"]), float(a["y"]), float(a["width"]), float(a["height"]))
            else:
                continue
            shape = FakeShape(self, a.get("id", ""), tag, tuple(v * k for v in box), a)
            self._shapes.append(shape)
            added.append(shape)
        return added

    def clone(self) -> "FakeVectorLayer":
        out = FakeVectorLayer(self.doc, self._name)  # type: ignore[arg-type]
        out.doc = None
        for s in self._shapes:
            out._shapes.append(FakeShape(out, s._name, s.kind, tuple(s.box), dict(s.attrs)))
        return out


class FakeView:
    def __init__(self, doc: "FakeDocument") -> None:
        self._doc = doc

    def document(self) -> "FakeDocument": return self._doc
    def setVisible(self) -> None: FakeKrita.instance().window._activate(self)  # noqa: N802
    def __eq__(self, other: object) -> bool: return isinstance(other, FakeView) and other._doc is self._doc
    def __hash__(self) -> int: return id(self._doc)


class FakeWindow:
    def __init__(self, app: "FakeKrita") -> None:
        self.app = app
        self._views: list[FakeView] = []
        self._active: list[FakeView] = []  # activation order, last = active

    def addView(self, doc: "FakeDocument") -> FakeView:  # noqa: N802
        view = FakeView(doc)
        self._views.append(view)
        self._activate(view)
        return view

    def views(self) -> list[FakeView]: return list(self._views)

    def activeView(self) -> FakeView | None:  # noqa: N802
        return self._active[-1] if self._active else None

    def showView(self, view: FakeView) -> None:  # noqa: N802
        """Krita 5.1 compares the wrapper's pointer with new wrappers: an open view never matches."""

    def _activate(self, view: FakeView) -> None:
        if view in self._active:
            self._active.remove(view)
        self._active.append(view)

    def _close(self, doc: "FakeDocument") -> None:
        self._views = [v for v in self._views if v._doc is not doc]
        self._active = [v for v in self._active if v._doc is not doc]


class FakeDocument:
    def __init__(self, w: int, h: int, start: int = 0, end: int = 10, name: str = "shot") -> None:
        self._w, self._h = w, h
        self._time = 0
        self._range = (start, end)
        self._name = name
        self.file_name = ""
        self._fps = 24
        self._root = FakeNode(self, "root", "grouplayer")
        self._active: FakeNode | None = None
        self.activation_lag = 0  # setActiveNode takes effect after this many activeNode() calls
        self._lag_left = 0
        self._pending_active: FakeNode | None = None
        self.pending_frame_op = False
        self.wait_calls = 0
        self.undo_stack: list[tuple] = []
        self.modified = False
        self.closed = False
        self._res = 300.0

    def width(self) -> int: return self._w
    def height(self) -> int: return self._h
    def name(self) -> str: return self._name
    def fileName(self) -> str: return self.file_name  # noqa: N802
    def framesPerSecond(self) -> int: return self._fps  # noqa: N802
    def setFramesPerSecond(self, fps: int) -> None: self._fps = int(fps)  # noqa: N802
    def rootNode(self) -> FakeNode: return self._root  # noqa: N802
    def resolution(self) -> int: return int(self._res)
    def currentTime(self) -> int: return self._time  # noqa: N802
    def playBackStartTime(self) -> int: return self._range[0]  # noqa: N802
    def playBackEndTime(self) -> int: return self._range[1]  # noqa: N802
    def setPlayBackRange(self, a: int, b: int) -> None: self._range = (a, b)  # noqa: N802
    def setFullClipRangeStartTime(self, t: int) -> None: pass  # noqa: N802
    def setFullClipRangeEndTime(self, t: int) -> None: pass  # noqa: N802
    def refreshProjection(self) -> None: pass  # noqa: N802
    def setModified(self, m: bool) -> None: self.modified = m  # noqa: N802
    busy_polls = 0  # tryBarrierLock fails this many times (Krita still rendering)

    def tryBarrierLock(self) -> bool:  # noqa: N802
        if self.busy_polls > 0:
            self.busy_polls -= 1
            return False
        return True

    def unlock(self) -> None: pass

    def setCurrentTime(self, t: int) -> None:  # noqa: N802
        self.undo_stack.append(("time", self._time))
        self._time = int(t)

    def waitForDone(self) -> None:  # noqa: N802
        self.wait_calls += 1
        self.pending_frame_op = False

    def createNode(self, name: str, kind: str) -> FakeNode:  # noqa: N802
        return FakeVectorLayer(self, name) if kind == "vectorlayer" else FakeNode(self, name, kind)

    def createVectorLayer(self, name: str) -> FakeVectorLayer:  # noqa: N802
        return FakeVectorLayer(self, name)

    def setCurrentTimeQuietly(self, t: int) -> None:  # noqa: N802 - test set-up: not on the undo stack
        self._time = int(t)

    def add_layer(self, name: str, frames: dict[int, bytes] | None = None, kind: str = "paintlayer",
                  parent: FakeNode | None = None) -> FakeNode:
        """Test set-up (not on the undo stack)."""
        node = FakeVectorLayer(self, name) if kind == "vectorlayer" else FakeNode(self, name, kind)
        parent = parent or self._root
        parent._children.append(node)
        node._parent = parent
        node.frames = dict(frames or {})
        return node

    def setActiveNode(self, node: FakeNode) -> None:  # noqa: N802
        if self.activation_lag:
            self._pending_active, self._lag_left = node, self.activation_lag
        else:
            self._active = node

    def activeNode(self) -> FakeNode | None:  # noqa: N802
        if self._pending_active is not None:
            self._lag_left -= 1
            if self._lag_left <= 0:
                self._active, self._pending_active = self._pending_active, None
        return self._active

    def top_names(self) -> list[str]:
        return [n.name() for n in reversed(self._root._children)]

    def close(self) -> bool:
        self.closed = True
        FakeKrita.instance()._close(self)
        return True

    def undo(self) -> None:
        if not self.undo_stack:
            return
        entry = self.undo_stack.pop()
        if entry[0] == "time":
            self._time = entry[1]
        elif entry[0] == "add":
            node, parent = entry[1], entry[2]
            parent._children.remove(node)
            node._parent = None
        elif entry[0] == "remove":
            node, parent, index = entry[1], entry[2], entry[3]
            parent._children.insert(index, node)
            node._parent = parent
        elif entry[0] == "frame":
            entry[1].frames.pop(entry[2], None)


class FakeAction:
    def __init__(self, app: "FakeKrita", name: str) -> None:
        self.app, self.name = app, name

    def trigger(self) -> None:
        doc = self.app.activeDocument()
        if self.name == "edit_undo":
            if doc is not None:
                doc.undo()
            return
        if doc is None:
            return  # no view: Krita does nothing
        node = doc.activeNode()
        assert node is not None, "add_blank_frame with no active layer"
        node.add_blank_frame(doc.currentTime())
        doc.undo_stack.append(("frame", node, doc.currentTime()))
        doc.pending_frame_op = True


class FakeKrita:
    _instance: "FakeKrita | None" = None

    def __init__(self) -> None:
        self._documents: list[FakeDocument] = []
        self.window = FakeWindow(self)
        self.created: list[FakeDocument] = []

    @classmethod
    def instance(cls) -> "FakeKrita":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    # the test's "current document": opened in a view of the window
    @property
    def document(self) -> FakeDocument | None:
        return self.activeDocument()

    @document.setter
    def document(self, doc: FakeDocument | None) -> None:
        if doc is None:
            return
        if doc not in self._documents:
            self._documents.append(doc)
            self.window.addView(doc)
        else:
            self.window._activate(next(v for v in self.window.views() if v._doc is doc))

    def documents(self) -> list[FakeDocument]:
        return list(self._documents)

    def activeDocument(self) -> FakeDocument | None:  # noqa: N802
        view = self.window.activeView()
        return view.document() if view is not None else None

    def activeWindow(self) -> FakeWindow:  # noqa: N802
        return self.window

    def createDocument(self, w: int, h: int, name: str, model: str, depth: str, profile: str,  # noqa: N802
                       res: float) -> FakeDocument:
        doc = FakeDocument(w, h, 0, 10, name)
        self._documents.append(doc)
        self.created.append(doc)
        return doc

    def _close(self, doc: FakeDocument) -> None:
        if doc in self._documents:
            self._documents.remove(doc)
        self.window._close(doc)

    def action(self, name: str) -> FakeAction | None:
        return FakeAction(self, name) if name in ("add_blank_frame", "edit_undo") else None


def make_module() -> types.ModuleType:
    mod = types.ModuleType("krita")
    mod.Krita = FakeKrita  # type: ignore[attr-defined]
    return mod


def keyframes(node: Any) -> list[int]:
    return sorted(node.frames)
