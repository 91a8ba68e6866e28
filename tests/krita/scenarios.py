"""The real-Krita scenarios (run inside Krita by driver_plugin.py; checked by test_krita_e2e.py).

Each function is a generator taking the Driver: it builds a document the way an animator
would (keys drawn as keyframes on a paint layer, sketches on another), presses the docker's
buttons with real clicks, and records what Krita really did. Issue 16's numbered defects are
named where they are covered.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Iterator

from . import Wait, log  # the driver package

RED = (40, 60, 220)


def disc(w: int, h: int, cx: float, cy: float, r: float, fill: tuple | None = RED, ring: float = 3) -> bytes:
    """A filled disc with a dark outline (BGRA), or only the outline; built row by row (fast)."""
    buf = bytearray(w * h * 4)
    dark = bytes((20, 20, 20, 255))
    body = bytes((*fill, 255)) if fill is not None else None
    for y in range(max(0, int(cy - r) - 1), min(h, int(cy + r) + 2)):
        dy = y + 0.5 - cy
        if abs(dy) > r:
            continue
        outer = (r * r - dy * dy) ** 0.5
        inner = (max(0.0, (r - ring) ** 2 - dy * dy)) ** 0.5 if abs(dy) < r - ring else 0.0
        x0, x1 = max(0, int(cx - outer + 0.5)), min(w, int(cx + outer + 0.5))
        i0, i1 = max(0, int(cx - inner + 0.5)), min(w, int(cx + inner + 0.5))
        row = y * w * 4
        buf[row + x0 * 4:row + x1 * 4] = dark * (x1 - x0)
        if inner > 0 and i1 > i0:
            buf[row + i0 * 4:row + i1 * 4] = (body * (i1 - i0)) if body else bytes(4 * (i1 - i0))
    return bytes(buf)


def centroid_x(data: bytes, w: int) -> float:
    """x of the centroid of the visible pixels (alpha > 127)."""
    alpha = data[3::4]
    total = count = 0
    for y in range(len(alpha) // w):
        row = alpha[y * w:(y + 1) * w]
        for x, a in enumerate(row):
            if a > 127:
                total += x
                count += 1
    return total / count if count else -1.0


def keyframes(node: Any, last: int) -> list[int]:
    return [t for t in range(last + 1) if node.hasKeyframeAtTime(t)]


def layer_names(doc: Any) -> list[str]:
    return [n.name() for n in doc.topLevelNodes()]


def pixels(node: Any, doc: Any, t: int) -> bytes:
    return bytes(node.pixelDataAtTime(0, 0, doc.width(), doc.height(), t))


try:
    from PyQt6.QtCore import Qt  # type: ignore[import-not-found]
    from PyQt6.QtWidgets import QDockWidget  # type: ignore[import-not-found]
except ImportError:
    from PyQt5.QtCore import Qt  # type: ignore[import-not-found,no-redef]
    from PyQt5.QtWidgets import QDockWidget  # type: ignore[import-not-found,no-redef]

HIDDEN_DOCKERS = ("Advanced Color Selector", "Brush Presets", "Tool Options", "Overview", "Palette")
_laid_out = []


def _enum(group: str, name: str) -> Any:
    holder = getattr(Qt, group, Qt)
    return getattr(holder, name, getattr(Qt, name, None))


def show_docker(d: Any) -> Iterator:
    """The docker in the right column under Layers, the Animation Timeline at the bottom (once)."""
    dock = d.dock()
    if not _laid_out:
        _laid_out.append(True)
        qwin = d.window.qwindow()
        layers = timeline = None
        for other in qwin.findChildren(QDockWidget):
            title = other.windowTitle()
            if title in HIDDEN_DOCKERS:
                other.setVisible(False)
            elif title == "Layers":
                layers = other
            elif title == "Animation Timeline":
                timeline = other
        if timeline is not None:
            qwin.addDockWidget(_enum("DockWidgetArea", "BottomDockWidgetArea"), timeline)
            timeline.setFloating(False)
            timeline.setVisible(True)
        qwin.addDockWidget(_enum("DockWidgetArea", "RightDockWidgetArea"), dock)
        dock.setFloating(False)
        dock.setVisible(True)
        yield 500
        if layers is not None:
            qwin.resizeDocks([layers, dock], [250, 590], _enum("Orientation", "Vertical"))
        qwin.resizeDocks([dock], [330], _enum("Orientation", "Horizontal"))
        if timeline is not None:
            qwin.resizeDocks([timeline], [190], _enum("Orientation", "Vertical"))
        pan = d.app.action("PanTool")  # no brush outline over the canvas in screenshots
        if pan is not None:
            pan.trigger()
    dock.setVisible(True)
    dock.raise_()
    yield 600
    return dock


def draw_shot(d: Any, w: int, h: int, end: int, keys: dict[int, float], sketches: dict[int, float],
              name: str, r: float = 18) -> Iterator:
    """A document with a keys layer ("keys", discs at x positions) and a sketch layer."""
    doc, view = yield from d.new_doc(w, h, end, name)
    key_layer = yield from d.add_layer(doc, "keys")
    sketch_layer = yield from d.add_layer(doc, "sketch rough", above=key_layer)
    yield from d.add_keyframes(doc, key_layer, {t: disc(w, h, x, h / 2, r) for t, x in keys.items()})
    if sketches:
        yield from d.add_keyframes(doc, sketch_layer, {t: disc(w, h, x, h / 2 - 4, r, None, 2)
                                                       for t, x in sketches.items()})
    doc.setActiveNode(key_layer)
    yield 400
    return doc, view, key_layer, sketch_layer


def result_layer(doc: Any) -> Any:
    return next((n for n in doc.topLevelNodes() if " in-betweens (" in n.name()), None)


# ---------------------------------------------------------------- 1: keys, plan, preview, apply, review

def keys_and_review(d: Any) -> Iterator:
    """#1 (empty frame 0, range trimmed, plan shown first), #8 (preview, pinned, review alone)."""
    dock = yield from show_docker(d)
    w, h = 160, 120
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 11, {4: 30, 10: 130}, {7: 90}, "keys-and-review")
    d.record("keys_keyframes", keyframes(keys, 11))  # Krita adds an empty one at 0 by itself
    d.record("frame0_blank", pixels(keys, doc, 0) == bytes(w * h * 4))
    doc.setPlayBackRange(0, 11)
    yield from d.click(dock.active_button)  # keys layer: the active one ('keys')
    d.record("message_active", dock.message_label.text())
    pr = [doc.playBackStartTime(), doc.playBackEndTime()]
    d.record("playback_range", pr)
    yield Wait(lambda: "Fills frames 5-9" in dock.plan_label.text()
               and f"range {pr[0]}-{pr[1]} trimmed" in dock.plan_label.text(), 30, "the plan in the docker")
    d.record("plan_before", dock.plan_label.text())
    d.record("keys_combo", dock.key_combo.currentText())
    yield from d.screenshot("krita-docker-before")
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "the job")
    d.record("message_ready", dock.message_label.text())
    d.record("layers_before_apply", layer_names(doc))
    d.record("request", dict(d.ctl.last_request))
    dock.widget().ensureWidgetVisible(dock.result_panel.apply_button)
    yield 800
    yield from d.screenshot("krita-docker-preview")
    panel = dock.result_panel
    d.record("preview_has_image", panel.image.pixmap() is not None and not panel.image.pixmap().isNull())
    panel.slider.setValue(7)
    yield 200
    d.record("preview_frame_label", panel.frame_label.text())
    yield from d.click(panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    d.record("message_written", dock.message_label.text())
    res = result_layer(doc)
    d.record("layers_after", layer_names(doc))
    d.record("result_keyframes", keyframes(res, 11) if res else None)
    d.record("result_pinned", res.isPinnedToTimeline() if res else None)
    d.record("active_doc_is_ours", d.app.activeDocument().rootNode().uniqueId() == doc.rootNode().uniqueId())
    d.record("keys_hidden_in_review", not keys.visible())
    d.record("sketch_hidden_in_review", not sketch.visible())
    d.record("keys_identical", [pixels(res, doc, t) == pixels(keys, doc, t) for t in (4, 10)])
    d.record("result_frame0_blank", pixels(res, doc, 0) == bytes(w * h * 4) if res.hasKeyframeAtTime(0) else None)
    d.record("centroids", [round(centroid_x(pixels(res, doc, t), w), 1) for t in range(4, 11)])
    d.record("scratch_docs_left", [x.name() for x in d.app.documents() if x.name().startswith("In-between:")])
    doc.setCurrentTime(7)
    dock.widget().ensureWidgetVisible(dock.result_panel.review_button)
    yield 800
    yield from d.screenshot("krita-docker-after")
    yield from d.click(panel.review_button, "Show result alone (off)")
    d.record("keys_visible_after_review", keys.visible() and sketch.visible())
    # select another layer: the result stays in the timeline (pinned)
    doc.setActiveNode(keys)
    yield 500
    d.record("pinned_after_select", res.isPinnedToTimeline())
    d.record("undo_steps", [])
    before_time = doc.currentTime()
    d.app.action("edit_undo").trigger()  # #5: one Ctrl+Z takes the whole result back
    doc.waitForDone()
    yield 600
    d.record("after_one_undo", {"layers": layer_names(doc), "keys": keyframes(keys, 11),
                                "time_moved": doc.currentTime() != before_time})
    d.app.action("edit_redo").trigger()
    doc.waitForDone()
    yield 600
    res = result_layer(doc)
    d.record("after_redo", keyframes(res, 11) if res else None)
    d.record("docker_height_hint", dock.widget().minimumSizeHint().height())


# ---------------------------------------------------------------- 2: the keys layer

def keys_layer_choice(d: Any) -> Iterator:
    """#2: a vector or group layer active is refused by name; a layer in a group works; #4."""
    dock = yield from show_docker(d)
    w, h = 128, 96
    doc, view = yield from d.new_doc(w, h, 6, "layer-choice")
    group = yield from d.add_layer(doc, "characters", "grouplayer")
    ink = yield from d.add_layer(doc, "ink", parent=group)
    vector = yield from d.add_layer(doc, "Vector 1", "vectorlayer")
    yield from d.add_keyframes(doc, ink, {0: disc(w, h, 30, 48, 16), 6: disc(w, h, 100, 48, 16)})
    doc.setActiveNode(vector)
    yield 400
    path = os.path.join(d.report["spec"]["out_dir"], "layer-choice.kra")
    doc.saveAs(path)
    yield 800
    doc.setModified(False)
    doc.close()
    yield 800
    doc = d.app.openDocument(path)  # opened with the vector layer active: the docker's first sight
    view = d.window.addView(doc)
    yield Wait(lambda: "Choose the keys layer" in dock.plan_label.text(), 30, "the docker to see the file")
    d.record("active_at_open", doc.activeNode().name())
    d.record("plan_vector_active", dock.plan_label.text())
    d.record("combo_first", dock.key_combo.itemText(0))
    d.record("combo_items", [dock.key_combo.itemText(i) for i in range(dock.key_combo.count())])
    layers_before = layer_names(doc)
    yield from d.click(dock.generate_button)
    yield 800
    d.record("message_generate_refused", dock.message_label.text())
    d.record("layers_unchanged", layer_names(doc) == layers_before)
    doc.setActiveNode(doc.nodeByName("characters"))
    yield 400
    yield from d.click(dock.active_button)
    d.record("message_group_refused", dock.message_label.text())
    i = dock.key_combo.findText("characters/ink")
    dock.key_combo.setCurrentIndex(i)
    dock.key_combo.activated.emit(i)  # what choosing it in the list does
    yield Wait(lambda: "Fills frames 1-5" in dock.plan_label.text(), 30, "the plan for characters/ink")
    d.record("plan_ink", dock.plan_label.text())
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "the job")
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    grp = doc.nodeByName("characters")
    d.record("group_children", [n.name() for n in grp.childNodes()])
    # #4: the result is now the active layer; Generate again still uses 'ink' and replaces it
    res = doc.nodeByName("ink in-betweens (flow)")
    doc.setActiveNode(res)
    yield 500
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "the second job")
    d.record("second_message", dock.message_label.text())
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the second write")
    d.record("second_write", dock.message_label.text())
    d.record("group_children_after_regenerate", [n.name() for n in grp.childNodes()])
    d.ctl.stop_review()


