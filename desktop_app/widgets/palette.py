"""A small palette: the colours the shot's keys are painted with, plus colours picked with
the eyedropper. One click sets the pen colour, so in-between fixes match the keys exactly.

The shot's colours are the most common opaque colours of the key and breakdown drawings
(anti-aliased edge pixels are rare, so flat fills and line colours come first), merged when
they are near each other. Recomputed after edits, a moment later (not on every stroke).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ..model import images
from ..model.shot import ShotDocument

MAX_SHOT_COLOURS = 10
MAX_PICKED = 6
_NEAR = 24  # colours closer than this (max channel difference) are one palette entry


def shot_colours(doc: ShotDocument, limit: int = MAX_SHOT_COLOURS) -> list[QColor]:
    """The most used opaque colours of the anchors' drawings, most used first."""
    counts: dict[int, int] = {}
    for i in doc.anchors():
        img = doc.frames[i].drawing
        if images.is_blank(img):
            continue
        a = np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(-1, 4)
        opaque = a[a[:, 3] >= 250][:, :3].astype(np.int32)
        if not len(opaque):
            continue
        packed = (opaque[:, 0] << 16) | (opaque[:, 1] << 8) | opaque[:, 2]
        values, n = np.unique(packed, return_counts=True)
        for v, c in zip(values.tolist(), n.tolist()):
            counts[v] = counts.get(v, 0) + c
    out: list[tuple[int, int, int]] = []
    for v, _n in sorted(counts.items(), key=lambda kv: -kv[1]):
        rgb = ((v >> 16) & 255, (v >> 8) & 255, v & 255)
        if all(max(abs(x - y) for x, y in zip(rgb, o)) > _NEAR for o in out):
            out.append(rgb)
            if len(out) >= limit:
                break
    return [QColor(*rgb) for rgb in out]


class PaletteWidget(QWidget):
    colorChosen = Signal(QColor)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc: ShotDocument | None = None
        self.colours: list[QColor] = []
        self.picked: list[QColor] = []
        self._grid = QGridLayout()
        self._grid.setSpacing(3)
        self._hint = QLabel("Alt+click on the canvas picks a colour")
        self._hint.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._grid)
        lay.addWidget(self._hint)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(400)
        self._later.timeout.connect(self.refresh)

    def set_document(self, doc: ShotDocument) -> None:
        if self.doc is not None:
            try:
                self.doc.framesChanged.disconnect(self._later.start)
            except (RuntimeError, TypeError):
                pass
        self.doc = doc
        doc.framesChanged.connect(self._later.start)
        self.refresh()

    def add_picked(self, color: QColor) -> None:
        c = QColor(color)
        self.picked = [c] + [p for p in self.picked if p.rgb() != c.rgb()][:MAX_PICKED - 1]
        self._rebuild()

    def refresh(self) -> None:
        self.colours = shot_colours(self.doc) if self.doc is not None else []
        self._rebuild()

    def buttons(self) -> list[QToolButton]:
        return [self._grid.itemAt(i).widget() for i in range(self._grid.count())]

    def _rebuild(self) -> None:
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        seen = set()
        entries = []
        for c in self.colours + self.picked:
            if c.rgb() not in seen:
                seen.add(c.rgb())
                entries.append(c)
        for n, c in enumerate(entries):
            b = QToolButton()
            b.setFixedSize(QSize(22, 22))
            b.setStyleSheet(f"background: {c.name()}; border: 1px solid #111;")
            b.setToolTip(f"{c.name()} ({'picked' if n >= len(self.colours) else 'used in the keys'})"
                         " — click to draw with it")
            b.clicked.connect(lambda _=False, c=QColor(c): self.colorChosen.emit(c))
            self._grid.addWidget(b, n // 8, n % 8)
        self._hint.setVisible(not entries)
