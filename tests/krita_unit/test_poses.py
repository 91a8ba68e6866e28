"""Pose vector layers (fake Krita): the convention, reading, validation and its messages, the
timeline rule (the same times and interpolated skeletons as the engine), and the pose tools."""

from __future__ import annotations

import math

import pytest

from inbetween_client.pose_interpolation import pose_at
from inbetween_client.poses import BODY_JOINTS, Pose, TimedPose
from inbetween_client.shot import ShotRequest
from inbetween_client.timing import segment_times
from inbetween_krita import krita_io, pose_convention as conv, pose_layers, pose_timeline
from inbetween_krita.shot_plan import make_plan

from . import fake_krita
from .conftest import disc

CW, CH = 320, 240


@pytest.fixture
def canvas(fake_krita_module):
    d = fake_krita.FakeDocument(CW, CH, 0, 8)
    fake_krita_module.document = d
    return d


def skeleton(dx: float = 0.0, dy: float = 0.0) -> Pose:
    return conv.default_pose(CW, CH, (100 + dx, 40 + dy, 180 + dx, 220 + dy))


def close(a: Pose, b: Pose, tol: float = 1e-6) -> bool:
    return all((pa[2] == 0) == (pb[2] == 0) and abs(pa[0] - pb[0]) <= tol and abs(pa[1] - pb[1]) <= tol
               for pa, pb in zip(a.body, b.body))


# ------------------------------------------------------------------ the convention


def test_shape_names_colours_and_sizes_follow_krita_ai_diffusion():
    assert [conv.joint_id(j) for j in (0, 1, 17)] == ["P00_J00", "P00_J01", "P00_J17"]
    assert conv.bone_id(16, person=2) == "P02_B16"
    assert conv.parse_shape_name("P00_J17") == ("J", 0, 17)
    assert conv.parse_shape_name("P01_B03") == ("B", 1, 3)
    for bad in ("P00_J18", "P00_B17", "p00_j01", "box", "", "P0_J01"):
        assert conv.parse_shape_name(bad) is None
    # OpenPose's palette: the hue wheel in 18 steps from red
    assert [conv.colour(i) for i in range(4)] == ["#ff0000", "#ff5500", "#ffaa00", "#ffff00"]
    assert conv.colour(6) == "#00ff00" and conv.colour(12) == "#0000ff" and conv.colour(17) == "#ff0055"
    assert conv.JOINT_COUNT == len(BODY_JOINTS) == 18 and len(conv.BONES) == 17
    assert conv.marker_size(512, 320) == 4.0
    assert conv.marker_size(4096, 4096) == pytest.approx(math.hypot(4096, 4096) / 250)
    # the 17 bones are the client library's kinematic tree (OpenPose's limbs)
    from inbetween_client.poses import BODY_PARENTS

    assert {frozenset(b) for b in conv.BONES} == {frozenset((j, p)) for j, p in enumerate(BODY_PARENTS)
                                                   if p is not None}


def test_layer_names_say_the_frame():
    assert conv.pose_layer_name(12) == "pose 0012" and conv.frame_of("pose 0012") == 12
    assert conv.frame_of("Pose 7") == 7 and conv.frame_of(" pose  123 ") == 123
    for name in ("pose", "pose copy", "pose 12a", "posed 12", "interpolated pose 0012", "my pose 3"):
        assert conv.frame_of(name) is None, name
    assert conv.looks_like_pose("pose copy") and conv.looks_like_pose("Pose") and not conv.looks_like_pose("posed")
    assert conv.interpolated_frame_of(conv.interpolated_layer_name(5)) == 5


def test_svg_has_bones_under_joints_and_leaves_out_missing_joints():
    body = list(skeleton().body)
    body[4] = (-1.0, -1.0, 0.0)  # r_wrist not seen
    svg = conv.pose_svg(Pose(tuple(body)), CW, CH)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">')
    assert svg.index("<line") < svg.index("<circle") and svg.rindex("<line") < svg.index("<circle")
    assert svg.count("<circle") == 17 and 'id="P00_J04"' not in svg
    assert svg.count("<line") == 16 and 'id="P00_B03"' not in svg  # bone 3: elbow to the missing wrist
    assert 'stroke-opacity="0.6"' in svg and 'fill="#ff0000"' in svg


@pytest.mark.parametrize("resolution", [72.0, 300.0])
def test_a_pose_layer_reads_back_in_canvas_pixels(canvas, resolution):
    canvas._res = resolution
    pose = skeleton()
    node = pose_layers.create_pose_layer(canvas, 4, pose)
    assert node.name() == "pose 0004" and canvas.activeNode() is node
    assert [e[0] for e in canvas.undo_stack] == ["add"]  # one undo step
    assert close(pose_layers.read_pose(canvas, node), pose)
    node.shape("P00_J04").move_px(10, -5)  # the animator drags the right wrist
    moved = pose_layers.read_pose(canvas, node)
    assert moved.body[4][:2] == pytest.approx((pose.body[4][0] + 10, pose.body[4][1] - 5))
    assert moved.body[3] == pytest.approx(pose.body[3])


