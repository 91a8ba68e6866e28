"""Test driver run inside a real Krita: installed by harness.py as the plugin `inbetween_e2e_driver`.

It runs the scenarios named in the spec (scenarios.py, installed next to it) one after the
other. A scenario is a generator taking this `Driver`; it yields pauses in milliseconds (the
event loop runs meanwhile: Krita needs that) or `Wait`s, and records what it finds with
`d.record`. Everything is checked by pytest on the dumped report, so a failure shows up as data,
not as a hung Krita. Buttons are pressed with real X clicks (xdotool) and screenshots are taken
of the whole X screen (`import -window root`). A freeze monitor (a 10 ms Python timer) measures
how long Krita's event loop was blocked in each phase of a job.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

from krita import Extension, Krita  # type: ignore[import-not-found]

try:
    from PyQt6.QtCore import QElapsedTimer, QPoint, QTimer  # type: ignore[import-not-found]
    from PyQt6.QtGui import QCursor  # type: ignore[import-not-found]
    from PyQt6.QtWidgets import QDockWidget  # type: ignore[import-not-found]
except ImportError:
    from PyQt5.QtCore import QElapsedTimer, QPoint, QTimer  # type: ignore[import-not-found,no-redef]
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
    tmp.write_text(json.dumps(data, indent=2, default=str), "utf-8")
    os.replace(tmp, OUT / name)


class Wait:
    """Yielded by a scenario: resume when `pred()` is true; fail after `timeout_s`."""

    def __init__(self, pred: Callable[[], bool], timeout_s: float, what: str) -> None:
        self.pred, self.timeout_s, self.what = pred, timeout_s, what


class FreezeMonitor:
    """Gaps between the ticks of a 10 ms timer: how long the event loop was blocked."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.last = 0
        self.phase = "idle"
        self.gaps: dict[str, list[int]] = {}
        self.label: Callable[[], str] | None = None
        self.big_gaps: list[tuple[float, int, str]] = []  # (s since start, gap ms, phase at its end)

    def start(self, label: Callable[[], str]) -> None:
        self.label = label
        self.gaps = {}
        self.big_gaps = []
        self.clock.start()
        self.last = 0
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        gap = now - self.last - 10
        self.last = now
        phase = self.label() if self.label else "?"
        self.gaps.setdefault(phase, []).append(max(0, gap))
        if gap > 100:
            self.big_gaps.append((round(now / 1000, 2), gap, phase))

    def stop(self) -> dict[str, dict[str, float]]:
        self.timer.stop()
        out = {}
        for phase, gaps in self.gaps.items():
            gaps = sorted(gaps)
            out[phase] = {"ticks": len(gaps), "max_ms": gaps[-1], "p99_ms": gaps[int(0.99 * (len(gaps) - 1))],
                          "over_200ms": sum(1 for g in gaps if g > 200), "over_100ms": sum(1 for g in gaps if g > 100)}
        return out


