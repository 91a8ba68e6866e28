"""Test body run inside a real Krita: installed by test_krita_e2e.py as the plugin `inbetween_e2e_driver`.

It builds a document (keys at frames 0 and 4 on the layer "keys", a rough sketch at frame 2 on
"sketch rough"), triggers the In-between plugin's generate action, waits for the controller to
finish, dumps what it finds (the generated layer's keyframes, the source keys, as raw BGRA files)
plus a report JSON, grabs a screenshot of the main window, and exits. All checks are done by
pytest on the dumped files, so a failure here shows up as data, not as a hung Krita.
Its only input is the JSON file named by INBETWEEN_E2E_SPEC.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from krita import Extension, Krita  # type: ignore[import-not-found]

try:
    from PyQt6.QtCore import QTimer  # type: ignore[import-not-found]
    from PyQt6.QtGui import QCursor  # type: ignore[import-not-found]
    from PyQt6.QtWidgets import QDockWidget  # type: ignore[import-not-found]
except ImportError:
    from PyQt5.QtCore import QTimer  # type: ignore[import-not-found,no-redef]
    from PyQt5.QtGui import QCursor  # type: ignore[import-not-found,no-redef]
    from PyQt5.QtWidgets import QDockWidget  # type: ignore[import-not-found,no-redef]

SPEC = json.loads(Path(os.environ["INBETWEEN_E2E_SPEC"]).read_text("utf-8"))
OUT = Path(SPEC["out_dir"])
T0 = time.monotonic()
LOG: list[str] = []


def log(msg: str) -> None:
    LOG.append(f"{time.monotonic() - T0:7.2f} {msg}")
    (OUT / "driver.log").write_text("\n".join(LOG) + "\n", "utf-8")


def write_json(name: str, data: dict) -> None:
    tmp = OUT / f".{name}.tmp"
    tmp.write_text(json.dumps(data, indent=2), "utf-8")
    os.replace(tmp, OUT / name)


def disc_bgra(w: int, h: int, cx: float, cy: float, r: float, fill: tuple, ring: float) -> bytes:
    """A filled disc with a dark outline (BGRA), or just the outline when fill is None."""
    buf = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            d = ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) ** 0.5
            i = (y * w + x) * 4
            if r - ring <= d <= r:
                buf[i:i + 4] = bytes((20, 20, 20, 255))
            elif d < r - ring and fill is not None:
                b, g, rr = fill
                buf[i:i + 4] = bytes((b, g, rr, 255))
    return bytes(buf)


class Driver:
    def __init__(self) -> None:
        self.app = Krita.instance()
        self.doc = None
        self.deadline = 0.0
        self.report: dict = {"ok": False, "steps": []}

    def step(self, name: str, delay_ms: int, fn) -> None:
        def run() -> None:
            try:
                log(f"step {name}")
                self.report["steps"].append(name)
                fn()
            except Exception:  # noqa: BLE001 - reported to pytest
                self.fail(traceback.format_exc())
        QTimer.singleShot(delay_ms, run)

    def fail(self, message: str) -> None:
        log("FAILED: " + message)
        self.report["error"] = message
        self.finish()

    def start(self) -> None:
        (OUT / "started").write_text(str(os.getpid()), "utf-8")
        log("window created")
        self.step("make_document", 300, self.make_document)

    def run_steps(self, name: str, steps, then) -> None:
        """Advance a generator that yields pauses (ms) for Krita's event loop, then call `then`."""
        try:
            pause = next(steps)
        except StopIteration:
            self.step(then.__name__, 300, then)
            return
        self.step(name, pause, lambda: self.run_steps(name, steps, then))

    def add_keyframes(self, node, frames: dict):
        """Like the plugin: activate, let Krita catch up, then add_blank_frame + setPixelData."""
        doc = self.doc
        doc.setActiveNode(node)
        yield 300
        for i, (t, data) in enumerate(sorted(frames.items())):
            doc.setCurrentTime(t)
            self.app.action("add_blank_frame").trigger()
            doc.waitForDone()
            node.setPixelData(data, 0, 0, doc.width(), doc.height())
            doc.waitForDone()
            yield 300 if i == 0 else 50

    def make_document(self) -> None:
        w, h = SPEC["width"], SPEC["height"]
        doc = self.app.createDocument(w, h, "e2e", "RGBA", "U8", "", 72.0)
        self.doc = doc
        self.app.activeWindow().addView(doc)
        doc.setFullClipRangeStartTime(0)
        doc.setFullClipRangeEndTime(SPEC["end"])
        doc.setPlayBackRange(0, SPEC["end"])
        doc.waitForDone()
        self.step("make_layers", 300, self.make_layers)

    def make_layers(self) -> None:
        doc = self.doc
        root = doc.rootNode()
        keys = doc.createNode("keys", "paintlayer")
        root.addChildNode(keys, None)
        sketch = doc.createNode("sketch rough", "paintlayer")
        root.addChildNode(sketch, keys)
        doc.waitForDone()
        # Krita's layer models learn about new nodes through queued signals: touching the new
        # nodes in the same event-loop turn trips an assert in the animation curves docker
        self.step("draw_keys", 300, self.draw_keys)

    def draw_keys(self) -> None:
        w, h = SPEC["width"], SPEC["height"]
        doc = self.doc
        keys, sketch = doc.nodeByName("keys"), doc.nodeByName("sketch rough")
        key_frames = {int(t): disc_bgra(w, h, cx, cy, SPEC["radius"], (40, 60, 220), 3)
                      for t, (cx, cy) in SPEC["keys"].items()}
        sketch_frames = {int(t): disc_bgra(w, h, cx, cy, SPEC["radius"], None, 2)
                         for t, (cx, cy) in SPEC["sketches"].items()}

        def steps():
            yield from self.add_keyframes(keys, key_frames)
            yield from self.add_keyframes(sketch, sketch_frames)
            doc.setCurrentTime(0)
            doc.setActiveNode(keys)
            yield 300

        self.run_steps("draw", steps(), self.check_document)

    def check_document(self) -> None:
        doc = self.doc
        keys, sketch = doc.nodeByName("keys"), doc.nodeByName("sketch rough")
        self.report["source_keyframes"] = [t for t in range(SPEC["end"] + 1) if keys.hasKeyframeAtTime(t)]
        self.report["sketch_keyframes"] = [t for t in range(SPEC["end"] + 1) if sketch.hasKeyframeAtTime(t)]
        self.step("generate", 300, self.generate)

    def generate(self) -> None:
        action = self.app.action("inbetween_generate")
        if action is None:
            raise RuntimeError("the plugin's action inbetween_generate does not exist: plugin not loaded")
        self.report["active_layer"] = self.doc.activeNode().name()
        self.t_generate = time.monotonic()
        action.trigger()
        self.deadline = time.monotonic() + SPEC["job_timeout_s"]
        self.step("wait", 200, self.wait)

    def wait(self) -> None:
        from inbetween_krita import controller

        ctl = controller.instance()
        if ctl.state in ("done", "failed", "cancelled", "disconnected") and not ctl.busy \
                and not ctl.connecting:
            self.report["controller"] = {"state": ctl.state, "message": ctl.message,
                                         "result_layer": ctl.result_layer,
                                         "vendored_client": __import__(
                                             "inbetween_krita.client_lib", fromlist=["x"]).VENDORED}
            self.report["generate_s"] = round(time.monotonic() - self.t_generate, 3)
            self.step("collect", 100, self.collect)
        elif time.monotonic() > self.deadline:
            raise RuntimeError(f"the job did not finish in time: {ctl.state}: {ctl.message}")
        else:
            self.step("wait", 200, self.wait)

    def collect(self) -> None:
        doc = self.doc
        w, h = doc.width(), doc.height()
        names = [n.name() for n in doc.topLevelNodes()]
        self.report["layers"] = names
        name = self.report["controller"]["result_layer"]
        keys = doc.nodeByName("keys")
        if name:
            layer = doc.nodeByName(name)
            self.report["result_keyframes"] = [t for t in range(SPEC["end"] + 1) if layer.hasKeyframeAtTime(t)]
            for t in self.report["result_keyframes"]:
                (OUT / f"result_{t}.bgra").write_bytes(bytes(layer.pixelDataAtTime(0, 0, w, h, t)))
            above = names.index(name) == names.index("keys") + 1 if "keys" in names else None
            self.report["result_directly_above_keys"] = above
        for t in self.report["source_keyframes"]:
            (OUT / f"key_{t}.bgra").write_bytes(bytes(keys.pixelDataAtTime(0, 0, w, h, t)))
        sketch = doc.nodeByName("sketch rough")
        for t in SPEC["sketches"]:
            (OUT / f"sketch_{t}.bgra").write_bytes(bytes(sketch.pixelDataAtTime(0, 0, w, h, int(t))))
        # for the screenshot: show frame 2 of the generated layer alone, with the docker open
        keys.setVisible(False)
        sketch.setVisible(False)  # under Xvfb its canvas tiles were sometimes drawn stale
        doc.setCurrentTime(SPEC["screenshot_frame"])
        doc.refreshProjection()
        window = self.app.activeWindow().qwindow()
        for dock in window.findChildren(QDockWidget):
            if dock.objectName() == "inbetween_docker" or dock.windowTitle() == "In-between":
                dock.setVisible(True)
                self.report["docker_found"] = True
                self.report["docker_message"] = dock.message_label.text()
                self.report["docker_progress"] = dock.progress_bar.value() / dock.progress_bar.maximum()
            elif dock.windowTitle() == "Animation Timeline":
                dock.setVisible(True)
        # keep the brush outline (drawn around the pointer) off the canvas
        QCursor.setPos(window.mapToGlobal(window.rect().bottomRight()))
        self.step("screenshot", 1500, self.screenshot)

    def screenshot(self) -> None:
        window = self.app.activeWindow().qwindow()
        path = str(OUT / "screenshot.png")
        self.report["screenshot"] = path if window.grab().save(path) else None
        self.report["ok"] = "error" not in self.report
        if SPEC.get("probe_undo") and self.report["controller"]["result_layer"]:
            self.report["undo_probe"] = []
            self.step("undo", 300, self.undo)
        else:
            self.finish()

    def undo(self) -> None:
        """Diagnostics only (INBETWEEN_KRITA_E2E_PROBE_UNDO=1): what one Edit > Undo takes back."""
        self.app.action("edit_undo").trigger()
        self.doc.waitForDone()
        layer = self.doc.nodeByName(self.report["controller"]["result_layer"])
        state = None if layer is None else [t for t in range(SPEC["end"] + 1) if layer.hasKeyframeAtTime(t)]
        self.report["undo_probe"].append(state)
        if len(self.report["undo_probe"]) < 7 and state:
            self.step("undo", 300, self.undo)
        else:
            self.finish()

    def finish(self) -> None:
        self.report["driver_s"] = round(time.monotonic() - T0, 3)
        write_json("report.json", self.report)
        log("report written")
        if self.doc is not None:
            self.doc.setModified(False)
        QTimer.singleShot(200, lambda: os._exit(0))


class DriverExtension(Extension):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.driver = Driver()

    def setup(self) -> None:
        Krita.instance().notifier().windowCreated.connect(self.driver.start)

    def createActions(self, window) -> None:  # noqa: N802
        pass


Krita.instance().addExtension(DriverExtension(Krita.instance()))
