"""Writing a result into a Krita document as one undo step, and showing it for review.

Krita 5.1's scripting API cannot create a keyframe; what works is the `add_blank_frame`
action on the active layer of the active view, `waitForDone()`, then `setPixelData`. Done in
the user's document that costs about two undo steps per frame (measured: the action is one,
and `Document.setCurrentTime` is an undo step of its own), and at 4096x4096 every frame
switch re-renders the canvas (0.5 s). So the frames are built elsewhere:

1. a small scratch document (64x64: a paint layer holds pixels outside the canvas, and a
   small canvas opens fast) gets a view, a paint layer, and one keyframe per frame, the
   pixels written in bands of a few MB with the event loop running in between;
2. the finished layer is cloned (`Node.clone()` keeps every keyframe);
3. the scratch document is closed unsaved and the user's view comes back; the clone is added
   to the job's own document with `addChildNode`, hidden (so that blocking call does not wait
   for a 4096x4096 re-render) once Krita is idle, then shown and pinned to the timeline.
   `addChildNode` is one undoable command: one Ctrl+Z removes the whole result.

Replacing an earlier result removes it (`Node.remove()`, one more undo step) before the new
layer is added: the first Ctrl+Z then takes back the new frames, the second brings back the
old layer. `setVisible` and `setPinnedToTimeline` are not on the undo stack. Nothing touches
the user's document before step 3, so a failure (or a closed document) leaves it as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from .krita_io import PAINT_LAYER, KritaIOError, band_rows, doc_key, find_document, iter_nodes, node_by_id

ADD_FRAME_ACTION = "add_blank_frame"
SCRATCH_SIZE = 64
#: Pause (ms) after changing the layer stack, the active layer or the view. Krita's layer and
#: animation-curve models learn of such changes through queued signals; adding a keyframe
#: channel before they have caught up aborts Krita (ASSERT "row >= 0" in
#: KisAnimCurvesChannelsModel, seen under Xvfb).
SETTLE_MS = 250


def _app() -> Any:
    from krita import Krita  # imported late: unit tests install a fake module first

    return Krita.instance()


def result_layer_name(source_name: str, backend: str) -> str:
    return f"{source_name} in-betweens ({backend})"


def unique_layer_name(doc: Any, base: str, ignore_uid: str | None = None) -> str:
    taken = {n.name() for n in iter_nodes(doc.rootNode()) if str(n.uniqueId()) != ignore_uid}
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


@dataclass
class WriteJob:
    """One result to write: BGRA frames by time (keys included), where and under which name."""

    doc_key: str
    keys_uid: str  # the new layer goes right above this layer (or where `replace_uid` was)
    name: str
    frames: dict[int, bytes]
    width: int
    height: int
    replace_uid: str | None = None
    above_uid: str | None = None  # keeping both: the new layer goes right above the previous one
    written_uid: str | None = None  # set when done
    replaced: bool = False
    activity: str = ""  # what the writer is doing (shown, and used by the freeze measurement)
    hide_uids: list[str] = field(default_factory=list)  # review alone: hidden with the same re-render
    hidden: dict[str, bool] = field(default_factory=dict)  # uid -> visibility before (for Review)


class ScratchBuild:
    """Steps 1-2: the frames as keyframes of a layer in a scratch document, returned as a clone."""

    def __init__(self, job: WriteJob) -> None:
        self.job = job
        self.app = _app()
        self.window = None
        self.previous_view = None
        self.scratch = None
        self.view = None
        self.layer = None

    def _active_ok(self) -> bool:
        doc = self.app.activeDocument()
        if doc is None or self.scratch is None or doc_key(doc) != doc_key(self.scratch):
            return False
        node = self.scratch.activeNode()
        return node is not None and str(node.uniqueId()) == str(self.layer.uniqueId())

    def _make_active(self) -> Iterator[int]:
        """Bring the scratch view and layer back to the front (the user may have clicked away)."""
        for attempt in range(12):
            if self._active_ok():
                return
            if attempt % 4 == 0:
                if self.view is not None:
                    self.view.setVisible()  # libkis: makes the view the active one
                self.scratch.setActiveNode(self.layer)
            yield SETTLE_MS
        raise KritaIOError("Krita did not make the scratch layer active; cannot add keyframes to it")

    def steps(self) -> Iterator[int]:
        job = self.job
        action = self.app.action(ADD_FRAME_ACTION)
        if action is None:
            raise KritaIOError(f"this Krita has no '{ADD_FRAME_ACTION}' action; cannot create keyframes")
        self.window = self.app.activeWindow()
        if self.window is None:
            raise KritaIOError("Krita has no open window to write the frames in")
        self.previous_view = self.window.activeView()
        target = find_document(job.doc_key)
        if target is not None:
            job.activity = "scratch: wait for Krita"
            yield from wait_until_idle(target)
        last = max(job.frames)
        job.activity = "scratch: create the document"
        self.scratch = self.app.createDocument(SCRATCH_SIZE, SCRATCH_SIZE, f"In-between: writing {job.name}",
                                               "RGBA", "U8", "", 72.0)
        try:
            self.scratch.setFullClipRangeStartTime(0)
            self.scratch.setFullClipRangeEndTime(last)
            yield 0  # creating the document and its view are two blocks of their own
            job.activity = "scratch: open a view"
            self.view = self.window.addView(self.scratch)
            yield SETTLE_MS
            self.layer = self.scratch.createNode(job.name, PAINT_LAYER)
            self.scratch.rootNode().addChildNode(self.layer, None)
            yield SETTLE_MS
            yield from self._make_active()
            rows = band_rows(job.width)
            for i, t in enumerate(sorted(job.frames)):
                yield from self._make_active()
                job.activity = f"scratch: keyframe {t}"
                self.scratch.setCurrentTime(t)
                action.trigger()
                self.scratch.waitForDone()
                if not self.layer.hasKeyframeAtTime(t):
                    raise KritaIOError(f"Krita did not add a keyframe at frame {t} of the result")
                data = job.frames[t]
                for y in range(0, job.height, rows):
                    if int(self.scratch.currentTime()) != t:
                        self.scratch.setCurrentTime(t)
                        self.scratch.waitForDone()
                    h = min(rows, job.height - y)
                    self.layer.setPixelData(data[y * job.width * 4:(y + h) * job.width * 4], 0, y, job.width, h)
                    yield 0
                yield SETTLE_MS if i == 0 else 0  # the first keyframe made the animation channel
            self.scratch.waitForDone()
            job.activity = "scratch: clone the layer"
            clone = self.layer.clone()
        except BaseException:
            job.activity = "scratch: close"
            self.close()
            raise
        return clone  # the caller closes the scratch (close())

    def close(self) -> None:
        """Close the scratch document unsaved and give the user their view back."""
        scratch, self.scratch = self.scratch, None
        if scratch is None:
            return
        try:
            scratch.setModified(False)
            scratch.close()
        finally:
            if self.previous_view is not None:
                try:
                    if any(v == self.previous_view for v in self.window.views()):
                        self.previous_view.setVisible()
                except Exception:  # noqa: BLE001 - the view went away: Krita picks another
                    pass


def wait_until_idle(doc: Any, limit_s: float = 10.0) -> Iterator[int]:
    """Yield until Krita has no work queued on `doc` (tryBarrierLock succeeds), so that the next
    call that ends in `waitForDone()` (addChildNode does) blocks only for its own work."""
    if not hasattr(doc, "tryBarrierLock"):
        return
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if doc.tryBarrierLock():
            doc.unlock()
            return
        yield 40


def insert_into_document(job: WriteJob, clone: Any) -> Iterator[int]:
    """Step 3: add the built layer to the job's document (one undo step), replacing an earlier
    result if asked; then show it (a tick later: the re-render is its own short block). Raises
    DocumentClosed (the document untouched) when the document is gone. Returns the node."""
    doc = find_document(job.doc_key)
    if doc is None:
        raise DocumentClosed("the document of this result was closed")
    keys = node_by_id(doc, job.keys_uid)
    old = node_by_id(doc, job.replace_uid) if job.replace_uid else None
    previous = node_by_id(doc, job.above_uid) if job.above_uid else None
    if old is not None:
        parent = old.parentNode() or doc.rootNode()
        siblings = list(parent.childNodes())  # bottom first
        index = next(i for i, n in enumerate(siblings) if str(n.uniqueId()) == str(old.uniqueId()))
        below = siblings[index - 1] if index > 0 else None
    elif previous is not None:
        parent, below = previous.parentNode() or doc.rootNode(), previous
    elif keys is not None:
        parent, below = keys.parentNode() or doc.rootNode(), keys
    else:
        parent, below = doc.rootNode(), None
    clone.setName(unique_layer_name(doc, job.name, ignore_uid=job.replace_uid if old is not None else None))
    clone.setVisible(False)  # added hidden: addChildNode then waits for nothing to re-render
    job.activity = "insert: wait for Krita"
    yield from wait_until_idle(doc)
    if old is not None:
        job.activity = "insert: remove the previous result"
        old.remove()
        job.replaced = True
        yield 0
        yield from wait_until_idle(doc)
    job.activity = "insert: add the layer"
    try:
        parent.addChildNode(clone, below)
    except Exception:
        if old is not None:  # put the old result back where it was
            parent.addChildNode(old, below)
            job.replaced = False
        raise
    added = node_by_id(doc, str(clone.uniqueId())) or clone
    job.written_uid = str(added.uniqueId())
    yield 0
    yield from wait_until_idle(doc)
    job.activity = "insert: show the layer"
    for uid in job.hide_uids:  # reviewing alone: one re-render for showing and hiding
        node = node_by_id(doc, uid)
        if node is not None and uid != job.written_uid:
            job.hidden[uid] = bool(node.visible())
            node.setVisible(False)
    added.setVisible(True)
    if hasattr(added, "setPinnedToTimeline"):  # Krita 5.0+: keep it in the timeline
        added.setPinnedToTimeline(True)
    doc.refreshProjection()  # setVisible alone does not re-render the canvas
    return added


class DocumentClosed(KritaIOError):
    """The result's own document is no longer open: the result is kept for another target."""


