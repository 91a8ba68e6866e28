"""A fake `krita` module: just the document/node API the plugin's krita_io uses, with Krita's
measured quirks (keyframes only through the add_blank_frame action on the active layer, a first
keyframe after frame 0 also creating one at 0, empty pixel data on hold frames)."""

from __future__ import annotations

import itertools
import types

_ids = itertools.count(1)


class FakeNode:
    def __init__(self, doc: "FakeDocument", name: str, kind: str = "paintlayer") -> None:
        self.doc = doc
        self._name = name
        self._type = kind
        self._uid = f"{{uid-{next(_ids)}}}"
        self._children: list[FakeNode] = []  # bottom first, like Krita
        self._parent: FakeNode | None = None
        self.frames: dict[int, bytes] = {}
        self.static = b""  # content of a non-animated layer
        self.color = ("RGBA", "U8")
        self.visible = True

    # -- identity and tree
    def name(self) -> str: return self._name
    def type(self) -> str: return self._type
    def uniqueId(self) -> str: return self._uid  # noqa: N802
    def childNodes(self) -> list["FakeNode"]: return list(self._children)  # noqa: N802
    def parentNode(self) -> "FakeNode | None": return self._parent  # noqa: N802
    def colorModel(self) -> str: return self.color[0]  # noqa: N802
    def colorDepth(self) -> str: return self.color[1]  # noqa: N802
    def setVisible(self, v: bool) -> None: self.visible = v  # noqa: N802

    def addChildNode(self, child: "FakeNode", above: "FakeNode | None") -> bool:  # noqa: N802
        child._parent = self
        if above is None:
            self._children.insert(0, child)
        else:
            self._children.insert(self._children.index(above) + 1, child)
        return True

    # -- animation
    def animated(self) -> bool:
        return bool(self.frames)

    def hasKeyframeAtTime(self, t: int) -> bool:  # noqa: N802
        return t in self.frames

    def pixelDataAtTime(self, x: int, y: int, w: int, h: int, t: int) -> bytes:  # noqa: N802
        assert (x, y, w, h) == (0, 0, self.doc._w, self.doc._h), "the fake reads whole canvases only"
        return self.frames.get(t, b"")  # Krita: empty on hold frames

    def setPixelData(self, data: bytes, x: int, y: int, w: int, h: int) -> None:  # noqa: N802
        assert (x, y, w, h) == (0, 0, self.doc._w, self.doc._h)
        assert len(data) == w * h * 4
        t = self.doc._time
        if self.frames:
            if t not in self.frames:
                raise AssertionError(f"setPixelData at {t}, which is a hold frame: it would change key "
                                     f"{max(k for k in self.frames if k <= t)}")
            if self.doc.pending_frame_op:
                raise AssertionError("setPixelData before waitForDone(): Krita puts it one frame off")
            self.frames[t] = bytes(data)
        else:
            self.static = bytes(data)

    def add_blank_frame(self, t: int) -> None:
        if not self.frames and t != 0:
            self.frames[0] = self.static or bytes(self.doc._w * self.doc._h * 4)
        self.frames[t] = bytes(self.doc._w * self.doc._h * 4)


class FakeDocument:
    def __init__(self, w: int, h: int, start: int = 0, end: int = 10) -> None:
        self._w, self._h = w, h
        self._time = 0
        self._range = (start, end)
        self._root = FakeNode(self, "root", "grouplayer")
        self._active: FakeNode | None = None
        self.activation_lag = 0  # setActiveNode takes effect after this many activeNode() calls
        self._lag_left = 0
        self._pending_active: FakeNode | None = None
        self.pending_frame_op = False
        self.wait_calls = 0

    def width(self) -> int: return self._w
    def height(self) -> int: return self._h
    def rootNode(self) -> FakeNode: return self._root  # noqa: N802
    def currentTime(self) -> int: return self._time  # noqa: N802
    def setCurrentTime(self, t: int) -> None: self._time = int(t)  # noqa: N802
    def playBackStartTime(self) -> int: return self._range[0]  # noqa: N802
    def playBackEndTime(self) -> int: return self._range[1]  # noqa: N802
    def refreshProjection(self) -> None: pass  # noqa: N802

    def waitForDone(self) -> None:  # noqa: N802
        self.wait_calls += 1
        self.pending_frame_op = False

    def createNode(self, name: str, kind: str) -> FakeNode:  # noqa: N802
        return FakeNode(self, name, kind)

    def add_layer(self, name: str, frames: dict[int, bytes] | None = None) -> FakeNode:
        node = FakeNode(self, name)
        self._root.addChildNode(node, self._root._children[-1] if self._root._children else None)
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


class FakeAction:
    def __init__(self, app: "FakeKrita", name: str) -> None:
        self.app, self.name = app, name

    def trigger(self) -> None:
        doc = self.app.document
        node = doc.activeNode()
        assert node is not None, "add_blank_frame with no active layer"
        node.add_blank_frame(doc.currentTime())
        doc.pending_frame_op = True


class FakeKrita:
    _instance: "FakeKrita | None" = None

    def __init__(self) -> None:
        self.document: FakeDocument | None = None

    @classmethod
    def instance(cls) -> "FakeKrita":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def activeDocument(self) -> FakeDocument | None:  # noqa: N802
        return self.document

    def action(self, name: str) -> FakeAction | None:
        return FakeAction(self, name) if name == "add_blank_frame" else None


def make_module() -> types.ModuleType:
    mod = types.ModuleType("krita")
    mod.Krita = FakeKrita  # type: ignore[attr-defined]
    return mod
