"""The shot request as a client builds it (standard library only); the engine validates it.

See engine/shot.py for the rules (two or more keys, sketches only on in-betweens, one size).
Clients check only what they can cheaply, so that a user gets the engine's single, precise
message for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence, Union

from .images import ImageData
from .protocol import Message

TimingSpec = Union[str, Sequence[float]]


@dataclass
class ShotRequest:
    """Keys (and optional sketches) at frame indices of the shot's timeline, plus how to fill it."""

    width: int
    height: int
    keys: dict[int, ImageData]
    sketches: dict[int, ImageData] = field(default_factory=dict)
    timing: dict[int, TimingSpec] = field(default_factory=dict)  # segment start -> curve or times
    exposure: int = 1
    fps: float = 24.0
    backend: str = "flow"
    options: dict[str, Any] = field(default_factory=dict)  # seed, steps, guidance, ...
    encoding: str = "rgba"  # how result frames come back: "rgba" (fast) or "png"
    previews: bool = True

    @classmethod
    def between(
        cls,
        key_a: ImageData,
        key_b: ImageData,
        inbetweens: int | None = None,
        times: Sequence[float] | None = None,
        timing: str = "linear",
        sketches: dict[int, ImageData] | None = None,
        **kwargs: Any,
    ) -> "ShotRequest":
        """Two keys with `inbetweens` frames (or explicit `times`) between them.

        Keys sit at frames 0 and M+1; `sketches` are keyed by in-between number 1..M, which
        is also their frame index.
        """
        if (inbetweens is None) == (times is None):
            raise ValueError("give either inbetweens or times")
        count = len(times) if times is not None else int(inbetweens)  # type: ignore[arg-type]
        spec: TimingSpec = list(times) if times is not None else timing
        return cls(
            width=key_a.width,
            height=key_a.height,
            keys={0: key_a, count + 1: key_b},
            sketches=dict(sketches or {}),
            timing={0: spec},
            **kwargs,
        )

    def to_message(self) -> Message:
        blobs: list[bytes] = []

        def ref(frame: int, img: ImageData) -> dict[str, Any]:
            blobs.append(img.data)
            entry: dict[str, Any] = {"frame": frame, "blob": len(blobs) - 1, "encoding": img.encoding}
            if img.encoding == "rgba":
                entry.update(width=img.width, height=img.height)
            return entry

        timing = []
        for start, spec in sorted(self.timing.items()):
            if isinstance(spec, str):
                timing.append({"start": start, "curve": spec})
            else:
                timing.append({"start": start, "times": [float(t) for t in spec]})
        shot = {
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "exposure": self.exposure,
            "keys": [ref(f, img) for f, img in sorted(self.keys.items())],
            "sketches": [ref(f, img) for f, img in sorted(self.sketches.items())],
            "timing": timing,
            "backend": self.backend,
            "options": dict(self.options),
            "output": {"encoding": self.encoding, "previews": self.previews},
        }
        return Message("submit", {"shot": shot}, blobs)
