"""Light table, tools and timeline (issue 15, defects 7 and 9, and the tools animators
expect): onion skin, fit on open, eyedropper, palette, rotate/flip, stabiliser, copy/paste,
exposure of a selection, drag-retiming past the end, importing keys into a shot."""

from __future__ import annotations

import colorsys

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QApplication

from desktop_app import theme
from desktop_app.model import edits, images
from desktop_app.model.shot import Frame, LayerKind, Role, ShotDocument
from desktop_app.widgets.onion import OnionSettings, light_table, neighbours, skins
from desktop_app.widgets.palette import shot_colours
from desktop_app.widgets.timeline import CELL_W, RULER_H

from .conftest import SAMPLE, disc


def _alpha(img) -> np.ndarray:
    return np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(img.height(), img.width(), 4)[..., 3]


def _face(w=96, h=64, x=48):
    """A white face with a black outline and a black pupil: what a silhouette would hide."""
    img = images.blank(w, h)
    p = QPainter(img)
    p.setPen(QPen(QColor(0, 0, 0), 3))
    p.setBrush(QColor(255, 255, 255))
    p.drawEllipse(QPointF(x, 32), 20, 20)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(0, 0, 0))
    p.drawEllipse(QPointF(x + 6, 28), 3, 3)
    p.end()
    return img


def _mouse(widget, kind, pos, button=Qt.MouseButton.LeftButton, mods=Qt.KeyboardModifier.NoModifier):
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, mods))


def test_onion_skin_shows_lines_not_a_silhouette(qapp):
    skin = light_table(_face(), QColor(theme.ONION_BEFORE))
    a = _alpha(skin)
    assert a[28, 54] > 200  # the pupil (black) is there at full strength
    assert a[40, 40] < 60  # the white of the face is only a trace, so inner lines read
    assert a[32, 28] > 150  # the outline
    rgba = np.frombuffer(images.to_rgba_bytes(skin), np.uint8).reshape(64, 96, 4)
    assert tuple(rgba[28, 54, :3]) == (theme.ONION_BEFORE.red(), theme.ONION_BEFORE.green(), theme.ONION_BEFORE.blue())


def test_onion_tints_are_distinct_from_the_sketch_colour():
    def hue(c: QColor) -> float:
        return colorsys.rgb_to_hsv(c.redF(), c.greenF(), c.blueF())[0] * 360

    for tint in (theme.ONION_BEFORE, theme.ONION_AFTER):
        d = abs(hue(tint) - hue(theme.SKETCH)) % 360
        assert min(d, 360 - d) > 60, (tint.name(), theme.SKETCH.name())
    s = OnionSettings()
    assert s.before_color.rgb() == theme.ONION_BEFORE.rgb() and s.skip_empty


def test_the_default_onion_skin_skips_empty_frames(qapp):
    doc = ShotDocument(96, 64, 24, [Frame(role=Role.KEY, drawing=_face(x=30))] + [Frame() for _ in range(7)]
                       + [Frame(role=Role.KEY, drawing=_face(x=66))])
    assert neighbours(doc, 4, OnionSettings()) == ([0], [8])  # the middle in-between sees both keys
    assert len(skins(doc, 4, OnionSettings())) == 2
    assert neighbours(doc, 4, OnionSettings(skip_empty=False)) == ([3, 2], [5, 6])


