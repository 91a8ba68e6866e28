"""Spacing curves: at which time in (0, 1) each drawn in-between of a segment sits.

Standard library only: the engine, the desktop app and the Krita plugin all compute the
in-between times with these functions, so a pose placed on frame F by a client lands on the
same time t the engine gives that frame (one rule, no copies). The engine adds its
`ShotError` checks in engine/timing.py.

Terms follow most animation and motion software: `ease-in` starts slow (drawings bunch up
near the first key), `ease-out` ends slow (they bunch up near the second key), `ease-in-out`
does both. Explicit spacing (a list of times, one per drawn in-between) overrides the curve.
"""

from __future__ import annotations

from typing import Callable, Sequence


def _linear(u: float) -> float:
    return u


def _ease_in(u: float) -> float:
    return u * u


def _ease_out(u: float) -> float:
    return 1.0 - (1.0 - u) * (1.0 - u)


def _ease_in_out(u: float) -> float:
    return u * u * (3.0 - 2.0 * u)


#: Curve name -> the function from linear frame position u in [0, 1] to time t in [0, 1].
TIMING_CURVES: dict[str, Callable[[float], float]] = {
    "linear": _linear,
    "ease-in": _ease_in,
    "ease-out": _ease_out,
    "ease-in-out": _ease_in_out,
}


def drawn_frames(start: int, end: int, exposure: int = 1) -> list[int]:
    """In-between frames that get a drawing between keys at `start` and `end` (on 1s, 2s, ...)."""
    return list(range(start + exposure, end, exposure))


def curve_time(curve: str, frame: float, start: int, end: int) -> float:
    """Time of a (possibly fractional or held) frame of segment start..end under a named curve."""
    return TIMING_CURVES[curve]((frame - start) / (end - start))


def segment_times(
    start: int,
    end: int,
    curve: str = "linear",
    times: Sequence[float] | None = None,
    exposure: int = 1,
) -> list[tuple[int, float]]:
    """(frame, t) of every drawn in-between of segment start..end, as the engine computes them.

    `times` (one per drawn in-between) overrides `curve`. Raises KeyError for an unknown curve
    and ValueError when `times` has the wrong length; the engine's checks (engine/timing.py)
    give the user-facing messages.
    """
    frames = drawn_frames(start, end, exposure)
    if times is not None:
        if len(times) != len(frames):
            raise ValueError(f"{len(times)} explicit times for {len(frames)} in-betweens")
        return list(zip(frames, (float(t) for t in times)))
    return [(f, curve_time(curve, f, start, end)) for f in frames]


__all__ = ["TIMING_CURVES", "curve_time", "drawn_frames", "segment_times"]
