"""The Pose panel: the pose tools as buttons (the same actions as the Pose menu), the view
options of the pose layer, and a line about the pose of the current frame.

It only shows and emits; `pose_tools.PoseTools` does the work.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget


def _button(action: QAction) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return b


class PosePanel(QWidget):
    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout()
        grid.setSpacing(3)
        layout = [("tool", "add"), ("copy_next", "remove"), ("mirror", "swap"), ("hide", "keep_lengths"),
                  ("import", "export")]
        for row, names in enumerate(layout):
            for col, name in enumerate(names):
                grid.addWidget(_button(actions[name]), row, col)
        self.show_box = QCheckBox("Show poses")
        self.show_box.setChecked(True)
        self.ghost_box = QCheckBox("Interpolated poses on in-betweens")
        self.ghost_box.setChecked(True)
        self.ghost_box.setToolTip("The pose the engine gives each in-between, drawn as a ghost over the onion skin")
        self.joint = QLabel("No joint selected")
        self.joint.setStyleSheet("color: #a0a0a8;")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(self.show_box)
        lay.addWidget(self.ghost_box)
        lay.addWidget(self.joint)
        lay.addWidget(self.status)
        lay.addStretch(1)