def write_stepwise(job: WriteJob) -> Iterator[int]:
    """Steps 1-3 as one generator of pauses (ms) for a QTimer; returns the new node.

    The scratch document is closed before the layer goes into the target. Adding it while the
    scratch view was still in front was faster at 4096x4096 (141 ms instead of about 430 ms),
    but after a replacement inside a group Krita then crashed (segmentation fault in the next
    `setVisible` of a sibling, reproduced three times under Xvfb): not worth 300 ms."""
    if find_document(job.doc_key) is None:
        raise DocumentClosed("the document of this result was closed")
    expected = job.width * job.height * 4
    for t, data in job.frames.items():
        if len(data) != expected:
            raise KritaIOError(f"frame {t} has {len(data)} bytes, expected {expected} for {job.width}x{job.height}")
    build = ScratchBuild(job)
    clone = yield from build.steps()
    job.activity = "scratch: close"
    build.close()
    yield SETTLE_MS
    return (yield from insert_into_document(job, clone))


def new_document_for(width: int, height: int, name: str, fps: float, last_frame: int) -> Any:
    """A fresh document (shown in the active window) for a result whose own document was closed."""
    app = _app()
    doc = app.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    doc.setFullClipRangeStartTime(0)
    doc.setFullClipRangeEndTime(max(last_frame, 1))
    doc.setPlayBackRange(0, max(last_frame, 1))
    if hasattr(doc, "setFramesPerSecond"):
        doc.setFramesPerSecond(int(round(fps)))
    window = app.activeWindow()
    if window is not None:
        window.addView(doc)
    return doc


