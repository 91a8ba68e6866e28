"""Generate, accept, regenerate without corrupting the shot (issue 15, defects 2, 3, 4, 6, 8),
against a real engine process where the engine matters."""

from __future__ import annotations

import stat

import numpy as np

from desktop_app.io.export import ExportOptions, review
from desktop_app.model import edits, images
from desktop_app.model.shot import Frame, LayerKind, Role, ShotDocument

from .conftest import SAMPLE, disc

KEYS = [str(SAMPLE / "key_a.png"), str(SAMPLE / "key_b.png")]


def _pixels(img) -> np.ndarray:
    return np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(img.height(), img.width(), 4)


def _connect(qtbot, window, engine):
    window.link.start(connection_file=engine.connection_file)
    qtbot.waitUntil(lambda: window.link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: window.generate_panel.backend.currentText() == "flow", timeout=5_000)


def _generate(qtbot, window):
    with qtbot.waitSignal(window.generator.finished, timeout=120_000) as done:
        assert window.generator.generate_segment()
        # defect 8: busy from the first moment, before the engine reports any progress
        assert window.generate_panel.busy or not window.generator.running
    assert done.args == [True], window.generate_panel.status.text()


def test_accept_takes_the_reviewed_segment_and_regenerate_asks_then_replaces(qtbot, window, engine):
    _connect(qtbot, window, engine)
    window.open_images(KEYS, gap=5)
    doc, gen = window.doc, window.generator
    window.cursor.set_current(3)
    _generate(qtbot, window)
    assert "Done" in window.generate_panel.status.text()

    # defect 6: Ctrl+Enter with one frame selected accepts the whole segment, and says so
    window.cursor.set_current(3)
    assert gen.accept_selection() == 5
    assert window.statusBar().currentMessage() == "Accepted 5 generated frames (frames 2–6)."
    assert all(doc.frames[i].accepted and not doc.frames[i].has_generated for i in range(1, 6))
    accepted = {i: _pixels(doc.frames[i].drawing).copy() for i in range(1, 6)}

    # defect 2: regenerating over accepted frames asks; cancel changes nothing and sends nothing
    asked = []
    gen.ask_accepted = lambda frames: asked.append(frames) or "cancel"
    assert gen.generate_segment() is False and asked == [[1, 2, 3, 4, 5]] and not gen.running
    # keep: the accepted drawings stay as they are, nothing generated stacks under them
    gen.ask_accepted = lambda frames: "keep"
    _generate(qtbot, window)
    for i in range(1, 6):
        f = doc.frames[i]
        assert f.accepted and not f.has_generated and np.array_equal(_pixels(f.drawing), accepted[i])
    assert "Kept 5 accepted frames" in window.generate_panel.status.text()
    # replace: the accepted drawings go, the new result takes their place (one image, never two)
    gen.ask_accepted = lambda frames: "replace"
    _generate(qtbot, window)
    for i in range(1, 6):
        f = doc.frames[i]
        assert f.drawing is None and f.has_generated and not f.accepted
    doc.undo_stack.undo()  # one step back: the accepted frames again
    assert all(doc.frames[i].accepted for i in range(1, 6))
    assert "undone" in window.generate_panel.status.text()  # defect 9: no "Done" left behind

    # accept with a selection: only those frames
    doc.undo_stack.redo()
    window.cursor.select_range(2, 3)
    assert gen.accept_selection() == 2
    assert [doc.frames[i].has_generated for i in range(1, 6)] == [True, False, False, True, True]


