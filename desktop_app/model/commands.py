"""Undo commands. Two are enough because frames are immutable values: one swaps the frame
tuple (strokes, roles, insert/remove/move, generate, accept), one changes shot settings.

The history is bounded in memory, not only in steps: a step's cost is the layer images its
`after` brings that its `before` did not have (a stroke: one layer; a generate: a segment).
`trim_history` makes the oldest steps beyond UNDO_BUDGET_BYTES forget their frames: undo
stops at the oldest state still held (a forgotten step undoes and redoes nothing, which
keeps the document consistent: its before and after were the states around it)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack

from .shot import UNDO_BUDGET_BYTES, Frame, LayerKind, ShotDocument


def _new_bytes(before: tuple[Frame, ...], after: tuple[Frame, ...]) -> int:
    held = {img.cacheKey() for f in before for k in LayerKind if (img := f.layer(k)) is not None}
    total, seen = 0, set()
    for f in after:
        for k in LayerKind:
            img = f.layer(k)
            if img is not None and img.cacheKey() not in held and img.cacheKey() not in seen:
                seen.add(img.cacheKey())
                total += img.sizeInBytes()
    return total


class ReplaceFramesCommand(QUndoCommand):
    """Swap the document's frames for `after`, remembering what was there."""

    def __init__(self, doc: ShotDocument, text: str, after: tuple[Frame, ...]) -> None:
        super().__init__(text)
        self.doc = doc
        self.before: tuple[Frame, ...] | None = doc.frames
        self.after: tuple[Frame, ...] | None = tuple(after)
        self.bytes = _new_bytes(self.before, self.after)
        self.forgotten = False

    def forget(self) -> None:
        """Drop the frames (the memory): this old step can no longer be undone."""
        self.before = self.after = None
        self.bytes = 0
        self.forgotten = True
        self.setText(f"{self.text()} (too old to undo)")

    def redo(self) -> None:
        if self.after is not None:
            self.doc.set_frames(self.after)

    def undo(self) -> None:
        if self.before is not None:
            self.doc.set_frames(self.before)


def _frames_commands(cmd: QUndoCommand) -> list[ReplaceFramesCommand]:
    if isinstance(cmd, ReplaceFramesCommand):
        return [cmd]
    return [c for i in range(cmd.childCount()) for c in _frames_commands(cmd.child(i))]


def trim_history(stack: QUndoStack, budget: int = UNDO_BUDGET_BYTES) -> int:
    """Forget the oldest undo steps once the steps below the current one hold more than
    `budget` bytes of layers; returns how many were forgotten. If the saved state was among
    them, the stack stops claiming it can get back to it (never "clean" by mistake)."""
    total, forgotten, boundary = 0, 0, -1
    for i in range(stack.index() - 1, -1, -1):
        cmd = stack.command(i)
        if cmd is None:
            continue
        mine = _frames_commands(cmd)
        if all(c.forgotten for c in mine) and mine:
            break  # everything below was trimmed before
        total += sum(c.bytes for c in mine)
        if total > budget:
            for c in mine:
                if not c.forgotten:
                    c.forget()
                    forgotten += 1
            boundary = max(boundary, i)
    if forgotten and 0 <= stack.cleanIndex() <= boundary:
        stack.resetClean()
    return forgotten


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
