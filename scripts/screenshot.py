"""Render the inbetween-studio main window with the sample shot to a PNG, for reviewers.

    python scripts/screenshot.py [--out PATH] [--no-engine]

Works offscreen (QT_QPA_PLATFORM=offscreen, the default when there is no DISPLAY) or under
Xvfb (`xvfb-run -a python scripts/screenshot.py`). It opens resources/sample (two keys with
seven in-betweens, the sample sketch on the middle frame), starts a private engine, generates
the segment with the flow backend, and grabs the window with the playhead on the sketched,
generated middle frame (light-table onion skin on: the keys' lines in red and green; the sketch
in blue pencil), so the picture shows keys, a sketch, generated frames, the palette of the
shot's colours and the engine state.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "screenshots" / "inbetween-studio.png")
    ap.add_argument("--no-engine", action="store_true", help="skip generation (shows keys and sketch only)")
    ap.add_argument("--size", default="1500x900")
    args = ap.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("INBETWEEN_STATE_DIR", tempfile.mkdtemp(prefix="studio-shot-"))

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from desktop_app import theme
    from desktop_app.main_window import MainWindow
    from desktop_app.model import edits, images
    from desktop_app.model.shot import LayerKind

    app = QApplication([sys.argv[0]])
    theme.apply(app)
    win = MainWindow(autosave_ms=600_000)
    win.quiet = True
    w, h = (int(v) for v in args.size.split("x"))
    win.resize(w, h)
    win.show()
    sample = REPO / "resources" / "sample"
    win.open_images([sample / "key_a.png", sample / "key_b.png"], gap=7)
    edits.set_layer_image(win.doc, 4, LayerKind.SKETCH, images.load_image(str(sample / "sketch_mid.png")))
    win.doc.undo_stack.setClean()

    def pump(seconds: float, until=lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    if not args.no_engine:
        win.link.start(connection_file=Path(os.environ["INBETWEEN_STATE_DIR"]) / "engine.json",
                       args=["--device", "cpu"])
        pump(90, lambda: win.link.connected or "unavailable" in win.link.state)
        if win.link.connected:
            pump(5, lambda: win.generate_panel.backend.currentText() != "")
            win.cursor.set_current(4)
            if win.generator.generate_segment():
                pump(120, lambda: not win.generator.running)
            win.link.refresh_status()
            pump(1.0)
        else:
            print("engine unavailable:", win.link.state, file=sys.stderr)
    win.cursor.set_current(4)
    pump(0.8)  # the palette refreshes a moment after the shot changes
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not win.grab().save(str(args.out)):
        print(f"could not write {args.out}", file=sys.stderr)
        return 1
    print(args.out)
    win.ask_unsaved = lambda: "discard"
    win.autosaver.discard()
    win.link.close(stop_engine=True)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
