"""The pose layer on the canvas: the skeleton painted over the drawing (and the onion skin),
and, as the pose tool, its joints dragged with the mouse or pen.

Bones and joints have the colours the pose-guided model reads (DWPose's hue wheel, one colour
per bone and per joint), so the animator sees which side is which. A frame's own pose is drawn
solid; the pose the engine interpolates for an in-between is a ghost (translucent, hollow
joints), and dragging any of its joints makes the frame a pose key; a key without a pose shows
the previous pose dotted in grey, and dragging a joint copies it there and adjusts it in one step.

A drag changes nothing until the button is released: the dragged pose is drawn live, and the
release is one undo step (`model.pose_edits.adjust`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen

from inbetween_client.poses import BODY_JOINTS, PoseError

from ..model import pose_edits, pose_timing
from ..model.pose_layer import PoseLayer
from ..model.pose_timing import CARRIED, INTERPOLATED, OWN, ShownPose

#: The bones in the order DWPose draws its limbs (engine/poses/render.py LIMBS): bone i has
#: the i-th colour of the hue wheel, as in the pose images the model sees.
BONES: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
HIT_PX = 10  # how near (screen pixels) a press must be to grab a joint
JOINT_PX = 5.0
GHOST_OPACITY = 0.6
CARRIED_COLOR = QColor(200, 200, 210)


def hue(i: int) -> QColor:
    """Colour i of DWPose's wheel: 18 hues, 20 degrees apart, from red."""
    return QColor.fromHsv((i * 20) % 360, 255, 255)


@dataclass
class _Drag:
    frame: int
    joint: int
    start: PoseLayer
    kind: str
    lengths: dict[int, float] | None
    source: int
    whole: bool = False  # Ctrl: the whole pose moves with the joint
    moved: bool = False


