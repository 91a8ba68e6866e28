"""The generate panel: backend, timing of the current segment, exposure, seed, and the
generate / cancel / accept buttons with a progress bar. It only emits intents; the
`GenerateController` does the work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from .. import theme
from ..model.shot import TIMINGS


class GeneratePanel(QWidget):
    generateSegment = Signal()
    generateShot = Signal()
    cancelRequested = Signal()
    acceptRequested = Signal()
    retryRequested = Signal()  # "Restart engine and retry" after the engine died mid-job
    timingChosen = Signal(str)
    exposureChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = QComboBox()
        self.backend.setPlaceholderText("(engine not connected)")
        self.backend.setToolTip("flow: on the CPU, no GPU needed (follows sketches and poses); "
                                "tooncrafter: generative, needs its weights (and ideally a GPU); "
                                "animate_anyone: renders the poses, needs its weights")
        self.timing = QComboBox()
        self.timing.addItems(TIMINGS)
        self.timing.setToolTip("Spacing of the in-betweens of the segment under the playhead")
        self.exposure = QComboBox()
        for n in (1, 2, 3):
            self.exposure.addItem(f"on {n}s", n)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Same seed, same result (generative backends)")
        # shown for backends that advertise a `preview` option (flow: poses by skinning, fast)
        self.preview = QCheckBox("Fast preview")
        self.preview.setToolTip("Posed frames in about the time the network alone takes, with "
                                "softer part edges; untick for the final frames (each part "
                                "carried whole by its bone)")
        self._options: dict[str, set[str]] = {}  # backend name -> the options it advertises
        form = QFormLayout()
        form.addRow("Backend", self.backend)
        form.addRow("", self.preview)
        form.addRow("Timing", self.timing)
        form.addRow("Exposure", self.exposure)
        form.addRow("Seed", self.seed)

        self.btn_segment = QPushButton(theme.icon("fa5s.magic"), "Segment")
        self.btn_segment.setToolTip("Generate the segment under the playhead (G)")
        self.btn_shot = QPushButton(theme.icon("fa5s.film"), "Whole shot")
        self.btn_shot.setToolTip("Generate every segment (Shift+G)")
        self.btn_cancel = QPushButton(theme.icon("fa5s.stop"), "Cancel")
        self.btn_cancel.setEnabled(False)
        self.btn_accept = QPushButton(theme.icon("fa5s.check"), "Accept")
        self.btn_accept.setToolTip("Turn the selected generated frames into drawings (Ctrl+Enter)")
        # shown only after the engine died under a job: one click restarts it and resubmits
        self.btn_retry = QPushButton(theme.icon("fa5s.redo"), "Restart engine and retry")
        self.btn_retry.setToolTip("Start the engine again and resubmit the job that was lost")
        self.btn_retry.setVisible(False)
        row1 = QHBoxLayout()
        row1.addWidget(self.btn_segment)
        row1.addWidget(self.btn_shot)
        row2 = QHBoxLayout()
        row2.addWidget(self.btn_cancel)
        row2.addWidget(self.btn_accept)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        # whether the chosen backend uses the shot's poses (shown only when the shot has poses)
        self.pose_note = QLabel("")
        self.pose_note.setWordWrap(True)
        self.pose_note.setStyleSheet("color: #c8b070;")
        self.pose_note.setVisible(False)
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.pose_note)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.btn_retry)
        lay.addStretch(1)

        self.btn_segment.clicked.connect(self.generateSegment)
        self.btn_shot.clicked.connect(self.generateShot)
        self.btn_cancel.clicked.connect(self.cancelRequested)
        self.btn_accept.clicked.connect(self.acceptRequested)
        self.btn_retry.clicked.connect(self.retryRequested)
        self.timing.activated.connect(lambda _: self.timingChosen.emit(self.timing.currentText()))
        self.exposure.activated.connect(lambda _: self.exposureChosen.emit(int(self.exposure.currentData())))
        self.backend.currentTextChanged.connect(lambda _: self._show_options())
        self._show_options()

    def set_backends(self, backends: list[dict]) -> None:
        """Fill the backend list; unavailable ones stay listed, disabled, with the reason."""
        current = self.backend.currentText()
        self.backend.clear()
        model = self.backend.model()
        self._options = {b["name"]: {str(o) for o in b.get("options") or ()} for b in backends}
        for b in backends:
            self.backend.addItem(b["name"])
            item = model.item(self.backend.count() - 1)
            tip = b.get("description", "")
            if not b.get("available", False):
                item.setEnabled(False)
                tip = f"Unavailable: {b.get('reason', '')}"
            item.setToolTip(tip)
        names = [b["name"] for b in backends if b.get("available")]
        if current in names:
            self.backend.setCurrentText(current)
        elif names:
            self.backend.setCurrentText(names[0])
        self._show_options()

    def _show_options(self) -> None:
        self.preview.setVisible("preview" in self._options.get(self.backend.currentText(), ()))

    def options(self) -> dict:
        """The chosen backend's own options as the panel sets them (the seed is separate)."""
        return {"preview": True} if self.preview.isVisibleTo(self) and self.preview.isChecked() else {}

    def set_pose_note(self, text: str) -> None:
        self.pose_note.setText(text)
        self.pose_note.setVisible(bool(text))

    def set_running(self, running: bool) -> None:
        """Running: the bar stays busy (indeterminate) until the engine reports progress."""
        self.btn_cancel.setEnabled(running)
        self.btn_segment.setEnabled(not running)
        self.btn_shot.setEnabled(not running)
        if running:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)

    def set_busy(self, text: str) -> None:
        """Busy at once, before a large shot is uploaded: the animator sees it was taken."""
        self.set_running(True)
        self.btn_cancel.setEnabled(False)
        self.status.setText(text)
        self.progress.repaint()
        self.status.repaint()

    @property
    def busy(self) -> bool:
        return self.progress.maximum() == 0

    def offer_retry(self, on: bool) -> None:
        self.btn_retry.setVisible(on)
        self.btn_retry.setEnabled(on)

    def set_progress(self, fraction: float, text: str) -> None:
        if fraction > 0 and self.progress.maximum() == 0:
            self.progress.setRange(0, 1000)  # the first real progress ends the busy state
        self.progress.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self.status.setText(text)

    def show_segment(self, timing: str | None, exposure: int) -> None:
        self.timing.setEnabled(timing is not None)
        if timing is not None:
            self.timing.setCurrentText(timing)
        self.exposure.setCurrentIndex(max(0, self.exposure.findData(exposure)))
