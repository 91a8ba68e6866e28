"""Every edit an animator makes, as a function that pushes one undo command.

Widgets and tests call these; none of them touches the frame tuple directly, so undo/redo
covers everything (strokes, roles, timeline structure, generation results, accept).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from PySide6.QtGui import QImage

from . import images
from .commands import ReplaceFramesCommand, ShotSettingsCommand, trim_history
from .shot import EXPOSURES, TIMINGS, Frame, LayerKind, Role, ShotDocument


def _push(doc: ShotDocument, text: str, frames: list[Frame] | tuple[Frame, ...]) -> None:
    doc.undo_stack.push(ReplaceFramesCommand(doc, text, tuple(frames)))
    trim_history(doc.undo_stack)


def _valid(doc: ShotDocument, indices: Iterable[int]) -> list[int]:
    return sorted({i for i in indices if 0 <= i < len(doc)})


def set_layer_image(doc: ShotDocument, index: int, kind: LayerKind, img: QImage | None,
                    text: str = "Draw") -> None:
    """Replace one layer of one frame (a finished stroke, an erase, a pasted image)."""
    frames = list(doc.frames)
    frames[index] = frames[index].with_layer(kind, None if img is None else images.normalized(img))
    _push(doc, text, frames)


ACCEPT, DISCARD = "accept", "discard"


def _accepted(doc: ShotDocument, f: Frame) -> Frame:
    """`f` with its generated layer merged under its drawing (corrections on top), marked accepted."""
    merged = f.generated if f.drawing is None else images.over(
        [(f.generated, 1.0), (f.drawing, 1.0)], doc.width, doc.height)
    return replace(f, drawing=merged, generated=None, accepted=True)


def generated_anchors(doc: ShotDocument, indices: Iterable[int], role: Role) -> list[int]:
    """Frames that marking as `role` would turn from unaccepted generated frames into anchors:
    the app asks before using generated pixels as a key or breakdown drawing."""
    if not role.is_anchor:
        return []
    return [i for i in _valid(doc, indices) if doc.frames[i].has_generated]


def set_role(doc: ShotDocument, indices: Iterable[int], role: Role, generated: str = ACCEPT) -> None:
    """Mark frames. An anchor never keeps an unaccepted generated layer: with `generated`
    ACCEPT its pixels become the drawing (marked accepted, as Accept would), with DISCARD they
    are dropped and only the frame's own drawing stays (see `generated_anchors`)."""
    idx = _valid(doc, indices)
    if not idx:
        return
    frames = list(doc.frames)
    for i in idx:
        f = frames[i]
        if role.is_anchor and f.has_generated:
            f = _accepted(doc, f) if generated == ACCEPT else f.with_layer(LayerKind.GENERATED, None)
        frames[i] = f.with_role(role)
    _push(doc, f"Mark as {role.value}", frames)


def toggle_key(doc: ShotDocument, indices: Iterable[int], generated: str = ACCEPT) -> None:
    """Mark as key, or unmark (back to in-between) if every selected frame already is one."""
    idx = _valid(doc, indices)
    if not idx:
        return
    set_role(doc, idx, toggled_key_role(doc, idx), generated)


def toggled_key_role(doc: ShotDocument, indices: Iterable[int]) -> Role:
    """What K does to these frames: unmark if all are keys, else mark as keys."""
    idx = _valid(doc, indices)
    return Role.INBETWEEN if idx and all(doc.frames[i].role is Role.KEY for i in idx) else Role.KEY


def insert_frames(doc: ShotDocument, at: int, count: int = 1, role: Role = Role.INBETWEEN,
                  drawing: QImage | None = None) -> None:
    """Insert `count` frames before index `at` (at == len appends)."""
    at = max(0, min(at, len(doc)))
    new = [Frame(role=role, drawing=drawing) for _ in range(count)]
    frames = list(doc.frames)
    frames[at:at] = new
    text = "Insert hold" if role is Role.HOLD else ("Insert frames" if count > 1 else "Insert frame")
    _push(doc, text, frames)


def paste_frames(doc: ShotDocument, at: int, frames: Iterable[Frame], text: str = "Paste frames") -> int:
    """Insert copies of `frames` (from this or another shot of the same size) before `at`;
    returns how many. Copies get new tokens: the timeline caches thumbnails per token."""
    new = [replace(f) for f in frames]
    if not new:
        return 0
    at = max(0, min(at, len(doc)))
    out = list(doc.frames)
    out[at:at] = new
    _push(doc, text, out)
    return len(new)


