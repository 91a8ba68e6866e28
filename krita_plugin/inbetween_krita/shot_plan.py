"""Which frames one Generate fills, decided once and shown before it runs (no Krita, no Qt).

The keys are the *drawn* keyframes of the keys layer inside the chosen range: Krita puts an
empty keyframe at frame 0 by itself when a layer's first keyframe is added later, and an
animator may leave empty keyframes as "nothing here" markers; neither is a key. A range that
starts before the first key or ends after the last one is trimmed to the keys (there is
nothing to in-between outside them). The exposure rule is the engine's (engine/shot.py): on
2s, a drawing every second frame after each key, the frames between them hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

EXPOSURES = (1, 2, 3)


def is_blank(bgra: bytes) -> bool:
    """True when no pixel has any alpha: an empty keyframe (colour in fully transparent
    pixels, which the eraser leaves behind, does not count)."""
    alpha = bgra[3::4]
    return alpha == bytes(len(alpha))


def frames_text(frames: Sequence[int], limit: int = 6) -> str:
    """'5-9', '5, 7, 9', or '5, 7, 9 ... 31 (14 frames)' for long irregular lists."""
    frames = sorted(frames)
    if not frames:
        return "none"
    if frames == list(range(frames[0], frames[-1] + 1)) and len(frames) > 2:
        return f"{frames[0]}-{frames[-1]}"
    if len(frames) <= limit:
        return ", ".join(str(f) for f in frames)
    head = ", ".join(str(f) for f in frames[:3])
    return f"{head} ... {frames[-1]} ({len(frames)} frames)"


@dataclass(frozen=True)
class Segment:
    start: int  # key
    end: int  # next key
    drawn: tuple[int, ...]  # in-betweens that get a drawing
    held: tuple[int, ...]  # frames that hold the previous drawing (exposure > 1)


@dataclass(frozen=True)
class ShotPlan:
    """What a Generate on `layer` over `requested` would do."""

    layer: str
    requested: tuple[int, int]
    keyframes: tuple[int, ...]  # every keyframe of the layer in the range
    blank: tuple[int, ...] = ()  # those with nothing drawn (not keys)
    exposure: int = 1
    sketches: tuple[int, ...] = field(default=())  # sketch keyframes at drawn in-betweens

    @property
    def keys(self) -> tuple[int, ...]:
        return tuple(t for t in self.keyframes if t not in set(self.blank))

    @property
    def span(self) -> tuple[int, int] | None:
        ks = self.keys
        return (ks[0], ks[-1]) if len(ks) >= 2 else None

    @property
    def segments(self) -> list[Segment]:
        ks = self.keys
        out = []
        for a, b in zip(ks, ks[1:]):
            drawn = tuple(range(a + self.exposure, b, self.exposure))
            held = tuple(f for f in range(a + 1, b) if f not in drawn)
            out.append(Segment(a, b, drawn, held))
        return out

    @property
    def fill(self) -> list[int]:
        """Frames that get a new drawing."""
        return [f for s in self.segments for f in s.drawn]

    @property
    def held(self) -> list[int]:
        return [f for s in self.segments for f in s.held]

    @property
    def problem(self) -> str | None:
        """Why this cannot be generated (a sentence naming the layer), or None."""
        lo, hi = self.requested
        name = f"'{self.layer}'"
        if hi < lo:
            return f"The frame range {lo}-{hi} is empty."
        ks = self.keys
        if len(ks) < 2:
            found = f"{len(ks)} drawn keyframe" + ("" if len(ks) == 1 else "s")
            extra = f" ({len(self.blank)} empty keyframe(s) at {frames_text(self.blank)} are not keys)" \
                if self.blank else ""
            return (f"The keys layer {name} has {found} in frames {lo}-{hi}{extra}; in-betweening "
                    "needs two or more. Draw the keys on that layer, or choose another keys layer.")
        if not self.fill:
            why = f" at exposure on {self.exposure}s" if self.exposure > 1 else ""
            return (f"The keys of {name} at frames {frames_text(ks)} leave no frame between them "
                    f"to fill{why}.")
        return None

    def describe(self) -> str:
        """One or two sentences for the docker: what will be filled, what was left out."""
        problem = self.problem
        if problem:
            return problem
        ks = self.keys
        span = self.span
        assert span is not None
        fill = self.fill
        text = (f"Fills frames {frames_text(fill)} ({len(fill)} in-between"
                f"{'s' if len(fill) != 1 else ''}) between the keys of '{self.layer}' at "
                f"{frames_text(ks)}.")
        if self.held:
            text += f" On {self.exposure}s: {frames_text(self.held)} hold."
        notes = []
        lo, hi = self.requested
        if lo < span[0] or hi > span[1]:
            notes.append(f"range {lo}-{hi} trimmed to the keys {span[0]}-{span[1]}")
        if self.blank:
            notes.append(f"empty keyframe(s) at {frames_text(self.blank)} are not keys")
        if self.sketches:
            notes.append(f"sketches at {frames_text(self.sketches)}")
        if notes:
            text += " (" + "; ".join(notes) + ")"
        return text


def make_plan(layer: str, requested: tuple[int, int], keyframes: Iterable[int],
              blank: Iterable[int] = (), exposure: int = 1,
              sketch_keyframes: Iterable[int] = ()) -> ShotPlan:
    lo, hi = requested
    kf = tuple(sorted(t for t in set(keyframes) if lo <= t <= hi))
    blank_set = tuple(sorted(t for t in set(blank) if t in kf))
    exposure = exposure if exposure in EXPOSURES else 1
    plan = ShotPlan(layer, (lo, hi), kf, blank_set, exposure)
    drawn = set(plan.fill)
    sketches = tuple(sorted(t for t in set(sketch_keyframes) if t in drawn))
    return ShotPlan(layer, (lo, hi), kf, blank_set, exposure, sketches)
