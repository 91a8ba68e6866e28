"""Pose interpolation: arcs, blended bone lengths, missing joints, smooth motion through breakdowns."""

from __future__ import annotations

import math

import pytest

from inbetween_client.pose_interpolation import interpolate_pose, pose_at, poses_at
from inbetween_client.poses import MISSING, PoseTrack, TimedPose
from tests.poses.skeletons import STANDING, hand_at, pose, rotated

SHOULDER, ELBOW, WRIST = 5, 6, 7  # the left arm
UPPER = STANDING[ELBOW][1] - STANDING[SHOULDER][1]  # 25 px, hanging straight down


def _xy(p, j):
    return p.body[j][:2]


def _flat(points):
    """x, y of every point, flattened (pytest.approx compares flat sequences)."""
    return [v for q in points for v in q[:2]]


def _arm_raised(angle_deg: float, bend_deg: float = 0.0, forearm: float = 25.0):
    """The left arm turned up by angle_deg from hanging down (about the shoulder), elbow bent."""
    sx, sy = STANDING[SHOULDER]
    a = math.radians(90.0 - angle_deg)  # image y points down: 90 degrees is straight down
    ex, ey = sx + UPPER * math.cos(a), sy + UPPER * math.sin(a)
    b = a - math.radians(bend_deg)
    return pose({ELBOW: (ex, ey), WRIST: (ex + forearm * math.cos(b), ey + forearm * math.sin(b))})


def test_an_arm_swinging_90_degrees_stays_on_its_arc():
    down, out = _arm_raised(0.0), _arm_raised(90.0)  # hanging -> horizontal, pointing away
    for i in range(1, 10):
        u = i / 10
        p = interpolate_pose(down, out, u)
        # elbow and wrist at their bone lengths from the shoulder, at the blended angle
        assert math.dist(_xy(p, SHOULDER), _xy(p, ELBOW)) == pytest.approx(UPPER)
        assert math.dist(_xy(p, SHOULDER), _xy(p, WRIST)) == pytest.approx(2 * UPPER)
        expected = _arm_raised(90.0 * u)
        assert _xy(p, WRIST) == pytest.approx(_xy(expected, WRIST))
        # the chord would cut the corner: the linear wrist is much closer to the shoulder
        lin = interpolate_pose(down, out, u, "linear")
        assert math.dist(_xy(lin, SHOULDER), _xy(lin, WRIST)) < 2 * UPPER - (1.0 if 0.2 <= u <= 0.8 else 0)
    mid = interpolate_pose(down, out, 0.5, "linear")
    assert math.dist(_xy(mid, SHOULDER), _xy(mid, WRIST)) == pytest.approx(2 * UPPER * math.sqrt(0.5))


def test_a_bent_forearm_keeps_its_bend_relative_to_the_upper_arm():
    a, b = _arm_raised(0.0, bend_deg=40.0), _arm_raised(80.0, bend_deg=40.0)
    p = interpolate_pose(a, b, 0.25)
    assert _xy(p, WRIST) == pytest.approx(_xy(_arm_raised(20.0, bend_deg=40.0), WRIST))


def test_bone_lengths_blend():
    a, b = _arm_raised(30.0, forearm=20.0), _arm_raised(30.0, forearm=40.0)  # the forearm stretches
    for u in (0.25, 0.5, 0.75):
        p = interpolate_pose(a, b, u)
        assert math.dist(_xy(p, ELBOW), _xy(p, WRIST)) == pytest.approx(20.0 + 20.0 * u)
        assert _xy(p, ELBOW) == pytest.approx(_xy(a, ELBOW))  # the upper arm did not move


def test_the_root_moves_on_its_chord_and_the_body_turns_as_one():
    a = pose()
    b = rotated(a, 170.0, *STANDING[1], dx=40.0, dy=-10.0)  # a tumble: turned almost upside down
    for u in (0.3, 0.5, 0.8):
        p = interpolate_pose(a, b, u)
        nx, ny = STANDING[1]
        assert _xy(p, 1) == pytest.approx((nx + 40.0 * u, ny - 10.0 * u))
        # a rigid turn: every joint is where the body turned by 170 u degrees puts it
        expected = rotated(a, 170.0 * u, nx, ny, dx=40.0 * u, dy=-10.0 * u)
        for j in range(18):
            assert _xy(p, j) == pytest.approx(_xy(expected, j), abs=1e-6)