def test_a_breakdown_from_a_generated_frame_asks_first(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    doc = window.doc
    edits.apply_generated(doc, 0, 6, {i: disc(x=20 + 9 * i, color=(0, 160, 0, 255)) for i in range(1, 6)}, {})
    generated = doc.frames[3].generated
    asked = []
    window.editing.ask_generated_anchor = lambda frames, role: asked.append((frames, role)) or "cancel"
    window.cursor.set_current(3)
    before = doc.frames
    assert window.editing.mark(Role.BREAKDOWN) is False
    assert asked == [([3], Role.BREAKDOWN)] and doc.frames == before  # defect 3: never silently
    window.editing.ask_generated_anchor = lambda frames, role: "accept"
    assert window.editing.mark(Role.BREAKDOWN)
    f = doc.frames[3]
    assert f.role is Role.BREAKDOWN and f.accepted and f.generated is None
    assert np.array_equal(_pixels(f.drawing), _pixels(generated))  # marked as accepted, not hidden
    # discard: a key from a generated frame keeps only what was drawn on it
    window.editing.ask_generated_anchor = lambda frames, role: "discard"
    window.timeline.strip.on_toggle_key([4])  # the timeline's double-click goes the same way
    assert doc.frames[4].role is Role.KEY and doc.frames[4].generated is None and doc.frames[4].drawing is None
    from desktop_app import generation
    plan = generation.plan(doc)
    assert sorted(plan.request.keys) == [0, 3, 4, 6]


def test_the_canvas_over_the_engines_limits_is_said_at_open_time(qtbot, window, engine):
    _connect(qtbot, window, engine)
    window.set_document(ShotDocument(5000, 16, 24.0, edits.new_shot_frames(4)), None)
    text = window.generate_panel.status.text()
    assert "5000×16" in text and "4096 pixels a side" in text and "scale the images down" in text
    assert "Canvas over the engine's limits" in window.statusBar().currentMessage()


def test_export_warns_about_unaccepted_and_empty_frames_and_all_files_share_a_mode(qtbot, window, small_doc,
                                                                                    tmp_path):
    window.set_document(small_doc, None)
    doc = window.doc
    edits.apply_generated(doc, 0, 6, {2: disc(x=40)}, {})
    check = review(doc)
    assert check.generated == [2] and check.empty == [1, 3, 4, 5]
    assert "1 frame (3) generated but not accepted" in check.text() and "4 frames (2, 4, 5, 6) empty" in check.text()
    doc.set_preview(4, disc(x=50))  # previews are never exported, so they never count
    assert review(doc).empty == [1, 3, 4, 5]
    said = []
    window.ask_export = lambda text: said.append(text) or False
    assert window.export(ExportOptions(tmp_path / "no", "s")) == [] and said == [check.text()]
    assert not (tmp_path / "no").exists()
    window.ask_export = lambda text: True
    out = tmp_path / "yes"
    paths = window.export(ExportOptions(out, "s"), out / "s.gif")
    assert len(paths) == 7 and "generated but not accepted" in window.statusBar().currentMessage()
    modes = {stat.S_IMODE(p.stat().st_mode) for p in [*paths, out / "s.gif"]}
    assert len(modes) == 1, modes  # defect 8: the GIF is not 0600 next to 0644 PNGs


def test_a_preview_kept_from_a_lost_job_is_dropped_when_the_timeline_changes(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    gen = window.generator
    gen._layout = gen._timeline_layout()
    window.doc.set_preview(2, disc(x=40))
    edits.set_layer_image(window.doc, 1, LayerKind.DRAWING, disc(x=30))  # same layout: kept
    assert 2 in window.doc.previews
    edits.insert_frames(window.doc, 1)  # frame numbers moved: the preview would be misplaced
    assert not window.doc.previews


def test_new_frames_past_the_end_and_a_shot_in_frames(qapp):
    doc = ShotDocument(32, 32, 24, [Frame(role=Role.KEY, drawing=disc(32, 32, x=8, y=8, r=4)), Frame(),
                                    Frame(role=Role.KEY, drawing=disc(32, 32, x=20, y=8, r=4))])
    assert edits.move_frames(doc, 2, 2, 5) == 5 and len(doc) == 6 and doc.anchors() == [0, 5]
