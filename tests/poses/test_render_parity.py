"""The pose renderer matches the reference's `draw_pose` pixel for pixel (fixture `pose_render/`).

The fixture folder comes from ANIMATE_ANYONE_FIXTURE (default: the public Animate Anyone
fixture next to the repository); every entry of its `frames.json` and `renders.json` is drawn
at the entry's own size, so any fixture of that format is checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.poses.render import DwPose, draw_pose, render_pose, to_dwpose
from inbetween_client.poses import Pose
from tests.conftest import SHARED

DEFAULT_FIXTURE = SHARED / "fixtures" / "animate_anyone" / "public"


def _pose_render_dir() -> Path:
    return Path(os.environ.get("ANIMATE_ANYONE_FIXTURE") or DEFAULT_FIXTURE) / "pose_render"


def _entries() -> list[tuple[str, dict]]:
    d = _pose_render_dir()
    out = []
    for name in ("frames.json", "renders.json"):
        if (d / name).is_file():
            raw = json.loads((d / name).read_text())
            out += [(f"{name}:{e['png']}", e) for e in raw.get("frames", raw.get("cases", []))]
    return out


ENTRIES = _entries()
needs_fixture = pytest.mark.skipif(
    not ENTRIES, reason=f"Animate Anyone pose_render fixture not found at {_pose_render_dir()} "
                        "(set ANIMATE_ANYONE_FIXTURE)")


def _expected(entry: dict) -> np.ndarray:
    bgr = cv2.imread(str(_pose_render_dir() / entry["png"]), cv2.IMREAD_COLOR)
    assert bgr is not None, entry["png"]
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # the PNGs hold the canvas as drawn (RGB)


def _dwpose(entry: dict) -> DwPose:
    b = entry["bodies"]
    return DwPose(np.array(b["candidate"], np.float64), np.array(b["subset"], np.float64),
                  np.array(entry["hands"], np.float64), np.array(entry["faces"], np.float64))


def _diff(got: np.ndarray, want: np.ndarray) -> str:
    bad = np.argwhere((got != want).any(axis=2))
    return f"{len(bad)} pixels differ, first at (row, col) {bad[:5].tolist()}"


@pytest.mark.parity
@needs_fixture
@pytest.mark.parametrize("name,entry", ENTRIES, ids=[n for n, _ in ENTRIES] or None)
def test_draw_pose_matches_the_reference_pixel_for_pixel(name, entry):
    want = _expected(entry)
    got = draw_pose(_dwpose(entry), entry["H"], entry["W"])
    assert got.shape == want.shape == (entry["H"], entry["W"], 3)
    assert np.array_equal(got, want), _diff(got, want)


@pytest.mark.parity
@needs_fixture
@pytest.mark.parametrize("name,entry", ENTRIES, ids=[n for n, _ in ENTRIES] or None)
def test_our_pose_format_renders_the_same_image(name, entry):
    """From pixels (our format) back to the reference's normalised layout and drawn."""
    w, h = entry["W"], entry["H"]
    src = _dwpose(entry)
    body = tuple((x * w, y * h, 1.0) if s != -1 else (-1.0, -1.0, 0.0)
                 for (x, y), s in zip(src.candidate, src.subset[0]))

    def part(points):
        return tuple((x * w, y * h, 1.0) if x != -1 else (-1.0, -1.0, 0.0) for x, y in points)

    pose = Pose(body, hand_left=part(src.hands[0]), hand_right=part(src.hands[1]), face=part(src.faces[0]))
    dw = to_dwpose(pose, w, h)
    # the round trip through pixels is exact to the last bit or two of float64
    np.testing.assert_allclose(dw.candidate[src.subset[0] != -1], src.candidate[src.subset[0] != -1],
                               rtol=0, atol=1e-15)
    got = render_pose(pose, w, h)
    want = _expected(entry)
    assert np.array_equal(got, want), _diff(got, want)


def test_render_pose_draws_at_another_size_and_skips_missing_parts():
    body = tuple((100.0 + 10 * j, 50.0 + 5 * j, 1.0) if j != 4 else (-1.0, -1.0, 0.0) for j in range(18))
    pose = Pose(body)
    small = render_pose(pose, 400, 200, size=(200, 100))
    assert small.shape == (100, 200, 3)
    dw = to_dwpose(pose, 400, 200)
    assert dw.subset[0, 4] == -1 and dw.hands.shape == (0, 21, 2) and dw.faces.shape == (0, 68, 2)
    # the neck joint's circle (orange, undimmed) sits at half the canvas coordinates
    assert tuple(small[int(55 / 2), int(110 / 2)]) == (255, 85, 0)
    assert render_pose(pose, 400, 200).shape == (200, 400, 3)
