"""A scripted animator for the kill tests: runs the real desktop app (offscreen), opens or
creates a project, draws strokes with the canvas, saves after a random number of strokes
(one in SAVE_EVERY on average, so some kills land after an autosave newer than the last
save) and lets the autosave timer run, until it is killed. Stroke number i goes to a known place (see
`stroke_spot`), so the parent can count from the files which strokes a saved version holds
and tell a consistent version from a mix of two.

Usage: python -m tests.reliability.app_driver PROJECT LOG AUTOSAVE_MS SEED [--finish]

Every line of LOG is `<time> <event> <n>` written after the event happened: `ready n` (the
project, or the autosave the app offered, was opened with n strokes), `stroke n`, `saved n`,
`autosaved n`. With --finish the driver opens, saves and closes cleanly, then exits.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

W, H, FRAMES = 256, 192, 8
SAVE_EVERY = 20
_COLS, _ROWS = (W - 8) // 6, (H - 8) // 8
MAX_STROKES = FRAMES * _COLS * _ROWS


def stroke_spot(i: int) -> tuple[int, int, int]:
    """(frame, x, y) of stroke i: frame i % FRAMES, then left to right, top to bottom."""
    f, j = i % FRAMES, i // FRAMES
    return f, 4 + 6 * (j % _COLS), 4 + 8 * (j // _COLS)


def count_strokes(doc) -> tuple[int, bool]:
    """(strokes, consistent): consistent if every frame holds exactly the strokes of one
    version (a prefix per frame, and frame counts that fit one total)."""
    import numpy as np

    from desktop_app.model import images

    counts = []
    for f in range(FRAMES):
        img = doc.frames[f].drawing if f < len(doc) else None
        if img is None:
            counts.append(0)
            continue
        a = np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(H, W, 4)[:, :, 3]
        marks = [a[4 + 8 * (j // _COLS) + 2, 4 + 6 * (j % _COLS)] > 0 for j in range(_COLS * _ROWS)]
        n = sum(marks)
        if any(marks[n:]) or not all(marks[:n]):
            return n, False
        counts.append(n)
    total = sum(counts)
    expected = [(total - f + FRAMES - 1) // FRAMES for f in range(FRAMES)]
    return total, counts == expected and len(doc) == FRAMES


class _Log:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, event: str, n: int) -> None:
        os.write(self.fd, f"{time.time():.4f} {event} {n}\n".encode())


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    project_path, log_path, autosave_ms, seed = Path(argv[0]), argv[1], int(argv[2]), int(argv[3])
    finish = "--finish" in argv
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from desktop_app.main_window import MainWindow
    from desktop_app.model import edits
    from desktop_app.model.shot import ShotDocument

    app = QApplication.instance() or QApplication(["app_driver"])
    log = _Log(log_path)
    rng = random.Random(seed)
    win = MainWindow(autosave_ms=autosave_ms)
    win.quiet = True
    win.ask_unsaved = lambda: "discard"
    win.ask_recover = lambda found: max(found, key=lambda r: r.saved_at)  # the animator says yes
    if project_path.exists():
        if not win.open_path(project_path):
            return 3
    else:
        win.set_document(ShotDocument(W, H, 24.0, edits.new_shot_frames(FRAMES)), None)
        if not win.save_to(project_path):
            return 4
    n, consistent = count_strokes(win.doc)
    if not consistent:
        return 5
    log("ready", n)
    win.autosaver.saved.connect(lambda _p: log("autosaved", count_strokes(win.doc)[0]))
    win.canvas.size = 2.0
    win.set_pen_color(QColor(20, 20, 20))
    if finish:
        ok = win.save()
        win.close()
        app.processEvents()
        return 0 if ok else 6
    while n < MAX_STROKES:
        f, x, y = stroke_spot(n)
        win.cursor.set_current(f)
        win.canvas.draw_line([(x, y), (x, y + 4)])
        n += 1
        log("stroke", n)
        if rng.random() < 1.0 / SAVE_EVERY:
            if not win.save():
                return 7
            log("saved", n)
        deadline = time.monotonic() + rng.uniform(0.0, 0.02)
        while True:  # let timers (autosave) run between strokes, as an animator's pauses do
            app.processEvents()
            if time.monotonic() >= deadline:
                break
            time.sleep(0.002)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
