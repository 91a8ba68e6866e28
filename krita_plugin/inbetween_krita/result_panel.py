"""The docker's result panel: preview the frames, then write them (Apply) or drop them (Discard).

Like krita-ai-diffusion's history: a result waits here, playable at the document's frame rate
(holds shown as held), until the user writes it into its document, into another one when
its own was closed, or discards it. A written result can be reviewed alone (keys and
sketch layers hidden, restored afterwards) and taken back with one click.
"""

from __future__ import annotations

from typing import Any

from .compat import (QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPixmap, QPushButton, QSlider,
                     QTimer, QVBoxLayout, align_center, fixed_lines, horizontal, narrow_combo, word_wrap_label)
from .preview_image import PREVIEW_SIZE
from .results import Result


class ResultPanel(QGroupBox):
    def __init__(self, ctl: Any) -> None:
        super().__init__("Result")
        self.ctl = ctl
        self.result: Result | None = None
        self._pix_cache: dict[int, Any] = {}
        lay = QVBoxLayout(self)
        self.history_combo = narrow_combo()
        self.history_combo.setToolTip("Results made in this session, newest first")
        self.history_combo.currentIndexChanged.connect(self._pick)
        lay.addWidget(self.history_combo)
        self.image = QLabel()
        self.image.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.image.setAlignment(align_center())
        self.image.setStyleSheet("background: #2b2b2b; border: 1px solid #555")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.image)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(horizontal())
        self.slider.valueChanged.connect(self._show_frame)
        self.frame_label = QLabel("")
        self.frame_label.setMinimumWidth(60)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        lay.addLayout(row)
        lay.addWidget(self.frame_label)
        self.info = fixed_lines(word_wrap_label(""), 3)
        lay.addWidget(self.info)
        grid = QGridLayout()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Write the frames as keyframes of a new layer above the keys "
                                     "(one undo step)")
        self.apply_button.clicked.connect(lambda: self.ctl.apply(self.result))
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(lambda: self.ctl.discard(self.result))
        self.active_button = QPushButton("To active doc")
        self.active_button.setToolTip("Write this result into the active document (same canvas size)")
        self.active_button.clicked.connect(lambda: self.ctl.apply(self.result, into="active"))
        self.new_button = QPushButton("To new doc")
        self.new_button.setToolTip("Write this result into a new document of its size")
        self.new_button.clicked.connect(lambda: self.ctl.apply(self.result, into="new"))
        self.review_button = QPushButton("Show alone")
        self.review_button.setCheckable(True)
        self.review_button.setToolTip("Hide the keys and sketch layers while you scrub the result; "
                                      "they come back when you press it again")
        self.review_button.toggled.connect(self._review)
        self.take_back_button = QPushButton("Remove layer")
        self.take_back_button.setToolTip("Remove the written layer (one undo step); the result stays here")
        self.take_back_button.clicked.connect(lambda: self.ctl.take_back(self.result))
        for i, b in enumerate((self.apply_button, self.discard_button, self.active_button, self.new_button,
                               self.review_button, self.take_back_button)):
            grid.addWidget(b, i // 2, i % 2)
        lay.addLayout(grid)
        self.replace_check = QCheckBox("replace the previous result")
        self.replace_check.setToolTip("A new result of the same keys replaces the layer of the previous one")
        self.replace_check.setChecked(not ctl.settings.keep_previous)
        self.replace_check.toggled.connect(self._options)
        self.auto_check = QCheckBox("write results when ready")
        self.auto_check.setChecked(ctl.settings.write_when_done)
        self.auto_check.toggled.connect(self._options)
        self.alone_check = QCheckBox("show a written result alone")
        self.alone_check.setToolTip("Hide the keys and sketch layers after writing (press Show alone to restore)")
        self.alone_check.setChecked(ctl.settings.review_alone)
        self.alone_check.toggled.connect(self._options)
        for c in (self.replace_check, self.auto_check, self.alone_check):
            lay.addWidget(c)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._step)

    # ------------------------------------------------------------ options

    def _options(self) -> None:
        s = self.ctl.settings
        s.keep_previous = not self.replace_check.isChecked()
        s.write_when_done = self.auto_check.isChecked()
        s.review_alone = self.alone_check.isChecked()
        self.ctl.save_settings()

    def _review(self, on: bool) -> None:
        if on and self.result is not None and self.result.state == "written":
            names = self.ctl.start_review(self.result)
            self.info.setText(f"Reviewing alone; hidden until you press the button again: {names or 'nothing'}.")
        elif not on:
            self.ctl.stop_review()

    # ------------------------------------------------------------ playback

    def _play(self, on: bool) -> None:
        if on and self.result is not None:
            fps = max(1.0, self.result.target.fps)
            self.timer.start(int(1000 / fps))
            self.play_button.setText("Stop")
        else:
            self.timer.stop()
            self.play_button.setText("Play")

    def _step(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.slider.setValue(self.slider.minimum())
        else:
            self.slider.setValue(self.slider.value() + 1)

    def _pixmap(self, t: int) -> Any:
        if t not in self._pix_cache and self.result is not None:
            img = self.result.thumbs.get(t)
            self._pix_cache[t] = QPixmap.fromImage(img) if img is not None else None
        return self._pix_cache.get(t)

    def _show_frame(self, t: int) -> None:
        r = self.result
        if r is None:
            return
        shown = r.shown_at(t)
        pix = self._pixmap(shown) if shown is not None else None
        if pix is not None:
            self.image.setPixmap(pix)
        else:
            self.image.clear()
        kind = "key" if t in r.target.plan.keys else ("hold" if t in r.holds else "in-between")
        self.frame_label.setText(f"frame {t} ({kind})")

    def show_previews(self, previews: dict[int, Any], target: Any = None) -> None:
        """While a job runs: the newest in-between that came in (the keys until then)."""
        if not previews:
            return
        keys = set(target.plan.keys) if target is not None else set()
        arrived = [t for t in previews if t not in keys]
        t = max(arrived) if arrived else max(previews)
        self.image.setPixmap(QPixmap.fromImage(previews[t]))
        self.frame_label.setText(f"frame {t} (arriving)" if arrived else f"frame {t} (key)")
        if target is not None:
            n = len(target.plan.fill)
            self.info.setText(f"Generating '{target.keys_name}' {target.span[0]}-{target.span[1]}: "
                              f"{len(arrived)} of {n} in-betweens have arrived.")

    # ------------------------------------------------------------ following the controller

    def _pick(self, index: int) -> None:
        rid = self.history_combo.itemData(index)
        self.set_result(self.ctl.history.get(rid) if rid is not None else None)

    def set_result(self, result: Result | None) -> None:
        if result is not self.result:
            self.play_button.setChecked(False)
            self._pix_cache = {}
            self.result = result
            if result is not None and result.frames:
                a, b = result.target.span
                self.slider.blockSignals(True)
                self.slider.setRange(a, b)
                self.slider.setValue(a)
                self.slider.blockSignals(False)
                self._show_frame(a)
        self.update_state()

    def update_state(self) -> None:
        ctl = self.ctl
        items = ctl.history.items
        ids = [self.history_combo.itemData(i) for i in range(self.history_combo.count())]
        if ids != [r.id for r in items]:
            self.history_combo.blockSignals(True)
            self.history_combo.clear()
            for r in items:
                self.history_combo.addItem(r.title, r.id)
            self.history_combo.blockSignals(False)
            if items and (self.result is None or self.result not in items or items[0].state == "ready"):
                self.history_combo.setCurrentIndex(0)
                self.set_result(items[0])
                return
            if not items:
                self.set_result(None)
                return
        r = self.result
        if r is not None and r in items:
            self.history_combo.blockSignals(True)
            self.history_combo.setCurrentIndex(items.index(r))
            self.history_combo.blockSignals(False)
        has = r is not None and bool(r.frames)
        own_open = has and ctl.result_document_open(r)
        idle = not ctl.busy
        self.apply_button.setEnabled(has and idle and own_open and r.state == "ready")
        self.discard_button.setEnabled(has and idle)
        self.active_button.setEnabled(has and idle)
        self.new_button.setEnabled(has and idle)
        self.review_button.setEnabled(has and r.state == "written")
        self.take_back_button.setEnabled(has and idle and r.state == "written")
        self.play_button.setEnabled(has)
        self.slider.setEnabled(has)
        self.review_button.blockSignals(True)
        self.review_button.setChecked(ctl.review.active)
        self.review_button.setText("Show all layers" if ctl.review.active else "Show alone")
        self.review_button.blockSignals(False)
        if ctl.state == "running":
            return  # show_previews tells what arrives
        if r is None:
            self.info.setText("Results appear here: preview them, then Apply or Discard.")
        else:
            where = "its document is open" if own_open else "its document was closed"
            state = {"ready": "waiting to be written", "writing": "being written",
                     "written": f"written as '{r.layer_name}'"}.get(r.state, r.state)
            earlier = " (kept from an earlier session)" if r.recovered else ""
            self.info.setText(f"{r.title}{earlier}: {len(r.inbetweens)} in-betweens ({r.params_text}), {state}; "
                              f"{where}.")
