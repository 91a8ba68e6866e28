"""The pose tools in a real window, driven with xdotool: run under an X server (Xvfb).

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.desktop_app.pose_session --out DIR

The window runs in this process; every user action goes through the X server as real key
presses and mouse motion from `xdotool` (run without blocking Qt's event loop), aimed at the
joints' places on the screen. Add Pose (Shift+J), Copy Pose to Next Key (Ctrl+J), the pose
tool (J), a joint dragged on a key, the ghost of an in-between dragged into a pose key, a joint
hidden with a right-click, undo (Ctrl+Z), Generate (G) with the engine, and the pose export.
Then the true key poses of a celanim clip (when ../shared is there) for the screenshots.
Writes DIR/result.json (every check) and screenshots; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO.parent / "shared" / "bench" / "celanim" / "clip_025"
R_WRIST, L_WRIST, R_KNEE = 4, 7, 9


class Session:
    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        from desktop_app import theme
        from desktop_app.main_window import MainWindow

        self.out = out
        self.app = QApplication([sys.argv[0]])
        theme.apply(self.app)
        self.win = MainWindow(autosave_ms=600_000)
        self.win.quiet = True
        self.win.ask_unsaved = lambda: "discard"
        self.win.resize(1500, 900)
        self.win.move(0, 0)
        self.win.show()
        self.checks: list[dict] = []
        self.pump(2.0)

    # -------------------------------------------------------------- plumbing

    def pump(self, seconds: float, until=lambda: False) -> bool:
        from PySide6.QtCore import QEventLoop

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            if until():
                return True
            time.sleep(0.01)
        return until()

    def xdo(self, *args: str) -> None:
        """xdotool, with Qt's event loop running meanwhile (the events come back through X)."""
        proc = subprocess.Popen(["xdotool", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while proc.poll() is None:
            self.pump(0.02)
        if proc.returncode != 0:
            raise RuntimeError(f"xdotool {' '.join(args)}: {proc.stderr.read().strip()}")
        self.pump(0.15)

    def key(self, *keys: str) -> None:
        self.xdo("windowfocus", "--sync", str(int(self.win.winId())))
        self.xdo("key", "--delay", "60", *keys)
        self.pump(0.3)

    def screen(self, x: float, y: float) -> tuple[int, int]:
        from PySide6.QtCore import QPointF

        p = self.win.canvas.mapToGlobal(self.win.canvas.to_widget(QPointF(x, y)).toPoint())
        return p.x(), p.y()

    def drag(self, frm: tuple[float, float], to: tuple[float, float], button: str = "1") -> None:
        (x0, y0), (x1, y1) = self.screen(*frm), self.screen(*to)
        self.xdo("mousemove", "--sync", str(x0), str(y0))
        self.xdo("mousedown", button)
        for k in range(1, 9):
            self.xdo("mousemove", "--sync", str(round(x0 + (x1 - x0) * k / 8)), str(round(y0 + (y1 - y0) * k / 8)))
        self.xdo("mouseup", button)
        self.pump(0.3)

    def check(self, name: str, ok: bool, detail: object = "") -> bool:
        self.checks.append({"check": name, "ok": bool(ok), "detail": str(detail)[:400]})
        print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""), flush=True)
        return bool(ok)

    def shot(self, name: str) -> Path:
        self.pump(0.8)
        path = self.out / name
        subprocess.run(["import", "-window", "root", "-crop", "1500x900+0+0", str(path)], check=True, timeout=60)
        return path

    # -------------------------------------------------------------- the session

    def open_shot(self) -> None:
        keys = [CLIP / "frame_0.png", CLIP / "frame_8.png"] if CLIP.is_dir() else \
            [REPO / "resources" / "sample" / "key_a.png", REPO / "resources" / "sample" / "key_b.png"]
        self.win.open_images(keys, gap=7)
        self.win.doc.undo_stack.setClean()
        self.pump(1.0)
        state = Path(os.environ["INBETWEEN_STATE_DIR"])
        self.win.link.start(connection_file=state / "engine.json", args=["--device", "cpu"])
        self.check("engine connected", self.pump(120, lambda: self.win.link.connected), self.win.link.state)
        self.pump(5, lambda: self.win.generate_panel.backend.currentText() != "")

    def tools(self) -> None:
        win, doc = self.win, lambda: self.win.doc
        self.key("shift+j")
        self.check("Shift+J adds a pose on the key", doc().frames[0].pose is not None)
        self.key("ctrl+j")
        self.check("Ctrl+J copies it to the next key and goes there",
                   win.cursor.current == 8 and doc().frames[8].pose is not None, win.cursor.current)
        self.key("j")
        self.check("J turns the pose tool on", win.canvas.input_handler is win.poses.overlay)
        before, n = doc().frames[8].pose, doc().undo_stack.index()
        wrist = before.point(R_WRIST)
        target = (wrist[0] + 40, max(5.0, wrist[1] - 50))
        self.drag(wrist, target)
        got = doc().frames[8].pose.point(R_WRIST)
        self.check("a real mouse drag moves the joint (one undo step)",
                   abs(got[0] - target[0]) < 2.5 and abs(got[1] - target[1]) < 2.5 and doc().undo_stack.index() == n + 1,
                   (got, target))
        self.check("only that joint moved", all(doc().frames[8].pose.point(j) == before.point(j)
                                                for j in range(18) if j != R_WRIST))
        self.key("comma", "comma", "comma", "comma")
        from desktop_app.model import pose_timing

        ghost = pose_timing.shown(doc(), 4)
        self.check("frame 5 shows the interpolated pose", win.cursor.current == 4 and ghost is not None
                   and ghost.kind == pose_timing.INTERPOLATED, win.cursor.current)
        hand = ghost.layer.point(L_WRIST)
        self.drag(hand, (hand[0] - 25, hand[1] - 30))
        self.check("dragging the ghost makes frame 5 a pose key", doc().frames[4].pose is not None,
                   win.statusBar().currentMessage())
        knee = doc().frames[4].pose.point(R_KNEE)
        self.drag(knee, knee, button="3")
        self.check("a right-click hides the joint", doc().frames[4].pose.is_hidden(R_KNEE))
        self.shot("session_hidden_joint.png")
        self.key("ctrl+z")
        self.check("Ctrl+Z shows it again", not doc().frames[4].pose.is_hidden(R_KNEE))

    def scene(self) -> None:
        """The true key poses of the clip (as an animator's import), for the screenshots."""
        win = self.win
        if CLIP.is_dir():
            from inbetween_client.poses import PoseTrack

            true = PoseTrack.read(CLIP / "poses.json")
            keys = PoseTrack(tuple(p for p in true.poses if p.t in (0.0, 0.5, 1.0)), true.size)
            path = self.out / "key_poses.json"
            keys.write(path)
            win.cursor.set_current(4)
            self.check("import puts the poses of t = 0, 0.5, 1 on frames 1, 5 and 9",
                       win.poses.import_file(path) == [0, 4, 8])
            win.poses.overlay.set_selected(R_WRIST)
        win.cursor.set_current(2)
        self.pump(0.5)
        self.shot("studio-poses.png")
        win.cursor.set_current(4)
        self.shot("studio-poses-key.png")

    def generate(self) -> None:
        win = self.win
        win.cursor.set_current(2)
        finished = []
        win.generator.finished.connect(finished.append)
        said: list[str] = []  # every status message, so a fast job cannot hide the first one
        win.statusBar().messageChanged.connect(said.append)
        self.key("g")
        self.pump(5, lambda: any("poses on frames 1, 5, 9" in m for m in said))
        self.check("G sends the segment with its poses",
                   any("poses on frames 1, 5, 9" in m for m in said), said)
        self.check("the job finishes", self.pump(300, lambda: bool(finished)) and finished[0],
                   win.generate_panel.status.text())
        self.check("the engine says it gave the in-betweens their poses",
                   "The engine gave 7 in-betweens a pose" in win.generate_panel.status.text(),
                   win.generate_panel.status.text())
        self.shot("session_generated.png")
        result = win.poses.export_to(self.out / "export", "walk")
        self.check("pose JSON and 9 pose images exported", result is not None and len(result.json_files) == 1
                   and len(result.image_files) == 9, result)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    s = Session(args.out)
    try:
        s.open_shot()
        s.tools()
        s.scene()
        s.generate()
    except Exception as exc:  # noqa: BLE001 - reported as a failed check, the window closes
        import traceback

        s.check("session ran to the end", False, "".join(traceback.format_exception(exc))[-1500:])
    finally:
        (args.out / "result.json").write_text(json.dumps(s.checks, indent=1))
        s.win.close()
        s.pump(2.0)
    return 0 if s.checks and all(c["ok"] for c in s.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
