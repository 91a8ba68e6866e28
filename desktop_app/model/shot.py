"""The shot document: canvas, fps, exposure and the frames of the timeline.

Frames are immutable values (`Frame`, a frozen dataclass of QImage layers). An edit never
paints into a stored image: it builds new frames and swaps the document's tuple through an
undo command. QImage is implicitly shared, so a snapshot of the whole tuple costs a few
pointers, which keeps every undo command trivial and exact (napari-style model/view split).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoStack

from . import images
from .pose_layer import PoseLayer

TIMINGS = ("linear", "ease-in", "ease-out", "ease-in-out")
#: memory the undo history may hold in layer images (model.commands.trim_history forgets the
#: oldest steps beyond it), and a step limit that follows from the canvas size
UNDO_BUDGET_BYTES = int(os.environ.get("INBETWEEN_UNDO_BUDGET_MIB", "256")) << 20
UNDO_STEPS = (30, 500)  # never fewer (a 4K canvas), never more
EXPOSURES = (1, 2, 3)
_tokens = itertools.count(1)


class Role(str, Enum):
    """What a frame is to the animator; keys and breakdowns are the drawings the engine keeps."""

    KEY = "key"
    BREAKDOWN = "breakdown"
    INBETWEEN = "inbetween"
    HOLD = "hold"

    @property
    def is_anchor(self) -> bool:
        """Keys and breakdowns are both drawn by the animator and sent to the engine as keys."""
        return self in (Role.KEY, Role.BREAKDOWN)


class LayerKind(str, Enum):
    """The layers of a frame, bottom to top as the canvas shows them."""

    GENERATED = "generated"
    DRAWING = "drawing"
    SKETCH = "sketch"


@dataclass(frozen=True, eq=False)
class Frame:
    """One timeline cell. `timing` is the curve of the segment that starts here (anchors only).

    `accepted`: the drawing is a generated frame the animator accepted (possibly corrected);
    regenerating over it asks first, so a new result never stacks on an old one.
    `pose`: the frame's own pose (a key's pose, or on an in-between a pose key); frames
    without one show the pose interpolated between their segment's poses (`model.pose_timing`).
    `token` changes whenever a frame is rebuilt, so views can cache thumbnails per token.
    Equality is identity: comparing frames must never compare pixels.
    """

    role: Role = Role.INBETWEEN
    drawing: QImage | None = None
    sketch: QImage | None = None
    generated: QImage | None = None
    timing: str = "linear"
    accepted: bool = False
    pose: PoseLayer | None = None
    token: int = field(default_factory=lambda: next(_tokens), init=False, compare=False)

    def layer(self, kind: LayerKind) -> QImage | None:
        return getattr(self, kind.value)

    def with_layer(self, kind: LayerKind, img: QImage | None) -> "Frame":
        return replace(self, **{kind.value: img})

    def with_role(self, role: Role) -> "Frame":
        return replace(self, role=role)

    def with_pose(self, pose: PoseLayer | None) -> "Frame":
        return replace(self, pose=pose)

    @property
    def has_generated(self) -> bool:
        """Generated pixels not yet accepted: the timeline tints such frames."""
        return self.generated is not None

    @property
    def is_empty(self) -> bool:
        return all(images.is_blank(self.layer(k)) for k in LayerKind)


def undo_limit(width: int, height: int) -> int:
    """Undo steps for a canvas: UNDO_BUDGET_BYTES of RGBA layers, within UNDO_STEPS."""
    lo, hi = UNDO_STEPS
    return max(lo, min(hi, UNDO_BUDGET_BYTES // max(1, width * height * 4)))


class ShotDocument(QObject):
    """The open shot. Views observe its signals; edits go through `model.edits` (undoable)."""

    framesChanged = Signal()
    settingsChanged = Signal()
    previewsChanged = Signal()

    def __init__(self, width: int = 512, height: int = 320, fps: float = 24.0,
                 frames: Iterable[Frame] = (), exposure: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.width = int(width)
        self.height = int(height)
        self.fps = float(fps)
        self.exposure = int(exposure)
        self._frames: tuple[Frame, ...] = tuple(frames)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(undo_limit(self.width, self.height))
        # generated frames shown while a job runs; not part of the shot until the job is done
        self.previews: dict[int, QImage] = {}

    # ------------------------------------------------------------------ frames

    @property
    def frames(self) -> tuple[Frame, ...]:
        return self._frames

    def __len__(self) -> int:
        return len(self._frames)

    def set_frames(self, frames: tuple[Frame, ...]) -> None:
        """Swap the frame tuple. Called by undo commands only, so that every edit is undoable."""
        self._frames = tuple(frames)
        self.framesChanged.emit()

    def set_settings(self, fps: float, exposure: int) -> None:
        """Called by `ShotSettingsCommand` only."""
        self.fps, self.exposure = float(fps), int(exposure)
        self.settingsChanged.emit()

    def blank(self) -> QImage:
        return images.blank(self.width, self.height)

    # ------------------------------------------------------------------ structure queries

    def anchors(self) -> list[int]:
        """Indices of keys and breakdowns, in order: the engine's keys."""
        return [i for i, f in enumerate(self._frames) if f.role.is_anchor]

    def keys(self) -> list[int]:
        return [i for i, f in enumerate(self._frames) if f.role is Role.KEY]

    def segments(self) -> list[tuple[int, int]]:
        a = self.anchors()
        return list(zip(a, a[1:]))

    def segment_of(self, index: int) -> tuple[int, int] | None:
        """The segment (anchor, next anchor) containing `index`; an anchor starts its segment,
        except the last one, which ends the segment before it."""
        segs = self.segments()
        for a, b in segs:
            if a <= index < b:
                return a, b
        if segs and index == segs[-1][1]:
            return segs[-1]
        return None

    def source_index(self, index: int) -> int:
        """The frame whose drawing `index` shows: itself, or for a hold the last non-hold before it."""
        i = index
        while i > 0 and self._frames[i].role is Role.HOLD:
            i -= 1
        return i

    # ------------------------------------------------------------------ pictures

    def layer_image(self, index: int, kind: LayerKind, follow_holds: bool = True,
                    previews: bool = True) -> QImage | None:
        """A layer of the frame shown at `index`; for `generated`, a running (or lost) job's
        preview wins unless `previews` is False (what is really in the shot)."""
        if not 0 <= index < len(self._frames):
            return None
        src = self.source_index(index) if follow_holds else index
        if previews and kind is LayerKind.GENERATED and src in self.previews:
            return self.previews[src]
        return self._frames[src].layer(kind)

    def composite(self, index: int, layers: Iterable[LayerKind] = (LayerKind.GENERATED, LayerKind.DRAWING),
                  sketch_opacity: float = 1.0, previews: bool = True) -> QImage:
        """The frame as shown and thumbnailed, or (`previews` False) as exported: the chosen
        layers, bottom to top."""
        wanted = set(layers)
        stack = []
        for kind in LayerKind:
            if kind in wanted:
                img = self.layer_image(index, kind, previews=previews)
                if img is not None:
                    stack.append((img, sketch_opacity if kind is LayerKind.SKETCH else 1.0))
        return images.over(stack, self.width, self.height)

    def drawing_for_engine(self, index: int) -> QImage:
        """What a key or breakdown contributes to a request: its drawing (over a generated base
        only in projects from before anchors were kept free of generated layers)."""
        f = self._frames[index]
        if f.generated is None:
            return f.drawing if f.drawing is not None else self.blank()
        return self.composite(index, (LayerKind.GENERATED, LayerKind.DRAWING), previews=False)

    # ------------------------------------------------------------------ previews

    def set_preview(self, index: int, img: QImage) -> None:
        self.previews[index] = img
        self.previewsChanged.emit()

    def clear_previews(self) -> None:
        if self.previews:
            self.previews = {}
            self.previewsChanged.emit()
