"""The pose format: dataclasses, poses.json read/write, and validation messages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from inbetween_client.poses import (
    BODY_JOINTS,
    BODY_PARENTS,
    FACE_POINTS,
    HAND_PARENTS,
    HAND_POINTS,
    MISSING,
    Pose,
    PoseError,
    PoseTrack,
    TimedPose,
)
from tests.conftest import SHARED
from tests.poses.skeletons import hand_at, pose

CELANIM = SHARED / "bench" / "celanim"


def _track_json(frames, **top):
    return {"format": "openpose-coco18", "keypoint_names": list(BODY_JOINTS), "size": [256, 256],
            **top, "frames": frames}


def _frame(t, keypoints=None, **extra):
    body = keypoints if keypoints is not None else [list(p) for p in pose().body]
    return {"t": t, "keypoints": body, **extra}


def test_kinematic_trees_are_trees_rooted_at_neck_and_wrist():
    assert len(BODY_JOINTS) == len(BODY_PARENTS) == 18
    assert [j for j, p in enumerate(BODY_PARENTS) if p is None] == [1]  # the neck
    for parents in (BODY_PARENTS, HAND_PARENTS):
        for j in range(len(parents)):  # every joint reaches the root without a cycle
            seen, k = set(), j
            while parents[k] is not None:
                assert k not in seen
                seen.add(k)
                k = parents[k]
    assert len(HAND_PARENTS) == HAND_POINTS and HAND_PARENTS[:6] == (None, 0, 1, 2, 3, 0)


@pytest.mark.skipif(not CELANIM.is_dir(), reason=f"shared benchmark data not found at {CELANIM}")
def test_reads_every_celanim_poses_file_and_writes_it_back_unchanged(tmp_path):
    for path in sorted(CELANIM.glob("clip_*/poses.json")):
        track = PoseTrack.read(path)
        raw = json.loads(path.read_text())
        assert track.size == tuple(raw["size"])
        assert track.times == [f["t"] for f in raw["frames"]]
        assert [p.frame for p in track.poses] == [f["frame"] for f in raw["frames"]]
        for p, f in zip(track.poses, raw["frames"]):
            assert [list(q) for q in p.pose.body] == f["keypoints"]
        assert track.poses[0].pose.body[16] == MISSING  # the rig has no ears
        out = tmp_path / "poses.json"
        track.write(out)
        assert PoseTrack.read(out) == track
        assert json.loads(out.read_text())["facing"] == raw["facing"]  # other fields are kept


def test_hands_and_face_are_kept_through_json(tmp_path):
    face = tuple((100 + i, 50 + (i % 7), 0.9) for i in range(FACE_POINTS))
    p = pose(hand_left=hand_at(146, 130), hand_right=hand_at(110, 130), face=face)
    track = PoseTrack((TimedPose(0.0, p, 0), TimedPose(1.0, pose())), size=(256, 256))
    track.write(tmp_path / "p.json")
    back = PoseTrack.read(tmp_path / "p.json")
    assert back == track
    assert back.poses[0].pose.face == face and back.poses[1].pose.hand_left is None
    assert set(json.loads((tmp_path / "p.json").read_text())["frames"][0]) == {
        "t", "frame", "keypoints", "hand_left", "hand_right", "face"}


def test_missing_points_are_stored_as_minus_one():
    raw = [list(p) for p in pose().body]
    raw[4] = [37.0, 12.0, 0.0]  # c = 0 whatever x and y say
    p = Pose.from_json({"keypoints": raw})
    assert p.body[4] == MISSING == (-1.0, -1.0, 0.0)
    assert not Pose.present(p.body[4]) and Pose.present(p.body[3])


def test_poses_sort_by_time_and_at_finds_them_within_tolerance():
    track = PoseTrack.from_json(_track_json([_frame(1.0), _frame(0.0), _frame(1 / 3)]))
    assert track.times == [0.0, 1 / 3, 1.0]
    assert track.at(0.33333) is track.poses[1].pose
    assert track.at(0.5) is None


def test_scaled_moves_present_points_only():
    p = pose(missing=(4,)).scaled(2.0, 0.5)
    assert p.body[1] == (256.0, 40.0, 1.0) and p.body[4] == MISSING


@pytest.mark.parametrize("frames,match", [
    ([_frame(0.0, [[1, 2, 1]] * 17)], r"pose at t=0: 'keypoints' has 17 points, the format has 18"),
    ([_frame(0.5, frame=4, keypoints=[[1, 2, 1]] * 19)], r"pose at t=0.5 \(frame 4\): 'keypoints' has 19"),
    ([_frame(1.5)], r"pose at t=1.5 is outside the segment: t must be in \[0, 1\]"),
    ([_frame(-0.25, frame=2)], r"pose at t=-0.25 \(frame 2\) is outside the segment"),
    ([_frame("half")], r"'t' must be a number"),
    ([{"keypoints": []}], r"entry 0: 't' must be a number"),
    ([{"t": 0.0}], r"no 'keypoints'"),
    ([_frame(0.0, [[1, 2, 1]] * 3 + [[1, 2]] + [[1, 2, 1]] * 14)],
     r"joint 3 \(r_elbow\) must be \[x, y, c\]"),
    ([_frame(0.0, [[1, 2, 1]] * 4 + [[1, 2, 1.5]] + [[1, 2, 1]] * 13)],
     r"joint 4 \(r_wrist\) confidence must be in \[0, 1\], got 1.5"),
    ([_frame(0.0, [[1, 2, 1]] * 7 + [[float("nan"), 2, 1]] + [[1, 2, 1]] * 10)],
     r"joint 7 \(l_wrist\) x is nan"),
    ([_frame(0.0), _frame(0.00001)], r"two poses at the same time"),
    ([_frame(0.0, hand_left=[[1, 2, 1]] * 20)], r"'hand_left' has 20 points, the format has 21"),
    ("nope", r"'frames' must be a list"),
])
def test_invalid_poses_name_the_pose_and_the_joint(frames, match):
    with pytest.raises(PoseError, match=match):
        PoseTrack.from_json(_track_json(frames))


@pytest.mark.parametrize("top,match", [
    ({"format": "coco-wholebody"}, "format 'coco-wholebody' is not supported"),
    ({"keypoint_names": list(reversed(BODY_JOINTS))}, "keypoint_names .* are not the openpose-coco18 order"),
    ({"size": [0, 10]}, r"'size' must be \[width, height\]"),
])
def test_invalid_files_say_what_is_wrong(top, match):
    with pytest.raises(PoseError, match=match):
        PoseTrack.from_json(_track_json([_frame(0.0)], **top))


def test_joints_outside_the_canvas_are_named():
    track = PoseTrack((TimedPose(0.5, pose({9: (300.5, 175)}), 4),), size=None)
    with pytest.raises(PoseError, match=r"pose at t=0.5 \(frame 4\): joint 9 \(r_knee\) at "
                                         r"\(300.5, 175\) is outside the 256x256 canvas"):
        track.check_canvas(256, 256)
    track.check_canvas(320, 256)
    missing_off_canvas = PoseTrack((TimedPose(0.5, pose(missing=(9,))),))
    missing_off_canvas.check_canvas(256, 256)  # (-1, -1, 0) is not a point on the canvas
    with pytest.raises(PoseError, match="the poses are for a 256x256 canvas, but the shot is 512x320"):
        PoseTrack((), size=(256, 256)).check_canvas(512, 320)


def test_bad_files_give_one_clear_message(tmp_path):
    with pytest.raises(PoseError, match="no such file"):
        PoseTrack.read(tmp_path / "absent.json")
    with pytest.raises(PoseError, match="is a folder"):
        PoseTrack.read(tmp_path)
    (tmp_path / "bad.json").write_text('{"frames": [')
    with pytest.raises(PoseError, match=r"bad.json: not valid JSON \(Expecting value at line 1"):
        PoseTrack.read(tmp_path / "bad.json")
    (tmp_path / "nan.json").write_text('{"frames": [{"t": NaN, "keypoints": []}]}')
    with pytest.raises(PoseError, match="NaN is not a number a pose may hold"):
        PoseTrack.read(tmp_path / "nan.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PoseError, match="not a text"):
        PoseTrack.read(tmp_path / "bin.json")
    (tmp_path / "short.json").write_text(json.dumps(_track_json([_frame(0.0, [[1, 2, 1]] * 5)])))
    with pytest.raises(PoseError, match=r"short.json: pose at t=0: 'keypoints' has 5 points"):
        PoseTrack.read(tmp_path / "short.json")


def test_a_pose_object_checks_itself():
    with pytest.raises(PoseError, match="has 3 points"):
        Pose(((1.0, 2.0, 1.0),) * 3)
    with pytest.raises(PoseError, match="y is inf"):
        Pose(((1.0, math.inf, 1.0),) + ((1.0, 2.0, 1.0),) * 17)


def test_a_bare_list_of_poses_is_a_track():
    track = PoseTrack.from_json([_frame(0.0), _frame(1.0)])
    assert track.times == [0.0, 1.0] and track.size is None
    assert PoseTrack.of({0.0: pose(), 1.0: pose()}).times == [0.0, 1.0]
    assert Path  # noqa: used in type hints of the helpers above
