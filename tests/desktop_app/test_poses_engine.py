"""Poses with a real engine process: Generate sends them (the engine receives, validates and
interpolates them: its `done` stats say which in-betweens got a pose, and they are the poses the
app shows), bad poses are refused before sending with the frame and joint named, and the pose
images are exported as the engine's DWPose renderer draws them."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.model import pose_edits, pose_timing
from desktop_app.model.pose_layer import PoseLayer
from desktop_app.model.shot import Frame, Role, ShotDocument
from engine.poses.render import render_pose
from engine.request import shot_from_wire
from inbetween_client.poses import Pose, PoseTrack
from tests.imaging import read_png

from .conftest import disc
from .test_end_to_end import _connect

W, H = 256, 160
R_WRIST = 4


@pytest.fixture
def posed(qtbot, window, engine):
    """The window on a connected engine, with a shot whose keys and frame 4 are posed."""
    _connect(qtbot, window, engine)
    frames = [Frame(role=Role.KEY, drawing=disc(W, H, x=60, y=80, r=50))] + [Frame() for _ in range(7)] + \
        [Frame(role=Role.KEY, drawing=disc(W, H, x=190, y=80, r=50))]
    window.set_document(ShotDocument(W, H, 24.0, frames), None)
    window.poses.add()
    window.poses.copy_to_next_key()
    pose_edits.drag_joint(window.doc, 3, R_WRIST, 90.0, 20.0)
    return window


def _spy_submit(win) -> list:
    sent = []
    real = win.link.submit

    def submit(request):
        sent.append(request)
        return real(request)

    win.link.submit = submit
    return sent


def test_generate_sends_the_poses_and_the_engine_interpolates_the_ones_shown(qtbot, posed):
    win = posed
    sent = _spy_submit(win)
    outcomes = []
    win.link.jobFinished.connect(outcomes.append)
    win.cursor.set_current(4)
    with qtbot.waitSignal(win.generator.finished, timeout=120_000) as done:
        assert win.generator.generate_segment()
        assert "flow follows the poses on frames 1, 4, 9." in win.statusBar().currentMessage()
    assert done.args == [True], win.generate_panel.status.text()
    # the engine process received and interpolated them: its done stats say so
    stats = outcomes[0].stats["poses"]
    # this engine has no RIFE weights (an empty models folder): flow ran its classical path,
    # which does not follow poses, and the engine says so
    assert stats == {"given": 3, "inbetweens_posed": [1, 2, 3, 4, 5, 6, 7], "used": False, "backend": "flow",
                     "why_not": "only the learned path follows poses"}
    assert ("The engine gave 7 in-betweens a pose (flow ignores it: only the learned path follows poses)."
            in win.generate_panel.status.text())
    # the poses it interpolated are the ones the app showed: the request, read by the engine's code
    msg = sent[0].to_message()
    shot, _ = shot_from_wire(msg.fields["shot"], msg.blobs)
    (segment,) = shot.segments()
    for ib, pose in zip(segment.inbetweens, segment.inbetween_poses()):
        assert pose == pose_timing.shown(win.doc, ib.frame).layer.pose
    # the generate panel said it before the run too
    assert "Poses: flow follows them." in win.generate_panel.pose_note.text()


def test_a_pose_off_the_canvas_is_refused_before_sending_naming_frame_and_joint(qtbot, posed):
    win = posed
    sent = _spy_submit(win)
    body = win.doc.frames[3].pose.pose.body
    off = PoseLayer(Pose(tuple((300.0, 40.0, 1.0) if j == 10 else p for j, p in enumerate(body))))
    pose_edits.set_pose(win.doc, 3, off)  # as a project edited by hand would have it
    assert not win.generator.generate_segment()
    text = win.generate_panel.status.text()
    assert "the pose on frame 4: joint 10 (r_ankle) at (300, 40) is outside the 256x160 canvas" in text
    assert not sent and win.link.connected and not win.generator.running
    assert win.link.client.ping() >= 0


def test_export_writes_engine_json_and_the_pose_images_the_model_sees(posed, tmp_path):
    win = posed
    result = win.poses.export_to(tmp_path / "out", "walk")
    assert [p.name for p in result.json_files] == ["walk_poses_0001-0009.json"]
    assert [p.name for p in result.image_files] == [f"walk_pose_{i:04d}.png" for i in range(1, 10)]
    assert result.note == ""
    track = PoseTrack.read(result.json_files[0])
    assert [p.frame for p in track.poses] == [0, 3, 8]
    for i, path in enumerate(result.image_files):
        want = render_pose(pose_timing.shown(win.doc, i).layer.pose, W, H)
        got = read_png(path)
        assert got.shape[:2] == (H, W) and np.array_equal(got[:, :, :3], want), path.name
        if got.shape[2] == 4:
            assert (got[:, :, 3] == 255).all()
    assert "Exported 1 pose file and 9 pose images" in win.statusBar().currentMessage()


def test_pose_images_need_an_engine_that_renders_them(posed, tmp_path):
    win = posed
    win.link.client.capabilities.pop("render_poses")  # as an engine from before the request
    result = win.poses.export(tmp_path / "old", "walk")
    assert len(result.json_files) == 1 and not result.image_files
    assert "predates render_poses" in result.note
    assert win.link.client.ping() >= 0  # nothing unknown was sent: the connection is fine
    win.link.close()
    result = win.poses.export(tmp_path / "none", "walk")
    assert len(result.json_files) == 1 and not result.image_files
    assert "drawn by the engine" in result.note and "Reconnect" in result.note


def test_fast_preview_is_offered_for_flow_and_sent_with_generate(qtbot, posed):
    """The engine advertises flow's `preview` option, so the panel shows the box; ticked, the
    request carries `preview: true` and the engine takes it; unticked, nothing is sent."""
    win = posed
    panel = win.generate_panel
    assert panel.backend.currentText() == "flow" and panel.preview.isVisibleTo(panel)
    assert not panel.preview.isChecked()  # the final frames by default
    sent = _spy_submit(win)
    win.cursor.set_current(4)
    panel.preview.setChecked(True)
    with qtbot.waitSignal(win.generator.finished, timeout=120_000) as done:
        assert win.generator.generate_segment()
    assert done.args == [True], panel.status.text()
    assert sent[-1].options == {"seed": 0, "preview": True}
    panel.preview.setChecked(False)
    with qtbot.waitSignal(win.generator.finished, timeout=120_000) as done:
        assert win.generator.generate_segment()
    assert done.args == [True], panel.status.text()
    assert sent[-1].options == {"seed": 0}
    # a backend that does not advertise it hides the box (and sends nothing for it)
    panel.preview.setChecked(True)
    panel.set_backends([{"name": "tooncrafter", "available": True, "options": ["seed", "steps"]}])
    assert not panel.preview.isVisibleTo(panel) and panel.options() == {}