def test_angles_turn_the_short_way_across_180_degrees():
    a, b = _arm_raised(170.0), _arm_raised(190.0)  # over the head, across the vertical
    assert _xy(interpolate_pose(a, b, 0.5), ELBOW) == pytest.approx(_xy(_arm_raised(180.0), ELBOW))


def test_missing_joints_stay_missing_and_keys_are_returned_as_given():
    a, b = pose(missing=(16, 17)), pose({4: (100, 140)}, missing=(16, 17))
    for u in (0.1, 0.5, 0.9):
        p = interpolate_pose(a, b, u)
        assert p.body[16] == p.body[17] == MISSING
    assert interpolate_pose(a, b, 0.0) is a and interpolate_pose(a, b, 1.0) is b


def test_a_joint_in_one_pose_only_shows_in_the_nearer_half_carried_by_its_parent():
    a = _arm_raised(0.0)
    b = pose({ELBOW: _xy(_arm_raised(60.0), ELBOW)}, missing=(WRIST,))  # the hand went behind
    near_a = interpolate_pose(a, b, 0.25)
    assert near_a.body[WRIST][2] == 1.0
    # carried rigidly: the forearm keeps pose a's direction relative to the upper arm
    assert math.dist(_xy(near_a, ELBOW), _xy(near_a, WRIST)) == pytest.approx(25.0)
    assert _xy(near_a, WRIST) == pytest.approx(_xy(_arm_raised(15.0), WRIST))
    assert interpolate_pose(a, b, 0.75).body[WRIST] == MISSING
    # and the other way round
    assert interpolate_pose(b, a, 0.25).body[WRIST] == MISSING
    assert interpolate_pose(b, a, 0.75).body[WRIST][2] == 1.0


def test_confidence_blends():
    a = pose()
    b_body = list(pose().body)
    b_body[3] = (b_body[3][0], b_body[3][1], 0.5)
    from inbetween_client.poses import Pose

    assert interpolate_pose(a, Pose(tuple(b_body)), 0.5).body[3][2] == pytest.approx(0.75)


def test_hands_follow_their_forearm_and_the_face_follows_the_head():
    face = tuple((128 + 8 * math.cos(i / 10), 60 + 8 * math.sin(i / 10), 1.0) for i in range(68))
    a = pose(hand_left=hand_at(*STANDING[WRIST], 90.0), face=face)
    b = rotated(a, 90.0, *STANDING[1])  # everything turned a quarter about the neck
    p = interpolate_pose(a, b, 0.5)
    expected = rotated(a, 45.0, *STANDING[1])
    assert _flat(p.hand_left) == pytest.approx(_flat(expected.hand_left))
    assert _flat(p.face) == pytest.approx(_flat(expected.face))
    assert p.hand_right is None
    only_a = interpolate_pose(a, pose(), 0.75)  # parts given in one pose only: the nearer half
    assert only_a.hand_left is None and only_a.face is None
    assert interpolate_pose(a, pose(), 0.25).hand_left is not None


def test_linear_method_moves_every_point_on_its_chord():
    a, b = _arm_raised(0.0), _arm_raised(90.0)
    p = interpolate_pose(a, b, 0.3, "linear")
    for j in range(18):
        (ax, ay), (bx, by) = _xy(a, j), _xy(b, j)
        assert _xy(p, j) == pytest.approx((ax + 0.3 * (bx - ax), ay + 0.3 * (by - ay)))
    with pytest.raises(ValueError, match="unknown pose interpolation method 'spline'"):
        interpolate_pose(a, b, 0.3, "spline")


def test_pose_at_uses_the_nearest_posed_times():
    a, m, b = _arm_raised(0.0), _arm_raised(60.0), _arm_raised(90.0)
    two = PoseTrack.of({0.0: a, 1.0: b})
    assert _xy(pose_at(two, 0.2), WRIST) == pytest.approx(_xy(_arm_raised(18.0), WRIST))
    track = PoseTrack.of({0.0: a, 0.4: m, 1.0: b})
    assert pose_at(track, 0.4) is m and pose_at(track, 0.40001) is m
    # between the posed times, u = (t - t_i) / (t_j - t_i); the track shapes the motion smoothly
    for t in (0.1, 0.3, 0.6, 0.9):
        w = pose_at(track, t)
        assert math.dist(_xy(w, SHOULDER), _xy(w, WRIST)) == pytest.approx(2 * UPPER)
    angles = [math.degrees(math.atan2(*(_xy(pose_at(track, t), ELBOW)[k] - STANDING[SHOULDER][k]
                                        for k in (0, 1)))) for t in (0.0, 0.2, 0.4, 0.7, 1.0)]
    assert angles == sorted(angles)  # the arm rises steadily: never back, never past a pose
    assert poses_at(track, [0.0, 0.4]) == [a, m]