# ---------------------------------------------------------------- 3: undo and regenerate

def undo_and_replace(d: Any) -> Iterator:
    """#5: one undo step per Generate; replacing is remove + add (measured); keep both; take back."""
    dock = yield from show_docker(d)
    w, h = 128, 96
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 8, {0: 20, 8: 108}, {}, "undo")
    doc.setCurrentTime(3)
    yield 300
    t_user = doc.currentTime()
    undo = d.app.action("edit_undo")
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "job 1")
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "write 1")
    d.ctl.stop_review()
    d.record("after_write_1", layer_names(doc))
    d.record("time_kept", doc.currentTime() == t_user)
    first_uid = result_layer(doc).uniqueId()
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "job 2")
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "write 2")
    d.ctl.stop_review()
    d.record("after_replace", layer_names(doc))
    steps = []
    for _ in range(2):
        undo.trigger()
        doc.waitForDone()
        yield 600
        res = result_layer(doc)
        steps.append({"layers": layer_names(doc), "result_is_first": res is not None and res.uniqueId() == first_uid,
                      "keys": keyframes(keys, 8)})
    d.record("replace_undo_steps", steps)
    for _ in range(2):
        d.app.action("edit_redo").trigger()
        doc.waitForDone()
        yield 600
    d.record("after_redo_redo", layer_names(doc))
    # keep both
    panel = dock.result_panel
    if panel.replace_check.isChecked():
        yield from d.click(panel.replace_check, "replace the previous result")
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "job 3")
    yield from d.click(panel.apply_button)
    yield Wait(d.idle(), 300, "write 3")
    d.record("keep_both", layer_names(doc))
    d.ctl.stop_review()
    yield from d.click(panel.replace_check, "replace the previous result")
    # take back with one click
    yield from d.click(panel.take_back_button)
    yield 500
    d.record("after_take_back", layer_names(doc))
    d.record("take_back_message", dock.message_label.text())


