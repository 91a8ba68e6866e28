"""The docker's pose box: what is posed, Pose this frame, the interpolated skeleton, options.

Only shows and collects (pose_actions does the work). A fast timer keeps the bones of the
active pose layer on its joints while the animator drags them, and (when ticked) shows only the
current frame's pose layer, since Krita 5.1 vector layers cannot have keyframes.
"""

from __future__ import annotations

from typing import Any, Callable

from . import krita_io
from .compat import (QCheckBox, QGridLayout, QGroupBox, QPushButton, QTimer, QVBoxLayout, fixed_lines,
                     word_wrap_label)

TICK_MS = 250


class PosePanel(QGroupBox):
    def __init__(self, ctl: Any, doc: Callable[[], Any]) -> None:
        super().__init__("Poses")
        self.ctl = ctl
        self._doc = doc
        lay = QVBoxLayout(self)
        self.summary_label = fixed_lines(word_wrap_label(), 4)
        lay.addWidget(self.summary_label)
        grid = QGridLayout()
        self.pose_button = QPushButton("Pose this frame")
        self.pose_button.setToolTip("Add a pose layer for the current frame: the interpolated skeleton shown "
                                    "there, or a copy of the nearest posed frame, or a default skeleton")
        self.pose_button.clicked.connect(lambda: self._act(self.ctl.poses.pose_this_frame))
        self.fresh_button = QPushButton("New skeleton")
        self.fresh_button.setToolTip("Add a pose layer for the current frame with the default skeleton, "
                                     "fitted to the drawing of the keys layer")
        self.fresh_button.clicked.connect(lambda: self._act(lambda d: self.ctl.poses.pose_this_frame(d, fresh=True)))
        self.show_button = QPushButton("Show interpolated")
        self.show_button.setToolTip("Show the skeleton the engine gives the current frame (interpolated along "
                                    "the segment's timing, on arcs) as a ghosted vector layer")
        self.show_button.clicked.connect(lambda: self._act(self.ctl.poses.show_interpolated))
        self.hide_button = QPushButton("Hide it")
        self.hide_button.clicked.connect(lambda: self._act(self.ctl.poses.hide_interpolated))
        for i, b in enumerate((self.pose_button, self.fresh_button, self.show_button, self.hide_button)):
            grid.addWidget(b, i // 2, i % 2)
        lay.addLayout(grid)
        self.send_check = QCheckBox("send poses with Generate")
        self.send_check.setChecked(ctl.settings.send_poses)
        self.send_check.toggled.connect(self._options)
        self.follow_check = QCheckBox("show only this frame's pose")
        self.follow_check.setToolTip("Hide the pose layers of other frames (vector layers have no keyframes)")
        self.follow_check.setChecked(ctl.settings.poses_follow_frame)
        self.follow_check.toggled.connect(self._options)
        lay.addWidget(self.send_check)
        lay.addWidget(self.follow_check)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(TICK_MS)

    def _act(self, action: Callable[[Any], str]) -> None:
        doc = self._doc()
        if doc is None:
            self.ctl.say("Open a document first.")
            return
        if self.ctl.busy:
            self.ctl.say("Wait for the running job to finish first.")
            return
        try:
            text = action(doc)
        except krita_io.KritaIOError as exc:
            text = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into Qt
            text = f"Could not do that: {type(exc).__name__}: {exc}"
        self.ctl.say(text)
        self.refresh(doc)

    def _options(self) -> None:
        s = self.ctl.settings
        s.send_poses = self.send_check.isChecked()
        self.ctl.poses.set_follow_frame(self._doc(), self.follow_check.isChecked())
        self.ctl.save_settings()
        self.refresh(self._doc())

    def tick(self) -> None:
        try:
            self.ctl.poses.tick(self._doc())
        except Exception:  # noqa: BLE001 - a document being closed: next tick
            pass

    def refresh(self, doc: Any | None) -> None:
        busy = self.ctl.busy
        for b in (self.pose_button, self.fresh_button, self.show_button, self.hide_button):
            b.setEnabled(doc is not None and not busy)
        if doc is None:
            self.summary_label.setText("")
            return
        try:
            self.summary_label.setText(self.ctl.poses.summary(doc))
        except Exception as exc:  # noqa: BLE001
            self.summary_label.setText(f"({type(exc).__name__}: {exc})")
