"""Every edit an animator makes, as a function that pushes one undo command.

Widgets and tests call these; none of them touches the frame tuple directly, so undo/redo
covers everything (strokes, roles, timeline structure, generation results, accept).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from PySide6.QtGui import QImage

from . import images
from .commands import ReplaceFramesCommand, ShotSettingsCommand
from .shot import TIMINGS, Frame, LayerKind, Role, ShotDocument


def _push(doc: ShotDocument, text: str, frames: list[Frame] | tuple[Frame, ...]) -> None:
    doc.undo_stack.push(ReplaceFramesCommand(doc, text, tuple(frames)))


def _valid(doc: ShotDocument, indices: Iterable[int]) -> list[int]:
    return sorted({i for i in indices if 0 <= i < len(doc)})


def set_layer_image(doc: ShotDocument, index: int, kind: LayerKind, img: QImage | None,
                    text: str = "Draw") -> None:
    """Replace one layer of one frame (a finished stroke, an erase, a pasted image)."""
    frames = list(doc.frames)
    frames[index] = frames[index].with_layer(kind, None if img is None else images.normalized(img))
    _push(doc, text, frames)


def set_role(doc: ShotDocument, indices: Iterable[int], role: Role) -> None:
    idx = _valid(doc, indices)
    if not idx:
        return
    frames = list(doc.frames)
    for i in idx:
        frames[i] = frames[i].with_role(role)
    _push(doc, f"Mark as {role.value}", frames)


def toggle_key(doc: ShotDocument, indices: Iterable[int]) -> None:
    """Mark as key, or unmark (back to in-between) if every selected frame already is one."""
    idx = _valid(doc, indices)
    if not idx:
        return
    all_keys = all(doc.frames[i].role is Role.KEY for i in idx)
    set_role(doc, idx, Role.INBETWEEN if all_keys else Role.KEY)


def insert_frames(doc: ShotDocument, at: int, count: int = 1, role: Role = Role.INBETWEEN,
                  drawing: QImage | None = None) -> None:
    """Insert `count` frames before index `at` (at == len appends)."""
    at = max(0, min(at, len(doc)))
    new = [Frame(role=role, drawing=drawing) for _ in range(count)]
    frames = list(doc.frames)
    frames[at:at] = new
    text = "Insert hold" if role is Role.HOLD else ("Insert frames" if count > 1 else "Insert frame")
    _push(doc, text, frames)


def remove_frames(doc: ShotDocument, indices: Iterable[int]) -> None:
    idx = set(_valid(doc, indices))
    if not idx:
        return
    _push(doc, "Remove frames", [f for i, f in enumerate(doc.frames) if i not in idx])


def move_frames(doc: ShotDocument, first: int, last: int, to: int) -> int:
    """Move the block first..last so that it starts at index `to` (retiming by drag).

    Returns the new first index. `to` is clamped so the block stays inside the timeline.
    """
    frames = list(doc.frames)
    block = frames[first:last + 1]
    rest = frames[:first] + frames[last + 1:]
    to = max(0, min(to, len(rest)))
    if to == first:
        return first
    rest[to:to] = block
    _push(doc, "Retime frames", rest)
    return to


def set_timing(doc: ShotDocument, anchor: int, timing: str) -> None:
    if timing not in TIMINGS:
        raise ValueError(f"unknown timing {timing!r}; choose one of {', '.join(TIMINGS)}")
    frames = list(doc.frames)
    frames[anchor] = replace(frames[anchor], timing=timing)
    _push(doc, f"Timing: {timing}", frames)


def set_exposure(doc: ShotDocument, exposure: int) -> None:
    if exposure != doc.exposure:
        doc.undo_stack.push(ShotSettingsCommand(doc, exposure=exposure))


def set_fps(doc: ShotDocument, fps: float) -> None:
    if fps != doc.fps:
        doc.undo_stack.push(ShotSettingsCommand(doc, fps=fps))


def apply_generated(doc: ShotDocument, first: int, last: int, results: Mapping[int, QImage],
                    holds: Mapping[int, int]) -> None:
    """Put a job's frames in the generated layers of frames first..last (exclusive anchors).

    Only that range changes and only the generated layer (and the role of frames the engine
    held at exposure > 1): keys, drawings and sketches are never touched.
    """
    frames = list(doc.frames)
    for i in range(first + 1, last):
        f = frames[i]
        if f.role.is_anchor:
            continue
        if i in results:
            role = Role.INBETWEEN if f.role is Role.HOLD and f.drawing is None else f.role
            frames[i] = f.with_layer(LayerKind.GENERATED, images.normalized(results[i])).with_role(role)
        elif i in holds and f.drawing is None and f.sketch is None:
            frames[i] = f.with_layer(LayerKind.GENERATED, None).with_role(Role.HOLD)
    _push(doc, "Generate", frames)


def accept(doc: ShotDocument, indices: Iterable[int]) -> int:
    """Turn generated frames into normal drawings (drawing corrections stay on top).

    Returns how many frames were accepted.
    """
    frames = list(doc.frames)
    n = 0
    for i in _valid(doc, indices):
        f = frames[i]
        if f.generated is None:
            continue
        merged = f.generated if f.drawing is None else images.over(
            [(f.generated, 1.0), (f.drawing, 1.0)], doc.width, doc.height)
        frames[i] = f.with_layer(LayerKind.DRAWING, merged).with_layer(LayerKind.GENERATED, None)
        n += 1
    if n:
        _push(doc, "Accept generated frames", frames)
    return n


def new_shot_frames(count: int = 12) -> tuple[Frame, ...]:
    """An empty shot: a key at each end, in-betweens in the middle."""
    frames = [Frame() for _ in range(count)]
    if count >= 2:
        frames[0] = Frame(role=Role.KEY)
        frames[-1] = Frame(role=Role.KEY)
    return tuple(frames)
