"""The "In-between" docker: choices, the plan, Generate/Cancel/Retry, progress and the results.

The docker only shows and collects; the controller does the work. Everything sits in a
scroll area (the docker stays compact in a narrow column); the buttons keep their place
whatever the messages say (every text above a button has a fixed number of lines, the full
text in its tooltip); a timer keeps the engine state, the layer lists and "what Generate will
fill" current while the user draws. Top to bottom: engine, keys and plan, poses (pose_panel),
Generate/Cancel/Retry with progress and messages, the generation options, the results.
"""

from __future__ import annotations

from typing import Any

from krita import DockWidget  # type: ignore[import-not-found]

from . import controller as controller_mod
from . import krita_io, settings as settings_mod
from .compat import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
                     QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QScrollArea, QSpinBox, QTimer,
                     QToolButton, QVBoxLayout, QWidget, align_top, fixed_lines, narrow_combo, no_frame,
                     scroll_bar_off, word_wrap_label, wrap_long_rows)
from .job_runner import backend_options
from .pose_panel import PosePanel
from .result_panel import ResultPanel
from .results import AUTO, NONE

DOCKER_ID = "inbetween_docker"
CHOOSE_KEYS = "(choose the keys layer)"
AUTO_SKETCH = '(a layer named like "{hint}")'
NO_SKETCH = "(no sketches)"
SAME_TIMING = "(as above)"
REFRESH_MS = 800


class InbetweenDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("In-between")
        self.ctl = controller_mod.instance()
        self._layers_sig: tuple = ()
        self._segments_sig: tuple = ()
        self._doc_key: str | None = None
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(no_frame())
        scroll.setHorizontalScrollBarPolicy(scroll_bar_off())
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setAlignment(align_top())
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self._engine_box())
        outer.addWidget(self._keys_box())
        self.pose_panel = PosePanel(self.ctl, self._doc)
        outer.addWidget(self.pose_panel)
        outer.addLayout(self._action_rows())
        outer.addWidget(self._generate_box())
        self.result_panel = ResultPanel(self.ctl)
        outer.addWidget(self.result_panel)
        outer.addStretch(1)
        scroll.setWidget(root)
        self.setWidget(scroll)

        self.ctl.subscribe(self._on_controller)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh_document)
        self.timer.start(REFRESH_MS)
        self._on_controller(self.ctl)
        # show the engine's state from the start (in the background; never starts an engine)
        QTimer.singleShot(500, lambda: self.ctl.connect(start_if_needed=False))

    # ------------------------------------------------------------ building

    def _engine_box(self) -> QGroupBox:
        box = QGroupBox("Engine")
        lay = QVBoxLayout(box)
        self.engine_label = fixed_lines(word_wrap_label(), 3)
        lay.addWidget(self.engine_label)
        row = QGridLayout()
        self.start_button = QPushButton("Start engine")
        self.start_button.clicked.connect(lambda: self.ctl.connect(start_if_needed=True))
        self.setup_button = QPushButton("Set up engine")
        self.setup_button.setToolTip("Install the engine into a private Python environment of this plugin "
                                     "(downloads about 100 MB from PyPI), then start it")
        self.setup_button.clicked.connect(self.ctl.link.start_setup)
        self.app_button = QPushButton("Use app...")
        self.app_button.setToolTip("Use the engine of a downloaded In-between Studio (pick its folder)")
        self.app_button.clicked.connect(self._choose_app)
        self.more_button = QToolButton()
        self.more_button.setText("...")
        self.more_button.setCheckable(True)
        self.more_button.setToolTip("Engine command")
        row.addWidget(self.start_button, 0, 0)
        row.addWidget(self.setup_button, 0, 0)  # shown instead of Start engine when none is found
        row.addWidget(self.app_button, 0, 1)
        row.addWidget(self.more_button, 0, 2)
        row.setColumnStretch(0, 1)
        row.setColumnStretch(1, 1)
        lay.addLayout(row)
        self.command_row = QWidget()
        form = QFormLayout(self.command_row)
        wrap_long_rows(form)
        form.setContentsMargins(0, 0, 0, 0)
        self.command_edit = QLineEdit(self.ctl.settings.engine_command)
        self.command_edit.setPlaceholderText("found by itself; or e.g. /opt/inbetween-studio/inbetween-engine")
        self.command_edit.editingFinished.connect(self._save_settings)
        form.addRow("Command", self.command_edit)
        self.autostart = QCheckBox("start it when not running")
        self.autostart.setChecked(self.ctl.settings.start_engine)
        self.autostart.toggled.connect(self._save_settings)
        form.addRow("", self.autostart)
        self.command_row.setVisible(False)
        self.more_button.toggled.connect(self.command_row.setVisible)
        lay.addWidget(self.command_row)
        return box

    def _keys_box(self) -> QGroupBox:
        box = QGroupBox("Keys")
        form = QFormLayout(box)
        wrap_long_rows(form)
        row = QHBoxLayout()
        self.key_combo = narrow_combo()
        self.key_combo.activated.connect(self._keys_chosen)
        self.active_button = QPushButton("Active")
        self.active_button.setToolTip("Use the active layer as the keys layer")
        self.active_button.clicked.connect(self._use_active)
        row.addWidget(self.key_combo, 1)
        row.addWidget(self.active_button)
        form.addRow("Keys layer", row)
        self.sketch_combo = narrow_combo()
        self.sketch_combo.activated.connect(self._sketch_chosen)
        form.addRow("Sketches", self.sketch_combo)
        self.playback_check = QCheckBox("playback range")
        self.playback_check.setChecked(True)
        self.playback_check.toggled.connect(self._range_changed)
        form.addRow("Frames", self.playback_check)
        row = QHBoxLayout()
        self.start_spin = QSpinBox()
        self.end_spin = QSpinBox()
        for spin in (self.start_spin, self.end_spin):
            spin.setRange(0, 100000)
            spin.setEnabled(False)
            spin.valueChanged.connect(self._range_changed)
        row.addWidget(self.start_spin)
        row.addWidget(QLabel("to"))
        row.addWidget(self.end_spin)
        form.addRow("", row)
        self.plan_label = fixed_lines(word_wrap_label(), 6)
        self.plan_label.setStyleSheet("color: #9fd3ff")
        form.addRow(self.plan_label)
        return box

    def _generate_box(self) -> QGroupBox:
        box = QGroupBox("Generate")
        form = QFormLayout(box)
        wrap_long_rows(form)
        s = self.ctl.settings
        self.backend_combo = narrow_combo()
        self.backend_combo.activated.connect(self._save_settings)
        form.addRow("Backend", self.backend_combo)
        self.timing_combo = narrow_combo()
        self.timing_combo.addItems(list(settings_mod.TIMINGS))
        self.timing_combo.setCurrentText(s.timing)
        self.timing_combo.activated.connect(self._save_settings)
        form.addRow("Timing", self.timing_combo)
        self.segments_box = QWidget()
        self.segments_form = QFormLayout(self.segments_box)
        self.segments_form.setContentsMargins(12, 0, 0, 0)
        form.addRow(self.segments_box)
        self.exposure_combo = narrow_combo()
        for n in (1, 2, 3):
            self.exposure_combo.addItem(f"on {n}s", n)
        self.exposure_combo.setCurrentIndex(max(0, s.exposure - 1))
        self.exposure_combo.activated.connect(self._save_settings)
        self.fps_label = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.exposure_combo)
        row.addWidget(self.fps_label, 1)
        form.addRow("Exposure", row)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(s.seed)
        self.seed_spin.valueChanged.connect(self._save_settings)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(0, 1000)
        self.steps_spin.setSpecialValueText("default")
        self.steps_spin.setValue(s.steps)
        self.steps_spin.valueChanged.connect(self._save_settings)
        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, 100.0)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setSpecialValueText("default")
        self.guidance_spin.setValue(s.guidance)
        self.guidance_spin.valueChanged.connect(self._save_settings)
        self.preview_check = QCheckBox("Fast preview")
        self.preview_check.setToolTip("Posed frames in about the time the network alone takes, "
                                      "with softer part edges; untick for the final frames")
        self.preview_check.setChecked(s.preview)
        self.preview_check.toggled.connect(self._save_settings)
        self.option_rows: dict[str, tuple[QLabel, QWidget]] = {}
        for name, label, widget in (("seed", "Seed", self.seed_spin), ("steps", "Steps", self.steps_spin),
                                    ("guidance", "Guidance", self.guidance_spin),
                                    ("preview", "Speed", self.preview_check)):
            lab = QLabel(label)
            form.addRow(lab, widget)
            self.option_rows[name] = (lab, widget)
        return box

    def _action_rows(self) -> QVBoxLayout:
        lay = QVBoxLayout()
        row = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(lambda: self.ctl.generate(self._doc()))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Start the engine if it is not running and send the same frames again")
        self.retry_button.clicked.connect(lambda: self.ctl.retry())
        for b in (self.generate_button, self.cancel_button, self.retry_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        lay.addWidget(self.progress_bar)
        self.message_label = fixed_lines(word_wrap_label(), 5)
        lay.addWidget(self.message_label)
        return lay

    def _cancel(self) -> None:
        if self.ctl.link.state == "setting-up":
            self.ctl.link.cancel_setup()
        else:
            self.ctl.cancel()

    # ------------------------------------------------------------ Krita hooks

    def canvasChanged(self, canvas: Any) -> None:  # noqa: N802 - Krita's name
        self.refresh_document()

    def _doc(self) -> Any | None:
        return krita_io.active_document()

    # ------------------------------------------------------------ document

    def refresh_document(self) -> None:
        """Layer lists, range and plan of the active document (cheap: no pixels read here)."""
        try:
            self._refresh()
        except Exception as exc:  # noqa: BLE001 - a document being closed; shown, never raised into Qt
            self.plan_label.setText(f"({type(exc).__name__}: {exc})")

    def _refresh(self) -> None:
        doc = self._doc()
        self.pose_panel.refresh(doc if self.ctl.state != "writing" else None)
        if doc is None or self.ctl.state == "writing":
            if doc is None:
                self.plan_label.setText("Open a document with keys drawn as keyframes.")
            return
        key = krita_io.doc_key(doc)
        ch = self.ctl.choices.for_doc(doc)
        layers = krita_io.paint_layers(doc)
        sig = (key, tuple((str(n.uniqueId()), krita_io.layer_path(n)) for n in layers), ch.keys_uid, ch.sketch)
        if sig != self._layers_sig:
            self._layers_sig = sig
            self._fill_layers(doc, layers)
        if key != self._doc_key:
            self._doc_key = key
            self.playback_check.blockSignals(True)
            self.playback_check.setChecked(ch.frame_range is None)
            self.playback_check.blockSignals(False)
        lo, hi = self.ctl.choices.frame_range(doc)
        for spin, value in ((self.start_spin, lo), (self.end_spin, hi)):
            spin.setEnabled(ch.frame_range is not None)
            if spin.value() != value:
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self.fps_label.setText(f"{krita_io.fps(doc):g} fps (document)")
        try:
            plan = self.ctl.plan(doc)
        except krita_io.KritaIOError as exc:
            self.plan_label.setText(str(exc))
            self._fill_segments(doc, [])
            return
        self.plan_label.setText(plan.describe())
        self._fill_segments(doc, [(s.start, s.end) for s in plan.segments if s.drawn])

    def _fill_layers(self, doc: Any, layers: list[Any]) -> None:
        ch = self.ctl.choices.for_doc(doc)
        self.key_combo.clear()
        if ch.keys_uid is None or not any(str(n.uniqueId()) == ch.keys_uid for n in layers):
            self.key_combo.addItem(CHOOSE_KEYS, "")
        for n in layers:
            mark = " (result)" if self.ctl.choices.is_result(n) else ""
            self.key_combo.addItem(krita_io.layer_path(n) + mark, str(n.uniqueId()))
        index = self.key_combo.findData(ch.keys_uid or "")
        self.key_combo.setCurrentIndex(max(0, index))
        self.sketch_combo.clear()
        self.sketch_combo.addItem(AUTO_SKETCH.format(hint=self.ctl.settings.sketch_hint), AUTO)
        self.sketch_combo.addItem(NO_SKETCH, NONE)
        for n in layers:
            self.sketch_combo.addItem(krita_io.layer_path(n), str(n.uniqueId()))
        self.sketch_combo.setCurrentIndex(max(0, self.sketch_combo.findData(ch.sketch)))

    def _fill_segments(self, doc: Any, segments: list[tuple[int, int]]) -> None:
        ch = self.ctl.choices.for_doc(doc)
        sig = (krita_io.doc_key(doc), tuple(segments))
        if sig == self._segments_sig:
            return
        self._segments_sig = sig
        while self.segments_form.rowCount():
            self.segments_form.removeRow(0)
        self.segments_box.setVisible(len(segments) > 1)
        if len(segments) <= 1:
            return
        for a, b in segments:
            combo = narrow_combo()
            combo.addItem(SAME_TIMING, "")
            for t in settings_mod.TIMINGS:
                combo.addItem(t, t)
            combo.setCurrentIndex(max(0, combo.findData(ch.segment_timing.get(a, ""))))
            combo.activated.connect(lambda _i, a=a, combo=combo: self._segment_timing(a, combo.currentData()))
            self.segments_form.addRow(f"{a} to {b}", combo)

    def _segment_timing(self, start: int, curve: str) -> None:
        doc = self._doc()
        if doc is None:
            return
        ch = self.ctl.choices.for_doc(doc)
        if curve:
            ch.segment_timing[start] = curve
        else:
            ch.segment_timing.pop(start, None)
        self.ctl.choices.remember(doc)
        self.ctl.save_settings()

    def _keys_chosen(self, index: int) -> None:
        doc, uid = self._doc(), self.key_combo.itemData(index)
        if doc is None or not uid:
            return
        node = krita_io.node_by_id(doc, uid)
        try:
            text = self.ctl.choices.set_keys(doc, node) if node is not None else "That layer is gone."
        except krita_io.KritaIOError as exc:
            text = str(exc)
        self.ctl.save_settings()
        self.message_label.setText(text)
        self.refresh_document()

    def _use_active(self) -> None:
        doc = self._doc()
        if doc is None:
            return
        try:
            text = self.ctl.choices.use_active(doc)
        except krita_io.KritaIOError as exc:
            text = str(exc)
        self.ctl.save_settings()
        self.message_label.setText(text)
        self.refresh_document()

    def _sketch_chosen(self, index: int) -> None:
        doc = self._doc()
        if doc is not None:
            self.ctl.choices.set_sketch(doc, self.sketch_combo.itemData(index) or AUTO)
            self.refresh_document()

    def _range_changed(self, *_: Any) -> None:
        doc = self._doc()
        if doc is None:
            return
        ch = self.ctl.choices.for_doc(doc)
        if self.playback_check.isChecked():
            ch.frame_range = None
        else:
            ch.frame_range = (self.start_spin.value(), self.end_spin.value())
        self.refresh_document()

    # ------------------------------------------------------------ settings and engine

    def _save_settings(self, *_: Any) -> None:
        s = self.ctl.settings
        s.engine_command = self.command_edit.text().strip()
        s.start_engine = self.autostart.isChecked()
        if self.backend_combo.currentData():
            s.backend = self.backend_combo.currentData()
        s.timing = self.timing_combo.currentText()
        s.exposure = int(self.exposure_combo.currentData() or 1)
        s.seed = self.seed_spin.value()
        s.steps = self.steps_spin.value()
        s.guidance = float(self.guidance_spin.value())
        s.preview = self.preview_check.isChecked()
        self.ctl.save_settings()
        self._show_options()
        self.refresh_document()

    def _choose_app(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The In-between Studio folder (with inbetween-engine)")
        if folder:
            self.use_app(folder)

    def use_app(self, folder: str) -> bool:
        from . import engine_locator

        if engine_locator.bundle_engine(folder) is None:
            self.message_label.setText(f"There is no {engine_locator.EXE} in {folder}: pick the folder of the "
                                       "downloaded In-between Studio.")
            return False
        self.ctl.settings.app_bundle = folder
        self.ctl.save_settings()
        self.ctl.connect(start_if_needed=True)
        return True

    def _show_options(self) -> None:
        name = self.backend_combo.currentData() or self.ctl.settings.backend
        used = backend_options(name, self.ctl.link.backend_info(name))
        for option, (label, widget) in self.option_rows.items():
            label.setVisible(option in used)
            widget.setVisible(option in used)

    def _fill_backends(self) -> None:
        backends = self.ctl.backends()
        names = [str(b.get("name")) for b in backends]
        if names == [self.backend_combo.itemData(i) for i in range(self.backend_combo.count())]:
            return
        self.backend_combo.clear()
        for b in backends:
            name = str(b.get("name", "?"))
            label = name if b.get("available", True) else f"{name} (unavailable: {b.get('reason', '')})"
            self.backend_combo.addItem(label, name)
        index = self.backend_combo.findData(self.ctl.settings.backend)
        self.backend_combo.setCurrentIndex(max(0, index))

    def _on_controller(self, ctl: controller_mod.Controller) -> None:
        link = ctl.link
        connected = link.connected
        self.engine_label.setText(link.describe())
        setting_up = link.state == "setting-up"
        found = link.candidate() is not None
        self.start_button.setVisible(found or connected)
        self.start_button.setEnabled(not connected and not link.busy)
        self.setup_button.setVisible(not found and not connected)
        self.setup_button.setEnabled(not link.busy)
        self.app_button.setEnabled(not connected and not link.busy)
        if connected:
            self._fill_backends()
        elif self.backend_combo.count() == 0:
            self.backend_combo.addItem(ctl.settings.backend, ctl.settings.backend)
        self._show_options()
        busy = ctl.busy
        self.generate_button.setEnabled(not busy and not setting_up)
        self.cancel_button.setEnabled((busy and ctl.state != "writing") or setting_up)
        self.retry_button.setEnabled(ctl.can_retry and not setting_up)
        if setting_up and link.setup_progress:
            self.progress_bar.setValue(int(link.setup_progress[0] * 1000))
            self.message_label.setText(f"Setting up the engine: {link.setup_progress[1]}")
        else:
            self.progress_bar.setValue(int(ctl.progress * 1000))
            self.message_label.setText(ctl.message)
        self.result_panel.update_state()
        if ctl.state == "running":
            self.result_panel.show_previews(ctl.previews, ctl.current)
