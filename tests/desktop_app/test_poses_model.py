"""The pose layer in the shot document, without a window: add, drag (free and keeping bone
lengths), mirror, hide, copy to the next key, the interpolated poses (exactly the engine's),
pose keys, undo/redo of each, save/reopen, export as JSON, import, and bad input."""

from __future__ import annotations

import json
import math

import pytest

from desktop_app import generation
from desktop_app.io import pose_export, project
from desktop_app.model import edits, pose_edits, pose_timing
from desktop_app.model.pose_layer import SWAP, PoseLayer, default_pose
from desktop_app.model.shot import Frame, Role, ShotDocument
from engine.request import shot_from_wire
from inbetween_client.pose_interpolation import pose_at
from inbetween_client.poses import BODY_JOINTS, MISSING, Pose, PoseError, PoseTrack
from inbetween_client.timing import curve_time

from .conftest import disc

W, H = 256, 160
R_WRIST, R_ELBOW, R_SHOULDER, NECK, L_WRIST = 4, 3, 2, 1, 7


@pytest.fixture
def doc(qapp):
    """Keys at 0 and 8 (a character, here a disc, moving right), 7 in-betweens, 256x160."""
    frames = [Frame(role=Role.KEY, drawing=disc(W, H, x=60, y=80, r=50))] + [Frame() for _ in range(7)] + \
        [Frame(role=Role.KEY, drawing=disc(W, H, x=190, y=80, r=50))]
    return ShotDocument(W, H, 24.0, frames)


def _undo_redo_round_trip(doc: ShotDocument, before: tuple, after: tuple) -> None:
    doc.undo_stack.undo()
    assert [f.pose for f in doc.frames] == [f.pose for f in before]
    doc.undo_stack.redo()
    assert [f.pose for f in doc.frames] == [f.pose for f in after]


def test_add_pose_fits_the_default_skeleton_to_the_drawing(doc):
    before = doc.frames
    layer = pose_edits.add_pose(doc, 0)
    assert doc.frames[0].pose == layer and doc.undo_stack.count() == 1
    pts = layer.points()
    assert len(pts) == 18 and not any(layer.is_hidden(j) for j in range(18))
    xs, ys = [p[0] for p in pts.values()], [p[1] for p in pts.values()]
    assert 10 <= min(xs) and max(xs) <= 110 and 30 <= min(ys) and max(ys) <= 130  # inside the disc's box
    assert max(ys) - min(ys) > 80  # as tall as the drawing
    assert pts[0][1] < pts[NECK][1] < pts[8][1] < pts[9][1] < pts[10][1]  # head, neck, hip, knee, ankle
    assert pts[R_SHOULDER][0] < pts[NECK][0] < pts[5][0]  # facing the viewer: its right on the left
    layer.pose.check_canvas(W, H)
    _undo_redo_round_trip(doc, before, doc.frames)
    # an empty frame gets the skeleton on the canvas, with a margin
    empty = pose_edits.add_pose(doc, 4)
    assert all(0 < x < W and 0 < y < H for x, y in empty.points().values())


