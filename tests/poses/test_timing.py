"""The client's timing rule gives the engine's in-between times (one rule, used by both)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.shot import Shot
from engine.timing import Timing
from inbetween_client.timing import TIMING_CURVES, curve_time, drawn_frames, segment_times


def _rgba():
    return np.zeros((8, 8, 4), np.uint8)


@pytest.mark.parametrize("curve", list(TIMING_CURVES))
@pytest.mark.parametrize("exposure", [1, 2, 3])
def test_segment_times_are_the_engine_times(curve, exposure):
    shot = Shot(8, 8, keys={0: _rgba(), 9: _rgba(), 21: _rgba()}, timing={0: Timing(curve), 9: Timing(curve)},
                exposure=exposure)
    for seg in shot.segments():
        assert [(ib.frame, ib.t) for ib in seg.inbetweens] == segment_times(
            seg.start, seg.end, curve, exposure=exposure)
        assert [ib.frame for ib in seg.inbetweens] == drawn_frames(seg.start, seg.end, exposure)


def test_explicit_times_and_curves():
    shot = Shot(8, 8, keys={0: _rgba(), 4: _rgba()}, timing={0: Timing(times=(0.1, 0.5, 0.6))})
    assert segment_times(0, 4, times=[0.1, 0.5, 0.6]) == [(1, 0.1), (2, 0.5), (3, 0.6)]
    assert [(ib.frame, ib.t) for ib in shot.segments()[0].inbetweens] == [(1, 0.1), (2, 0.5), (3, 0.6)]
    with pytest.raises(ValueError, match="2 explicit times for 3 in-betweens"):
        segment_times(0, 4, times=[0.1, 0.5])
    assert curve_time("ease-in", 2, 0, 4) == 0.25 and curve_time("ease-out", 2, 0, 4) == 0.75
    assert curve_time("ease-in-out", 1.5, 1, 2) == 0.5  # fractional and held frames too
