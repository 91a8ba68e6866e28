"""In-betweening of one segment by the flow backend.

First honest implementation: bidirectional DIS flow warping with alpha. The cartoon-aware
method (region matching, ordered splatting, sketch constraints) replaces this module's body.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .dis_baseline import DisInterpolator


def interpolate_segment(
    key_a: np.ndarray,
    key_b: np.ndarray,
    times: list[float],
    sketches: dict[int, np.ndarray],
    check_cancelled: Callable[[], None],
) -> Iterator[np.ndarray]:
    """Yield one RGBA frame per time, in order. `sketches` maps a position in `times` to a sketch.

    `check_cancelled` raises when the job was cancelled; it is called between frames.
    """
    interp = DisInterpolator(key_a, key_b)
    for t in times:
        check_cancelled()
        yield interp.frame(t)