def test_drag_moves_one_joint_or_keeps_the_previous_poses_bone_lengths(doc):
    key = pose_edits.add_pose(doc, 0)
    pose_edits.copy_to_next_key(doc, 0)
    target = doc.frames[8].pose
    # free drag: only the wrist moves
    pose_edits.drag_joint(doc, 8, R_WRIST, 150.0, 40.0)
    moved = doc.frames[8].pose
    assert moved.point(R_WRIST) == (150.0, 40.0)
    assert all(moved.point(j) == target.point(j) for j in range(18) if j != R_WRIST)
    doc.undo_stack.undo()
    assert doc.frames[8].pose == target
    # keep lengths: the upper arm keeps key A's length and turns; the forearm turns along, rigid
    pose_edits.drag_joint(doc, 8, R_ELBOW, 120.0, 20.0, keep_lengths=True)
    rig = doc.frames[8].pose
    shoulder, elbow, wrist = (rig.point(j) for j in (R_SHOULDER, R_ELBOW, R_WRIST))
    assert math.dist(shoulder, elbow) == pytest.approx(key.bone_lengths()[R_ELBOW], abs=0.02)
    assert math.dist(elbow, wrist) == pytest.approx(target.bone_lengths()[R_WRIST], abs=0.02)
    direction = math.atan2(20.0 - shoulder[1], 120.0 - shoulder[0])
    assert math.atan2(elbow[1] - shoulder[1], elbow[0] - shoulder[0]) == pytest.approx(direction, abs=1e-3)
    assert rig.point(L_WRIST) == target.point(L_WRIST)  # the other arm stays
    # keep lengths on the root (the neck): the whole skeleton moves
    pose_edits.drag_joint(doc, 8, NECK, target.point(NECK)[0] - 10, target.point(NECK)[1] + 5, keep_lengths=True)
    whole = doc.frames[8].pose
    for j in range(18):
        assert whole.point(j) == pytest.approx((rig.point(j)[0] - 10, rig.point(j)[1] + 5), abs=0.02)
    assert doc.undo_stack.count() == 4  # add, copy, drag (undone then replaced), lengths drag, root drag
    # dragged off the canvas: the joint stops at the edge
    pose_edits.drag_joint(doc, 8, R_WRIST, 900.0, -50.0)
    assert doc.frames[8].pose.point(R_WRIST) == (W, 0.0)


def test_mirror_flips_about_the_neck_and_swap_exchanges_sides(doc):
    pose_edits.add_pose(doc, 0)
    pose_edits.drag_joint(doc, 0, R_WRIST, 20.0, 30.0)  # raise the right hand
    raised = doc.frames[0].pose
    neck_x = raised.point(NECK)[0]
    pose_edits.mirror(doc, 0)
    m = doc.frames[0].pose
    assert m.point(L_WRIST) == pytest.approx((2 * neck_x - 20.0, 30.0), abs=0.02)  # now the left hand is up
    assert m.point(NECK) == raised.point(NECK)
    assert m.point(R_SHOULDER)[0] < neck_x  # still facing the viewer
    pose_edits.mirror(doc, 0)
    twice = doc.frames[0].pose
    assert all(twice.point(j) == pytest.approx(raised.point(j), abs=0.02) for j in range(18))
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.frames[0].pose == raised
    pose_edits.mirror(doc, 0, swap_only=True)
    s = doc.frames[0].pose
    assert all(s.point(j) == raised.point(SWAP[j]) for j in range(18))
    assert s.point(R_SHOULDER)[0] > neck_x  # the figure faces away now
    _undo_redo_round_trip(doc, (Frame(pose=raised),) + doc.frames[1:], doc.frames)


def test_hidden_joint_is_missing_for_the_engine_and_comes_back_where_it_was(doc, tmp_path):
    layer = pose_edits.add_pose(doc, 0)
    where = layer.point(R_WRIST)
    pose_edits.set_hidden(doc, 0, R_WRIST, True)
    hidden = doc.frames[0].pose
    assert hidden.pose.body[R_WRIST] == MISSING and hidden.point(R_WRIST) == where and hidden.is_hidden(R_WRIST)
    # what the engine would draw/receive: the joint is not there
    assert hidden.pose.to_json()["keypoints"][R_WRIST] == [-1.0, -1.0, 0.0]
    pose_edits.drag_joint(doc, 0, R_WRIST, 30.0, 40.0)  # moving a hidden joint moves where it comes back
    assert doc.frames[0].pose.is_hidden(R_WRIST) and doc.frames[0].pose.point(R_WRIST) == (30.0, 40.0)
    project.save(doc, tmp_path / "shot")
    again = project.load(tmp_path / "shot")
    assert again.frames[0].pose == doc.frames[0].pose
    pose_edits.set_hidden(doc, 0, R_WRIST, False)
    assert doc.frames[0].pose.pose.body[R_WRIST] == (30.0, 40.0, 1.0)
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.frames[0].pose == hidden
    # a joint missing with no place (from a file) is shown at the default skeleton's place for it
    bare = PoseLayer(Pose(tuple(MISSING if j == R_WRIST else p for j, p in enumerate(layer.pose.body))))
    pose_edits.set_pose(doc, 0, bare)
    pose_edits.set_hidden(doc, 0, R_WRIST, False)
    assert doc.frames[0].pose.point(R_WRIST) is not None and not doc.frames[0].pose.is_hidden(R_WRIST)