def test_no_pose_before_the_first_or_after_the_last_posed_time():
    track = PoseTrack.of({0.25: pose(), 0.75: pose()})
    assert pose_at(track, 0.1) is None and pose_at(track, 0.9) is None
    assert pose_at(track, 0.5) is not None
    assert pose_at(PoseTrack(), 0.5) is None


def test_a_breakdown_on_an_arc_keeps_the_root_on_that_arc():
    # the root travels on a parabola y = 80 + 0.004 (x - 60)^2, x = 60 + 120 t; three poses sample it
    def at(t):
        x = 60.0 + 120.0 * t
        return pose({j: (STANDING[j][0] + x - 128, STANDING[j][1] + 0.004 * (x - 60) ** 2)
                     for j in range(18)})
    track = PoseTrack((TimedPose(0.0, at(0.0)), TimedPose(0.5, at(0.5)), TimedPose(1.0, at(1.0))))
    for t in (0.2, 0.35, 0.65, 0.8):
        assert _xy(pose_at(track, t), 1) == pytest.approx(_xy(at(t), 1), abs=0.05)
        chord = pose_at(PoseTrack((track.poses[0], track.poses[2])), t)
        assert math.dist(_xy(chord, 1), _xy(at(t), 1)) > 1.0  # what two keys alone would give


def test_a_hold_does_not_drift():
    a, b = pose(), pose({j: (STANDING[j][0] + 50, STANDING[j][1]) for j in range(18)})
    track = PoseTrack.of({0.0: a, 0.5: a, 1.0: b})  # held until half way, then a move
    for t in (0.1, 0.25, 0.4):
        assert _flat(pose_at(track, t).body) == pytest.approx(_flat(a.body))
    xs = [_xy(pose_at(track, t), 1)[0] for t in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)]
    assert xs == sorted(xs) and xs[-1] == pytest.approx(STANDING[1][0] + 50)


# --- properties on random skeletons ---------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from inbetween_client.poses import BODY_PARENTS, Pose  # noqa: E402

_coord = st.floats(0.0, 256.0, allow_nan=False)
_point = st.one_of(st.just(MISSING), st.tuples(_coord, _coord, st.floats(0.05, 1.0)))
_body = st.lists(_point, min_size=18, max_size=18).map(lambda pts: Pose(tuple(pts)))


@settings(max_examples=150, deadline=None)
@given(a=_body, b=_body, u=st.floats(0.0, 1.0))
def test_any_two_skeletons_interpolate_to_a_valid_pose(a, b, u):
    p = interpolate_pose(a, b, u)
    for j, q in enumerate(p.body):
        if not Pose.present(a.body[j]) and not Pose.present(b.body[j]):
            assert q == MISSING  # missing in both: missing
        if Pose.present(a.body[j]) and Pose.present(b.body[j]):
            assert Pose.present(q)
            k = BODY_PARENTS[j]
            while k is not None and not (Pose.present(a.body[k]) and Pose.present(b.body[k])):
                k = BODY_PARENTS[k]
            if k is not None:  # the bone to the nearest shared ancestor: its length blends
                la, lb = math.dist(a.body[k][:2], a.body[j][:2]), math.dist(b.body[k][:2], b.body[j][:2])
                assert math.dist(p.body[k][:2], q[:2]) == pytest.approx(la + (lb - la) * u, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(a=_body, b=_body, m=_body, tm=st.floats(0.05, 0.95), t=st.floats(0.0, 1.0))
def test_a_track_gives_a_pose_everywhere_between_its_ends_and_its_poses_at_their_times(a, b, m, tm, t):
    track = PoseTrack.of({0.0: a, tm: m, 1.0: b})
    assert pose_at(track, t) is not None
    assert pose_at(track, tm) is m and pose_at(track, 0.0) is a and pose_at(track, 1.0) is b
