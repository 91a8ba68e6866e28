"""The drawing canvas: zoom/pan/rotate/flip, pen and eraser with tablet pressure and a
stroke stabiliser, an eyedropper (Alt+click), onion skin, layers.

A stroke paints into a private copy of the active layer and becomes one undo command when
the pen lifts, so the document only ever sees finished strokes (and undo is per stroke).
Rotation and flip are view settings (like zoom): the drawing itself is never turned. What
is painted is a stack of layers, bottom to top, then any `overlays` (the pose layer is one)
on top, in image coordinates, without touching strokes. A tool that is not a brush (the pose
tool) takes the mouse through `input_handler`.
"""

from __future__ import annotations

from typing import Callable, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPointingDevice,
                           QTabletEvent, QTransform, QWheelEvent)
from PySide6.QtWidgets import QWidget

from .. import theme
from ..model import edits, images
from ..model.cursor import Cursor
from ..model.shot import LayerKind, Role, ShotDocument
from .onion import OnionSettings, skins

PEN, ERASER = "pen", "eraser"


def _checker(size: int = 8) -> QImage:
    img = QImage(size * 2, size * 2, QImage.Format.Format_RGB32)
    img.fill(QColor(92, 92, 96))
    p = QPainter(img)
    p.fillRect(0, 0, size, size, QColor(112, 112, 116))
    p.fillRect(size, size, size, size, QColor(112, 112, 116))
    p.end()
    return img


class CanvasInput(Protocol):
    """A tool that takes the canvas's mouse instead of the brush (Alt, middle button and the
    wheel keep panning, picking and zooming); each returns True when it used the event."""

    def press(self, e: QMouseEvent) -> bool: ...
    def move(self, e: QMouseEvent) -> bool: ...
    def release(self, e: QMouseEvent) -> bool: ...


ALT_CLICK_SLOP = 4  # pixels an Alt+press may move and still be a click (eyedropper), not a pan


