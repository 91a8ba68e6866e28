"""Spacing curves: which time in (0, 1) each drawn in-between of a segment sits at.

Terms follow most animation and motion software: `ease-in` starts slow (drawings bunch up
near the first key), `ease-out` ends slow (they bunch up near the second key), `ease-in-out`
does both. Explicit spacing (`times`) overrides the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import ShotError


def _linear(u: float) -> float:
    return u


def _ease_in(u: float) -> float:
    return u * u


def _ease_out(u: float) -> float:
    return 1.0 - (1.0 - u) * (1.0 - u)


def _ease_in_out(u: float) -> float:
    return u * u * (3.0 - 2.0 * u)


TIMING_CURVES: dict[str, Callable[[float], float]] = {
    "linear": _linear,
    "ease-in": _ease_in,
    "ease-out": _ease_out,
    "ease-in-out": _ease_in_out,
}


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

    def times_for(self, frames: list[int], start: int, end: int) -> list[float]:
        if self.times is not None:
            return list(self.times)
        curve = TIMING_CURVES[self.curve]
        return [curve((f - start) / (end - start)) for f in frames]