def test_a_new_shot_fits_the_window_and_drops_the_old_onion_skin(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    window.cursor.set_current(3)
    assert window.canvas._onion_skins()  # the small shot's keys
    big = ShotDocument(4000, 3000, 24, [Frame(role=Role.KEY), Frame(), Frame(role=Role.KEY)])
    window.set_document(big, None)
    canvas = window.canvas
    assert canvas.zoom < 0.3  # the whole 4000x3000 canvas in the window, not 100 %
    shown = canvas._transform().mapRect(canvas.rect().toRectF().__class__(0, 0, 4000, 3000))
    assert canvas.rect().toRectF().contains(shown)
    assert canvas._onion_skins() == []  # nothing of the previous shot
    canvas.grab()


def test_eyedropper_alt_click_picks_and_the_palette_offers_the_shots_colours(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.width() > 100)
    canvas.fit()
    window.cursor.set_current(0)
    where = canvas._transform().map(QPointF(20, 32))  # the centre of the red key disc
    pan = QPointF(canvas.pan)
    alt = Qt.KeyboardModifier.AltModifier
    _mouse(canvas, QEvent.Type.MouseButtonPress, where, mods=alt)
    _mouse(canvas, QEvent.Type.MouseButtonRelease, where, mods=alt)
    assert canvas.color.getRgb()[:3] == (220, 60, 60) and canvas.pan == pan
    assert any(b.toolTip().startswith("#dc3c3c") for b in window.palette.buttons())
    assert small_doc.undo_stack.count() == 0  # picking draws nothing
    colours = shot_colours(small_doc)
    assert colours and colours[0].getRgb()[:3] == (220, 60, 60)
    window.palette.refresh()
    blue = QColor(10, 20, 200)
    window.palette.colorChosen.emit(blue)
    assert canvas.color.rgb() == blue.rgb()


def test_rotate_and_flip_are_view_only_and_strokes_land_where_drawn(qtbot, small_doc):
    from desktop_app.model.cursor import Cursor
    from desktop_app.widgets.canvas import CanvasWidget

    cur = Cursor(small_doc)
    cur.set_current(2)
    canvas = CanvasWidget(small_doc, cur)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    canvas.fit()
    centre = canvas._transform().map(QPointF(48, 32))
    canvas.rotate_by(90)
    canvas.flip()
    assert canvas.rotation == 90 and canvas.flipped
    img_pt = canvas.to_image(centre)
    assert abs(img_pt.x() - 48) < 0.01 and abs(img_pt.y() - 32) < 0.01  # turns about the centre
    screen = canvas._transform().map(QPointF(70, 32))  # a point right of centre in the image
    canvas.draw_line([(70, 32), (70.5, 32)])
    a = _alpha(small_doc.frames[2].drawing)
    assert a[32, 70] > 0 and a[32, 26] == 0  # drawn in the image where the pen was, not mirrored
    assert abs(canvas.to_image(screen).x() - 70) < 0.01
    canvas.reset_rotation()
    canvas.flip()
    assert canvas.rotation == 0 and not canvas.flipped


def test_the_stabiliser_smooths_a_shaky_stroke(qtbot, small_doc):
    from desktop_app.model.cursor import Cursor
    from desktop_app.widgets.canvas import CanvasWidget

    def spread(stabiliser: int) -> int:
        doc = ShotDocument(96, 64, 24, edits.new_shot_frames(3))
        canvas = CanvasWidget(doc, Cursor(doc))
        qtbot.addWidget(canvas)
        canvas.resize(400, 300)
        canvas.fit()
        canvas.size = 1
        canvas.stabiliser = stabiliser
        canvas.draw_line([(10 + i, 32 + (5 if i % 2 else -5)) for i in range(70)])
        rows = np.nonzero(_alpha(doc.frames[0].drawing)[:, 20:70].max(axis=1))[0]
        return rows.max() - rows.min()

    assert spread(0) >= 9 and spread(5) <= 4


def test_copy_paste_frames_and_drawings(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    doc = window.doc
    key = doc.frames[0]
    window.cursor.set_current(0)
    assert window.editing.copy() == 1
    window.cursor.set_current(2)
    assert window.editing.paste_frames() == 1
    assert len(doc) == 8 and doc.frames[3].role is Role.KEY and doc.frames[3].drawing is key.drawing
    assert doc.frames[3] is not key and doc.frames[3].token != key.token
    doc.undo_stack.undo()
    window.cursor.set_current(2)
    QGuiApplication.clipboard().clear()
    assert window.editing.paste_drawing()
    assert np.array_equal(_alpha(doc.frames[2].drawing), _alpha(key.drawing))
    assert doc.frames[2].role is Role.INBETWEEN


def test_expose_a_selection_on_twos_and_threes(qtbot, window):
    doc = ShotDocument(32, 32, 24, [Frame(role=Role.KEY, drawing=disc(32, 32, x=8, y=8, r=4))]
                       + [Frame() for _ in range(8)] + [Frame(role=Role.KEY, drawing=disc(32, 32, x=24, y=8, r=4))])
    window.set_document(doc, None)
    edits.set_layer_image(window.doc, 3, LayerKind.SKETCH, disc(32, 32, x=12, y=8, r=3))
    window.cursor.select_range(0, 9)
    window.editing.expose(2)
    roles = "".join(f.role.value[0] for f in window.doc.frames)
    assert roles == "khiiihihik", roles  # frame 4 (index 3) would be a hold but has a sketch: kept
    assert "kept as drawings" in window.statusBar().currentMessage()
    window.editing.expose(3)
    assert "".join(f.role.value[0] for f in window.doc.frames) == "khhihhihhk"
    window.editing.expose(1)
    assert all(f.role is not Role.HOLD for f in window.doc.frames)
    assert window.doc.undo_stack.count() == 4  # the sketch, then one step per exposure


def test_dragging_the_last_key_past_the_end_extends_the_shot_and_drops_stale_generated(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    doc = window.doc
    edits.apply_generated(doc, 0, 6, {i: disc(x=20 + 9 * i) for i in range(1, 6)}, {})
    strip = window.timeline.strip
    window.cursor.set_current(6)
    y = RULER_H + 20
    for kind, x in ((QEvent.Type.MouseButtonPress, 6.5), (QEvent.Type.MouseMove, 8.0),
                    (QEvent.Type.MouseMove, 9.9), (QEvent.Type.MouseButtonRelease, 9.9)):
        _mouse(strip, kind, QPointF(x * CELL_W, y))
    assert len(doc) == 10 and doc.anchors() == [0, 9]
    # the old in-betweens were generated for a key at 6: stale now, so dropped, not carried along
    assert not any(f.has_generated for f in doc.frames)


def test_moving_a_generated_frame_does_not_carry_its_old_picture(small_doc):
    edits.apply_generated(small_doc, 0, 6, {i: disc(x=20 + 9 * i) for i in range(1, 6)}, {})
    edits.move_frames(small_doc, 2, 2, 4)
    gen = [f.has_generated for f in small_doc.frames]
    assert gen == [False, True, False, False, False, True, False]  # frames 1 and 5 sit where they were


def test_import_adds_keys_to_the_shot_and_says_how_many(qtbot, window, small_doc):
    window.open_images([SAMPLE / "key_a.png"])
    assert window.statusBar().currentMessage() == "Opened 1 image as keys"
    doc = window.doc
    n = len(doc)
    window.cursor.set_current(n - 1)
    assert window.editing.add_images_as_keys([SAMPLE / "key_b.png"], gap=3)
    assert window.doc is doc and len(doc) == n + 4 and doc.anchors() == [0, n + 3]
    assert "Added 1 image as keys" in window.statusBar().currentMessage()
    window.set_document(small_doc, None)
    assert not window.editing.add_images_as_keys([SAMPLE / "key_b.png"], gap=3)  # another size: refused
    assert window.doc is small_doc and "a shot has one canvas size" in window.statusBar().currentMessage()


def test_overlays_paint_over_the_layers_in_image_coordinates(qtbot, small_doc):
    from desktop_app.model.cursor import Cursor
    from desktop_app.widgets.canvas import CanvasWidget

    canvas = CanvasWidget(small_doc, Cursor(small_doc))
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.fit()
    calls = []

    def overlay(p, index):
        calls.append((index, p.transform().map(QPointF(0, 0))))
        p.fillRect(0, 0, 4, 4, QColor(0, 255, 0))

    canvas.overlays.append(overlay)
    img = canvas.grab().toImage()
    origin = canvas._transform().map(QPointF(1, 1)).toPoint()
    assert calls and calls[0][0] == 0 and calls[0][1] == canvas._transform().map(QPointF(0, 0))
    assert img.pixelColor(origin).green() > 200 and img.pixelColor(origin).red() < 60
