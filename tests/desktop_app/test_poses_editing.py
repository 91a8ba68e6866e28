"""The pose tools in the window (pytest-qt, offscreen): the Pose menu's actions, the pose tool
dragging joints with the mouse, right-click to hide, Shift and Ctrl drags, the ghost painted
over the onion skin, the timeline's mark on pose keys, undo/redo through the window's Undo,
save and reopen, autosave recovery, and the generate panel's word on poses."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from desktop_app import theme
from desktop_app.io import autosave
from desktop_app.model import pose_edits, pose_timing
from desktop_app.model.shot import Frame, Role, ShotDocument
from desktop_app.widgets.pose_overlay import hue
from desktop_app.widgets.timeline import CELL_W, RULER_H, THUMB_H

from .conftest import disc
from .test_widgets import _mouse

W, H = 256, 160
R_WRIST, R_ELBOW, R_SHOULDER, NECK = 4, 3, 2, 1


@pytest.fixture
def win(window):
    frames = [Frame(role=Role.KEY, drawing=disc(W, H, x=60, y=80, r=50))] + [Frame() for _ in range(7)] + \
        [Frame(role=Role.KEY, drawing=disc(W, H, x=190, y=80, r=50))]
    window.set_document(ShotDocument(W, H, 24.0, frames), None)
    return window


def _at(win, x: float, y: float) -> QPointF:
    return win.canvas.to_widget(QPointF(x, y))


def _drag(win, frm: tuple[float, float], to: tuple[float, float], mods=Qt.KeyboardModifier.NoModifier,
          button=Qt.MouseButton.LeftButton) -> None:
    """A real mouse drag on the canvas in widget pixels, in a few steps."""
    a, b = _at(win, *frm), _at(win, *to)
    _mouse(win.canvas, QEvent.Type.MouseButtonPress, a, button, mods)
    for k in range(1, 6):
        _mouse(win.canvas, QEvent.Type.MouseMove, a + (b - a) * (k / 5), button, mods)
    _mouse(win.canvas, QEvent.Type.MouseButtonRelease, b, button, mods)


def _undo(win) -> None:
    win.a_undo.trigger()


def _redo(win) -> None:
    win.a_redo.trigger()


def test_add_and_drag_a_joint_with_the_mouse_then_undo_and_redo(win, qtbot):
    poses = win.poses
    assert poses.add() and win.doc.frames[0].pose is not None
    poses.actions["tool"].trigger()
    assert win.canvas.input_handler is poses.overlay and not win.a_pen.isChecked()
    before = win.doc.frames[0].pose
    wrist = before.point(R_WRIST)
    n = win.doc.undo_stack.count()
    _drag(win, wrist, (30.0, 20.0))
    after = win.doc.frames[0].pose
    assert after.point(R_WRIST) == pytest.approx((30.0, 20.0), abs=0.6)  # widget pixels -> image pixels
    assert all(after.point(j) == before.point(j) for j in range(18) if j != R_WRIST)
    assert win.doc.undo_stack.count() == n + 1  # the whole drag is one step
    assert poses.overlay.selected == R_WRIST and "r_wrist" in poses.panel.joint.text()
    # a press away from every joint deselects and draws nothing
    _drag(win, (200.0, 150.0), (210.0, 150.0))
    assert poses.overlay.selected is None and win.doc.undo_stack.count() == n + 1
    assert win.doc.frames[0].drawing is not None and win.doc.frames[4].drawing is None
    _undo(win)
    assert win.doc.frames[0].pose == before
    _redo(win)
    assert win.doc.frames[0].pose == after
    # the pen again: the canvas draws, the skeleton stays painted
    win.a_pen.trigger()
    assert win.canvas.input_handler is None
    win.canvas.draw_line([(120, 120), (130, 125)])
    assert win.doc.frames[0].pose == after


def test_shift_keeps_bone_lengths_ctrl_moves_the_whole_pose_right_click_hides(win):
    poses = win.poses
    poses.add()
    poses.actions["tool"].trigger()
    start = win.doc.frames[0].pose
    length = start.bone_lengths()[R_ELBOW]
    _drag(win, start.point(R_ELBOW), (10.0, 10.0), Qt.KeyboardModifier.ShiftModifier)
    rig = win.doc.frames[0].pose
    assert math.dist(rig.point(R_SHOULDER), rig.point(R_ELBOW)) == pytest.approx(length, abs=0.05)
    assert math.dist(rig.point(R_ELBOW), rig.point(R_WRIST)) == pytest.approx(start.bone_lengths()[R_WRIST], abs=0.05)
    # the option on: a plain drag keeps lengths, Shift frees it
    poses.actions["keep_lengths"].trigger()
    assert poses.overlay.keep_lengths
    _drag(win, rig.point(R_WRIST), (5.0, 150.0), Qt.KeyboardModifier.ShiftModifier)
    assert win.doc.frames[0].pose.point(R_WRIST) == pytest.approx((5.0, 150.0), abs=0.6)
    poses.actions["keep_lengths"].trigger()
    moved = win.doc.frames[0].pose
    neck = moved.point(NECK)
    _drag(win, neck, (neck[0] + 20, neck[1] - 5), Qt.KeyboardModifier.ControlModifier)
    whole = win.doc.frames[0].pose
    for j in range(18):
        assert whole.point(j) == pytest.approx((moved.point(j)[0] + 20, moved.point(j)[1] - 5), abs=0.6)
    # right-click on a joint: hidden; again: shown where it was
    elbow = whole.point(R_ELBOW)
    _drag(win, elbow, elbow, button=Qt.MouseButton.RightButton)
    assert win.doc.frames[0].pose.is_hidden(R_ELBOW) and win.doc.frames[0].pose.point(R_ELBOW) == elbow
    assert "hidden" in win.statusBar().currentMessage()
    poses.actions["hide"].trigger()  # Shift+H on the selected joint
    assert not win.doc.frames[0].pose.is_hidden(R_ELBOW)
    for _ in range(5):
        _undo(win)
    assert win.doc.frames[0].pose == start


def test_mirror_swap_copy_to_next_key_and_remove_from_the_menu(win):
    poses = win.poses
    poses.add()
    pose_edits.drag_joint(win.doc, 0, R_WRIST, 20.0, 30.0)  # the default skeleton is symmetric
    key = win.doc.frames[0].pose
    poses.actions["mirror"].trigger()
    assert win.doc.frames[0].pose.point(7) == pytest.approx((100.0, 30.0), abs=0.02)
    poses.actions["swap"].trigger()
    assert win.doc.frames[0].pose.point(R_WRIST) == pytest.approx((100.0, 30.0), abs=0.02)
    _undo(win)
    _undo(win)
    assert win.doc.frames[0].pose == key
    n = win.doc.undo_stack.index()
    poses.actions["copy_next"].trigger()
    assert win.cursor.current == 8 and win.doc.frames[8].pose is not None
    assert win.doc.undo_stack.index() == n + 1
    assert "adjust it there" in win.statusBar().currentMessage()
    poses.actions["copy_next"].trigger()  # no key after the last one: said, nothing done
    assert "no key after frame 9" in win.statusBar().currentMessage().lower()
    assert win.doc.undo_stack.index() == n + 1
    poses.actions["remove"].trigger()
    assert win.doc.frames[8].pose is None
    win.cursor.set_current(4)
    poses.actions["mirror"].trigger()  # no pose here: said, not raised
    assert "frame 5 has no pose" in win.statusBar().currentMessage().lower()


def test_dragging_the_ghost_of_an_inbetween_makes_a_pose_key_marked_on_the_timeline(win, qtbot):
    poses = win.poses
    poses.add()
    poses.copy_to_next_key()
    win.cursor.set_current(4)
    ghost = pose_timing.shown(win.doc, 4)
    assert ghost.kind == pose_timing.INTERPOLATED
    assert "interpolated pose (t = 0.5)" in poses.panel.status.text()
    strip = win.timeline.strip
    mark = QPoint(4 * CELL_W + 3 + 8, RULER_H + 3 + THUMB_H - 2 - 14 + 1)  # the figure's head

    def yellowish(img) -> bool:
        c = QColor(img.pixel(mark))
        return c.red() > 180 and c.green() > 150 and c.blue() < 120

    assert not yellowish(strip.grab().toImage())
    poses.actions["tool"].trigger()
    _drag(win, ghost.layer.point(R_WRIST), (150.0, 20.0))
    assert win.doc.frames[4].pose is not None and win.doc.frames[4].role is Role.INBETWEEN
    assert "pose key" in win.statusBar().currentMessage()
    assert "pose key" in poses.panel.status.text()
    assert yellowish(strip.grab().toImage())
    _undo(win)
    assert win.doc.frames[4].pose is None and not yellowish(strip.grab().toImage())


def test_the_ghost_is_painted_over_the_onion_skin_with_the_models_colours(win):
    poses = win.poses
    poses.add()
    poses.copy_to_next_key()
    win.cursor.set_current(4)
    assert win.canvas.onion.enabled
    ghost = pose_timing.shown(win.doc, 4).layer
    win.canvas.resize(700, 460)
    win.canvas.fit()

    def colour_at(img, joint_a: int, joint_b: int) -> QColor:
        (ax, ay), (bx, by) = ghost.point(joint_a), ghost.point(joint_b)
        p = win.canvas.to_widget(QPointF((ax + bx) / 2, (ay + by) / 2)).toPoint()
        return QColor(img.pixel(p))

    img = win.canvas.grab().toImage()
    c = colour_at(img, 1, 8)  # the neck -> right hip bone: bone 6, hue 120 (green)
    assert c.green() > c.red() + 40 and c.green() > c.blue() + 40
    poses.panel.ghost_box.setChecked(False)
    hidden = win.canvas.grab().toImage()
    assert colour_at(hidden, 1, 8) != c
    poses.panel.ghost_box.setChecked(True)
    poses.actions["show"].trigger()  # Shift+P hides the whole pose layer
    assert not poses.overlay.visible and not poses.panel.show_box.isChecked()
    assert hue(6).green() == 255 and hue(6).red() == 0


def test_copy_and_adjust_a_key_in_one_drag(win):
    poses = win.poses
    poses.add()
    win.cursor.set_current(8)
    shown = pose_timing.shown(win.doc, 8)
    assert shown.kind == pose_timing.CARRIED
    assert "showing frame 1's" in poses.panel.status.text()
    poses.actions["tool"].trigger()
    n = win.doc.undo_stack.count()
    _drag(win, shown.layer.point(R_WRIST), (230.0, 30.0))
    assert win.doc.undo_stack.count() == n + 1
    assert win.doc.frames[8].pose.point(R_WRIST) == pytest.approx((230.0, 30.0), abs=0.6)
    assert "got frame 1's pose" in win.statusBar().currentMessage()


def test_poses_survive_save_reopen_and_autosave_recovery(win, tmp_path, qapp):
    win.poses.add()
    win.poses.copy_to_next_key()
    pose_edits.set_hidden(win.doc, 8, R_WRIST, True)
    want = [f.pose for f in win.doc.frames]
    assert win.save_to(tmp_path / "shot.ibproj")
    assert win.open_path(tmp_path / "shot.ibproj")
    assert [f.pose for f in win.doc.frames] == want
    # an edit, autosaved, then a crash: the recovered shot has the pose edit
    pose_edits.drag_joint(win.doc, 8, NECK, 150.0, 60.0, keep_lengths=True)
    win.autosaver.mark_dirty()
    side = win.autosaver.tick()
    recovered = autosave.recover(autosave.Recovery(side, tmp_path / "shot.ibproj", 0.0))
    assert [f.pose for f in recovered.frames] == [f.pose for f in win.doc.frames]


def test_the_generate_panel_says_whether_the_backend_uses_poses(win, monkeypatch):
    """No backend on this branch uses poses yet (animate_anyone and the flow backend's pose
    constraints are other engineers' work), so the capability lists are given here."""
    panel = win.generate_panel
    backends = [{"name": "flow", "available": True, "supports_poses": False},
                {"name": "animate_anyone", "available": True, "supports_poses": True}]
    monkeypatch.setattr(win.link, "backends", lambda: backends)
    panel.set_backends(backends)
    panel.backend.setCurrentText("flow")
    assert not panel.pose_note.isVisibleTo(panel)  # no poses in the shot: nothing to say
    win.poses.add()
    assert panel.pose_note.isVisibleTo(panel)
    assert "flow does not use poses yet" in panel.pose_note.text() and "animate_anyone" in panel.pose_note.text()
    panel.backend.setCurrentText("animate_anyone")
    assert panel.pose_note.text() == "Poses: animate_anyone follows them."
    assert theme.POSE.isValid()