# ---------------------------------------------------------------- 4: documents

def documents(d: Any) -> Iterator:
    """#3: switching documents during a job, and closing the job's document."""
    dock = yield from show_docker(d)
    w, h = 480, 300
    other, other_view = yield from d.new_doc(w, h, 10, "other")
    paint = yield from d.add_layer(other, "paint")
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 40, {0: 80, 40: 400}, {}, "job-document", 40)
    yield from d.click(dock.generate_button)
    yield Wait(lambda: d.ctl.state == "running", 120, "the job to run")
    other_view.setVisible()  # the user goes to another document meanwhile
    yield Wait(d.idle(), 600, "the job")
    d.record("active_when_done", d.app.activeDocument().name())
    d.record("state", d.ctl.state)
    d.record("message", dock.message_label.text())
    d.record("doc_layers_before_apply", layer_names(doc))
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    d.ctl.stop_review()
    d.record("doc_layers", layer_names(doc))
    d.record("other_layers", layer_names(other))
    d.record("other_keyframes", keyframes(paint, 10))
    d.record("active_after_write", d.app.activeDocument().name())
    d.record("write_message", dock.message_label.text())
    res = result_layer(doc)
    d.record("result_keyframes", len(keyframes(res, 40)) if res else None)
    # the job's document is closed while the job runs
    view.setVisible()
    yield 500
    d.ctl.settings.keep_previous = True
    yield from d.click(dock.generate_button)
    yield Wait(lambda: d.ctl.state == "running", 120, "job 2 to run")
    doc.setModified(False)
    doc.close()
    yield Wait(d.idle(), 600, "job 2")
    d.record("closed_state", d.ctl.state)
    d.record("closed_result", d.ctl.latest().state if d.ctl.latest() else None)
    d.record("apply_enabled_after_close", dock.result_panel.apply_button.isEnabled())
    d.record("docs_open", [x.name() for x in d.app.documents()])
    yield from d.click(dock.result_panel.new_button)
    yield Wait(d.idle(), 300, "the write into a new document")
    new = d.app.activeDocument()
    d.record("new_doc", {"name": new.name(), "size": [new.width(), new.height()], "layers": layer_names(new)})
    d.record("new_message", dock.message_label.text())
    d.ctl.settings.keep_previous = False
    d.ctl.stop_review()


