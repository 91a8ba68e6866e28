"""The shot document and its undo stack, without any widget."""

from __future__ import annotations

from desktop_app.model import edits, images
from desktop_app.model.cursor import Cursor
from desktop_app.model.shot import Frame, LayerKind, Role, ShotDocument

from .conftest import disc


def test_roles_anchors_segments_and_holds(small_doc):
    doc = small_doc
    assert doc.anchors() == [0, 6]
    assert doc.segments() == [(0, 6)]
    assert doc.segment_of(3) == (0, 6) and doc.segment_of(0) == (0, 6) and doc.segment_of(6) == (0, 6)
    edits.set_role(doc, [3], Role.BREAKDOWN)
    assert doc.segments() == [(0, 3), (3, 6)]
    assert doc.segment_of(3) == (3, 6)
    edits.insert_frames(doc, 1, 1, Role.HOLD)
    assert doc.frames[1].role is Role.HOLD and len(doc) == 8
    assert doc.source_index(1) == 0
    assert doc.layer_image(1, LayerKind.DRAWING) is doc.frames[0].drawing  # a hold shows the key


def test_every_edit_is_undoable_and_redoable(small_doc):
    doc = small_doc
    original = doc.frames
    edits.toggle_key(doc, [2])
    edits.insert_frames(doc, 3, 2)
    edits.set_layer_image(doc, 4, LayerKind.SKETCH, disc(x=40))
    edits.remove_frames(doc, [1])
    edits.move_frames(doc, 0, 1, 3)
    edits.set_timing(doc, doc.anchors()[0], "ease-in")
    edits.set_exposure(doc, 2)
    edits.set_fps(doc, 24)
    assert doc.undo_stack.count() == 8
    changed = doc.frames
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert doc.frames == original and doc.exposure == 1 and doc.fps == 12.0
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert doc.frames == changed and doc.exposure == 2 and doc.fps == 24.0


def test_toggle_key_marks_then_unmarks(small_doc):
    edits.toggle_key(small_doc, [2, 3])
    assert [small_doc.frames[i].role for i in (2, 3)] == [Role.KEY, Role.KEY]
    edits.toggle_key(small_doc, [2, 3])
    assert [small_doc.frames[i].role for i in (2, 3)] == [Role.INBETWEEN, Role.INBETWEEN]


def test_move_frames_retimes_a_block(small_doc):
    doc = small_doc
    key_b = doc.frames[6]
    new_first = edits.move_frames(doc, 6, 6, 3)  # pull the second key earlier
    assert new_first == 3 and doc.frames[3] is key_b and doc.anchors() == [0, 3]


def test_apply_generated_touches_only_generated_layers_of_the_segment(small_doc):
    doc = small_doc
    sketch = disc(x=48, color=(0, 0, 0, 255))
    drawing = disc(x=30, color=(0, 0, 255, 255))
    edits.set_layer_image(doc, 3, LayerKind.SKETCH, sketch)
    edits.set_layer_image(doc, 2, LayerKind.DRAWING, drawing)
    keys_before = (doc.frames[0], doc.frames[6])
    results = {i: disc(x=20 + 9 * i, color=(0, 200, 0, 255)) for i in range(1, 6)}
    edits.apply_generated(doc, 0, 6, results, {})
    assert (doc.frames[0], doc.frames[6]) == keys_before
    assert all(doc.frames[i].has_generated for i in range(1, 6))
    assert doc.frames[3].sketch is sketch and doc.frames[2].drawing is drawing
    # regenerate: replaced, still nothing else touched
    edits.apply_generated(doc, 0, 6, {3: disc(x=50)}, {})
    assert doc.frames[3].sketch is sketch
    # accept: generated becomes the drawing (corrections on top), the tint goes away
    assert edits.accept(doc, range(len(doc))) == 5
    assert not any(f.has_generated for f in doc.frames)
    assert all(not images.is_blank(doc.frames[i].drawing) for i in range(1, 6))
    doc.undo_stack.undo()
    assert all(doc.frames[i].has_generated for i in range(1, 6))


def test_apply_generated_marks_engine_holds(small_doc):
    edits.set_exposure(small_doc, 2)
    edits.apply_generated(small_doc, 0, 6, {2: disc(), 4: disc()}, {1: 0, 3: 2, 5: 4})
    roles = [f.role for f in small_doc.frames]
    assert roles == [Role.KEY, Role.HOLD, Role.INBETWEEN, Role.HOLD, Role.INBETWEEN, Role.HOLD, Role.KEY]
    assert small_doc.layer_image(3, LayerKind.GENERATED) is small_doc.frames[2].generated


def test_previews_show_but_are_not_part_of_the_shot(small_doc):
    frames = small_doc.frames
    small_doc.set_preview(2, disc(x=40))
    assert small_doc.layer_image(2, LayerKind.GENERATED) is not None
    assert small_doc.frames == frames and small_doc.undo_stack.count() == 0
    small_doc.clear_previews()
    assert small_doc.layer_image(2, LayerKind.GENERATED) is None


