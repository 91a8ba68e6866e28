"""The docker's pose tools through the controller (fake Krita, a real engine): Pose this frame,
the interpolated skeleton, and Generate with poses (what reaches the engine, bad pose layers)."""

from __future__ import annotations

import pytest

from inbetween_krita import pose_layers

from . import fake_krita
from .conftest import disc
from .test_controller import Loop, make, settled

CW, CH = 160, 120


@pytest.fixture
def loop():
    return Loop()


@pytest.fixture
def shot(fake_krita_module):
    """Keys (discs) at 0 and 8 on 'ink', the playback range 0-8."""
    doc = fake_krita.FakeDocument(CW, CH, 0, 8)
    fake_krita_module.document = doc
    ink = doc.add_layer("ink", {0: disc(40, 60, 25, CW, CH), 8: disc(120, 60, 25, CW, CH)})
    doc.setActiveNode(ink)
    return doc, ink


def test_pose_this_frame_fits_a_skeleton_then_copies_the_nearest(shot, loop):
    doc, ink = shot
    ctl = make(loop)
    try:
        msg = ctl.poses.pose_this_frame(doc)
        assert msg.startswith("Added 'pose 0000': a default skeleton fitted to the drawing of 'ink' at frame 0.")
        first = pose_layers.read_pose(doc, doc.activeNode())
        ys, xs = [p[1] for p in first.body], [p[0] for p in first.body]
        assert 35 <= min(ys) and max(ys) <= 85 and 15 <= min(xs) and max(xs) <= 65  # in the disc's bounds
        doc.setCurrentTimeQuietly(8)
        msg = ctl.poses.pose_this_frame(doc)
        assert msg.startswith("Added 'pose 0008': a copy of the pose of frame 0.")
        node = doc.activeNode()
        for s in node.shapes():
            if s.name().startswith("P00_J"):
                s.move_px(80, 0)  # the animator moves the skeleton onto the second key
        assert pose_layers.read_pose(doc, node).body[1][0] == pytest.approx(first.body[1][0] + 80)
        assert "already has its pose layer 'pose 0008'" in ctl.poses.pose_this_frame(doc)
        fresh = ctl.poses.pose_this_frame(doc, fresh=True)
        assert "already has" in fresh  # one pose layer per frame
        doc.setCurrentTimeQuietly(4)
        assert ctl.poses.pose_this_frame(doc, fresh=True).startswith(
            "Added 'pose 0004': a default skeleton fitted to the drawing of 'ink' at frame 4.")  # held key 0
        assert "Poses at frames 0, 4, 8" in ctl.poses.summary(doc)
    finally:
        ctl.shutdown()


def test_show_interpolated_then_keep_it_as_the_frame_s_pose(shot, loop):
    doc, ink = shot
    ctl = make(loop)
    try:
        ctl.poses.pose_this_frame(doc)
        doc.setCurrentTimeQuietly(3)
        text = ctl.poses.show_interpolated(doc)
        assert "Frame 3 needs a pose on each side of it in the segment 0-8 (poses at 0 only)" in text
        doc.setCurrentTimeQuietly(8)
        ctl.poses.pose_this_frame(doc)
        for s in doc.activeNode().shapes():
            s.move_px(80, 0)
        doc.setCurrentTimeQuietly(3)
        text = ctl.poses.show_interpolated(doc)
        assert text.startswith("Frame 3: interpolated at t=0.375 of 0-8 (linear) from the poses at 0, 8.")
        assert "Shown as 'interpolated pose 0003'" in text
        ghost = next(n for f, n in pose_layers.interpolated_nodes(doc))
        neck = pose_layers.read_pose(doc, ghost).body[1][0]
        a = pose_layers.read_pose(doc, next(n for f, n in pose_layers.pose_nodes(doc) if f == 0)).body[1][0]
        assert neck == pytest.approx(a + 0.375 * 80, abs=1e-3)
        assert sorted(ctl.poses.posed(doc).frames) == [0, 8]  # a preview is not a pose...
        assert "interpolated skeleton shown there, kept" in ctl.poses.pose_this_frame(doc)
        assert sorted(ctl.poses.posed(doc).frames) == [0, 3, 8]  # ...until it is kept
        assert ctl.poses.hide_interpolated(doc) == "No interpolated skeleton is shown."
    finally:
        ctl.shutdown()


def test_generate_sends_the_poses_and_names_what_it_leaves_out(shot, engine, loop):
    doc, ink = shot
    doc.setPlayBackRange(0, 12)
    ctl = make(loop)
    try:
        for t in (0, 4, 8, 11):
            doc.setCurrentTimeQuietly(t)
            ctl.poses.pose_this_frame(doc, fresh=True)
        ctl.settings.timing = "ease-in"
        assert ctl.generate(doc) is True
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        req = ctl.last_request
        assert req["poses"] == [0, 4, 8]  # 11 is outside the keys 0-8
        assert req["pose_times"] == {"0": [0.0, 0.25, 1.0]}  # frame 4 of 0-8, eased in: (4/8)^2
        uses = ctl.poses.uses_poses("flow")  # what the engine says of its default backend
        assert uses is not None
        said = "flow draws the in-betweens in them" if uses else "flow does not use poses yet"
        assert f"Poses at 0, 4, 8 were sent ({said}" in ctl.message
        assert ctl.latest().note.startswith("Poses at 0, 4, 8 were sent")
    finally:
        ctl.shutdown()


def test_a_bad_pose_layer_stops_generate_with_its_name(shot, engine, loop):
    doc, ink = shot
    ctl = make(loop)
    try:
        ctl.poses.pose_this_frame(doc)
        doc.activeNode().shape("P00_J07").move_px(400, 0)  # the left wrist off the canvas
        assert ctl.generate(doc) is True
        loop.spin(settled(ctl))
        assert ctl.state == "failed"
        assert ctl.message.startswith("'pose 0000': joint 7 (l_wrist) at (")
        assert "is outside the 160x120 canvas" in ctl.message and "Nothing was sent" in ctl.message
        ctl.settings.send_poses = False  # ticked off: the same shot goes without poses
        assert ctl.generate(doc) and (loop.spin(settled(ctl)) or True)
        assert ctl.state == "done", ctl.message
        assert ctl.last_request["poses"] == []
    finally:
        ctl.shutdown()
