"""The x-sheet strip: one cell per frame with a thumbnail, role colours and the playhead.

Keys are filled (orange), breakdowns carry a teal diamond, in-betweens are plain, holds
continue the drawing before them with a bar, generated-but-not-accepted frames are tinted
blue with a "G", frames with a sketch show a blue dot, frames with a pose of their own (a key's
pose, or an in-between made a pose key) a small yellow figure. Click selects, shift-click extends,
dragging a selection moves it (retime; past the last frame it extends the shot with empty
in-betweens, so the last key can be moved out), dragging in the ruler scrubs the playhead,
double-click toggles key.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QScrollArea, QWidget

from .. import theme
from ..model import edits, images
from ..model.cursor import Cursor
from ..model.shot import LayerKind, Role, ShotDocument

CELL_W = 72
RULER_H = 18
THUMB_H = 46
STRIP_H = 8
CELL_H = RULER_H + THUMB_H + STRIP_H + 6
PAST_END = 12  # empty cells drawn after the last frame: room to drag keys out


def _pose_mark(p: QPainter, at: QPoint) -> None:
    """A 12-pixel stick figure on a dark disc: this frame has a pose of its own."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(20, 20, 24, 200))
    p.drawEllipse(at + QPoint(0, 6), 8, 8)
    p.setPen(QPen(theme.POSE, 1.6))
    p.setBrush(theme.POSE)
    x, y = at.x(), at.y()
    p.drawEllipse(QPoint(x, y + 1), 2, 2)
    p.drawLine(x, y + 3, x, y + 8)
    p.drawLine(x - 4, y + 5, x + 4, y + 5)
    p.drawLine(x, y + 8, x - 3, y + 12)
    p.drawLine(x, y + 8, x + 3, y + 12)
    p.setBrush(Qt.BrushStyle.NoBrush)