def test_rgba_bytes_round_trip_keeps_straight_alpha(qapp):
    img = images.blank(3, 2)
    img.setPixelColor(1, 1, __import__("PySide6.QtGui", fromlist=["QColor"]).QColor(200, 100, 50, 128))
    data = images.to_rgba_bytes(img)
    assert len(data) == 3 * 2 * 4 and data[(1 * 3 + 1) * 4:(1 * 3 + 2) * 4] == bytes([200, 100, 50, 128])
    assert images.to_rgba_bytes(images.from_rgba_bytes(data, 3, 2)) == data
    assert images.to_rgba_bytes(images.from_png_bytes(images.to_png_bytes(img))) == data


def test_cursor_steps_and_jumps_between_keys(small_doc):
    c = Cursor(small_doc)
    c.set_current(3)
    c.jump_to_anchor(1)
    assert c.current == 6
    c.jump_to_anchor(-1)
    assert c.current == 0
    c.step(1)
    assert c.current == 1
    c.set_current(4, extend=True)
    assert c.selected == [1, 2, 3, 4]
    c.step(-10)
    assert c.current == 0


def test_new_shot_has_keys_at_both_ends(qapp):
    doc = ShotDocument(64, 32, 24, edits.new_shot_frames(5))
    assert doc.anchors() == [0, 4] and all(isinstance(f, Frame) for f in doc.frames)


def test_generation_plan_sends_anchors_sketches_and_timing(small_doc):
    from desktop_app import generation

    doc = small_doc
    edits.set_role(doc, [3], Role.BREAKDOWN)
    edits.set_layer_image(doc, 2, LayerKind.SKETCH, disc(x=40))
    edits.set_layer_image(doc, 5, LayerKind.SKETCH, disc(x=60))
    edits.set_timing(doc, 3, "ease-out")
    whole = generation.plan(doc, backend="flow", seed=7)
    r = whole.request
    assert sorted(r.keys) == [0, 3, 6] and sorted(r.sketches) == [2, 5]
    assert r.timing == {0: "linear", 3: "ease-out"} and r.options == {"seed": 7}
    assert r.encoding == "rgba" and r.keys[0].encoding == "rgba" and len(r.keys[0].data) == 96 * 64 * 4
    seg = generation.plan(doc, 3, 6)
    assert sorted(seg.request.keys) == [3, 6] and sorted(seg.request.sketches) == [5]
    assert seg.targets == [4, 5]
    edits.set_exposure(doc, 2)  # frame 2 is now a hold of segment 0-3 (drawings at 0+2n)
    on_twos = generation.plan(doc)
    assert on_twos.skipped_sketches == [] and sorted(on_twos.request.sketches) == [2, 5]
    edits.set_role(doc, [2], Role.HOLD)
    assert generation.plan(doc).skipped_sketches == [2]


def test_generation_plan_explains_what_is_missing(qapp):
    import pytest

    from desktop_app import generation

    doc = ShotDocument(32, 32, 24, [Frame(role=Role.KEY), Frame(role=Role.KEY)])
    with pytest.raises(generation.GenerateError, match="nothing to generate"):
        generation.plan(doc)
    doc = ShotDocument(32, 32, 24, [Frame(role=Role.KEY), Frame()])
    with pytest.raises(generation.GenerateError, match="two frames as keys"):
        generation.plan(doc)


def test_the_undo_history_is_bounded_in_memory_and_stays_consistent(small_doc):
    from desktop_app.model import commands

    doc = small_doc
    layer = 96 * 64 * 4
    budget = 10 * layer
    original = doc.frames
    for n in range(40):
        edits.set_layer_image(doc, 1 + n % 5, LayerKind.DRAWING, disc(x=10 + n))
        commands.trim_history(doc.undo_stack, budget)
    held = sum(c.bytes for i in range(doc.undo_stack.count())
               for c in commands._frames_commands(doc.undo_stack.command(i)))
    assert held <= budget + layer and doc.undo_stack.count() == 40
    latest = doc.frames
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    oldest = doc.frames
    assert oldest != original  # the first strokes were forgotten...
    assert all(f.drawing is not None for f in oldest[1:6])  # ...and the doc is a real earlier state
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert doc.frames == latest


def test_trimming_past_the_saved_state_never_claims_the_shot_is_saved(small_doc):
    from desktop_app.model import commands

    doc = small_doc
    edits.set_layer_image(doc, 1, LayerKind.DRAWING, disc(x=10))
    doc.undo_stack.setClean()
    for n in range(12):
        edits.set_layer_image(doc, 2, LayerKind.DRAWING, disc(x=20 + n))
    commands.trim_history(doc.undo_stack, 3 * 96 * 64 * 4)
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert not doc.undo_stack.isClean()  # the saved state can no longer be reached