def remove_layer(doc_key_: str, uid: str) -> str | None:
    """Remove a result layer (one undo step); its name, or None if it is already gone."""
    doc = find_document(doc_key_)
    node = node_by_id(doc, uid) if doc is not None else None
    if node is None:
        return None
    name = node.name()
    node.remove()
    return name


class Review:
    """Shows a result alone: hides the keys and sketch layers, restores them afterwards.

    Visibility is not on Krita's undo stack, so reviewing never clutters the user's history.
    """

    def __init__(self) -> None:
        self.doc_key: str | None = None
        self.hidden: dict[str, bool] = {}  # uid -> visibility before the review

    @property
    def active(self) -> bool:
        return self.doc_key is not None

    def adopt(self, doc_key_: str, hidden: dict[str, bool]) -> None:
        """Take over layers the writer already hid (WriteJob.hide_uids), to restore them later."""
        self.stop()
        self.doc_key, self.hidden = doc_key_, dict(hidden)

    def start(self, doc: Any, result_uid: str, hide_uids: list[str]) -> list[str]:
        """Hide `hide_uids` (remembering how they were), show the result; names of hidden layers."""
        self.stop()
        self.doc_key = doc_key(doc)
        names = []
        for uid in hide_uids:
            node = node_by_id(doc, uid)
            if node is None or uid == result_uid:
                continue
            self.hidden[uid] = bool(node.visible())
            node.setVisible(False)
            names.append(node.name())
        result = node_by_id(doc, result_uid)
        if result is not None:
            result.setVisible(True)
        doc.refreshProjection()
        return names

    def stop(self) -> None:
        if self.doc_key is None:
            return
        doc = find_document(self.doc_key)
        if doc is not None:
            for uid, was_visible in self.hidden.items():
                node = node_by_id(doc, uid)
                if node is not None:
                    node.setVisible(was_visible)
            doc.refreshProjection()
        self.doc_key = None
        self.hidden = {}
