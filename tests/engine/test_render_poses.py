"""`render_poses` against a real engine process: pixel-exact DWPose images (raw RGB and PNG, at
the canvas size or another), batches split by the client to the advertised limits, bad
requests answered `bad_message` naming the pose and joint with the connection kept open, and
`done.stats.poses` on a shot with poses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.poses.render import render_pose
from inbetween_client.client import NotSupportedError
from inbetween_client.errors import ErrorCode, RemoteError
from inbetween_client.images import ImageData
from inbetween_client.poses import Pose, PoseTrack
from inbetween_client.protocol import Message
from inbetween_client.shot import ShotRequest
from tests.engine.rawsock import RawConnection
from tests.imaging import disc_image, png_bytes
from tests.poses.skeletons import STANDING, pose, rotated

W, H = 256, 160


def _poses(n: int) -> list[Pose]:
    return [rotated(pose(), 7.0 * i, *STANDING[1]) for i in range(n)]


def _fits(p: Pose, w: int = W, h: int = H) -> Pose:
    """The test skeleton scaled onto a w x h canvas."""
    xs = [x for x, _, c in p.body if c > 0]
    ys = [y for _, y, c in p.body if c > 0]
    s = min(0.9 * w / max(1.0, max(xs) - min(xs)), 0.9 * h / max(1.0, max(ys) - min(ys)))
    return Pose(tuple(pt if pt[2] <= 0 else ((pt[0] - min(xs)) * s + 0.05 * w, (pt[1] - min(ys)) * s + 0.05 * h,
                                             pt[2]) for pt in p.body))


def test_capabilities_advertise_render_poses(client):
    info = client.capabilities["render_poses"]
    assert info["max_poses"] >= 1 and info["max_reply_bytes"] > 0 and set(info["encodings"]) == {"rgb", "png"}
    assert client.renders_poses


def test_images_are_the_renderers_pixel_for_pixel(client):
    poses = [_fits(p) for p in _poses(3)]
    images = client.render_poses(W, H, poses, labels=["frame 1", "frame 2", "frame 3"])
    assert [(im.width, im.height, im.encoding) for im in images] == [(W, H, "rgb")] * 3
    for p, im in zip(poses, images):
        assert np.array_equal(np.frombuffer(im.data, np.uint8).reshape(H, W, 3), render_pose(p, W, H))
    small = client.render_poses(W, H, poses[:1], size=(128, 80), encoding="png")[0]
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(small.data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.array_equal(decoded, render_pose(poses[0], W, H, (128, 80)))


def test_a_batch_over_the_engines_limit_is_split_by_the_client(client):
    client.capabilities["render_poses"] = dict(client.capabilities["render_poses"], max_poses=4)
    poses = [_fits(p, 64, 40) for p in _poses(10)]
    images = client.render_poses(64, 40, poses)
    assert len(images) == 10
    for p, im in zip(poses, images):
        assert np.array_equal(np.frombuffer(im.data, np.uint8).reshape(40, 64, 3), render_pose(p, 64, 40))


def test_bad_requests_get_bad_message_and_the_connection_stays(client):
    good = _fits(_poses(1)[0])
    off = Pose(tuple((400.0, 10.0, 1.0) if j == 9 else pt for j, pt in enumerate(good.body)))
    with pytest.raises(RemoteError) as err:
        client.render_poses(W, H, [good, off], labels=["frame 1", "frame 7"])
    assert err.value.code == ErrorCode.BAD_MESSAGE
    assert "pose 1 (frame 7): joint 9 (r_knee) at (400, 10) is outside the 256x160 canvas" in err.value.message
    for fields, words in (
        ({"width": W, "height": H, "poses": []}, "'poses' must be a list of 1.."),
        ({"width": 0, "height": H, "poses": [good.to_json()]}, "width must be an integer"),
        ({"width": W, "height": H, "encoding": "jpeg", "poses": [good.to_json()]}, "encoding must be one of"),
        ({"width": W, "height": H, "poses": [{"keypoints": [[1, 1, 1]] * 17}]}, "'keypoints' has 17 points"),
        ({"width": W, "height": H, "size": [5000, 10], "poses": [good.to_json()]}, "size must be an integer"),
    ):
        with pytest.raises(RemoteError) as err:
            client._request(Message("render_poses", fields), 30)
        assert err.value.code == ErrorCode.BAD_MESSAGE and words in err.value.message, err.value.message
    assert client.ping() >= 0 and client.connected


def test_an_engine_without_render_poses_is_never_sent_one(client):
    client.capabilities.pop("render_poses")
    assert not client.renders_poses
    with pytest.raises(NotSupportedError, match="predates render_poses"):
        client.render_poses(W, H, [_fits(_poses(1)[0])])
    assert client.ping() >= 0


def test_an_unauthenticated_render_request_is_refused(engine):
    raw = RawConnection(engine.info)
    raw.send(Message("render_poses", {"width": W, "height": H, "poses": []}))
    assert raw.read().get("code") == ErrorCode.AUTH_REQUIRED
    raw.close()


def test_done_stats_say_which_inbetweens_got_a_pose(client):
    key_a = ImageData.png(png_bytes(disc_image(W, H, center=(60, 80))))
    key_b = ImageData.png(png_bytes(disc_image(W, H, center=(190, 80))))
    a, b = (_fits(p) for p in _poses(2))
    only_a = ShotRequest.between(key_a, key_b, inbetweens=3, poses=PoseTrack.of({0.0: a}, (W, H)))
    assert client.interpolate(only_a).stats["poses"] == {"given": 1, "inbetweens_posed": [], "used": False,
                                                          "backend": "flow",
                                                          "why_not": "only the learned path follows poses"}
    both = ShotRequest.between(key_a, key_b, inbetweens=3, poses=PoseTrack.of({0.0: a, 1.0: b}, (W, H)))
    assert client.interpolate(both).stats["poses"]["inbetweens_posed"] == [1, 2, 3]
    assert "poses" not in client.interpolate(ShotRequest.between(key_a, key_b, inbetweens=3)).stats
