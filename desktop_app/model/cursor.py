"""Which frame is current and which are selected: shared by timeline, canvas and playback.

Kept out of the document because it is view state: it is not saved and not undoable.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .shot import ShotDocument


class Cursor(QObject):
    currentChanged = Signal(int)
    selectionChanged = Signal()

    def __init__(self, doc: ShotDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.current = 0
        self.anchor = 0  # the other end of a shift-click range
        self.selection: tuple[int, int] = (0, 0)  # inclusive range
        doc.framesChanged.connect(self._clamp)

    @property
    def selected(self) -> list[int]:
        a, b = self.selection
        return [i for i in range(a, b + 1) if i < len(self.doc)]

    def set_current(self, index: int, extend: bool = False) -> None:
        """Move the playhead; without `extend` the selection collapses to it."""
        if len(self.doc) == 0:
            return
        index = max(0, min(index, len(self.doc) - 1))
        if extend:
            self.selection = (min(self.anchor, index), max(self.anchor, index))
        else:
            self.anchor = index
            self.selection = (index, index)
        self.selectionChanged.emit()
        if index != self.current:
            self.current = index
            self.currentChanged.emit(index)

    def select_range(self, first: int, last: int) -> None:
        self.anchor = first
        self.selection = (min(first, last), max(first, last))
        self.selectionChanged.emit()

    def step(self, delta: int) -> None:
        self.set_current(self.current + delta)

    def jump_to_anchor(self, direction: int) -> None:
        """Alt+, / Alt+. : the previous/next key or breakdown."""
        anchors = self.doc.anchors()
        if direction > 0:
            nxt = [a for a in anchors if a > self.current]
            if nxt:
                self.set_current(nxt[0])
        else:
            prev = [a for a in anchors if a < self.current]
            if prev:
                self.set_current(prev[-1])

    def _clamp(self) -> None:
        n = len(self.doc)
        if n == 0:
            return
        a, b = self.selection
        self.selection = (min(a, n - 1), min(b, n - 1))
        if self.current >= n:
            self.current = n - 1
            self.currentChanged.emit(self.current)
        self.selectionChanged.emit()
