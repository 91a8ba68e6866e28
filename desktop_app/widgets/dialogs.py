"""Small dialogs: new shot (size, fps, length) and export (folder, name, layers, frames, preview)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget)

from ..io.export import ExportOptions, preview_formats
from ..model.shot import LayerKind


@dataclass
class NewShotSpec:
    width: int = 512
    height: int = 320
    fps: float = 24.0
    frames: int = 12


class NewShotDialog(QDialog):
    def __init__(self, spec: NewShotSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New shot")
        self.w, self.h, self.n = QSpinBox(), QSpinBox(), QSpinBox()
        for box, value, hi in ((self.w, spec.width, 4096), (self.h, spec.height, 4096), (self.n, spec.frames, 1000)):
            box.setRange(1 if box is not self.n else 2, hi)
            box.setValue(value)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1, 240)
        self.fps.setValue(spec.fps)
        form = QFormLayout(self)
        form.addRow("Width", self.w)
        form.addRow("Height", self.h)
        form.addRow("Frames rate (fps)", self.fps)
        form.addRow("Frames", self.n)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def spec(self) -> NewShotSpec:
        return NewShotSpec(self.w.value(), self.h.value(), self.fps.value(), self.n.value())


class ExportDialog(QDialog):
    """Where and what to export; `options()` and `preview_path()` read the answers."""

    def __init__(self, folder: Path, name: str, has_selection: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export PNG sequence")
        self.folder = QLineEdit(str(folder))
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        self.name = QLineEdit(name)
        self.layers = {k: QCheckBox(k.value.capitalize()) for k in LayerKind}
        self.layers[LayerKind.DRAWING].setChecked(True)
        self.layers[LayerKind.GENERATED].setChecked(True)
        lrow = QHBoxLayout()
        for box in self.layers.values():
            lrow.addWidget(box)
        self.frames = QComboBox()
        self.frames.addItem("All frames", "all")
        if has_selection:
            self.frames.addItem("Selected frames", "selection")
        self.preview = QComboBox()
        self.preview.addItem("No animated preview", "")
        for suffix, text in preview_formats().items():
            self.preview.addItem(text, suffix)
        form = QFormLayout(self)
        form.addRow("Folder", row)
        form.addRow("Name", self.name)
        form.addRow("Layers", lrow)
        form.addRow("Frames", self.frames)
        form.addRow("Preview", self.preview)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text())
        if d:
            self.folder.setText(d)

    def options(self, selection: list[int]) -> ExportOptions:
        frames = selection if self.frames.currentData() == "selection" else None
        layers = tuple(k for k, box in self.layers.items() if box.isChecked())
        return ExportOptions(Path(self.folder.text()), self.name.text().strip() or "shot", frames, layers)

    def preview_path(self) -> Path | None:
        suffix = self.preview.currentData()
        return Path(self.folder.text()) / f"{self.name.text().strip() or 'shot'}{suffix}" if suffix else None
