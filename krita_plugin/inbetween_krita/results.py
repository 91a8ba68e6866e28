"""What the plugin remembers: per-document choices, and the results waiting in the docker.

No Krita and no Qt here. A job belongs to the document it was made from (`Target`): its
result is written there whatever document is active when it finishes, and if that document
was closed the result stays in the docker's list until the user writes it elsewhere or
discards it. Nothing is dropped silently: a result leaves the list only when the user
discards it, or when it was written and newer results push it out. Results waiting to be
written are also kept on disk (pending_store), so a crash of Krita does not lose them.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from .shot_plan import ShotPlan

MAX_KEPT = 6  # written/discarded results kept for re-applying; unwritten ones are never dropped
AUTO = "auto"
NONE = "none"


@dataclass
class DocChoices:
    """The docker's choices for one document, remembered while it is open (and by file name)."""

    keys_uid: str | None = None  # None: not chosen yet (docker shows "choose")
    keys_name: str = ""
    sketch: str = AUTO  # AUTO: a layer named like the hint; NONE; else a layer uid
    frame_range: tuple[int, int] | None = None  # None: the playback range
    segment_timing: dict[int, str] = field(default_factory=dict)
    last_result: dict[str, str] = field(default_factory=dict)  # "<keys uid>:<a>-<b>" -> layer uid
    initialised: bool = False  # the default was taken when the docker first saw the document
    explicit: bool = False  # the user chose the keys layer (a default may still be refined)


@dataclass
class Target:
    """Where a job's frames go, captured when Generate is pressed."""

    doc_key: str
    doc_title: str
    keys_uid: str
    keys_name: str
    sketch_uid: str | None
    sketch_name: str | None
    plan: ShotPlan
    width: int
    height: int
    backend: str
    fps: float = 24.0
    doc_file: str = ""  # the document's file when saved: how a result finds it after a restart

    @property
    def span(self) -> tuple[int, int]:
        span = self.plan.span
        assert span is not None
        return span

    @property
    def slot(self) -> str:
        """Results of the same keys layer over the same keys replace each other."""
        a, b = self.span
        return f"{self.keys_uid}:{a}-{b}"


_ids = itertools.count(1)


@dataclass
class Result:
    """Generated frames waiting for the user (preview, then write or discard)."""

    target: Target
    frames: dict[int, bytes]  # BGRA, keys included, by frame
    holds: dict[int, int]
    thumbs: dict[int, Any]  # small images for the docker's preview
    elapsed_s: float
    params_text: str
    id: int = field(default_factory=lambda: next(_ids))
    state: str = "ready"  # "ready" | "writing" | "written" | "discarded"
    layer_uid: str | None = None
    layer_name: str | None = None
    written_doc_key: str | None = None
    note: str = ""
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)  # its folder on disk (pending_store)
    recovered: bool = False  # kept on disk by an earlier Krita session and offered again
    saved_at: float = 0.0

    @property
    def inbetweens(self) -> list[int]:
        return [t for t in sorted(self.frames) if t not in self.target.plan.keys]

    def shown_at(self, t: int) -> int | None:
        """The frame whose drawing is seen at time `t` (holds repeat an earlier drawing)."""
        if t in self.frames:
            return t
        held = self.holds.get(t)
        return held if held in self.frames else None

    @property
    def title(self) -> str:
        a, b = self.target.span
        return f"#{self.id} '{self.target.keys_name}' {a}-{b} ({self.target.backend})"


class History:
    """Results newest first."""

    def __init__(self) -> None:
        self.items: list[Result] = []

    def add(self, result: Result) -> list[Result]:
        """Add, and return what had to go to keep the list short (only finished ones ever go)."""
        self.items.insert(0, result)
        dropped = []
        finished = [r for r in self.items if r.state in ("written", "discarded")]
        while len(self.items) > MAX_KEPT and finished:
            old = finished.pop()
            self.items.remove(old)
            dropped.append(old)
        return dropped

    def get(self, result_id: int) -> Result | None:
        return next((r for r in self.items if r.id == result_id), None)

    def remove(self, result: Result) -> None:
        if result in self.items:
            self.items.remove(result)

    @property
    def waiting(self) -> list[Result]:
        return [r for r in self.items if r.state == "ready"]

    @property
    def bytes_held(self) -> int:
        return sum(len(d) for r in self.items for d in r.frames.values())
