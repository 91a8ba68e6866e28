"""The "In-between" docker: choices, Generate/Cancel, progress and the engine's state.

The docker only shows and collects; the controller does the work. It reads the document's
layers when the canvas changes or on Refresh, and hands the controller a `Selection` when the
user (or the "generate" action) asks for in-betweens.
"""

from __future__ import annotations

from typing import Any

from krita import DockWidget  # type: ignore[import-not-found]

from . import controller as controller_mod
from . import krita_io, settings as settings_mod
from .compat import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLineEdit,
                     QProgressBar, QPushButton, QSpinBox, QTimer, QVBoxLayout, QWidget, align_top,
                     word_wrap_label)

DOCKER_ID = "inbetween_docker"
ACTIVE_LAYER = "(active layer)"
AUTO_SKETCH = '(a layer named like "{hint}")'
NO_SKETCH = "(no sketches)"


class InbetweenDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("In-between")
        self.ctl = controller_mod.instance()
        root = QWidget(self)
        outer = QVBoxLayout(root)
        outer.setAlignment(align_top())

        self.engine_label = word_wrap_label()
        outer.addWidget(self.engine_label)
        row = QHBoxLayout()
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(lambda: self.ctl.connect(start_if_needed=False))
        self.start_button = QPushButton("Start engine")
        self.start_button.clicked.connect(self._start_engine)
        row.addWidget(self.connect_button)
        row.addWidget(self.start_button)
        outer.addLayout(row)

        form = QFormLayout()
        self.command_edit = QLineEdit(self.ctl.settings.engine_command)
        self.command_edit.setPlaceholderText("/path/to/python -m engine   or   inbetween-engine")
        self.command_edit.editingFinished.connect(self._save_settings)
        form.addRow("Engine command", self.command_edit)
        self.autostart = QCheckBox("start it when not running")
        self.autostart.setChecked(self.ctl.settings.start_engine)
        self.autostart.toggled.connect(self._save_settings)
        form.addRow("", self.autostart)
        self.backend_combo = QComboBox()
        self.backend_combo.currentIndexChanged.connect(self._save_settings)
        form.addRow("Backend", self.backend_combo)
        self.timing_combo = QComboBox()
        self.timing_combo.addItems(list(settings_mod.TIMINGS))
        self.timing_combo.setCurrentText(self.ctl.settings.timing)
        self.timing_combo.currentIndexChanged.connect(self._save_settings)
        form.addRow("Timing", self.timing_combo)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(self.ctl.settings.seed)
        self.seed_spin.valueChanged.connect(self._save_settings)
        form.addRow("Seed", self.seed_spin)
        self.key_combo = QComboBox()
        form.addRow("Keys layer", self.key_combo)
        self.sketch_combo = QComboBox()
        form.addRow("Sketch layer", self.sketch_combo)
        range_row = QHBoxLayout()
        self.playback_check = QCheckBox("playback range")
        self.playback_check.setChecked(True)
        self.playback_check.toggled.connect(self._range_mode_changed)
        range_row.addWidget(self.playback_check)
        self.start_spin = QSpinBox()
        self.end_spin = QSpinBox()
        for spin in (self.start_spin, self.end_spin):
            spin.setRange(0, 100000)
            spin.setEnabled(False)
            range_row.addWidget(spin)
        form.addRow("Frames", range_row)
        outer.addLayout(form)

        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh layers")
        self.refresh_button.clicked.connect(self.refresh_document)
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(lambda: self.ctl.generate())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.ctl.cancel)
        row.addWidget(self.refresh_button)
        row.addWidget(self.generate_button)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)
        # shown only after the engine died under a job: reconnect/start it and resubmit
        self.retry_button = QPushButton("Retry (restart engine)")
        self.retry_button.setToolTip("Reconnect to the engine, starting it from the engine command "
                                     "if it is not running, and resubmit the job that was lost")
        self.retry_button.clicked.connect(lambda: self.ctl.retry())
        self.retry_button.setVisible(False)
        outer.addWidget(self.retry_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        outer.addWidget(self.progress_bar)
        self.message_label = word_wrap_label()
        outer.addWidget(self.message_label)
        self.undo_label = word_wrap_label(
            "" if krita_io.UNDO_IS_ONE_STEP else f"Undo: {krita_io.UNDO_NOTE}")
        self.undo_label.setStyleSheet("color: gray")
        outer.addWidget(self.undo_label)
        self.setWidget(root)

        self.ctl.choices_provider = self.choices
        self.ctl.subscribe(self._on_controller)
        self._on_controller(self.ctl)
        # show the engine's state from the start (in the background; never starts an engine)
        QTimer.singleShot(1000, lambda: self.ctl.connect(start_if_needed=False))

    # ------------------------------------------------------------ Krita hooks

    def canvasChanged(self, canvas: Any) -> None:  # noqa: N802 - Krita's name
        self.refresh_document()

    # ------------------------------------------------------------ document

    def _doc(self) -> Any | None:
        return krita_io.active_document()

    def refresh_document(self) -> None:
        """Fill the layer combos; the automatic choices stay first and are resolved at Generate."""
        doc = self._doc()
        names = [n.name() for n in krita_io.paint_layers(doc)] if doc is not None else []
        auto_sketch = AUTO_SKETCH.format(hint=self.ctl.settings.sketch_hint)
        for combo, fixed in ((self.key_combo, [ACTIVE_LAYER]),
                             (self.sketch_combo, [auto_sketch, NO_SKETCH])):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(fixed + names)
            if current in fixed + names:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if self.playback_check.isChecked():
            self._show_playback_range()

    def _range_mode_changed(self, playback: bool) -> None:
        for spin in (self.start_spin, self.end_spin):
            spin.setEnabled(not playback)
        if playback:
            self._show_playback_range()

    def _show_playback_range(self) -> None:
        doc = self._doc()
        if doc is not None:
            start, end = krita_io.playback_range(doc)
            self.start_spin.setValue(start)
            self.end_spin.setValue(end)

    def choices(self) -> controller_mod.Choices:
        """What the user picked; automatic entries are resolved by the controller at Generate."""
        key = self.key_combo.currentText()
        sketch = self.sketch_combo.currentText()
        if sketch == NO_SKETCH:
            sketch_choice = controller_mod.NONE
        elif sketch.startswith("(a layer named like") or not sketch:
            sketch_choice = controller_mod.AUTO
        else:
            sketch_choice = sketch
        frame_range = None if self.playback_check.isChecked() else (self.start_spin.value(),
                                                                    self.end_spin.value())
        return controller_mod.Choices(
            key_layer=controller_mod.AUTO if key in (ACTIVE_LAYER, "") else key,
            sketch_layer=sketch_choice, frame_range=frame_range)

    # ------------------------------------------------------------ settings and engine

    def _save_settings(self) -> None:
        s = self.ctl.settings
        s.engine_command = self.command_edit.text().strip()
        s.start_engine = self.autostart.isChecked()
        if self.backend_combo.currentText():
            s.backend = self.backend_combo.currentData() or self.backend_combo.currentText()
        s.timing = self.timing_combo.currentText()
        s.seed = self.seed_spin.value()
        try:
            settings_mod.save(s)
        except OSError as exc:
            self.message_label.setText(f"could not save the settings: {exc}")

    def _start_engine(self) -> None:
        self._save_settings()
        if not self.ctl.settings.engine_command:
            self.message_label.setText("Enter the command that starts the engine first.")
            return
        self.ctl.connect(start_if_needed=True)

    def _fill_backends(self) -> None:
        backends = self.ctl.backends()
        current = self.ctl.settings.backend
        self.backend_combo.blockSignals(True)
        self.backend_combo.clear()
        for b in backends:
            name = str(b.get("name", "?"))
            label = name if b.get("available", True) else f"{name} (unavailable: {b.get('reason', '')})"
            self.backend_combo.addItem(label, name)
        index = self.backend_combo.findData(current)
        if index >= 0:
            self.backend_combo.setCurrentIndex(index)
        self.backend_combo.blockSignals(False)

    def _on_controller(self, ctl: controller_mod.Controller) -> None:
        connected = ctl.connected
        self.engine_label.setText(("Engine: connected. " if connected else "Engine: not connected. ")
                                  + (ctl.message if ctl.state in ("disconnected", "connecting") else ""))
        if ctl.state in ("done", "failed", "cancelled"):
            self.refresh_document()
        if connected and self.backend_combo.count() == 0:
            self._fill_backends()
        elif not connected:
            self.backend_combo.clear()
        self.connect_button.setEnabled(not connected and ctl.state != "connecting")
        self.start_button.setEnabled(not connected and ctl.state != "connecting")
        self.generate_button.setEnabled(not ctl.busy)
        self.cancel_button.setEnabled(ctl.busy)
        self.retry_button.setVisible(ctl.retry_selection is not None)
        self.retry_button.setEnabled(ctl.can_retry)
        self.progress_bar.setValue(int(ctl.progress * 1000))
        self.message_label.setText(ctl.message)