def test_the_default_skeleton_fits_the_drawing():
    w, h = 200, 160
    box = conv.alpha_bounds([disc(100, 80, 30, w, h)], w)
    assert box == (70, 50, 130, 110)
    pose = conv.default_pose(w, h, box)
    xs, ys = [p[0] for p in pose.body], [p[1] for p in pose.body]
    assert min(ys) >= 50 and max(ys) <= 110 and min(xs) >= 70 and max(xs) <= 130
    assert max(ys) - min(ys) > 0.8 * 60  # as tall as the drawing allows
    assert pose.body[2][0] < pose.body[5][0]  # facing us: the right shoulder on the image's left
    assert conv.alpha_bounds([bytes(w * h * 4)], w) is None
    middle = conv.default_pose(w, h)  # no drawing: the middle of the canvas
    assert all(0.1 * h <= p[1] <= 0.9 * h for p in middle.body)


# ------------------------------------------------------------------ not a pose: messages


def _vector(doc, name, svg):
    node = doc.add_layer(name, kind="vectorlayer")
    node.addShapesFromSvg(svg)
    return node


def test_layers_named_like_poses_that_are_not_get_messages_naming_them(canvas):
    good = pose_layers.create_pose_layer(canvas, 0, skeleton())
    _vector(canvas, "pose 0003", '<svg xmlns="http://www.w3.org/2000/svg"><rect id="box" x="1" y="1" '
            'width="9" height="9"/><circle cx="5" cy="5" r="2"/></svg>')
    _vector(canvas, "pose 0005", '<svg xmlns="http://www.w3.org/2000/svg"><line id="P00_B00" x1="1" y1="1" '
            'x2="9" y2="9"/></svg>')
    two = _vector(canvas, "pose 0006", conv.pose_svg(skeleton(), CW, CH))
    two.addShapesFromSvg(conv.pose_svg(skeleton(40), CW, CH, person=1))
    canvas.add_layer("pose 0007", {0: b""})  # a paint layer
    _vector(canvas, "pose copy", conv.pose_svg(skeleton(), CW, CH))
    _vector(canvas, "pose 0000 b", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    _vector(canvas, "pose 0", conv.pose_svg(skeleton(), CW, CH))
    posed = pose_layers.read_posed_frames(canvas)
    assert list(posed.layers) == [0] and good.name() == "pose 0000"
    text = "\n".join(posed.problems)
    assert ("'pose 0003' is named like a pose layer but is not a pose: 'box', an unnamed shape are not joints "
            "or bones of a skeleton") in text
    assert "'pose 0005' is named like a pose layer but has no joints" in text
    assert "'pose 0006' holds the skeletons of 2 characters (P00, P01)" in text
    assert "'pose 0007' is a paint layer, named like a pose layer: poses are vector layers" in text
    assert "Frame 0 has two pose layers, 'pose 0000' and 'pose 0'" in text or \
           "Frame 0 has two pose layers, 'pose 0' and 'pose 0000'" in text
    assert any("'pose copy' is not read as a pose" in n for n in posed.notes)
    assert any("'pose 0000 b' is not read as a pose" in n for n in posed.notes)


def test_a_joint_off_the_canvas_and_duplicate_or_missing_joints(canvas):
    node = pose_layers.create_pose_layer(canvas, 2, skeleton())
    node.shape("P00_J10").move_px(0, 200)  # the right ankle dragged below the canvas
    with pytest.raises(conv.PoseLayerError) as err:
        pose_layers.read_pose(canvas, node)
    msg = str(err.value)
    assert msg.startswith("'pose 0002': joint 10 (r_ankle) at (") and "is outside the 320x240 canvas" in msg
    assert "move the joint onto the canvas, or delete its circle" in msg
    node.shape("P00_J10").remove()  # deleted: that joint is not seen in this frame
    pose = pose_layers.read_pose(canvas, node)
    assert pose.body[10] == (-1.0, -1.0, 0.0) and Pose.present(pose.body[9])
    node.addShapesFromSvg('<svg xmlns="http://www.w3.org/2000/svg"><circle id="P00_J03" cx="5" cy="5" r="4"/></svg>')
    with pytest.raises(conv.PoseLayerError, match=r"'pose 0002' has two circles named P00_J03 \(r_elbow\)"):
        pose_layers.read_pose(canvas, node)


def test_pose_layers_are_never_keys_and_are_left_out_of_the_keys_choice(canvas, loop_free_controller):
    ink = canvas.add_layer("ink", {0: disc(100, 120, 40, CW, CH), 8: disc(200, 120, 40, CW, CH)})
    pose_node = pose_layers.create_pose_layer(canvas, 0, skeleton())
    painted = canvas.add_layer("pose 0004", {0: b""})  # a paint layer named like a pose
    assert [n.name() for n in krita_io.paint_layers(canvas)] == ["ink"]
    ctl = loop_free_controller
    canvas.setActiveNode(pose_node)
    with pytest.raises(krita_io.KritaIOError, match="'pose 0000' is the pose layer of frame 0: poses guide"):
        ctl.choices.use_active(canvas)
    with pytest.raises(krita_io.KritaIOError, match="'pose 0004' is the pose layer of frame 4"):
        ctl.choices.set_keys(canvas, painted)
    assert ctl.choices.set_keys(canvas, ink) == "Keys layer: 'ink'."


@pytest.fixture
def loop_free_controller(fake_krita_module):
    from inbetween_krita.controller import Controller

    ctl = Controller(timer_factory=lambda cb: _NoTimer(), defer=lambda ms, fn: None, thumbnailer=None)
    yield ctl
    ctl.shutdown()


class _NoTimer:
    def start(self, ms):
        pass

    def stop(self):
        pass


# ------------------------------------------------------------------ the timeline rule


def test_poses_outside_the_keys_are_named_and_not_sent():
    plan = make_plan("ink", (0, 20), [2, 10])
    posed = pose_timeline.PosedFrames({1: skeleton(), 2: skeleton(), 6: skeleton(5), 14: skeleton(9)},
                                      {1: "pose 0001", 2: "pose 0002", 6: "pose 0006", 14: "pose 0014"})
    sent, notes = pose_timeline.for_plan(posed, plan)
    assert sorted(sent) == [2, 6]
    assert notes == ["'pose 0001' is at frame 1, outside the keys 2-10: it is not sent.",
                     "'pose 0014' is at frame 14, outside the keys 2-10: it is not sent."]
    assert posed.nearest(5) == 6 and posed.nearest(4) == 2 and posed.nearest(6) == 2  # a tie: the earlier


@pytest.mark.parametrize("curve,exposure", [("linear", 1), ("ease-in", 1), ("ease-in-out", 2)])
def test_frame_times_are_the_engine_s(curve, exposure):
    plan = make_plan("ink", (0, 12), [0, 12], exposure=exposure)
    poses = {0: skeleton(), 12: skeleton(60)} | {f: skeleton(f * 5, 3) for f in range(1, 12)}
    timed = pose_timeline.segment_poses(plan, lambda start: curve, poses, 0)
    times = dict(segment_times(0, 12, curve, exposure=exposure))
    got = {p.frame: p.t for p in timed}
    assert got[0] == 0.0 and got[12] == 1.0
    for f, t in times.items():
        assert got[f] == pytest.approx(t)  # every drawn in-between at the engine's time


def test_the_interpolated_pose_of_a_frame_is_the_engine_s(canvas):
    """The skeleton the docker shows for an in-between is the one the engine gives that frame:
    the same request, parsed by the engine, interpolated by Segment.inbetween_poses()."""
    from engine.request import shot_from_wire
    from inbetween_client.images import ImageData

    plan = make_plan("ink", (0, 12), [0, 6, 12])
    timing = {0: "ease-in", 6: "ease-out"}.get
    poses = {0: skeleton(), 3: skeleton(20, 4), 6: skeleton(60), 12: skeleton(100, -10)}
    posed = pose_timeline.PosedFrames(dict(poses), {f: conv.pose_layer_name(f) for f in poses})
    blank = ImageData.rgba(bytes(CW * CH * 4), CW, CH)
    req = ShotRequest(CW, CH, {0: blank, 6: blank, 12: blank}, timing={0: "ease-in", 6: "ease-out"})
    req.set_frame_poses(poses)
    msg = req.to_message()
    shot, _ = shot_from_wire(msg.fields["shot"], msg.blobs)
    checked = 0
    for seg in shot.segments():
        for ib, pose in zip(seg.inbetweens, seg.inbetween_poses()):
            fp = pose_timeline.pose_of_frame(plan, timing, posed, ib.frame)
            if ib.frame in poses:
                assert fp.how == "posed"
                continue
            assert fp.how == "interpolated" and pose is not None, fp.text
            assert close(fp.pose, pose, 1e-9), ib.frame
            checked += 1
    assert checked == 9  # frames 1-11 but the keys and the posed frame 3


def test_frames_without_poses_on_both_sides_say_what_to_pose():
    plan = make_plan("ink", (0, 8), [0, 8])
    posed = pose_timeline.PosedFrames({0: skeleton()}, {0: "pose 0000"})
    fp = pose_timeline.pose_of_frame(plan, lambda s: "linear", posed, 4)
    assert fp.pose is None and "Frame 4 needs a pose on each side of it in the segment 0-8 (poses at 0 only)" in fp.text
    assert "Frame 9 is outside the keys 0-8" in pose_timeline.pose_of_frame(plan, lambda s: "linear", posed, 9).text
    assert "Frame 8 is a key" in pose_timeline.pose_of_frame(plan, lambda s: "linear", posed, 8).text
    two = pose_timeline.PosedFrames({0: skeleton(), 8: skeleton(80)}, {0: "pose 0000", 8: "pose 0008"})
    fp = pose_timeline.pose_of_frame(plan, lambda s: "linear", two, 4)
    expected = pose_at([TimedPose(0.0, skeleton()), TimedPose(1.0, skeleton(80))], 0.5)
    assert fp.how == "interpolated" and close(fp.pose, expected)
    assert fp.text.startswith("Frame 4: interpolated at t=0.500 of 0-8 (linear) from the poses at 0, 8.")


# ------------------------------------------------------------------ keeping the layers tidy


def test_bones_follow_a_moved_joint_and_stay_under_the_joints(canvas):
    node = pose_layers.create_pose_layer(canvas, 0, skeleton())
    keeper = pose_layers.BoneKeeper()
    assert keeper.tick(canvas) == 0  # first sight: the joints are remembered
    before = {s.name(): tuple(s.box) for s in node.shapes()}
    wrist_shape = node.shape("P00_J04")
    wrist_shape.move_px(30, 10)  # right wrist
    assert keeper.tick(canvas) == 1  # bone 3 (elbow - wrist)
    after = {s.name(): s for s in node.shapes()}
    bone = after["P00_B03"]
    elbow, wrist = after["P00_J03"].centre_px(), after["P00_J04"].centre_px()
    assert float(bone.attrs["x1"]) == pytest.approx(elbow[0], abs=0.01)
    assert float(bone.attrs["x2"]) == pytest.approx(wrist[0], abs=0.01)
    assert bone.z == -1 and after["P00_J04"].z == 0
    assert all(tuple(after[n].box) == before[n] for n in before if n not in ("P00_B03", "P00_J04"))
    assert keeper.tick(canvas) == 0
    # Undo, step by step: the redrawn line goes (no joint moved: nothing is drawn over the Undo)...
    bone.remove()
    assert keeper.tick(canvas) == 0 and "P00_B03" not in {s.name() for s in node.shapes()}
    # ...the old line comes back, then the joint: line and joint agree, nothing is redrawn
    node._shapes.append(pose_layers_bone(node, before["P00_B03"]))
    assert keeper.tick(canvas) == 0
    wrist_shape.move_px(-30, -10)
    assert keeper.tick(canvas) == 0
    # a deleted joint takes its bones with it
    after["P00_J03"].remove()
    assert keeper.tick(canvas) == 2  # bones 2 and 3 (shoulder - elbow - wrist)
    assert not any(s.name() in ("P00_B02", "P00_B03") for s in node.shapes())


def pose_layers_bone(node, box):
    return fake_krita.FakeShape(node, "P00_B03", "line", box, {})


def test_only_the_current_frame_s_pose_is_shown_when_asked(canvas):
    a = pose_layers.create_pose_layer(canvas, 0, skeleton())
    b = pose_layers.create_pose_layer(canvas, 8, skeleton(60))
    ghost = pose_layers.show_interpolated(canvas, 4, skeleton(30))
    assert ghost.name() == "interpolated pose 0004" and ghost.opacity() < 255
    assert pose_layers.follow_frame(canvas, 8) is True
    assert (a.visible(), b.visible(), ghost.visible()) == (False, True, False)
    assert pose_layers.follow_frame(canvas, 8) is False  # nothing to change, no re-render
    pose_layers.follow_frame(canvas, 4)
    assert (a.visible(), b.visible(), ghost.visible()) == (False, False, True)
    pose_layers.show_all(canvas)
    assert a.visible() and b.visible() and ghost.visible()
    assert sorted(pose_layers.read_posed_frames(canvas).layers) == [0, 8]  # the ghost is not a pose
    kept = pose_layers.keep_interpolated(canvas, 4)
    assert kept is ghost and kept.name() == "pose 0004" and kept.opacity() == 255
    assert sorted(pose_layers.read_posed_frames(canvas).layers) == [0, 4, 8]