def add_keys(doc: ShotDocument, at: int, drawings: list[QImage], gap: int) -> list[int]:
    """Insert `drawings` as keys before `at`, each preceded by `gap` empty in-betweens
    (none before a key at the very start): images imported into a shot. Returns the keys'
    indices."""
    at = max(0, min(at, len(doc)))
    new: list[Frame] = []
    keys = []
    for img in drawings:
        if gap > 0 and (at + len(new)) > 0:
            new.extend(Frame() for _ in range(gap))
        keys.append(at + len(new))
        new.append(Frame(role=Role.KEY, drawing=images.normalized(img)))
    out = list(doc.frames)
    out[at:at] = new
    _push(doc, f"Import {len(drawings)} key{'s' if len(drawings) != 1 else ''}", out)
    return keys


def remove_frames(doc: ShotDocument, indices: Iterable[int]) -> None:
    idx = set(_valid(doc, indices))
    if not idx:
        return
    _push(doc, "Remove frames", [f for i, f in enumerate(doc.frames) if i not in idx])


def _placement(frames: list[Frame]) -> dict[int, tuple]:
    """For each in-between frame (by identity): the anchors around it and its distances to them.
    A generated frame is only right where it was generated, i.e. while this does not change."""
    anchors = [i for i, f in enumerate(frames) if f.role.is_anchor]
    out: dict[int, tuple] = {}
    for i, f in enumerate(frames):
        if f.role.is_anchor:
            continue
        before = [a for a in anchors if a < i]
        after = [a for a in anchors if a > i]
        a = before[-1] if before else None
        b = after[0] if after else None
        out[id(f)] = (id(frames[a]) if a is not None else None, id(frames[b]) if b is not None else None,
                      None if a is None else i - a, None if b is None else b - i)
    return out


def _drop_misplaced_generated(before: list[Frame], after: list[Frame]) -> list[Frame]:
    """Unaccepted generated layers whose frame no longer sits where it was generated are stale:
    dropped (the frame shows as an empty in-between, ready to generate again)."""
    was, now = _placement(before), _placement(after)
    return [f.with_layer(LayerKind.GENERATED, None)
            if f.has_generated and not f.role.is_anchor and was.get(id(f)) != now.get(id(f)) else f
            for f in after]


def move_frames(doc: ShotDocument, first: int, last: int, to: int) -> int:
    """Move the block first..last so that it starts at index `to` (retiming by drag).

    Returns the new first index. `to` past the end of the other frames extends the shot with
    empty in-betweens (dragging the last key further out makes room to in-between). Generated
    frames that the move puts between other anchors or at other distances from them are
    dropped: they would show the old timing.
    """
    frames = list(doc.frames)
    block = frames[first:last + 1]
    rest = frames[:first] + frames[last + 1:]
    to = max(0, to)
    if to == first:
        return first
    if to > len(rest):
        rest.extend(Frame() for _ in range(to - len(rest)))
    rest[to:to] = block
    _push(doc, "Retime frames", _drop_misplaced_generated(frames, rest))
    return to


def set_timing(doc: ShotDocument, anchor: int, timing: str) -> None:
    if timing not in TIMINGS:
        raise ValueError(f"unknown timing {timing!r}; choose one of {', '.join(TIMINGS)}")
    frames = list(doc.frames)
    frames[anchor] = replace(frames[anchor], timing=timing)
    _push(doc, f"Timing: {timing}", frames)


def _exposed(doc: ShotDocument, frames: list[Frame], indices: list[int], exposure: int) -> tuple[list[Frame], list[int]]:
    """Frames of `indices` (a range) exposed on `exposure`s: counting from the first selected
    frame and again from every anchor, one drawing slot then exposure - 1 holds. Frames with a
    drawing or sketch of their own are never made holds (returned as kept); a frame made a hold
    loses its generated layer (it shows the drawing before it)."""
    kept = []
    count = 0
    for i in indices:
        f = frames[i]
        if f.role.is_anchor:
            count = 1
            continue
        slot = count % exposure == 0
        count += 1
        own = not (images.is_blank(f.drawing) and images.is_blank(f.sketch))
        if slot or i == 0:
            if f.role is Role.HOLD:
                frames[i] = f.with_role(Role.INBETWEEN)
        elif own:
            if f.role is Role.HOLD:
                continue
            kept.append(i)
        elif f.role is not Role.HOLD or f.generated is not None:
            frames[i] = replace(f, role=Role.HOLD, generated=None)
    return frames, kept