class Driver:
    def __init__(self) -> None:
        self.app = Krita.instance()
        self.report: dict[str, Any] = {"scenarios": {}, "spec": SPEC}
        self.current: dict[str, Any] = {}
        self.freeze = FreezeMonitor()
        self._gen: Iterator | None = None
        self._wait: Wait | None = None
        self._wait_until = 0.0
        self._queue = list(SPEC["scenarios"])

    # ------------------------------------------------------------ helpers for scenarios

    @property
    def window(self) -> Any:
        return self.app.activeWindow()

    @property
    def ctl(self) -> Any:
        from inbetween_krita import controller

        return controller.instance()

    def dock(self) -> Any:
        for dock in self.window.qwindow().findChildren(QDockWidget):
            if dock.objectName() == "inbetween_docker" or dock.windowTitle() == "In-between":
                return dock
        raise RuntimeError("the In-between docker was not created")

    def record(self, key: str, value: Any) -> None:
        self.current[key] = value
        log(f"  {key} = {str(value)[:300]}")

    def new_doc(self, w: int, h: int, end: int, name: str) -> Iterator:
        doc = self.app.createDocument(w, h, name, "RGBA", "U8", "", 72.0)
        view = self.window.addView(doc)
        doc.setFullClipRangeStartTime(0)
        doc.setFullClipRangeEndTime(end)
        doc.setPlayBackRange(0, end)
        doc.waitForDone()
        yield 400
        return doc, view

    def add_layer(self, doc: Any, name: str, kind: str = "paintlayer", parent: Any = None,
                  above: Any = None) -> Iterator:
        node = doc.createNode(name, kind)
        (parent or doc.rootNode()).addChildNode(node, above)
        doc.waitForDone()
        yield 400  # Krita's layer models learn of the node through queued signals
        return doc.nodeByName(name) if parent is None else node

    def add_keyframes(self, doc: Any, node: Any, frames: dict[int, bytes]) -> Iterator:
        """Like an animator: activate the layer, add a blank frame at each time, paint it."""
        doc.setActiveNode(node)
        yield 400
        for i, (t, data) in enumerate(sorted(frames.items())):
            doc.setCurrentTime(t)
            self.app.action("add_blank_frame").trigger()
            doc.waitForDone()
            node.setPixelData(data, 0, 0, doc.width(), doc.height())
            doc.waitForDone()
            yield 400 if i == 0 else 60

    def click(self, widget: Any, what: str = "") -> Iterator:
        """A real mouse click (xdotool) in the middle of `widget`, made visible first."""
        scroll = self.dock().widget()
        if hasattr(scroll, "ensureWidgetVisible"):
            scroll.ensureWidgetVisible(widget)
        yield 150
        pos = widget.mapToGlobal(widget.rect().center())
        log(f"  click {what or widget.text()} at {pos.x()},{pos.y()}")
        proc = subprocess.Popen(["xdotool", "mousemove", "--sync", str(pos.x()), str(pos.y()), "click", "1"])
        yield Wait(lambda: proc.poll() is not None, 30, "xdotool")
        yield 250
        QCursor.setPos(QPoint(1599, 999))  # keep the brush outline off the canvas in screenshots

    def screenshot(self, name: str) -> Iterator:
        """The whole X screen, as the user sees it."""
        path = OUT / f"{name}.png"
        proc = subprocess.Popen(["import", "-window", "root", str(path)])
        yield Wait(lambda: proc.poll() is not None, 60, "import -window root")
        self.current.setdefault("screenshots", []).append(str(path) if path.exists() else None)

    def idle(self) -> Callable[[], bool]:
        ctl = self.ctl
        return lambda: ctl.state in ("done", "failed", "cancelled", "idle") and not ctl.busy

    # ------------------------------------------------------------ running

    def start(self) -> None:
        (OUT / "started").write_text(str(os.getpid()), "utf-8")
        log("window created")
        qwin = self.window.qwindow()
        qwin.setGeometry(0, 0, 1600, 1000)
        qwin.showMaximized()
        QTimer.singleShot(1500, self.next_scenario)

    def next_scenario(self) -> None:
        if not self._queue:
            self.finish()
            return
        name = self._queue.pop(0)
        from . import pose_scenarios, scenarios

        self.current = {"ok": False, "t0": round(time.monotonic() - T0, 2)}
        self.report["scenarios"][name] = self.current
        log(f"scenario {name}")
        module = scenarios if hasattr(scenarios, name) else pose_scenarios
        self._gen = getattr(module, name)(self)
        self._resume()

    def _resume(self) -> None:
        try:
            if self._wait is not None:
                if not self._wait.pred():
                    if time.monotonic() > self._wait_until:
                        raise TimeoutError(f"waited {self._wait.timeout_s} s for {self._wait.what}")
                    QTimer.singleShot(100, self._resume)
                    return
                self._wait = None
            step = next(self._gen)  # type: ignore[arg-type]
        except StopIteration:
            self.current["ok"] = "error" not in self.current
            self._end_scenario()
            return
        except Exception:  # noqa: BLE001 - reported to pytest
            self.current["error"] = traceback.format_exc()
            log("FAILED: " + self.current["error"])
            self._diagnose()
            self.freeze.timer.stop()
            self._end_scenario()
            return
        if isinstance(step, Wait):
            self._wait = step
            self._wait_until = time.monotonic() + step.timeout_s
            QTimer.singleShot(50, self._resume)
        else:
            QTimer.singleShot(int(step), self._resume)

    def _diagnose(self) -> None:
        """What the docker showed when a scenario failed, and a screenshot of it."""
        try:
            dock = self.dock()
            self.current["docker_at_failure"] = {
                "engine": dock.engine_label.text(), "plan": dock.plan_label.text(),
                "message": dock.message_label.text(), "state": self.ctl.state,
                "link": self.ctl.link.state, "keys_combo": dock.key_combo.currentText()}
            log(f"  docker at failure: {self.current['docker_at_failure']}")
            subprocess.run(["import", "-window", "root", str(OUT / f"failure-{len(LOG)}.png")], timeout=60)
        except Exception as exc:  # noqa: BLE001
            log(f"  (could not diagnose: {exc})")

    def _end_scenario(self) -> None:
        self.current["t1"] = round(time.monotonic() - T0, 2)
        self.current["seconds"] = round(self.current["t1"] - self.current["t0"], 1)
        write_json("progress.json", self.report)
        QTimer.singleShot(500, self.next_scenario)

    def finish(self) -> None:
        self.report["driver_s"] = round(time.monotonic() - T0, 3)
        for doc in self.app.documents():
            doc.setModified(False)
        write_json("report.json", self.report)
        log("report written")
        QTimer.singleShot(300, lambda: os._exit(0))


class DriverExtension(Extension):
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self.driver = Driver()

    def setup(self) -> None:
        Krita.instance().notifier().windowCreated.connect(self.driver.start)

    def createActions(self, window: Any) -> None:  # noqa: N802
        pass


Krita.instance().addExtension(DriverExtension(Krita.instance()))