# ---------------------------------------------------------------- 5: timing and the docker

def timing_and_docker(d: Any) -> Iterator:
    """#8: the document's fps, exposure on 2s, timing per segment, options only where used,
    buttons that keep their place."""
    dock = yield from show_docker(d)
    w, h = 160, 96
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 16, {0: 20, 8: 80, 16: 140}, {}, "timing")
    doc.setFramesPerSecond(12)
    yield Wait(lambda: "12 fps" in dock.fps_label.text(), 30, "the fps in the docker")
    d.record("fps_label", dock.fps_label.text())
    d.record("seed_visible_for_flow", dock.seed_spin.isVisible())
    content = dock.widget().widget()
    y_before = dock.generate_button.mapTo(content, dock.generate_button.rect().topLeft()).y()
    dock.exposure_combo.setCurrentIndex(1)
    dock.exposure_combo.activated.emit(1)
    yield Wait(lambda: "On 2s" in dock.plan_label.text(), 30, "the plan on 2s")
    d.record("plan_on_2s", dock.plan_label.text())
    yield Wait(lambda: dock.segments_form.rowCount() == 2, 30, "per-segment timing rows")
    combo = dock.segments_form.itemAt(1, dock.segments_form.FieldRole).widget()
    combo.setCurrentIndex(combo.findData("ease-out"))
    combo.activated.emit(combo.currentIndex())
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "the job")
    dock.message_label.setText(dock.message_label.text() + " " + "a long message " * 20)
    yield 300
    y_after = dock.generate_button.mapTo(content, dock.generate_button.rect().topLeft()).y()
    d.record("button_moved_px", y_after - y_before)
    d.record("request", dict(d.ctl.last_request))
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    res = result_layer(doc)
    d.record("result_keyframes", keyframes(res, 16))
    d.ctl.stop_review()
    dock.exposure_combo.setCurrentIndex(0)
    dock.exposure_combo.activated.emit(0)
    yield 300


