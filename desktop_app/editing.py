"""The window's frame edits that need a word with the animator: marking generated frames as
keys or breakdowns, copy and paste of frames and drawings, exposure of a selection, images
added to the shot as keys, and the canvas-size check against the engine's limits.

Kept apart from `main_window` (which builds menus and owns files) so each stays small; the
edits themselves are `model.edits` functions, one undo step each.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QPoint
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QMessageBox

from .generate_controller import frames_text, plural
from .model import edits, images
from .model.shot import Frame, Role

if TYPE_CHECKING:
    from .main_window import MainWindow


class ShotEditing:
    def __init__(self, win: "MainWindow") -> None:
        self.win = win
        self.clip: tuple[Frame, ...] = ()
        self.clip_size: tuple[int, int] = (0, 0)
        # "accept" | "discard" | "cancel" when generated frames would become anchors (tests replace it)
        self.ask_generated_anchor: Callable[[list[int], Role], str] = self._ask_generated_anchor
        self._warned_canvas: tuple | None = None

    @property
    def doc(self):
        return self.win.doc

    def say(self, text: str, ms: int = 8000) -> None:
        self.win.statusBar().showMessage(text, ms)

    # ------------------------------------------------------------------ roles

    def mark(self, role: Role, indices: list[int] | None = None) -> bool:
        """Mark frames as `role`; generated frames that would become keys or breakdowns ask
        first (use the generated pixels as the drawing, or drop them), never silently."""
        idx = self.win.cursor.selected if indices is None else indices
        generated = edits.generated_anchors(self.doc, idx, role)
        choice = edits.ACCEPT
        if generated:
            choice = self.ask_generated_anchor(generated, role)
            if choice not in (edits.ACCEPT, edits.DISCARD):
                self.say("Nothing marked; the shot is unchanged.")
                return False
        edits.set_role(self.doc, idx, role, choice)
        if generated:
            what = ("its generated pixels are now its drawing (accepted)" if choice == edits.ACCEPT
                    else "its generated pixels were dropped")
            self.say(f"Marked {frames_text(generated)} as {role.value}: {what}.")
        return True

    def toggle_key(self, indices: list[int] | None = None) -> bool:
        idx = self.win.cursor.selected if indices is None else indices
        return self.mark(edits.toggled_key_role(self.doc, idx), idx)

    def _ask_generated_anchor(self, frames: list[int], role: Role) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, f"Mark generated frames as {role.value}?",
                          f"{frames_text(frames).capitalize()} {'is' if len(frames) == 1 else 'are'} generated "
                          f"and not accepted. A {role.value} is a drawing the engine keeps: use the generated "
                          f"pixels as its drawing (they count as accepted), or drop them and keep only what "
                          "was drawn on the frame?", QMessageBox.StandardButton.Cancel, self.win)
        use = box.addButton("Use the generated drawing", QMessageBox.ButtonRole.AcceptRole)
        drop = box.addButton("Drop the generated pixels", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(use)
        box.exec()
        return {use: edits.ACCEPT, drop: edits.DISCARD}.get(box.clickedButton(), "cancel")

    # ------------------------------------------------------------------ exposure

    def expose(self, exposure: int) -> None:
        sel = self.win.cursor.selected
        if len(sel) < 2:
            self.say("Select the frames to expose (Shift+click), then choose on 1s, 2s or 3s.")
            return
        kept = edits.set_selection_exposure(self.doc, sel, exposure)
        note = (f" {frames_text(kept).capitalize()} kept as drawings (they have a drawing or sketch of "
                "their own)." if kept else "")
        self.say(f"{frames_text(sel).capitalize()} exposed on {exposure}s.{note}")

    # ------------------------------------------------------------------ clipboard

    def copy(self) -> int:
        """Copy the selected frames (all layers, roles) and put the current frame's picture on
        the system clipboard, for other apps."""
        sel = self.win.cursor.selected
        self.clip = tuple(self.doc.frames[i] for i in sel)
        self.clip_size = (self.doc.width, self.doc.height)
        QGuiApplication.clipboard().setImage(self.doc.composite(self.win.cursor.current))
        self.say(f"Copied {plural(len(sel), 'frame')} ({frames_text(sel)}).")
        return len(sel)

    def cut(self) -> None:
        if len(self.win.cursor.selected) >= len(self.doc):
            self.say("A shot keeps at least one frame: copy instead (Ctrl+C).")
            return
        self.copy()
        self.win.remove_selected()

    def paste_frames(self) -> int:
        """Insert the copied frames after the current one."""
        if not self.clip:
            self.say("Nothing to paste: copy frames first (Ctrl+C).")
            return 0
        if self.clip_size != (self.doc.width, self.doc.height):
            self.say(f"The copied frames are {self.clip_size[0]}×{self.clip_size[1]}, this shot is "
                     f"{self.doc.width}×{self.doc.height}: paste the drawing instead (Ctrl+Shift+V).")
            return 0
        at = self.win.cursor.current + 1
        n = edits.paste_frames(self.doc, at, self.clip)
        self.win.cursor.select_range(at, at + n - 1)
        self.win.cursor.set_current(at + n - 1, extend=True)
        self.say(f"Pasted {plural(n, 'frame')} after frame {at}.")
        return n

    def paste_drawing(self) -> bool:
        """The copied frame's drawing (or an image on the system clipboard) into the active
        layer of the current frame, centred."""
        i = self.win.cursor.current
        if self.doc.frames[i].role is Role.HOLD:
            self.say("This frame is a hold: mark it as an in-between (N) to paste a drawing on it.")
            return False
        img = QGuiApplication.clipboard().image()  # Copy puts the current frame there too
        if img.isNull() and self.clip:
            img = self._clip_drawing()
        if img is None or img.isNull():
            self.say("Nothing to paste: copy a frame (Ctrl+C) or an image first.")
            return False
        canvas = images.blank(self.doc.width, self.doc.height)
        p = QPainter(canvas)
        p.drawImage(QPoint((canvas.width() - img.width()) // 2, (canvas.height() - img.height()) // 2), img)
        p.end()
        kind = self.win.canvas.active_layer
        edits.set_layer_image(self.doc, i, kind, canvas, "Paste drawing")
        self.say(f"Pasted the drawing on frame {i + 1} ({kind.value} layer).")
        return True

    def _clip_drawing(self) -> QImage | None:
        f = self.clip[0]
        layers = [(f.generated, 1.0), (f.drawing, 1.0)]
        if all(img is None for img, _ in layers):
            return None
        return images.over(layers, *self.clip_size)

    # ------------------------------------------------------------------ import as keys

    def add_images_as_keys(self, paths: list[str | Path], gap: int) -> bool:
        """PNGs added to the shot as keys after the current frame (an empty shot takes their
        size instead); every image must have the shot's size."""
        ordered = sorted(Path(p) for p in paths)
        if self.doc_is_blank():
            return self.win.open_images(ordered, gap)
        drawings = []
        for p in ordered:
            try:
                img = images.load_image(str(p))
            except ValueError as exc:
                self.win.error("Cannot import images", str(exc))
                return False
            if (img.width(), img.height()) != (self.doc.width, self.doc.height):
                self.win.error("Cannot import images",
                               f"{p.name} is {img.width()}×{img.height()}, the shot is {self.doc.width}×"
                               f"{self.doc.height}: a shot has one canvas size. Open it as a new shot "
                               "(File ▸ Open) or scale it first.")
                return False
            drawings.append(img)
        keys = edits.add_keys(self.doc, self.win.cursor.current + 1, drawings, gap)
        self.win.cursor.set_current(keys[-1])
        self.say(f"Added {plural(len(keys), 'image')} as keys at {frames_text(keys)}.")
        return True

    def doc_is_blank(self) -> bool:
        return self.doc.undo_stack.count() == 0 and all(f.is_empty for f in self.doc.frames)

    # ------------------------------------------------------------------ limits

    def check_canvas(self, *_: object) -> str | None:
        """Say at once (not at generate time) when the canvas is over the engine's limits."""
        limits = self.win.link.limits
        if limits is None:
            return None
        problem = limits.canvas_problem(self.doc.width, self.doc.height)
        key = (id(self.doc), problem)
        if problem and key != self._warned_canvas:
            self._warned_canvas = key
            self.win.generate_panel.status.setText(problem)
            self.win.error("Canvas over the engine's limits", problem)
        return problem