def set_selection_exposure(doc: ShotDocument, indices: Iterable[int], exposure: int) -> list[int]:
    """Expose the selected frames on 1s, 2s or 3s directly (holds in place, the length stays).
    Returns the frames kept as drawings because they have a drawing or sketch of their own."""
    if exposure not in EXPOSURES:
        raise ValueError(f"exposure must be one of {EXPOSURES}")
    idx = _valid(doc, indices)
    if not idx:
        return []
    idx = list(range(idx[0], idx[-1] + 1))
    frames, kept = _exposed(doc, list(doc.frames), idx, exposure)
    if any(a is not b for a, b in zip(frames, doc.frames)):
        _push(doc, f"Expose on {exposure}s", frames)
    return kept


def set_exposure(doc: ShotDocument, exposure: int) -> None:
    """The shot's exposure, and the whole timeline exposed on it (one undo step): the holds
    the timeline shows are the ones the engine will make."""
    if exposure == doc.exposure:
        return
    frames, _kept = _exposed(doc, list(doc.frames), list(range(len(doc))), exposure)
    doc.undo_stack.beginMacro(f"Exposure on {exposure}s")
    doc.undo_stack.push(ShotSettingsCommand(doc, exposure=exposure))
    if any(a is not b for a, b in zip(frames, doc.frames)):
        _push(doc, f"Exposure on {exposure}s", frames)
    doc.undo_stack.endMacro()


def set_fps(doc: ShotDocument, fps: float) -> None:
    if fps != doc.fps:
        doc.undo_stack.push(ShotSettingsCommand(doc, fps=fps))


REPLACE, KEEP = "replace", "keep"


def accepted_in(doc: ShotDocument, first: int, last: int) -> list[int]:
    """Accepted in-betweens strictly between anchors first and last: a generate over them
    must ask whether to replace them or keep them as drawings (`apply_generated`)."""
    return [i for i in range(first + 1, last)
            if doc.frames[i].accepted and not doc.frames[i].role.is_anchor and doc.frames[i].role is not Role.HOLD]


def apply_generated(doc: ShotDocument, first: int, last: int, results: Mapping[int, QImage],
                    holds: Mapping[int, int], accepted: str = REPLACE) -> None:
    """Put a job's frames in the generated layers of frames first..last (exclusive anchors).

    Only that range changes and only the generated layer (and the role of frames the engine
    held at exposure > 1): keys, drawings and sketches are never touched, with one exception
    the animator chose: an accepted frame (its drawing was a generated frame) is, with
    `accepted` REPLACE, cleared and given the new result, or with KEEP left as it is. Never
    both, so a result never stacks on the one accepted before. At exposure 1 the holds of the
    timeline (set with "Expose on 2s", H) stay holds.
    """
    frames = list(doc.frames)
    for i in range(first + 1, last):
        f = frames[i]
        if f.role.is_anchor:
            continue
        if f.accepted and f.role is not Role.HOLD and (i in results or i in holds):
            if accepted == KEEP:
                continue
            f = replace(f, drawing=None, accepted=False)
        if i in results:
            if f.role is Role.HOLD and doc.exposure == 1:
                continue  # a hold the animator set: the frame repeats the drawing before it
            role = Role.INBETWEEN if f.role is Role.HOLD and f.drawing is None else f.role
            frames[i] = f.with_layer(LayerKind.GENERATED, images.normalized(results[i])).with_role(role)
        elif i in holds and f.drawing is None and f.sketch is None:
            frames[i] = f.with_layer(LayerKind.GENERATED, None).with_role(Role.HOLD)
        else:
            frames[i] = f
    _push(doc, "Generate", frames)


def accept(doc: ShotDocument, indices: Iterable[int]) -> int:
    """Turn generated frames into normal drawings (drawing corrections stay on top).

    Returns how many frames were accepted.
    """
    frames = list(doc.frames)
    n = 0
    for i in _valid(doc, indices):
        if frames[i].generated is None:
            continue
        frames[i] = _accepted(doc, frames[i])
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