class TimelineStrip(QWidget):
    """The strip itself (inside a scroll area, see `TimelineWidget`)."""

    message = Signal(str)

    def __init__(self, doc: ShotDocument, cursor: Cursor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._thumbs: dict[tuple, QImage] = {}
        self._press: QPoint | None = None
        self._scrubbing = False
        self._drag_block: tuple[int, int] | None = None
        self._drop_at: int | None = None
        # what a double-click does (the window asks before making a generated frame a key)
        self.on_toggle_key: Callable[[list[int]], object] = lambda idx: edits.toggle_key(self.doc, idx)
        self.doc = doc
        self.cursor = cursor
        self._wire()

    def set_document(self, doc: ShotDocument, cursor: Cursor) -> None:
        self.doc, self.cursor = doc, cursor
        self._thumbs.clear()
        self._wire()
        self._relayout()

    def _wire(self) -> None:
        self.doc.framesChanged.connect(self._relayout)
        self.doc.previewsChanged.connect(self.update)
        self.cursor.currentChanged.connect(self.update)
        self.cursor.selectionChanged.connect(self.update)
        self._relayout()

    def _relayout(self) -> None:
        self.setFixedSize((max(1, len(self.doc)) + PAST_END) * CELL_W + 8, CELL_H)
        live = {f.token for f in self.doc.frames}
        self._thumbs = {k: v for k, v in self._thumbs.items() if k[0] in live}
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(len(self.doc) * CELL_W, CELL_H)

    # ------------------------------------------------------------------ geometry

    def index_at(self, x: float) -> int:
        return int(x // CELL_W)

    def cell_rect(self, i: int) -> QRect:
        return QRect(i * CELL_W, RULER_H, CELL_W - 2, THUMB_H + STRIP_H + 4)

    # ------------------------------------------------------------------ thumbnails

    def thumbnail(self, i: int) -> QImage:
        src = self.doc.source_index(i)
        f = self.doc.frames[src]
        preview = self.doc.previews.get(src)
        key = (f.token, id(preview) if preview is not None else 0)
        thumb = self._thumbs.get(key)
        if thumb is None:
            img = images.over(
                [(self.doc.layer_image(src, LayerKind.GENERATED), 1.0),
                 (f.drawing, 1.0),
                 (images.tinted(f.sketch, theme.SKETCH) if f.sketch is not None else None, 0.6)],
                self.doc.width, self.doc.height)
            thumb = img.scaled(CELL_W - 8, THUMB_H - 4, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
            self._thumbs[key] = thumb
        return thumb

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BG)
        clip = event.rect()
        first = max(0, self.index_at(clip.left()))
        last = min(len(self.doc) - 1, self.index_at(clip.right()))
        for i in range(max(first, len(self.doc)), self.index_at(clip.right()) + 1):
            p.setPen(QPen(theme.INBETWEEN, 1, Qt.PenStyle.DotLine))  # past the end: drop targets
            p.drawRect(self.cell_rect(i).adjusted(3, 3, -3, -3))
        sel_a, sel_b = self.cursor.selection
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        p.setFont(small)
        for i in range(first, last + 1):
            f = self.doc.frames[i]
            r = self.cell_rect(i)
            # ruler: frame numbers (1-based, as on an x-sheet)
            p.setPen(theme.DIM if (i + 1) % 5 else theme.TEXT)
            p.drawText(QRect(i * CELL_W, 0, CELL_W, RULER_H), Qt.AlignmentFlag.AlignCenter, str(i + 1))
            bg = {Role.KEY: theme.KEY, Role.BREAKDOWN: theme.BREAKDOWN.darker(150), Role.INBETWEEN: theme.INBETWEEN,
                  Role.HOLD: theme.HOLD}[f.role]
            p.fillRect(r, bg)
            thumb_area = QRect(r.left() + 3, r.top() + 3, r.width() - 6, THUMB_H - 2)
            p.fillRect(thumb_area, QColor(238, 238, 240) if f.role is not Role.HOLD else QColor(170, 170, 175))
            if f.role is Role.HOLD:
                p.setPen(QPen(theme.DIM, 3))
                y = thumb_area.center().y()
                p.drawLine(thumb_area.left() + 8, y, thumb_area.right() - 8, y)
            else:
                t = self.thumbnail(i)
                p.drawImage(thumb_area.center().x() - t.width() // 2, thumb_area.center().y() - t.height() // 2, t)
            unaccepted = f.has_generated or (i in self.doc.previews)
            if unaccepted:
                p.fillRect(thumb_area, QColor(theme.GENERATED.red(), theme.GENERATED.green(),
                                              theme.GENERATED.blue(), 70))
                p.setPen(theme.GENERATED.darker(130))
                p.drawText(thumb_area.adjusted(3, 1, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, "G")
            # role strip
            strip = QRect(r.left() + 3, r.bottom() - STRIP_H - 1, r.width() - 6, STRIP_H)
            if f.role is Role.KEY:
                p.fillRect(strip, theme.KEY.darker(140))
            elif f.role is Role.BREAKDOWN:
                c = strip.center()
                p.setBrush(theme.BREAKDOWN)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawPolygon(QPolygonF([QPointF(c.x(), c.y() - 5), QPointF(c.x() + 6, c.y()),
                                         QPointF(c.x(), c.y() + 5), QPointF(c.x() - 6, c.y())]))
            elif unaccepted:
                p.fillRect(strip, theme.GENERATED.darker(150))
            if f.sketch is not None and not images.is_blank(f.sketch):
                p.setBrush(theme.SKETCH)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawEllipse(QPoint(thumb_area.right() - 6, thumb_area.top() + 6), 4, 4)
            if f.pose is not None:
                _pose_mark(p, QPoint(thumb_area.left() + 8, thumb_area.bottom() - 14))
            p.setBrush(Qt.BrushStyle.NoBrush)
            if sel_a <= i <= sel_b:
                p.setPen(QPen(theme.TEXT, 2))
                p.drawRect(r.adjusted(1, 1, -1, -1))
        # playhead
        if len(self.doc):
            x = self.cursor.current * CELL_W + CELL_W // 2 - 1
            p.setPen(QPen(theme.PLAYHEAD, 2))
            p.drawLine(x, 0, x, self.height())
            p.setBrush(theme.PLAYHEAD)
            p.drawPolygon(QPolygonF([QPointF(x - 6, 0), QPointF(x + 6, 0), QPointF(x, 8)]))
        if self._drop_at is not None:
            x = self._drop_at * CELL_W - 1
            p.setPen(QPen(theme.ACCENT, 3))
            p.drawLine(x, RULER_H, x, self.height())
        p.end()

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if e.button() != Qt.MouseButton.LeftButton or not len(self.doc):
            return
        pos = e.position()
        i = min(self.index_at(pos.x()), len(self.doc) - 1)
        if pos.y() < RULER_H:
            self._scrubbing = True
            self.cursor.set_current(i)
            return
        a, b = self.cursor.selection
        if a <= i <= b and b > a and not e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._press = pos.toPoint()
            self._drag_block = (a, b)
            return
        self.cursor.set_current(i, extend=bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        self._press = pos.toPoint()
        self._drag_block = self.cursor.selection

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = e.position()
        if self._scrubbing:
            self.cursor.set_current(min(max(0, self.index_at(pos.x())), len(self.doc) - 1))
            return
        if self._press is not None and e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # shift-drag extends the selection instead of moving frames
            self.cursor.set_current(min(max(0, self.index_at(pos.x())), len(self.doc) - 1), extend=True)
            return
        if self._press is not None and self._drag_block is not None and \
                (pos.toPoint() - self._press).manhattanLength() > CELL_W // 3:
            self._drop_at = max(0, min(len(self.doc) + PAST_END, round(pos.x() / CELL_W)))
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drop_at is not None and self._drag_block is not None:
            a, b = self._drag_block
            to = self._drop_at if self._drop_at <= a else self._drop_at - (b - a + 1)
            new_first = edits.move_frames(self.doc, a, b, to)
            self.cursor.select_range(new_first, new_first + b - a)
            self.cursor.set_current(new_first, extend=True)
        elif self._press is not None and self._drag_block and self._drag_block[1] > self._drag_block[0] \
                and not e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # a plain click inside a multi-frame selection selects that frame
            i = min(self.index_at(e.position().x()), len(self.doc) - 1)
            self.cursor.set_current(i)
        self._press = None
        self._drag_block = None
        self._drop_at = None
        self._scrubbing = False
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        i = self.index_at(e.position().x())
        if 0 <= i < len(self.doc) and e.position().y() >= RULER_H:
            self.on_toggle_key([i])


class TimelineWidget(QScrollArea):
    """The strip in a horizontal scroll area that follows the playhead."""

    def __init__(self, doc: ShotDocument, cursor: Cursor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strip = TimelineStrip(doc, cursor)
        self.setWidget(self.strip)
        self.setWidgetResizable(False)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(CELL_H + self.horizontalScrollBar().sizeHint().height() + 4)
        self._follow(cursor)

    def _follow(self, cursor: Cursor) -> None:
        cursor.currentChanged.connect(lambda i: self.ensureVisible(i * CELL_W + CELL_W // 2, CELL_H // 2,
                                                                   CELL_W, 0))

    def set_document(self, doc: ShotDocument, cursor: Cursor) -> None:
        self.strip.set_document(doc, cursor)
        self._follow(cursor)

    def set_toggle_key(self, handler: Callable[[Iterable[int]], object]) -> None:
        self.strip.on_toggle_key = handler