def test_copy_to_next_key_is_one_step_and_lands_on_its_drawing(doc):
    key = pose_edits.add_pose(doc, 0)
    n = doc.undo_stack.count()
    assert pose_edits.copy_to_next_key(doc, 0) == 8
    assert doc.undo_stack.count() == n + 1
    copy = doc.frames[8].pose
    assert copy.bone_lengths() == pytest.approx(key.bone_lengths(), abs=0.02)
    assert copy.point(NECK)[0] - key.point(NECK)[0] == pytest.approx(130.0, abs=1.0)  # the discs are 130 px apart
    doc.undo_stack.undo()
    assert doc.frames[8].pose is None
    with pytest.raises(PoseError, match="no key after frame 9"):
        pose_edits.copy_to_next_key(doc, 8)


def test_a_key_without_a_pose_shows_the_previous_one_and_adjusting_it_copies_it(doc):
    key = pose_edits.add_pose(doc, 0)
    shown = pose_timing.shown(doc, 8)
    assert shown.kind == pose_timing.CARRIED and shown.source == 0 and shown.layer == key
    assert pose_timing.interpolated(doc, 4) is None  # one side only: the engine has no pose there either
    assert pose_timing.shown(doc, 4) is None
    n = doc.undo_stack.count()
    pose_edits.drag_joint(doc, 8, R_WRIST, 200.0, 30.0)
    assert doc.undo_stack.count() == n + 1 and "Copy and adjust pose" in doc.undo_stack.text(n)
    assert doc.frames[8].pose.point(R_WRIST) == (200.0, 30.0)
    assert doc.frames[8].pose.point(NECK) == key.point(NECK)


def _engine_inbetween_poses(doc: ShotDocument) -> dict[int, Pose | None]:
    """What the engine computes for the app's request: built as Generate builds it, parsed and
    validated by the engine's own request code, poses from `Segment.inbetween_poses()`."""
    plan = generation.plan(doc)
    msg = plan.request.to_message()
    shot, _ = shot_from_wire(msg.fields["shot"], msg.blobs)
    return {ib.frame: pose for seg in shot.segments() for ib, pose in zip(seg.inbetweens, seg.inbetween_poses())}


@pytest.mark.parametrize("timing", ["linear", "ease-in", "ease-in-out"])
def test_the_ghost_of_every_inbetween_is_the_engines_pose(doc, timing):
    edits.set_timing(doc, 0, timing)
    pose_edits.add_pose(doc, 0)
    pose_edits.copy_to_next_key(doc, 0)
    pose_edits.drag_joint(doc, 8, R_ELBOW, 150.0, 20.0, keep_lengths=True)
    pose_edits.drag_joint(doc, 3, R_WRIST, 70.0, 15.0)  # an in-between adjusted: a pose key
    assert doc.frames[3].pose is not None and doc.frames[3].role is Role.INBETWEEN
    engine = _engine_inbetween_poses(doc)
    assert sorted(engine) == list(range(1, 8))
    track = pose_timing.segment_track(doc, 0, 8)
    assert [p.frame for p in track.poses] == [0, 3, 8]
    for i in range(1, 8):
        shown = pose_timing.shown(doc, i)
        assert shown is not None
        if i == 3:
            assert shown.kind == pose_timing.OWN and engine[i] == doc.frames[3].pose.pose
            continue
        assert shown.kind == pose_timing.INTERPOLATED
        # the ghost: pose_at on the times of inbetween_client.timing, the engine's pose exactly
        assert shown.t == curve_time(timing, i, 0, 8)
        assert shown.layer.pose == pose_at(track, shown.t) == engine[i]
    # the track times are the client's ShotRequest.frame_time (what set_frame_poses uses)
    request = generation.plan(doc).request
    assert [request.frame_time(p.frame)[1] for p in track.poses] == pytest.approx(track.times, abs=1e-12)