# ---------------------------------------------------------------- 6: 4096x4096

def big_canvas(d: Any) -> Iterator:
    """Responsiveness: the longest event-loop block in each phase of a 4096x4096 job."""
    dock = yield from show_docker(d)
    w = h = 4096
    doc, view = yield from d.new_doc(w, h, 3, "big")
    keys = yield from d.add_layer(doc, "keys")
    k0, k3 = disc(w, h, 1100, 2048, 600, ring=14), disc(w, h, 2900, 2048, 600, ring=14)
    yield from d.add_keyframes(doc, keys, {0: k0, 3: k3})
    doc.setActiveNode(keys)
    yield Wait(lambda: "Fills frames 1, 2" in dock.plan_label.text(), 120, "the plan")
    ctl = d.ctl
    ctl.step_log.clear()
    d.freeze.start(lambda: f"{ctl.state}: {ctl.activity}")
    yield 500
    yield from d.click(dock.generate_button)
    yield Wait(lambda: ctl.state == "running" and ctl.progress > 0.05, 300, "the job to run")
    dock.widget().ensureWidgetVisible(dock.result_panel.image)
    yield 3000
    yield from d.screenshot("krita-docker-during")
    yield Wait(d.idle(), 900, "the 4096 job")
    d.record("message_ready", dock.message_label.text())
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 600, "the 4096 write")
    yield 1500
    d.record("freeze", d.freeze.stop())
    d.record("freeze_gaps", d.freeze.big_gaps)
    steps: dict = {}
    for activity, ms in ctl.step_log:
        steps[activity] = max(ms, steps.get(activity, 0))
    d.record("plugin_steps_max_ms", steps)
    d.record("message_written", dock.message_label.text())
    res = result_layer(doc)
    d.record("result_keyframes", keyframes(res, 3) if res else None)
    d.record("keys_identical", [pixels(res, doc, 0) == k0, pixels(res, doc, 3) == k3] if res else None)
    d.ctl.stop_review()
    doc.setModified(False)
    doc.close()
    yield 1000


# ---------------------------------------------------------------- 7: the engine stops