class PoseOverlay(QObject):
    """Painter (`paint`, one of the canvas's overlays) and the pose tool (`CanvasInput`):
    drag a joint (Shift: keep bone lengths, or the opposite when that option is on; Ctrl: move
    the whole pose), right-click a joint to hide or show it."""

    message = Signal(str)
    selectionChanged = Signal()
    edited = Signal(int, str)  # frame, what happened

    def __init__(self, canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.visible = True
        self.ghosts = True  # show the engine's interpolated poses on in-betweens
        self.keep_lengths = False  # Shift while dragging does the opposite
        self.selected: int | None = None  # the joint Hide/Show acts on
        self._drag: _Drag | None = None
        self._live: PoseLayer | None = None
        self.caption = False  # a line about the shown pose, on the canvas (while the tool is on)
        canvas.overlays.append(self.paint)

    @property
    def doc(self):
        return self.canvas.doc

    @property
    def frame(self) -> int:
        return self.canvas.cursor.current

    def shown(self, index: int | None = None) -> ShownPose | None:
        """What is drawn on a frame (the pose being dragged on it, while it is)."""
        index = self.frame if index is None else index
        if self._drag is not None and self._live is not None and self._drag.frame == index:
            where = pose_timing.frame_time(self.doc, index)
            # drawn solid: it becomes the frame's own pose on release
            return ShownPose(OWN, self._live, index, where[2] if where is not None else None)
        shown = pose_timing.shown(self.doc, index)
        if shown is not None and shown.kind == INTERPOLATED and not self.ghosts:
            return None
        return shown

    def set_selected(self, joint: int | None) -> None:
        if joint != self.selected:
            self.selected = joint
            self.selectionChanged.emit()
            self.canvas.update()

    # ------------------------------------------------------------------ painting

    def paint(self, p: QPainter, index: int) -> None:
        if not self.visible:
            return
        shown = self.shown(index)
        if shown is None:
            if self.caption:
                self._caption(p, f"Frame {index + 1}: no pose. Pose ▸ Add Pose (Shift+J) fits a skeleton "
                                 "to the drawing.")
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        zoom = max(0.05, self.canvas.zoom)
        layer = shown.layer
        pts = layer.points()
        solid = shown.kind == OWN
        p.setOpacity(1.0 if solid else GHOST_OPACITY)
        for bone, (a, b) in enumerate(BONES):
            if a not in pts or b not in pts:
                continue
            pa, pb = QPointF(*pts[a]), QPointF(*pts[b])
            hidden = layer.is_hidden(a) or layer.is_hidden(b)
            if shown.kind == CARRIED or hidden:
                pen = QPen(CARRIED_COLOR if not hidden else QColor(150, 150, 160), 1.5, Qt.PenStyle.DashLine)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.drawLine(pa, pb)
                continue
            if solid:
                outline = QPen(QColor(0, 0, 0, 150), 6.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                outline.setCosmetic(True)
                p.setPen(outline)
                p.drawLine(pa, pb)
            pen = QPen(hue(bone), 4.0 if solid else 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawLine(pa, pb)
        for j, (x, y) in pts.items():
            r = (JOINT_PX if solid else JOINT_PX * 0.8) / zoom
            centre = QPointF(x, y)
            if layer.is_hidden(j):
                pen = QPen(QColor(170, 170, 180), 1.5, Qt.PenStyle.DotLine)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
            elif shown.kind == CARRIED:
                pen = QPen(CARRIED_COLOR, 1.5)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
            elif solid:
                pen = QPen(QColor(20, 20, 24), 1.5)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.setBrush(hue(j))
            else:
                pen = QPen(hue(j), 2.0)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(centre, r, r)
            if j == self.selected:
                ring = QPen(QColor(255, 255, 255), 2.0)
                ring.setCosmetic(True)
                p.setPen(ring)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(centre, r + 4 / zoom, r + 4 / zoom)
        p.setOpacity(1.0)
        if self.caption:
            self._caption(p, self.describe(index, shown))

    def describe(self, index: int, shown: ShownPose | None = None) -> str:
        """One line about the pose on a frame, for the canvas and the pose panel."""
        shown = shown if shown is not None else self.shown(index)
        if shown is None:
            return f"Frame {index + 1}: no pose. Pose ▸ Add Pose (Shift+J) fits one to the drawing."
        t = f" (t = {shown.t:.3g})" if shown.t is not None else ""
        if shown.kind == OWN:
            role = self.doc.frames[index].role
            what = "key pose" if role.is_anchor else "pose key"
            note = "" if shown.t is not None else " — outside the keys: not sent to the engine"
            return f"Frame {index + 1}: {what}{t}{note}."
        if shown.kind == INTERPOLATED:
            return f"Frame {index + 1}: interpolated pose{t}: drag a joint to make it a pose key."
        return (f"Frame {index + 1}: no pose yet; showing frame {shown.source + 1}'s: drag a joint to copy "
                "it here and adjust it.")

    def _caption(self, p: QPainter, text: str) -> None:
        p.save()
        p.resetTransform()
        p.setOpacity(1.0)
        font = QFont(self.canvas.font())
        p.setFont(font)
        rect = QRectF(10, 8, self.canvas.width() - 20, 22)
        p.fillRect(p.fontMetrics().boundingRect(text).adjusted(-6, -3, 6, 3).translated(16, 24),
                   QColor(20, 20, 24, 180))
        p.setPen(QColor(235, 235, 240))
        p.drawText(rect.adjusted(6, 2, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, text)
        p.restore()

    # ------------------------------------------------------------------ the pose tool

    def joint_at(self, image_pt: QPointF, index: int | None = None) -> int | None:
        """The joint of the shown pose under a point of the image (within HIT_PX on screen)."""
        shown = self.shown(index)
        if shown is None or not self.visible:
            return None
        reach = HIT_PX / max(0.05, self.canvas.zoom)
        best, best_d = None, reach
        for j, (x, y) in shown.layer.points().items():
            d = math.hypot(x - image_pt.x(), y - image_pt.y())
            if d <= best_d:
                best, best_d = j, d
        return best

    def press(self, e: QMouseEvent) -> bool:
        pt = self.canvas.to_image(e.position())
        joint = self.joint_at(pt)
        if joint is None:
            self.set_selected(None)
            if self.shown() is None:
                self.message.emit(f"Frame {self.frame + 1} has no pose: Pose ▸ Add Pose (Shift+J) fits a "
                                  "skeleton to the drawing.")
            return True
        self.set_selected(joint)
        if e.button() == Qt.MouseButton.RightButton:
            self.toggle_hidden(joint)
            return True
        if e.button() != Qt.MouseButton.LeftButton:
            return True
        shown = self.shown()
        assert shown is not None
        keep = self.keep_lengths != bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        lengths = None
        if keep:
            lengths = pose_timing.reference_lengths(self.doc, self.frame) or shown.layer.bone_lengths()
        whole = bool(e.modifiers() & Qt.KeyboardModifier.ControlModifier)
        self._drag = _Drag(self.frame, joint, shown.layer, shown.kind, lengths, shown.source, whole)
        self._live = shown.layer
        self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def move(self, e: QMouseEvent) -> bool:
        d = self._drag
        pt = self.canvas.to_image(e.position())
        if d is None:  # hovering: a hand over a joint says it can be grabbed
            over = self.joint_at(pt) is not None
            self.canvas.setCursor(Qt.CursorShape.OpenHandCursor if over else Qt.CursorShape.ArrowCursor)
            return False
        if d.whole:
            x, y = d.start.point(d.joint)  # type: ignore[misc]
            live = d.start.translated(pt.x() - x, pt.y() - y)
        else:
            live = d.start.dragged(d.joint, pt.x(), pt.y(), d.lengths)
        self._live = live.clamped(self.doc.width, self.doc.height)
        d.moved = True
        self.canvas.update()
        return True

    def release(self, e: QMouseEvent) -> bool:
        d, live = self._drag, self._live
        self._drag, self._live = None, None
        if d is None or live is None:
            return False
        self.canvas.setCursor(Qt.CursorShape.OpenHandCursor)
        if not d.moved or d.frame >= len(self.doc) or live == d.start:
            self.canvas.update()
            return True
        what = pose_edits.adjust(self.doc, d.frame, live)
        name = BODY_JOINTS[d.joint]
        text = {"Pose key": f"Frame {d.frame + 1} is now a pose key (marked on the timeline): {name} moved.",
                "Copy and adjust pose": f"Frame {d.frame + 1} got frame {d.source + 1}'s pose, adjusted: "
                                        f"{name} moved."}.get(what, f"Moved {name} on frame {d.frame + 1}.")
        self.message.emit(text)
        self.edited.emit(d.frame, what)
        return True

    def cancel_drag(self) -> None:
        self._drag, self._live = None, None
        self.canvas.update()

    def toggle_hidden(self, joint: int | None = None) -> bool:
        """Hide the joint (the engine gets it as not there) or show it again."""
        joint = self.selected if joint is None else joint
        shown = self.shown()
        if joint is None or shown is None:
            self.message.emit("Select a joint with the pose tool (J) first, then hide or show it.")
            return False
        hide = not shown.layer.is_hidden(joint)
        try:
            pose_edits.set_hidden(self.doc, self.frame, joint, hide)
        except PoseError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"{BODY_JOINTS[joint]} on frame {self.frame + 1} "
                          + ("hidden: the engine gets it as not there." if hide else "shown again."))
        return True
