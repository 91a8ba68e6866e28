"""Timing of a segment as the engine validates it; the curves themselves live in the client library.

`inbetween_client/timing.py` holds the spacing curves and the rule that gives every drawn
in-between its time (standard library only, so the desktop app and the Krita plugin compute
the same times). This module adds the checks that turn a bad timing into a `ShotError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbetween_client.timing import TIMING_CURVES, segment_times

from .errors import ShotError


@dataclass(frozen=True)
class Timing:
    """Timing of one segment: a named curve, or explicit times (one per drawn in-between)."""

    curve: str = "linear"
    times: tuple[float, ...] | None = None

    def check(self, drawn: int, what: str) -> None:
        if self.curve not in TIMING_CURVES:
            raise ShotError(f"{what}: unknown curve {self.curve!r} (use {', '.join(TIMING_CURVES)})")
        if self.times is None:
            return
        if len(self.times) != drawn:
            raise ShotError(f"{what}: {len(self.times)} explicit times for {drawn} in-betweens")
        prev = 0.0
        for t in self.times:
            if not isinstance(t, (int, float)) or isinstance(t, bool) or not 0.0 < t < 1.0:
                raise ShotError(f"{what}: every time must be a number in (0, 1), got {t!r}")
            if t <= prev:
                raise ShotError(f"{what}: times must increase, got {list(self.times)}")
            prev = t

    def frame_times(self, start: int, end: int, exposure: int) -> list[tuple[int, float]]:
        """(frame, t) of every drawn in-between, by the client library's rule (after `check`)."""
        return segment_times(start, end, self.curve, self.times, exposure)


__all__ = ["TIMING_CURVES", "Timing"]
