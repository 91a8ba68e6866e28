"""The main window's toolbar: file and undo actions, tools, pen colour and size, stabiliser,
onion skin, playback and fps (the actions themselves are built in `main_window`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from .model import edits

if TYPE_CHECKING:
    from .main_window import MainWindow


def build_toolbar(win: "MainWindow") -> None:
    tb = win.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    for a in (win.a_new, win.a_open, win.a_save, win.a_export, None, win.a_undo, win.a_redo, None,
              win.a_pen, win.a_eraser, win.a_sketch):
        tb.addSeparator() if a is None else tb.addAction(a)
    win.color_button = QAction(win)
    win.color_button.setToolTip("Pen colour (C)")
    win.color_button.triggered.connect(win._pick_color)
    tb.addAction(win.color_button)
    win._update_color_icon()
    win.size_box = QSpinBox()
    win.size_box.setRange(1, 200)
    win.size_box.setValue(int(win.canvas.size))
    win.size_box.setPrefix("size ")
    win.size_box.setToolTip("Brush size ([ and ])")
    win.size_box.valueChanged.connect(lambda v: setattr(win.canvas, "size", float(v)))
    win.size_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    tb.addWidget(win.size_box)
    win.stabiliser_box = QSpinBox()
    win.stabiliser_box.setRange(0, 10)
    win.stabiliser_box.setPrefix("stabiliser ")
    win.stabiliser_box.setToolTip("Stroke stabiliser: 0 off; higher values smooth a shaky hand more")
    win.stabiliser_box.valueChanged.connect(lambda v: setattr(win.canvas, "stabiliser", int(v)))
    win.stabiliser_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    tb.addWidget(win.stabiliser_box)
    tb.addSeparator()
    tb.addAction(win.a_onion)
    tb.addSeparator()
    tb.addAction(win.a_play)
    win.fps_box = QDoubleSpinBox()
    win.fps_box.setRange(1, 240)
    win.fps_box.setSuffix(" fps")
    win.fps_box.setDecimals(0)
    win.fps_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    win.fps_box.editingFinished.connect(lambda: edits.set_fps(win.doc, win.fps_box.value()))
    tb.addWidget(win.fps_box)

