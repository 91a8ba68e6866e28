"""Undo commands. Two are enough because frames are immutable values: one swaps the frame
tuple (strokes, roles, insert/remove/move, generate, accept), one changes shot settings."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from .shot import Frame, ShotDocument


class ReplaceFramesCommand(QUndoCommand):
    """Swap the document's frames for `after`, remembering what was there."""

    def __init__(self, doc: ShotDocument, text: str, after: tuple[Frame, ...]) -> None:
        super().__init__(text)
        self.doc = doc
        self.before = doc.frames
        self.after = tuple(after)

    def redo(self) -> None:
        self.doc.set_frames(self.after)

    def undo(self) -> None:
        self.doc.set_frames(self.before)


class ShotSettingsCommand(QUndoCommand):
    """Change fps and/or exposure (on 1s, 2s, 3s)."""

    def __init__(self, doc: ShotDocument, fps: float | None = None, exposure: int | None = None) -> None:
        super().__init__("Change shot settings")
        self.doc = doc
        self.before = (doc.fps, doc.exposure)
        self.after = (doc.fps if fps is None else float(fps), doc.exposure if exposure is None else int(exposure))

    def redo(self) -> None:
        self.doc.set_settings(*self.after)

    def undo(self) -> None:
        self.doc.set_settings(*self.before)