def test_ghosts_with_a_breakdown_and_on_twos_match_the_engine(doc):
    edits.set_role(doc, [4], Role.BREAKDOWN)
    edits.set_exposure(doc, 2)
    for i in (0, 4, 8):
        pose_edits.add_pose(doc, i)
    pose_edits.drag_joint(doc, 4, R_WRIST, 150.0, 10.0)
    engine = _engine_inbetween_poses(doc)
    assert sorted(engine) == [2, 6]  # on twos: the drawn in-betweens
    for i, pose in engine.items():
        assert pose_timing.shown(doc, i).layer.pose == pose


def test_adjusting_an_inbetween_makes_a_pose_key_and_undo_removes_it(doc):
    pose_edits.add_pose(doc, 0)
    pose_edits.copy_to_next_key(doc, 0)
    ghost = pose_timing.shown(doc, 5)
    assert ghost.kind == pose_timing.INTERPOLATED
    pose_edits.drag_joint(doc, 5, R_WRIST, 100.0, 20.0)
    own = doc.frames[5].pose
    assert own is not None and own.point(R_WRIST) == (100.0, 20.0)
    assert all(own.point(j) == pytest.approx(ghost.layer.point(j), abs=0.01) for j in range(18) if j != R_WRIST)
    assert "Pose key (frame 6)" in doc.undo_stack.text(doc.undo_stack.index() - 1)
    doc.undo_stack.undo()
    assert doc.frames[5].pose is None and pose_timing.shown(doc, 5).kind == pose_timing.INTERPOLATED
    doc.undo_stack.redo()
    assert doc.frames[5].pose == own
    assert pose_edits.remove_pose(doc, 5) and doc.frames[5].pose is None


def test_poses_move_with_their_frames(doc):
    pose_edits.add_pose(doc, 0)
    pose_edits.add_pose(doc, 3)
    posed = doc.frames[3].pose
    edits.insert_frames(doc, 1, 2)
    assert doc.frames[5].pose is posed and doc.frames[3].pose is None
    edits.move_frames(doc, 5, 5, 2)
    assert doc.frames[2].pose is posed
    edits.paste_frames(doc, 0, [doc.frames[2]])
    assert doc.frames[0].pose is posed


def test_save_reopen_keeps_every_pose_and_old_projects_open(doc, tmp_path):
    paths = (tmp_path / "shot", tmp_path / "shot.ibproj")
    for path in paths:
        plain = project.save(doc, path)
        assert all(f.pose is None for f in project.load(plain).frames)  # a project without poses
    pose_edits.add_pose(doc, 0)
    pose_edits.copy_to_next_key(doc, 0)
    pose_edits.drag_joint(doc, 4, R_WRIST, 99.5, 12.25)
    pose_edits.set_hidden(doc, 8, L_WRIST, True)
    for path in paths:
        project.save(doc, path)
        again = project.load(path)
        assert [f.pose for f in again.frames] == [f.pose for f in doc.frames]
        assert again.frames[8].pose.is_hidden(L_WRIST)
    manifest = json.loads((tmp_path / "shot" / "project.json").read_text())
    assert manifest["frames"][4]["pose"]["keypoints"][R_WRIST] == [99.5, 12.25, 1.0]
    assert "pose" not in manifest["frames"][1]


def test_a_project_with_a_broken_pose_says_which_frame(doc, tmp_path):
    project.save(doc, tmp_path / "shot")
    manifest = json.loads((tmp_path / "shot" / "project.json").read_text())
    manifest["frames"][2]["pose"] = {"keypoints": [[1, 2, 1]] * 17}
    (tmp_path / "shot" / "project.json").write_text(json.dumps(manifest))
    with pytest.raises(project.ProjectError, match=r"frame 3: pose: 'keypoints' has 17 points, the format has 18"):
        project.load(tmp_path / "shot")