class CanvasWidget(QWidget):
    message = Signal(str)
    zoomChanged = Signal(float)
    colorPicked = Signal(QColor)
    viewChanged = Signal()  # zoom, pan, rotation or flip

    def __init__(self, doc: ShotDocument, cursor: Cursor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 200)
        self.setMouseTracking(True)  # for the brush outline
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tool = PEN
        self.color = QColor(30, 24, 40)
        self.size = 4.0
        self.active_layer = LayerKind.DRAWING
        self.visible = {k: True for k in LayerKind}
        self.sketch_opacity = 0.6
        self.onion = OnionSettings()
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.rotation = 0.0  # degrees, clockwise on screen
        self.flipped = False  # mirrored left-right (view only)
        self.stabiliser = 0  # 0 (off) .. 10: pen positions averaged over 2n+1 samples
        self._raw: list[QPointF] = []
        self._alt_press: QPointF | None = None
        self._checker = _checker()
        self._stroke: QImage | None = None
        self._last: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._fit_pending = True
        self._skins_cache: tuple[tuple, list] | None = None
        self._tint_cache: tuple[int, QImage] | None = None
        self._hover: QPointF | None = None
        # painters drawn over the layers in image coordinates (e.g. issue 14's pose overlay);
        # each gets the painter and the frame index, and must leave the painter as it found it
        self.overlays: list[Callable[[QPainter, int], None]] = []
        self.input_handler: CanvasInput | None = None  # e.g. the pose tool, instead of the brush
        self.doc = doc
        self.cursor = cursor
        self._wire()

    # ------------------------------------------------------------------ document

    def set_document(self, doc: ShotDocument, cursor: Cursor) -> None:
        """Show another shot: nothing of the previous one (strokes, onion skins, sketch tint)
        survives, and the new canvas is fitted to the window (a 4K canvas must not open at
        100 %, looking empty)."""
        self.doc, self.cursor = doc, cursor
        self._stroke = None
        self._skins_cache = None
        self._tint_cache = None
        self._wire()
        if self.width() >= 10 and self.height() >= 10:
            self._fit_pending = False
            self.rotation, self.flipped = 0.0, False
            self.fit()
        else:
            self._fit_pending = True
        self.update()

    def _wire(self) -> None:
        self.doc.framesChanged.connect(self._changed)
        self.doc.previewsChanged.connect(self._changed)
        self.cursor.currentChanged.connect(self._changed)

    def _changed(self, *_: object) -> None:
        self._skins_cache = None
        self.update()

    def set_onion(self, settings: OnionSettings) -> None:
        self.onion = settings
        self._changed()

    # ------------------------------------------------------------------ view transform

    def _transform(self) -> QTransform:
        t = QTransform()
        cx = self.width() / 2 + self.pan.x()
        cy = self.height() / 2 + self.pan.y()
        t.translate(cx, cy)
        t.rotate(self.rotation)
        t.scale(-self.zoom if self.flipped else self.zoom, self.zoom)
        t.translate(-self.doc.width / 2, -self.doc.height / 2)
        return t

    def to_image(self, pos: QPointF) -> QPointF:
        inv, _ = self._transform().inverted()
        return inv.map(pos)

    def to_widget(self, image_pt: QPointF) -> QPointF:
        """Where a point of the image is on the widget (tools, tests and scripts that click it)."""
        return self._transform().map(image_pt)

    def fit(self) -> None:
        """The whole canvas in the window (rotation kept): zoom so its rotated bounds fit."""
        if self.width() < 10 or self.height() < 10:
            return
        turn = QTransform().rotate(self.rotation).mapRect(QRectF(0, 0, self.doc.width, self.doc.height))
        self.zoom = max(0.05, min(8.0, (self.width() - 40) / turn.width(), (self.height() - 40) / turn.height()))
        self.pan = QPointF(0, 0)
        self.zoomChanged.emit(self.zoom)
        self.viewChanged.emit()
        self.update()

    def rotate_by(self, degrees: float) -> None:
        """Turn the view (as an animator turns the paper), about the window's centre."""
        self.rotation = (self.rotation + degrees) % 360.0
        self.viewChanged.emit()
        self.update()

    def reset_rotation(self) -> None:
        self.rotation = 0.0
        self.viewChanged.emit()
        self.update()

    def flip(self) -> None:
        """Mirror the view left-right: the classic check of a drawing's proportions."""
        self.flipped = not self.flipped
        self.viewChanged.emit()
        self.update()

    def zoom_by(self, factor: float, around: QPointF | None = None) -> None:
        around = around or QPointF(self.width() / 2, self.height() / 2)
        before = self.to_image(around)
        self.zoom = max(0.05, min(32.0, self.zoom * factor))
        after = self._transform().map(before)
        self.pan += around - after
        self.zoomChanged.emit(self.zoom)
        self.viewChanged.emit()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self._fit_pending:
            self._fit_pending = False
            self.fit()

    # ------------------------------------------------------------------ painting

    def _onion_skins(self) -> list:
        o = self.onion
        key = (id(self.doc), self.cursor.current, o.enabled, o.before, o.after, o.opacity, o.keys_only,
               o.skip_empty, o.before_color.rgba(), o.after_color.rgba())
        if self._skins_cache is None or self._skins_cache[0] != key:
            self._skins_cache = (key, skins(self.doc, self.cursor.current, self.onion))
        return self._skins_cache[1]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), theme.BASE)
        if len(self.doc) == 0:
            p.end()
            return
        p.setTransform(self._transform())
        area = QRectF(0, 0, self.doc.width, self.doc.height)
        p.fillRect(area, self._checker)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1.0)
        for img, opacity in self._onion_skins():
            p.setOpacity(opacity)
            p.drawImage(0, 0, img)
        i = self.cursor.current
        for kind in LayerKind:
            if not self.visible[kind]:
                continue
            img = self._stroke if (self._stroke is not None and kind is self.active_layer) \
                else self.doc.layer_image(i, kind)
            if img is None:
                continue
            if kind is LayerKind.SKETCH:
                p.setOpacity(self.sketch_opacity)
                p.drawImage(0, 0, img if img is self._stroke else self._tinted_sketch(img))
            else:
                p.setOpacity(1.0)
                p.drawImage(0, 0, img)
        p.setOpacity(1.0)
        for overlay in self.overlays:
            p.save()
            overlay(p, i)
            p.restore()
        p.setPen(QPen(QColor(0, 0, 0, 160), 0))
        p.drawRect(area)
        if self._hover is not None and self._pan_from is None and self.input_handler is None:
            # brush outline, so the animator sees the pen size at this zoom
            radius = (self.size * (3 if self.tool == ERASER else 1)) / 2
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor(255, 255, 255, 170), 0))
            p.drawEllipse(self._hover, radius, radius)
            p.setPen(QPen(QColor(0, 0, 0, 170), 0, Qt.PenStyle.DotLine))
            p.drawEllipse(self._hover, radius, radius)
        p.end()

    def _tinted_sketch(self, img: QImage) -> QImage:
        key = img.cacheKey()
        if self._tint_cache is None or self._tint_cache[0] != key:
            self._tint_cache = (key, images.tinted(img, theme.SKETCH))
        return self._tint_cache[1]

    # ------------------------------------------------------------------ strokes

    def _begin(self, pos: QPointF, pressure: float, eraser: bool) -> None:
        i = self.cursor.current
        if not 0 <= i < len(self.doc):
            return
        frame = self.doc.frames[i]
        if frame.role is Role.HOLD:
            self.message.emit("This frame is a hold: it repeats the drawing before it. "
                              "Mark it as an in-between to draw on it.")
            return
        base = frame.layer(self.active_layer)
        self._stroke = (base if base is not None else self.doc.blank()).copy()
        self._eraser = eraser or self.tool == ERASER
        self._last = self.to_image(pos)
        self._raw = [self._last]
        self._pressure = pressure
        self._dab(self._last, self._last, pressure)

    def _dab(self, a: QPointF, b: QPointF, pressure: float) -> None:
        assert self._stroke is not None
        p = QPainter(self._stroke)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = max(0.5, self.size * max(0.05, pressure))
        if self._eraser:
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
            width = max(1.0, self.size * 3 * max(0.05, pressure))
        pen = QPen(self.color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        if a == b:
            p.drawPoint(a)
        else:
            p.drawLine(a, b)
        p.end()
        self.update()

    def _move(self, pos: QPointF, pressure: float) -> None:
        if self._stroke is None or self._last is None:
            return
        pt = self.to_image(pos)
        self._pressure = pressure
        if self.stabiliser > 0:
            # the pen follows the mean of the last samples: hand tremor averages out, the
            # line lags a little and catches up when the pen lifts
            self._raw.append(pt)
            del self._raw[:-(2 * self.stabiliser + 1)]
            pt = QPointF(sum(p.x() for p in self._raw) / len(self._raw),
                         sum(p.y() for p in self._raw) / len(self._raw))
        self._dab(self._last, pt, pressure)
        self._last = pt

    def _end(self) -> None:
        if self._stroke is None:
            return
        if self.stabiliser > 0 and self._raw and self._last is not None and self._raw[-1] != self._last:
            self._dab(self._last, self._raw[-1], self._pressure)  # catch up with the pen
        stroke, self._stroke, self._last = self._stroke, None, None
        self._raw = []
        text = ("Erase" if self._eraser else "Pen stroke") + (" (sketch)" if self.active_layer is LayerKind.SKETCH else "")
        edits.set_layer_image(self.doc, self.cursor.current, self.active_layer, stroke, text)

    def draw_line(self, points: list[tuple[float, float]], pressure: float = 1.0) -> None:
        """A whole stroke in image coordinates (scripts, tests): same path as the pen."""
        widget_pts = [self._transform().map(QPointF(x, y)) for x, y in points]
        self._begin(widget_pts[0], pressure, False)
        for pt in widget_pts[1:]:
            self._move(pt, pressure)
        self._end()

    # ------------------------------------------------------------------ input

    def pick_color(self, image_pt: QPointF) -> QColor | None:
        """Eyedropper: the colour of the frame as shown (generated and drawing layers) at a
        point of the image; None on a transparent pixel or outside the canvas."""
        x, y = int(image_pt.x()), int(image_pt.y())
        if not (0 <= x < self.doc.width and 0 <= y < self.doc.height) or not len(self.doc):
            return None
        kinds = [k for k in (LayerKind.GENERATED, LayerKind.DRAWING) if self.visible[k]]
        c = self.doc.composite(self.cursor.current, kinds).pixelColor(x, y)
        if c.alpha() < 8:
            return None
        c.setAlpha(255)
        return c

    def _pick_at(self, pos: QPointF) -> None:
        c = self.pick_color(self.to_image(pos))
        if c is None:
            self.message.emit("Eyedropper: nothing drawn there to pick a colour from.")
            return
        self.color = QColor(c)
        self.colorPicked.emit(QColor(c))
        self.message.emit(f"Picked {c.name()} (Alt+click picks a colour; Alt+drag pans)")

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if e.button() == Qt.MouseButton.LeftButton and e.modifiers() & Qt.KeyboardModifier.AltModifier:
            self._alt_press = e.position()  # a click picks a colour, a drag pans
            self._pan_from = e.position()
        elif e.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = e.position()
        elif self.input_handler is not None:
            self.input_handler.press(e)
        elif e.button() == Qt.MouseButton.LeftButton:
            self._begin(e.position(), 1.0, False)
        elif e.button() == Qt.MouseButton.RightButton:
            self._begin(e.position(), 1.0, True)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._hover = self.to_image(e.position())
        if self._pan_from is not None:
            self.pan += e.position() - self._pan_from
            self._pan_from = e.position()
            self.update()
        elif self.input_handler is not None:
            self.input_handler.move(e)
            self.update()
        elif e.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            self._move(e.position(), 1.0)
        else:
            self.update()

    def leaveEvent(self, e) -> None:  # noqa: N802 - Qt API
        self._hover = None
        self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._alt_press is not None:
            press, self._alt_press = self._alt_press, None
            if (e.position() - press).manhattanLength() <= ALT_CLICK_SLOP:
                self.pan -= e.position() - press  # undo the tiny pan the click made
                self._pick_at(press)
        if self._pan_from is not None:
            self._pan_from = None
        elif self.input_handler is not None:
            self.input_handler.release(e)
        else:
            self._end()

    def tabletEvent(self, e: QTabletEvent) -> None:  # noqa: N802 - Qt API
        """Pressure from a tablet scales the pen width; the pen's eraser end erases."""
        if self.input_handler is not None:
            e.ignore()  # Qt turns it into mouse events for the tool
            return
        t = e.type()
        eraser = e.pointerType() == QPointingDevice.PointerType.Eraser
        if t == QTabletEvent.Type.TabletPress:
            self._begin(e.position(), e.pressure(), eraser)
        elif t == QTabletEvent.Type.TabletMove:
            self._move(e.position(), e.pressure())
        elif t == QTabletEvent.Type.TabletRelease:
            self._end()
        e.accept()

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, e.position())
