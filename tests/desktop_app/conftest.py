"""Desktop app tests run offscreen; helpers to build small shots without files."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample"


def disc(w: int = 96, h: int = 64, x: int = 20, y: int = 32, r: int = 10, color=(220, 60, 60, 255)):
    """A QImage with a filled disc on transparency (the model's storage format)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QPainter

    from desktop_app.model import images

    img = images.blank(w, h)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(*color))
    p.drawEllipse(QPointF(x, y), r, r)
    p.end()
    return img


@pytest.fixture
def small_doc(qapp):
    """Keys at 0 and 6 (discs moving right), in-betweens between, 96x64 at 12 fps."""
    from desktop_app.model.shot import Frame, Role, ShotDocument

    frames = [Frame(role=Role.KEY, drawing=disc(x=20))] + [Frame() for _ in range(5)] + \
        [Frame(role=Role.KEY, drawing=disc(x=76))]
    return ShotDocument(96, 64, 12.0, frames)


@pytest.fixture
def window(qtbot, qapp):
    """A main window with no engine (tests that need one attach it)."""
    from desktop_app import theme
    from desktop_app.main_window import MainWindow

    theme.apply(qapp)
    win = MainWindow(autosave_ms=60_000)
    win.quiet = True
    win.ask_unsaved = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1200, 760)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.link.close()
