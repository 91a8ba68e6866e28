"""The dark theme animators expect from their tools (Krita, Toon Boom, TVPaint are dark).

Fusion style with a dark palette; a short stylesheet only for what the palette cannot say.
Role colours live here too so the timeline, canvas and docs agree on them.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BG = QColor(43, 43, 46)
BASE = QColor(32, 32, 35)
PANEL = QColor(53, 53, 57)
TEXT = QColor(220, 220, 224)
DIM = QColor(140, 140, 148)
ACCENT = QColor(232, 152, 52)  # keys, playhead accents

KEY = QColor(232, 152, 52)
BREAKDOWN = QColor(78, 178, 170)
INBETWEEN = QColor(70, 70, 76)
HOLD = QColor(50, 50, 54)
GENERATED = QColor(90, 140, 235)
SKETCH = QColor(60, 110, 225)  # blue pencil: distinct from both onion tints (tests/desktop_app)
PLAYHEAD = QColor(240, 80, 70)
POSE = QColor(245, 200, 60)  # frames with a pose of their own (timeline mark)
ONION_BEFORE = QColor(225, 50, 50)  # light-table convention: before red, after green
ONION_AFTER = QColor(30, 160, 60)


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    p.setColor(QPalette.ColorRole.Window, BG)
    p.setColor(QPalette.ColorRole.WindowText, TEXT)
    p.setColor(QPalette.ColorRole.Base, BASE)
    p.setColor(QPalette.ColorRole.AlternateBase, PANEL)
    p.setColor(QPalette.ColorRole.ToolTipBase, PANEL)
    p.setColor(QPalette.ColorRole.ToolTipText, TEXT)
    p.setColor(QPalette.ColorRole.Text, TEXT)
    p.setColor(QPalette.ColorRole.Button, PANEL)
    p.setColor(QPalette.ColorRole.ButtonText, TEXT)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.ColorRole.Highlight, ACCENT.darker(115))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(20, 20, 20))
    p.setColor(QPalette.ColorRole.Link, ACCENT)
    p.setColor(QPalette.ColorRole.PlaceholderText, DIM)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, DIM.darker(130))
    app.setPalette(p)
    app.setStyleSheet(
        "QToolBar { border: none; spacing: 3px; padding: 2px; }"
        "QDockWidget::title { padding: 4px; background: #35353a; }"
        "QStatusBar { background: #242427; color: #b8b8c0; }"
        "QGroupBox { border: 1px solid #4a4a50; border-radius: 4px; margin-top: 10px; padding-top: 6px; }"
        "QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; color: #c8c8d0; }"
        "QProgressBar { border: 1px solid #4a4a50; border-radius: 3px; text-align: center; height: 14px; }"
        "QProgressBar::chunk { background: #5a8ceb; }"
    )


def icon(name: str, color: QColor | None = None):
    """A qtawesome icon in the theme's text colour (falls back to no icon if unavailable)."""
    from PySide6.QtGui import QIcon

    try:
        import qtawesome as qta

        return qta.icon(name, color=(color or TEXT).name())
    except Exception:  # noqa: BLE001 - icons are decoration; never fail the app for one
        return QIcon()
