"""A sketch on the learned path, through the real engine with the real RIFE 4.0 weights: the
sketched frame takes the sketch's pose (two parts moving opposite ways both follow it), every
part stays whole, and the frames around the sketch bend smoothly through it instead of
jumping there and back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inbetween_client.client import EngineClient
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.flow.conftest import canvas, centroid, color_mask, components, disc
from tests.flow.test_learned_engine import BLUE, RED, decode

TIMES = [0.25, 0.5, 0.75]
#: The sketch pushes both discs sideways off their straight paths, in opposite directions.
SIDEWAYS = 25


def _keys() -> tuple[np.ndarray, np.ndarray]:
    """Red moves up on the left, blue moves down on the right (80 px each)."""
    a = disc(disc(canvas(), (150, 200), 30, RED), (360, 120), 30, BLUE)
    b = disc(disc(canvas(), (150, 120), 30, RED), (360, 200), 30, BLUE)
    return a, b


def _sketch() -> np.ndarray:
    """Dark circles on white where the discs are at the middle: red pushed left, blue right."""
    sk = np.full((320, 512), 255, np.uint8)
    cv2.circle(sk, (150 - SIDEWAYS, 160), 30, 0, 2, cv2.LINE_AA)
    cv2.circle(sk, (360 + SIDEWAYS, 160), 30, 0, 2, cv2.LINE_AA)
    return sk


def _generate(client: EngineClient, models, sketch: np.ndarray | None) -> tuple[list[np.ndarray], dict]:
    a, b = _keys()
    h, w = a.shape[:2]
    sketches = None
    if sketch is not None:
        rgba = np.dstack([sketch, sketch, sketch, np.full_like(sketch, 255)])
        sketches = {2: ImageData.rgba(rgba.tobytes(), w, h)}
    req = ShotRequest.between(ImageData.rgba(a.tobytes(), w, h), ImageData.rgba(b.tobytes(), w, h),
                              times=TIMES, backend="flow", sketches=sketches,
                              options={"model_dir": str(models)})
    result = client.submit(req).wait(timeout=600)
    return [decode(result.frames[i]) for i in sorted(result.frames)], result.stats


_made: dict[str, tuple] = {}


@pytest.fixture
def both(rife_models, client):
    """The shot without and with the sketch (made once, by the first test's engine)."""
    if "both" not in _made:
        _made["both"] = (_generate(client, rife_models, None),
                         _generate(client, rife_models, _sketch()))
    return _made["both"]


def test_two_parts_moving_opposite_ways_both_follow_the_sketch(both):
    (plain, _), (sketched, stats) = both
    assert stats["flow_path"] == "learned"
    mid = sketched[1]
    red, blue = centroid(color_mask(mid, RED)), centroid(color_mask(mid, BLUE))
    assert abs(red[0] - (150 - SIDEWAYS)) < 4 and abs(red[1] - 160) < 4, red
    assert abs(blue[0] - (360 + SIDEWAYS)) < 4 and abs(blue[1] - 160) < 4, blue
    # without the sketch both stay on their straight paths
    assert abs(centroid(color_mask(plain[1], RED))[0] - 150) < 3
    assert abs(centroid(color_mask(plain[1], BLUE))[0] - 360) < 3


def test_every_part_stays_whole_and_keeps_its_size(both):
    _, (sketched, _) = both
    area = color_mask(_keys()[0], RED).sum()
    for frame in sketched:
        for colour in (RED, BLUE):
            m = color_mask(frame, colour)
            assert components(m) == 1
            assert abs(m.sum() - area) < 0.12 * area, (m.sum(), area)


def test_the_frames_around_the_sketch_bend_smoothly_through_it(both):
    """A smooth path through the sketched pose: the neighbours move part of the way toward
    the sketch's side (a frame that jumped to the sketch and back would be at 0 or 1), the
    same on both sides of it, and each disc keeps moving along its own path."""
    _, (sketched, _) = both
    for colour, side, x0 in ((RED, -1, 150), (BLUE, 1, 360)):
        xs = [centroid(color_mask(f, colour))[0] for f in sketched]
        ys = [centroid(color_mask(f, colour))[1] for f in sketched]
        share = [side * (x - x0) / SIDEWAYS for x in xs]
        assert 0.2 < share[0] < 0.9 and 0.2 < share[2] < 0.9, share
        assert share[1] > 0.9, share
        assert abs(share[0] - share[2]) < 0.2, share
        step = np.diff(ys)
        assert np.all(np.sign(step) == np.sign(step[0])) and np.all(np.abs(step) > 10), ys