def test_export_json_reads_back_with_posetrack_read(doc, tmp_path):
    edits.set_timing(doc, 0, "ease-out")
    pose_edits.add_pose(doc, 0)
    pose_edits.copy_to_next_key(doc, 0)
    pose_edits.drag_joint(doc, 2, R_WRIST, 40.0, 20.0)
    pose_edits.set_hidden(doc, 2, L_WRIST, True)
    files = pose_export.export_json(doc, tmp_path / "out", "walk")
    assert [f.name for f in files] == ["walk_poses_0001-0009.json"]
    track = PoseTrack.read(files[0])
    want = pose_timing.segment_track(doc, 0, 8)
    assert track.times == want.times and [p.pose for p in track.poses] == [p.pose for p in want.poses]
    assert [p.frame for p in track.poses] == [0, 2, 8] and track.size == (W, H)
    assert track.poses[1].pose.body[L_WRIST] == MISSING  # hidden is what the engine reads as not there
    assert track.extra == {"shot_frames": [1, 9], "timing": "ease-out", "exposure": 1, "fps": 24.0}
    raw = json.loads(files[0].read_text())
    assert raw["format"] == "openpose-coco18" and raw["keypoint_names"] == list(BODY_JOINTS)
    # one file per segment that has poses
    edits.set_role(doc, [5], Role.BREAKDOWN)
    names = [f.name for f in pose_export.export_json(doc, tmp_path / "out2", "walk")]
    assert names == ["walk_poses_0001-0006.json", "walk_poses_0006-0009.json"]


def test_import_puts_each_pose_on_the_frame_at_its_time(doc, tmp_path):
    a = default_pose((20, 20, 100, 150), W, H)
    b = default_pose((150, 20, 230, 150), W, H)
    PoseTrack.of({0.0: a, 0.5: b, 1.0: b}, (W, H)).write(tmp_path / "poses.json")
    assert pose_edits.import_track(doc, 0, 8, PoseTrack.read(tmp_path / "poses.json")) == [0, 4, 8]
    assert doc.frames[4].pose.pose == b and doc.undo_stack.count() == 1
    PoseTrack.of({0.3: a}, (W, H)).write(tmp_path / "odd.json")
    with pytest.raises(PoseError, match=r"pose at t=0.3 is at no frame of frames 1-9"):
        pose_edits.import_track(doc, 0, 8, PoseTrack.read(tmp_path / "odd.json"))
    off = Pose(tuple((300.0, 10.0, 1.0) if j == 9 else p for j, p in enumerate(a.body)))
    with pytest.raises(PoseError, match=r"joint 9 \(r_knee\) at \(300, 10\) is outside the 256x160 canvas"):
        pose_edits.import_track(doc, 0, 8, PoseTrack.of({0.0: off}))
    assert doc.undo_stack.count() == 1  # refused imports change nothing


def test_generate_refuses_a_pose_off_the_canvas_naming_frame_and_joint(doc):
    pose_edits.add_pose(doc, 0)
    layer = doc.frames[0].pose
    off = PoseLayer(Pose(tuple((300.0, 10.0, 1.0) if j == 9 else p for j, p in enumerate(layer.pose.body))))
    pose_edits.set_pose(doc, 5, off)  # e.g. from a project edited by hand
    with pytest.raises(generation.GenerateError) as err:
        generation.plan(doc)
    assert "the pose on frame 6: joint 9 (r_knee) at (300, 10) is outside the 256x160 canvas" in str(err.value)
    with pytest.raises(pose_export.PoseExportError, match=r"the pose on frame 6: joint 9 \(r_knee\)"):
        pose_export.export_json(doc, "/nonexistent/never-written", "shot")


def test_poses_outside_the_keys_are_named_and_not_sent(doc):
    pose_edits.add_pose(doc, 0)
    edits.insert_frames(doc, 9, 2)  # two frames after the last key
    pose_edits.add_pose(doc, 10)
    assert pose_timing.unplaced(doc) == [10] and pose_timing.frame_time(doc, 10) is None
    plan = generation.plan(doc)
    assert plan.poses == [0] and plan.unplaced_poses == [10]
    assert [p.frame for p in plan.request.poses[0].poses] == [0]


def test_default_pose_keeps_human_proportions_and_stays_on_the_canvas():
    wide = default_pose((0, 100, 500, 200), 512, 320)
    xs = [p[0] for p in wide.body]
    assert max(xs) - min(xs) <= 0.6 * 100 + 1  # not stretched across a wide drawing
    edge = default_pose((480, 280, 520, 340), 512, 320)
    edge.check_canvas(512, 320)
