"""`inbetween-engine interpolate --poses FILE` end to end with the flow backend (a real engine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from inbetween_client.poses import PoseTrack, TimedPose
from tests.conftest import REPO, SHARED
from tests.imaging import disc_image, read_png, write_png
from tests.poses.skeletons import STANDING, pose, rotated

CLIP = SHARED / "bench" / "celanim" / "clip_012"


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ), cwd=REPO)


@pytest.fixture
def keys(tmp_path):
    return (write_png(tmp_path / "a.png", disc_image(256, 256, center=(60, 128))),
            write_png(tmp_path / "b.png", disc_image(256, 256, center=(190, 128))))


def _poses_file(path, times, size=(256, 256), edit=None):
    track = PoseTrack(tuple(TimedPose(t, rotated(pose(), 40 * t, *STANDING[1])) for t in times), size)
    raw = track.to_json()
    if edit:
        edit(raw)
    path.write_text(json.dumps(raw))
    return path


def test_poses_with_inbetweens_and_times(engine, keys, tmp_path):
    a, b = keys
    poses = _poses_file(tmp_path / "poses.json", [0.0, 0.25, 0.4, 1.0])
    conn = ["--connection-file", str(engine.connection_file)]
    r = cli("interpolate", str(a), str(b), "--out", str(tmp_path / "o1"), "--inbetweens", "3",
            "--poses", str(poses), "--json", *conn)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["inbetweens"] == 3
    # no RIFE weights in this engine's models folder: the classical path ran, and it ignores poses
    assert summary["poses"] == {"given": 4, "keys": 2, "inbetweens": 1, "guides": 1, "used": False,
                                "note": "poses given but backend flow does not use them "
                                        "(only the learned path follows poses)"}
    r = cli("interpolate", str(a), str(b), "--out", str(tmp_path / "o2"), "--times", "0.25,0.4,0.7",
            "--poses", str(poses), *conn)
    assert r.returncode == 0, r.stderr
    assert "poses: 4 (2 on keys, 2 on in-betweens, 0 at other times); poses given but backend " \
           "flow does not use them (only the learned path follows poses)" in r.stdout
    assert len(list((tmp_path / "o2").glob("frame_*.png"))) == 5


@pytest.mark.skipif(not CLIP.is_dir(), reason=f"shared benchmark data not found at {CLIP}")
def test_a_celanim_clip_with_its_poses(engine, tmp_path):
    out = tmp_path / "out"
    r = cli("interpolate", str(CLIP / "frame_0.png"), str(CLIP / "frame_8.png"), "--out", str(out),
            "--inbetweens", "7", "--poses", str(CLIP / "poses.json"), "--json",
            "--connection-file", str(engine.connection_file))
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["inbetweens"], s["poses"]["keys"], s["poses"]["inbetweens"]) == (7, 2, 7)
    assert read_png(out / "frame_0004.png").shape[:2] == (320, 512)


def _keypoints(j, value):
    def edit(raw):
        raw["frames"][1]["keypoints"][j] = value
    return edit


@pytest.mark.parametrize("write,status,message", [
    (lambda p: None, 2, "--poses {f}: no such file"),
    (lambda p: p.write_text("{not json"), 2, "--poses {f}: not valid JSON"),
    (lambda p: _poses_file(p, [0.0, 1.0], edit=lambda raw: raw["frames"][0]["keypoints"].pop()),
     2, "pose at t=0: 'keypoints' has 17 points, the format has 18"),
    (lambda p: _poses_file(p, [0.0, 1.3]), 2, "pose at t=1.3 is outside the segment"),
    (lambda p: _poses_file(p, [0.0, 1.0], edit=_keypoints(9, [400, 12, 1])), 1,
     "poses of segment 0-4: pose at t=1: joint 9 (r_knee) at (400, 12) is outside the 256x256 canvas"),
    (lambda p: _poses_file(p, [0.0, 1.0], size=(512, 320)), 1,
     "the poses are for a 512x320 canvas, but the shot is 256x256"),
])
def test_bad_pose_files_are_clear_errors(engine, keys, tmp_path, write, status, message):
    a, b = keys
    f = tmp_path / "poses.json"
    write(f)
    r = cli("interpolate", str(a), str(b), "--out", str(tmp_path / "o"), "--inbetweens", "3",
            "--poses", str(f), "--connection-file", str(engine.connection_file))
    assert r.returncode == status, r.stderr
    assert message.replace("{f}", str(f)) in r.stderr
    assert "Traceback" not in r.stderr