def engine_stops(d: Any) -> Iterator:
    """#7: SIGTERM mid-job is the engine stopping (Retry), not a cancel; an idle engine dying."""
    from inbetween_krita import client_lib as cl

    dock = yield from show_docker(d)
    w, h = 480, 300
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 90, {0: 80, 90: 400}, {}, "engine-stops", 40)
    ctl = d.ctl
    yield from d.click(dock.generate_button)
    yield Wait(lambda: ctl.state == "running" and ctl.progress > 0.1, 300, "the job to be under way")
    d.record("progress_before", dock.progress_bar.value())
    info = cl.read_connection_file()
    os.kill(info.pid, signal.SIGTERM)
    yield Wait(lambda: ctl.state != "running", 120, "the job to end")
    yield 300
    d.record("message", dock.message_label.text())
    d.record("progress_after", dock.progress_bar.value())
    d.record("retry_enabled", dock.retry_button.isEnabled())
    d.record("engine_label", dock.engine_label.text())
    d.record("layers", layer_names(doc))
    yield from d.screenshot("krita-docker-engine-stopped")
    yield from d.click(dock.retry_button)
    yield Wait(d.idle(), 600, "the retried job")
    d.record("retry_message", dock.message_label.text())
    d.record("retry_state", ctl.state)
    yield Wait(lambda: ctl.connected, 60, "connected")
    # an idle engine dies: the docker says so by itself
    info = cl.read_connection_file()
    os.kill(info.pid, signal.SIGKILL)
    t0 = time.monotonic()
    yield Wait(lambda: "stopped" in dock.engine_label.text(), 30, "the docker to notice")
    d.record("noticed_after_s", round(time.monotonic() - t0, 2))
    d.record("engine_label_after_kill", dock.engine_label.text())


# ---------------------------------------------------------------- the zip alone

def zip_alone(d: Any) -> Iterator:
    """#6: no engine anywhere: the docker offers the set-up; one click installs and starts it."""
    dock = yield from show_docker(d)
    ctl = d.ctl
    yield Wait(lambda: dock.setup_button.isVisible() and not ctl.link.busy, 60, "the Set up button")
    d.record("engine_label_before", dock.engine_label.text())
    d.record("start_visible", dock.start_button.isVisible())
    w, h = 128, 96
    doc, view, keys, sketch = yield from draw_shot(d, w, h, 4, {0: 30, 4: 100}, {}, "zip-alone")
    yield Wait(lambda: "Fills frames 1-3" in dock.plan_label.text(), 30, "the plan")
    yield from d.screenshot("krita-docker-no-engine")
    yield from d.click(dock.setup_button)
    yield Wait(lambda: ctl.link.state == "setting-up", 30, "the set-up to start")
    stages = []
    t0 = time.monotonic()
    shot = False
    while ctl.link.state == "setting-up":
        if ctl.link.setup_progress and (not stages or stages[-1][1] != ctl.link.setup_progress[1]):
            stages.append((round(time.monotonic() - t0, 1), ctl.link.setup_progress[1],
                           round(ctl.link.setup_progress[0], 3)))
        if not shot and ctl.link.setup_progress and ctl.link.setup_progress[0] > 0.2:
            shot = True
            yield from d.screenshot("krita-docker-setup")
        if time.monotonic() - t0 > 1200:
            raise TimeoutError("the set-up took more than 20 minutes")
        yield 250
    d.record("setup_s", round(time.monotonic() - t0, 1))
    d.record("setup_stages", stages)
    d.record("setup_error", ctl.link.setup_error)
    yield Wait(lambda: ctl.connected or (not ctl.link.busy and ctl.link.state == "disconnected"), 300, "connect")
    d.record("engine_label_after", dock.engine_label.text())
    d.record("engine_process", ctl.link.engine_process.popen.args if ctl.link.engine_process else None)
    yield from d.click(dock.generate_button)
    yield Wait(d.idle(), 300, "the job")
    d.record("message", dock.message_label.text())
    d.app.action("inbetween_apply").trigger()
    yield Wait(d.idle(), 300, "the write")
    res = result_layer(doc)
    d.record("result_keyframes", keyframes(res, 4) if res else None)
    log("zip_alone done")
