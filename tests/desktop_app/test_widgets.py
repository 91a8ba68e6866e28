"""Timeline, canvas, onion skin, playback and keyboard shortcuts, offscreen."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QApplication

from desktop_app.model import edits, images
from desktop_app.model.cursor import Cursor
from desktop_app.model.shot import LayerKind, Role
from desktop_app.playback import PINGPONG, Playback
from desktop_app.widgets.canvas import CanvasWidget
from desktop_app.widgets.onion import OnionSettings, skins
from desktop_app.widgets.timeline import CELL_W, RULER_H, TimelineWidget

from .conftest import disc


def _mouse(widget, kind, pos: QPointF, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, mods)
    QApplication.sendEvent(widget, ev)


def _drag(widget, points, button=Qt.MouseButton.LeftButton):
    _mouse(widget, QEvent.Type.MouseButtonPress, points[0], button)
    for p in points[1:]:
        _mouse(widget, QEvent.Type.MouseMove, p, button)
    _mouse(widget, QEvent.Type.MouseButtonRelease, points[-1], button)


def _cell(i: int) -> QPointF:
    return QPointF(i * CELL_W + CELL_W / 2, RULER_H + 20)


def test_timeline_select_extend_doubleclick_and_scrub(qtbot, small_doc):
    cur = Cursor(small_doc)
    tl = TimelineWidget(small_doc, cur)
    qtbot.addWidget(tl)
    tl.resize(800, tl.height())
    tl.show()
    strip = tl.strip
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=_cell(2).toPoint())
    assert cur.current == 2 and cur.selected == [2]
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, _cell(4).toPoint())
    assert cur.selected == [2, 3, 4]
    qtbot.mouseDClick(strip, Qt.MouseButton.LeftButton, pos=_cell(5).toPoint())
    assert small_doc.frames[5].role is Role.KEY
    # scrub in the ruler
    _drag(strip, [QPointF(10, 5), QPointF(3 * CELL_W + 10, 5), QPointF(6 * CELL_W + 10, 5)])
    assert cur.current == 6
    strip.grab()  # paints every role without error


def test_timeline_drag_retimes_the_selection(qtbot, small_doc):
    cur = Cursor(small_doc)
    tl = TimelineWidget(small_doc, cur)
    qtbot.addWidget(tl)
    tl.resize(800, tl.height())
    tl.show()
    key_b = small_doc.frames[6]
    cur.set_current(6)
    cur.set_current(6, extend=True)
    _drag(tl.strip, [_cell(6), _cell(5), QPointF(3 * CELL_W + 2, RULER_H + 20)])
    assert small_doc.frames[3] is key_b
    small_doc.undo_stack.undo()
    assert small_doc.frames[6] is key_b


def test_canvas_pen_stroke_eraser_and_undo(qtbot, small_doc):
    cur = Cursor(small_doc)
    cur.set_current(3)
    canvas = CanvasWidget(small_doc, cur)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    canvas.fit()
    canvas.color = QColor(10, 200, 10)
    canvas.size = 3
    t = canvas._transform()
    _drag(canvas, [t.map(QPointF(10, 10)), t.map(QPointF(50, 30)), t.map(QPointF(80, 50))])
    drawn = small_doc.frames[3].drawing
    assert drawn is not None and not images.is_blank(drawn)
    assert drawn.pixelColor(50, 30).alpha() == 255 and drawn.pixelColor(50, 30).green() > 150
    assert small_doc.undo_stack.count() == 1
    canvas.tool = "eraser"
    _drag(canvas, [t.map(QPointF(45, 27)), t.map(QPointF(55, 33))])
    assert small_doc.frames[3].drawing.pixelColor(50, 30).alpha() == 0
    small_doc.undo_stack.undo()
    assert small_doc.frames[3].drawing.pixelColor(50, 30).alpha() == 255
    small_doc.undo_stack.undo()
    assert small_doc.frames[3].drawing is None
    # the sketch layer is a separate layer
    canvas.tool = "pen"
    canvas.active_layer = LayerKind.SKETCH
    canvas.draw_line([(20, 20), (60, 40)])
    assert small_doc.frames[3].sketch is not None and small_doc.frames[3].drawing is None
    # zoom and pan keep image coordinates consistent
    canvas.zoom_by(2.0, QPointF(200, 150))
    p = canvas._transform().map(QPointF(30, 20))
    assert abs(canvas.to_image(p).x() - 30) < 1e-6
    canvas.grab()


def test_tablet_pressure_scales_the_pen(qtbot, small_doc):
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent

    cur = Cursor(small_doc)
    cur.set_current(2)
    canvas = CanvasWidget(small_doc, cur)
    qtbot.addWidget(canvas)
    canvas.resize(96 * 4 + 40, 64 * 4 + 40)
    canvas.fit()
    canvas.size = 12
    stylus = QPointingDevice("test stylus", 4242, QInputDevice.DeviceType.Stylus,
                             QPointingDevice.PointerType.Pen, QInputDevice.Capability.Pressure, 1, 3)
    t = canvas._transform()

    def stroke(y: float, pressure: float) -> None:
        for kind, x in ((QEvent.Type.TabletPress, 10), (QEvent.Type.TabletMove, 50), (QEvent.Type.TabletMove, 86),
                        (QEvent.Type.TabletRelease, 86)):
            pos = t.map(QPointF(x, y))
            ev = QTabletEvent(kind, stylus, pos, canvas.mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
                              Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                              Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease
                              else Qt.MouseButton.LeftButton)
            QApplication.sendEvent(canvas, ev)

    def thickness(y0: int) -> int:
        img = small_doc.frames[2].drawing
        return sum(1 for y in range(y0 - 10, y0 + 11) if img.pixelColor(50, y).alpha() > 128)

    stroke(16, 1.0)
    stroke(48, 0.25)
    assert small_doc.undo_stack.count() == 2
    assert thickness(16) >= 10 and 1 <= thickness(48) <= 4


def test_canvas_refuses_to_draw_on_a_hold(qtbot, small_doc):
    edits.set_role(small_doc, [1], Role.HOLD)
    cur = Cursor(small_doc)
    cur.set_current(1)
    canvas = CanvasWidget(small_doc, cur)
    qtbot.addWidget(canvas)
    canvas.resize(300, 200)
    with qtbot.waitSignal(canvas.message):
        canvas.draw_line([(5, 5), (30, 30)])
    assert small_doc.undo_stack.count() == 1  # only the role change


def test_onion_skins_count_drawings_and_tint(small_doc):
    edits.apply_generated(small_doc, 0, 6, {i: disc(x=20 + 9 * i) for i in range(1, 6)}, {})
    s = OnionSettings(before=2, after=1, opacity=0.5)
    found = skins(small_doc, 3, s)
    assert len(found) == 3
    assert [round(o, 3) for _, o in found] == [0.3, 0.5, 0.5]  # farthest fades
    img = found[1][0]  # frame 2, tinted with the "before" colour
    c = img.pixelColor(20 + 18, 32)
    assert c.red() > 200 and c.green() < 100
    assert skins(small_doc, 3, OnionSettings(enabled=False)) == []
    assert len(skins(small_doc, 3, OnionSettings(before=3, after=3, keys_only=True))) == 2


def test_playback_loop_and_pingpong(qtbot, small_doc):
    cur = Cursor(small_doc)
    pb = Playback(cur)
    cur.set_current(5)
    pb.advance()
    pb.advance()
    assert cur.current == 0  # looped
    pb.mode = PINGPONG
    cur.set_current(5)
    seen = []
    for _ in range(4):
        pb.advance()
        seen.append(cur.current)
    assert seen == [6, 5, 4, 3]
    pb.play()
    assert pb.playing
    qtbot.waitUntil(lambda: cur.current != 3, timeout=5000)  # it moves on its own
    pb.toggle()
    assert not pb.playing


def test_window_shortcuts_and_menus(qtbot, window):
    window.open_images([str(p) for p in sorted((__import__("pathlib").Path(__file__).parents[2]
                                               / "resources/sample").glob("key_*.png"))], gap=5)
    assert window.doc.anchors() == [0, 6]
    window.canvas.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Period)
    qtbot.keyClick(window, Qt.Key.Key_Period)
    assert window.cursor.current == 2
    qtbot.keyClick(window, Qt.Key.Key_Comma)
    assert window.cursor.current == 1
    qtbot.keyClick(window, Qt.Key.Key_Period, Qt.KeyboardModifier.AltModifier)
    assert window.cursor.current == 6
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.AltModifier)
    assert window.cursor.current == 0
    window.cursor.set_current(3)
    qtbot.keyClick(window, Qt.Key.Key_K)
    assert window.doc.frames[3].role is Role.KEY
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.frames[3].role is Role.INBETWEEN
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.doc.frames[4].role is Role.HOLD and len(window.doc) == 8
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playback.playing
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playback.playing
    # every menu action with a shortcut shows it
    texts = [a.toolTip() for m in window.menuBar().actions() for a in m.menu().actions() if not a.isSeparator()
             and a.shortcut().toString()]
    assert any("(K)" in t for t in texts) and any("(Space)" in t for t in texts)
    assert "*" in window.windowTitle()


def test_dialogs_give_what_the_window_needs(qtbot, tmp_path):
    from desktop_app.widgets.dialogs import ExportDialog, NewShotDialog, NewShotSpec

    new = NewShotDialog(NewShotSpec(640, 360, 25, 20))
    qtbot.addWidget(new)
    assert new.spec() == NewShotSpec(640, 360, 25.0, 20)
    dlg = ExportDialog(tmp_path, "walk", has_selection=True)
    qtbot.addWidget(dlg)
    opts = dlg.options([2, 3])
    assert (opts.folder, opts.name, opts.frames) == (tmp_path, "walk", None)
    assert set(opts.layers) == {LayerKind.DRAWING, LayerKind.GENERATED}
    dlg.frames.setCurrentIndex(1)
    dlg.layers[LayerKind.SKETCH].setChecked(True)
    opts = dlg.options([2, 3])
    assert opts.frames == [2, 3] and LayerKind.SKETCH in opts.layers
    assert dlg.preview_path() is None
    if dlg.preview.count() > 1:
        dlg.preview.setCurrentIndex(1)
        assert dlg.preview_path() == tmp_path / "walk.gif"


def test_layers_panel_drives_the_canvas(qtbot, window):
    panel = window.layers_panel
    panel.show_boxes[LayerKind.GENERATED].setChecked(False)
    assert window.canvas.visible[LayerKind.GENERATED] is False
    panel.set_active(LayerKind.SKETCH)
    assert window.canvas.active_layer is LayerKind.SKETCH and window.a_sketch.isChecked()
    panel.before.setValue(4)
    panel.opacity.setValue(50)
    assert window.canvas.onion.before == 4 and window.canvas.onion.opacity == 0.5
    panel.onion_box.setChecked(False)
    assert not window.canvas.onion.enabled


def test_a_result_is_not_applied_if_the_timeline_changed_meanwhile(qtbot, window, small_doc):
    from desktop_app import generation
    from desktop_app.engine_link import JobOutcome

    window.set_document(small_doc, None)
    gen = window.generator
    gen.plan, gen.job_doc = generation.plan(small_doc), small_doc  # as if a job were running
    gen._layout = gen._timeline_layout()
    edits.insert_frames(small_doc, 2)  # the animator keeps working on the timeline
    before = small_doc.frames
    with qtbot.waitSignal(gen.finished) as done:
        gen._done(JobOutcome({i: disc() for i in range(1, 6)}, {}, {}))
    assert done.args == [False] and small_doc.frames == before
    assert "changed while generating" in window.generate_panel.status.text()
    # with an unchanged timeline the same result is applied
    gen.plan, gen.job_doc = generation.plan(small_doc), small_doc
    gen._layout = gen._timeline_layout()
    gen._done(JobOutcome({i: disc() for i in range(1, 7)}, {}, {}))
    assert all(small_doc.frames[i].has_generated for i in range(1, 7))


def test_generate_segment_covers_the_selected_segments(window, small_doc):
    from desktop_app import generation

    edits.set_role(small_doc, [3], Role.BREAKDOWN)
    window.set_document(small_doc, None)
    calls = []
    window.generator.generate = lambda first, last: calls.append((first, last)) or True
    window.cursor.set_current(1)
    window.generator.generate_segment()
    window.cursor.set_current(5, extend=True)
    window.generator.generate_segment()
    assert calls == [(0, 3), (0, 6)]
    assert generation.plan(small_doc, 0, 6).targets == [1, 2, 4, 5]
