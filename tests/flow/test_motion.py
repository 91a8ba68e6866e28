"""The flow backend finds cartoon motion that plain optical flow misses, without ghosts."""

from __future__ import annotations

import numpy as np

from tests.flow.conftest import H, bar, canvas, centroid, color_mask, components, disc, iou, principal_angle_deg

RED = (220, 60, 50)
BLUE = (60, 90, 220)
SKIN = (240, 200, 160)


def test_flat_disc_moving_far_lands_at_the_midpoint(run) -> None:
    """A flat disc moved 180 px: DIS sees ~8 px; the region match must see all of it."""
    a = disc(canvas(), (120, 160), 45, RED)
    b = disc(canvas(), (300, 160), 45, RED)
    mid, quarter = run(a, b, [0.5, 0.25])
    cx, cy = centroid(color_mask(mid, RED))
    assert abs(cx - 210) < 4 and abs(cy - 160) < 4
    cx, _ = centroid(color_mask(quarter, RED))
    assert abs(cx - 165) < 5
    # one disc, not two half-transparent ones
    assert components(color_mask(mid, RED)) == 1
    area = color_mask(mid, RED).sum()
    true_area = color_mask(disc(canvas(), (210, 160), 45, RED), RED).sum()
    assert abs(area - true_area) < 0.1 * true_area


def test_single_outline_no_ghost(run) -> None:
    """Dark outline pixels of the in-between: about as many as one disc has, none left behind."""
    a = disc(canvas(), (120, 160), 45, RED)
    b = disc(canvas(), (300, 160), 45, RED)
    (mid,) = run(a, b, [0.5])
    dark = mid[..., :3].astype(int).sum(-1) < 200
    truth = disc(canvas(), (210, 160), 45, RED)[..., :3].astype(int).sum(-1) < 200
    assert dark.sum() < 1.3 * truth.sum()
    # nothing dark near the keys' positions, away from the in-between disc
    assert not dark[:, :60].any() and not dark[:, 360:].any()


def test_rotating_bar_turns_halfway(run) -> None:
    a = bar(canvas(), (256, 160), 200, 30, 0.0, BLUE)
    b = bar(canvas(), (256, 160), 200, 30, 50.0, BLUE)
    (mid,) = run(a, b, [0.5])
    m = color_mask(mid, BLUE)
    angle = principal_angle_deg(m)
    assert abs(angle - 25.0) < 7.0, angle
    overlap = iou(m, color_mask(bar(canvas(), (256, 160), 200, 30, 25.0, BLUE), BLUE))
    assert overlap > 0.7, overlap
    assert components(m) == 1


def test_occluded_limb_slides_behind_the_body(run) -> None:
    """An arm half hidden behind the torso slides down and swings out: the torso is never
    painted over, the visible part of the arm moves as one piece, and no ghost of it stays
    at either key position."""
    def pose(arm_x: float, arm_y: float) -> np.ndarray:
        img = canvas()
        bar(img, (arm_x, arm_y), 50, 110, 0.0, BLUE)  # arm, drawn first: behind
        bar(img, (256, 150), 100, 180, 0.0, SKIN)  # torso in front
        return img

    a, b = pose(206.0, 120.0), pose(196.0, 200.0)
    (mid,) = run(a, b, [0.5])
    torso_inner = np.zeros(mid.shape[:2], bool)
    torso_inner[66:236, 212:300] = True
    arm = color_mask(mid, BLUE)
    assert arm[torso_inner].mean() < 0.01
    assert color_mask(mid, SKIN)[torso_inner].mean() > 0.97
    assert components(arm) == 1
    _, cy = centroid(arm)
    truth = color_mask(pose(201.0, 160.0), BLUE)
    assert abs(cy - centroid(truth)[1]) < 7
    overlap = iou(arm, truth)
    assert overlap > 0.75, overlap


def test_rgba_on_transparent_stays_clean(run) -> None:
    """A character on a transparent layer: alpha moves with the colours, no halo, no smear."""
    a = disc(canvas(alpha=0), (130, 160), 40, RED)
    b = disc(canvas(alpha=0), (330, 160), 40, RED)
    a[a[..., 3] == 0, :3] = 255
    b[b[..., 3] == 0, :3] = 255
    (mid,) = run(a, b, [0.5])
    alpha = mid[..., 3].astype(int)
    truth = disc(canvas(alpha=0), (230, 160), 40, RED)[..., 3] > 0
    yy, xx = np.mgrid[:H, : mid.shape[1]]
    far = np.hypot(xx - 230, yy - 160) > 48
    # nothing visible left outside the moved character: at most a few faint pixels of the
    # keys' outermost anti-aliasing fringe (correspondence is computed at half size)
    assert alpha[far].max() <= 40, "alpha left outside the moved character"
    assert (alpha[far] > 6).sum() < 20
    assert (alpha[truth] > 0).mean() > 0.97
    inner = np.hypot(xx - 230, yy - 160) < 35
    assert alpha[inner].min() == 255
    # colours of opaque pixels are the keys' colours, not mixed with the transparent white
    opaque = alpha == 255
    red = color_mask(mid, RED)
    assert red[inner].mean() > 0.95 and (red | ~opaque)[inner].all()


def test_deterministic(run) -> None:
    a = bar(disc(canvas(), (140, 150), 40, RED), (380, 220), 120, 26, 10.0, BLUE)
    b = bar(disc(canvas(), (260, 130), 40, RED), (330, 180), 120, 26, 60.0, BLUE)
    first = run(a, b, [0.3, 0.6])
    second = run(a, b, [0.3, 0.6])
    for x, y in zip(first, second):
        assert np.array_equal(x, y)
