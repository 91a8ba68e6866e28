"""Poses in the shot request: wire round trip, the Segment's poses, and bad poses as `bad_shot`
replies of a real engine process."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from engine.errors import ShotError
from engine.request import shot_from_wire
from engine.shot import Shot
from inbetween_client.client import Done, Frame
from inbetween_client.images import ImageData
from inbetween_client.pose_interpolation import pose_at
from inbetween_client.poses import PoseTrack, TimedPose
from inbetween_client.shot import ShotRequest
from tests.engine.rawsock import RawConnection
from tests.imaging import disc_image, png_bytes
from tests.poses.skeletons import STANDING, pose, rotated

W, H = 256, 256


def _keys():
    return (ImageData.png(png_bytes(disc_image(W, H, center=(60, 128)))),
            ImageData.png(png_bytes(disc_image(W, H, center=(190, 128)))))


def _track(*times_and_turns, size=(W, H)) -> PoseTrack:
    """Poses of the standing figure turned by `turn` degrees about the neck at each time."""
    return PoseTrack(tuple(TimedPose(t, rotated(pose(), turn, *STANDING[1]), f)
                           for f, (t, turn) in enumerate(times_and_turns)), size)


def _decode(req: ShotRequest) -> Shot:
    msg = req.to_message()
    return shot_from_wire(msg.fields["shot"], msg.blobs)[0]


def test_poses_travel_to_the_engines_shot_and_every_inbetween_gets_its_pose():
    track = _track((0.0, 0.0), (0.3, 10.0), (0.55, 20.0), (1.0, 40.0))  # 0.3: no frame there
    a, b = _keys()
    shot = _decode(ShotRequest.between(a, b, inbetweens=3, poses=track))
    assert shot.poses == {0: track}
    seg = shot.segments()[0]
    assert seg.times == [0.25, 0.5, 0.75]
    assert seg.poses == track.poses
    got = seg.inbetween_poses()
    assert got == [pose_at(track, t) for t in (0.25, 0.5, 0.75)]
    assert all(p is not None for p in got)


def test_a_request_without_poses_looks_like_before():
    a, b = _keys()
    req = ShotRequest.between(a, b, inbetweens=3)
    assert "poses" not in req.to_message().fields["shot"]
    seg = _decode(req).segments()[0]
    assert seg.poses == () and seg.inbetween_poses() == [None, None, None]


def test_frame_poses_land_on_the_engines_times_and_keys_are_shared_by_segments():
    a, b = _keys()
    req = ShotRequest(W, H, keys={0: a, 4: b, 10: a}, timing={0: "ease-in", 4: [0.1, 0.3, 0.6, 0.7, 0.9]})
    key_pose, mid_pose = rotated(pose(), 30.0, *STANDING[1]), rotated(pose(), 15.0, *STANDING[1])
    req.set_frame_poses({0: pose(), 2: mid_pose, 4: key_pose, 7: pose(), 10: pose()})
    assert {s: t.times for s, t in req.poses.items()} == {0: [0.0, 0.25], 4: [0.0, 0.6, 1.0]}
    segs = _decode(req).segments()
    # the inner key's pose, sent once, ends the first segment and starts the second
    assert [p.t for p in segs[0].poses] == [0.0, 0.25, 1.0] and segs[0].poses[-1].pose == key_pose
    assert segs[1].poses[0].pose == key_pose
    assert segs[0].inbetween_poses()[1] == mid_pose  # frame 2 is at t = (2/4)^2 = 0.25
    with pytest.raises(ValueError, match="frame 11 is outside the shot"):
        req.set_frame_poses({11: pose()})
    held = ShotRequest(W, H, keys={0: a, 8: b}, timing={0: [0.2, 0.5, 0.8]}, exposure=2)
    with pytest.raises(ValueError, match="frame 3 is a hold of segment 0-8, which has explicit times"):
        held.set_frame_poses({3: pose()})
    held.timing = {0: "ease-out"}
    held.set_frame_poses({3: pose()})
    assert held.poses[0].times == [1 - (1 - 3 / 8) ** 2]


def test_poses_are_canvas_pixels_whatever_the_canvas():
    wide = [ImageData.png(png_bytes(disc_image(640, 200, center=c))) for c in ((60, 100), (560, 100))]
    far = pose({j: (STANDING[j][0] + 380, STANDING[j][1] - 50) for j in range(18)})
    track = PoseTrack((TimedPose(0.0, far), TimedPose(1.0, far)), size=(640, 200))
    shot = _decode(ShotRequest.between(*wide, inbetweens=1, poses=track))
    assert shot.segments()[0].inbetween_poses()[0].body[1] == (508.0, 30.0, 1.0)


def _bad(entry_edit):
    """A submit message whose poses were edited on the wire (what a buggy client might send)."""
    a, b = _keys()
    msg = ShotRequest.between(a, b, inbetweens=3, poses=_track((0.0, 0.0), (1.0, 40.0))).to_message()
    msg = copy.deepcopy(msg)
    entry_edit(msg.fields["shot"])
    return msg


def _set(path, value):
    def edit(shot):
        target = shot
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = value
    return edit


BAD = [
    (_set(["poses", 0, "poses", 0, "keypoints"], [[1, 1, 1]] * 17),
     "poses of segment 0: pose at t=0 (frame 0): 'keypoints' has 17 points, the format has 18"),
    (_set(["poses", 0, "poses", 1, "keypoints", 4], [300.0, 20.0, 1.0]),
     "poses of segment 0-4: pose at t=1 (frame 1): joint 4 (r_wrist) at (300, 20) is outside the "
     "256x256 canvas"),
    (_set(["poses", 0, "poses", 1, "t"], 1.25),
     "poses of segment 0: pose at t=1.25 (frame 1) is outside the segment: t must be in [0, 1]"),
    (_set(["poses", 0, "poses", 1, "keypoints", 2], [10.0, "x", 1.0]),
     "joint 2 (r_shoulder) must be [x, y, c] (three numbers)"),
    (_set(["poses", 0, "start"], 2), "poses for segment starting at 2: no segment starts at that frame"),
    (_set(["poses", 0, "size"], [512, 320]), "the poses are for a 512x320 canvas, but the shot is 256x256"),
    (_set(["poses"], {"start": 0}), "'poses' must be a list of {start, poses}"),
    (_set(["poses", 0, "poses"], "all of them"), "poses of segment 0: 'poses' must be a list of poses"),
]


@pytest.mark.parametrize("edit,message", BAD)
def test_bad_poses_are_refused_with_a_clear_message(edit, message):
    msg = _bad(edit)
    with pytest.raises(ShotError) as err:
        shot_from_wire(msg.fields["shot"], msg.blobs)
    assert message in str(err.value)


def test_two_different_poses_for_one_key_are_refused():
    a, b = _keys()
    req = ShotRequest(W, H, keys={0: a, 4: b, 8: a})
    req.poses = {0: _track((1.0, 10.0)), 4: _track((0.0, 20.0))}
    with pytest.raises(ShotError, match="two different poses for the key at frame 4"):
        _decode(req)


def test_a_real_engine_takes_poses_and_answers_bad_ones_with_bad_shot(engine):
    conn = RawConnection(engine.info)
    try:
        welcome = conn.hello()
        backends = {b["name"]: b for b in welcome.get("capabilities")["backends"]}
        assert backends["flow"]["supports_poses"] is True  # its learned path follows poses
        for i, (edit, message) in enumerate(BAD):
            msg = _bad(edit)
            msg.fields["ref"] = i
            conn.send(msg)
            reply = conn.read()
            assert (reply.type, reply.get("ref"), reply.get("code")) == ("error", i, "bad_shot")
            assert message in reply.get("message")
        # the connection is still open and a good shot with poses runs to the end
        good = _bad(lambda shot: None)
        good.fields["ref"] = "ok"
        conn.send(good)
        accepted = conn.read()
        assert accepted.type == "accepted" and accepted.get("frames") == 3
        frames, last = [], None
        while last is None or last.type not in ("done", "error"):
            last = conn.read()
            if last.type == "frame" and not last.get("preview"):
                frames.append(last.get("frame"))
        assert last.type == "done" and frames == [1, 2, 3]
    finally:
        conn.close()


def test_a_client_submits_poses_and_gets_every_frame(client):
    a, b = _keys()
    req = ShotRequest.between(a, b, inbetweens=3, poses=_track((0.0, 0.0), (0.5, 20.0), (1.0, 40.0)))
    events = list(client.submit(req).events(timeout=60))
    assert isinstance(events[-1], Done)
    out = [e for e in events if isinstance(e, Frame) and not e.preview]
    assert [f.frame for f in out] == [1, 2, 3]
    assert np.frombuffer(out[1].data, np.uint8).size == W * H * 4
