"""Layers (visibility, which one the pen draws on, sketch opacity), onion-skin settings and
the palette of the shot's colours.

It edits the canvas's view settings directly: these are not part of the shot, not undoable.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QColorDialog, QGridLayout, QGroupBox,
                               QLabel, QPushButton, QRadioButton, QSlider, QSpinBox, QVBoxLayout, QWidget)
from PySide6.QtCore import Qt

from ..model.shot import LayerKind
from .canvas import CanvasWidget

LABELS = {LayerKind.SKETCH: "Sketch (rough in-betweens)", LayerKind.DRAWING: "Drawing / key",
          LayerKind.GENERATED: "Generated"}


def _swatch(btn: QPushButton, color: QColor) -> None:
    btn.setStyleSheet(f"background: {color.name()}; border: 1px solid #222; min-width: 22px;")


class LayersPanel(QWidget):
    changed = Signal()

    def __init__(self, canvas: CanvasWidget, palette: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        layers = QGroupBox("Layers")
        grid = QGridLayout(layers)
        grid.addWidget(QLabel("Show"), 0, 0)
        grid.addWidget(QLabel("Draw on"), 0, 1)
        self.active = QButtonGroup(self)
        self.show_boxes: dict[LayerKind, QCheckBox] = {}
        for row, kind in enumerate((LayerKind.SKETCH, LayerKind.DRAWING, LayerKind.GENERATED), start=1):
            box = QCheckBox()
            box.setChecked(canvas.visible[kind])
            box.toggled.connect(lambda on, k=kind: self._show(k, on))
            self.show_boxes[kind] = box
            grid.addWidget(box, row, 0)
            radio = QRadioButton(LABELS[kind])
            radio.setEnabled(kind is not LayerKind.GENERATED)
            radio.setChecked(kind is canvas.active_layer)
            radio.toggled.connect(lambda on, k=kind: on and self._activate(k))
            self.active.addButton(radio)
            grid.addWidget(radio, row, 1)
        self.sketch_opacity = QSlider(Qt.Orientation.Horizontal)
        self.sketch_opacity.setRange(5, 100)
        self.sketch_opacity.setValue(int(canvas.sketch_opacity * 100))
        self.sketch_opacity.valueChanged.connect(self._sketch_opacity)
        grid.addWidget(QLabel("Sketch opacity"), 4, 0, 1, 2)
        grid.addWidget(self.sketch_opacity, 5, 0, 1, 2)

        onion = QGroupBox("Onion skin")
        onion.setCheckable(True)
        onion.setChecked(canvas.onion.enabled)
        onion.toggled.connect(self._onion_enabled)
        self.onion_box = onion
        og = QGridLayout(onion)
        self.before = QSpinBox()
        self.before.setRange(0, 8)
        self.before.setValue(canvas.onion.before)
        self.after = QSpinBox()
        self.after.setRange(0, 8)
        self.after.setValue(canvas.onion.after)
        self.before_color = QPushButton()
        self.after_color = QPushButton()
        _swatch(self.before_color, canvas.onion.before_color)
        _swatch(self.after_color, canvas.onion.after_color)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(5, 100)
        self.opacity.setValue(int(canvas.onion.opacity * 100))
        self.keys_only = QCheckBox("Keys and breakdowns only")
        self.skip_empty = QCheckBox("Skip empty frames")
        self.skip_empty.setChecked(canvas.onion.skip_empty)
        self.skip_empty.setToolTip("Count only frames with something drawn or generated")
        og.addWidget(QLabel("Before"), 0, 0)
        og.addWidget(self.before, 0, 1)
        og.addWidget(self.before_color, 0, 2)
        og.addWidget(QLabel("After"), 1, 0)
        og.addWidget(self.after, 1, 1)
        og.addWidget(self.after_color, 1, 2)
        og.addWidget(QLabel("Opacity"), 2, 0)
        og.addWidget(self.opacity, 2, 1, 1, 2)
        og.addWidget(self.keys_only, 3, 0, 1, 3)
        og.addWidget(self.skip_empty, 4, 0, 1, 3)
        self.before.valueChanged.connect(self._onion)
        self.after.valueChanged.connect(self._onion)
        self.opacity.valueChanged.connect(self._onion)
        self.keys_only.toggled.connect(self._onion)
        self.skip_empty.toggled.connect(self._onion)
        self.before_color.clicked.connect(lambda: self._pick("before_color", self.before_color))
        self.after_color.clicked.connect(lambda: self._pick("after_color", self.after_color))

        lay = QVBoxLayout(self)
        lay.addWidget(layers)
        lay.addWidget(onion)
        if palette is not None:
            box = QGroupBox("Colours of the shot")
            QVBoxLayout(box).addWidget(palette)
            lay.addWidget(box)
        lay.addStretch(1)

    def _show(self, kind: LayerKind, on: bool) -> None:
        self.canvas.visible[kind] = on
        self.canvas.update()

    def _activate(self, kind: LayerKind) -> None:
        self.canvas.active_layer = kind
        self.changed.emit()

    def set_active(self, kind: LayerKind) -> None:
        for b in self.active.buttons():
            if b.text() == LABELS[kind]:
                b.setChecked(True)

    def _sketch_opacity(self, v: int) -> None:
        self.canvas.sketch_opacity = v / 100.0
        self.canvas.update()

    def _onion_enabled(self, on: bool) -> None:
        self.canvas.onion.enabled = on
        self.canvas.set_onion(self.canvas.onion)

    def _onion(self, *_: object) -> None:
        o = self.canvas.onion
        o.before, o.after = self.before.value(), self.after.value()
        o.opacity = self.opacity.value() / 100.0
        o.keys_only = self.keys_only.isChecked()
        o.skip_empty = self.skip_empty.isChecked()
        self.canvas.set_onion(o)

    def _pick(self, attr: str, btn: QPushButton) -> None:
        c = QColorDialog.getColor(getattr(self.canvas.onion, attr), self, "Onion skin colour")
        if c.isValid():
            setattr(self.canvas.onion, attr, c)
            _swatch(btn, c)
            self.canvas.set_onion(self.canvas.onion)
