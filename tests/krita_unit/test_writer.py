"""Writing a result as one undo step through a scratch document (fake Krita with Krita's undo rules)."""

from __future__ import annotations

import pytest

from inbetween_krita import krita_io, krita_writer
from inbetween_krita.krita_writer import WriteJob

from . import fake_krita
from .conftest import H, W, disc, solid


def _frames(n=5):
    return {t: disc(5 + 6 * t, 15, 5) for t in range(n)}


def _write(job, between=None):
    """Run the writer like the controller does; `between(i)` runs at each pause."""
    steps = krita_writer.write_stepwise(job)
    i = 0
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
        if between:
            between(i)
        i += 1


def _result(doc, name):
    return next(n for n in krita_io.iter_nodes(doc.rootNode()) if n.name() == name)


def test_the_result_is_one_undo_step_and_the_user_s_time_never_moves(doc, fake_krita_module):
    ink = doc.add_layer("ink", {0: disc(5, 15, 5), 4: disc(29, 15, 5)})
    doc.add_layer("top")
    doc._time = 2
    before = list(doc.undo_stack)
    frames = _frames()
    node = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "ink in-betweens (flow)", frames, W, H))
    assert doc.top_names() == ["top", "ink in-betweens (flow)", "ink"]
    assert fake_krita.keyframes(node) == [0, 1, 2, 3, 4] and node.frames == frames
    assert node.visible() and node.isPinnedToTimeline()
    assert doc.undo_stack[len(before):] == [("add", node, doc.rootNode(), 1)]  # one step, no time switch
    assert doc.currentTime() == 2
    scratch = fake_krita_module.created[-1]
    assert scratch.closed and scratch not in fake_krita_module.documents()
    assert fake_krita_module.activeDocument() is doc  # the user's view is back
    fake_krita_module.action("edit_undo").trigger()
    assert doc.top_names() == ["top", "ink"] and doc.currentTime() == 2


def test_the_insert_waits_until_krita_is_idle(doc):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.busy_polls = 3
    node = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", _frames(), W, H))
    assert doc.busy_polls == 0 and node.name() == "res"


def test_frames_are_written_in_bands_and_land_outside_the_small_scratch_canvas(doc, monkeypatch):
    monkeypatch.setattr(krita_io, "BAND_BYTES", W * 4 * 4)
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 2: solid(2, 2, 2)})
    monkeypatch.setattr(krita_writer, "SCRATCH_SIZE", 8)
    frames = {0: solid(1, 1, 1), 1: disc(20, 15, 9), 2: solid(2, 2, 2)}
    node = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "out", frames, W, H))
    assert node.frames == frames


def test_a_first_key_after_zero_leaves_krita_s_implicit_frame_blank(doc):
    ink = doc.add_layer("ink", {3: solid(1, 1, 1), 5: solid(2, 2, 2)})
    node = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "out",
                           {3: solid(1, 1, 1), 4: solid(7, 7, 7), 5: solid(2, 2, 2)}, W, H))
    assert fake_krita.keyframes(node) == [0, 3, 4, 5] and node.frames[0] == b""


def test_replacing_removes_the_old_result_first_and_takes_its_place(doc, fake_krita_module):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.add_layer("top")
    key = krita_io.doc_key(doc)
    first = _write(WriteJob(key, ink.uniqueId(), "ink in-betweens (flow)", _frames(), W, H))
    n = len(doc.undo_stack)
    job = WriteJob(key, ink.uniqueId(), "ink in-betweens (flow)", _frames(), W, H, replace_uid=first.uniqueId())
    second = _write(job)
    assert job.replaced and doc.top_names() == ["top", "ink in-betweens (flow)", "ink"]
    assert [e[0] for e in doc.undo_stack[n:]] == ["remove", "add"]
    undo = fake_krita_module.action("edit_undo")
    undo.trigger()  # the new frames go
    assert doc.top_names() == ["top", "ink"]
    undo.trigger()  # the previous result comes back, where it was
    assert doc.top_names() == ["top", "ink in-betweens (flow)", "ink"]
    assert _result(doc, "ink in-betweens (flow)") is first and second is not first


def test_clicking_another_document_while_writing_does_not_misplace_frames(doc, fake_krita_module):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    other = fake_krita.FakeDocument(W, H, name="other")
    other_layer = other.add_layer("paint", {})
    fake_krita_module.document = other
    other.setActiveNode(other_layer)
    fake_krita_module.document = doc
    view_other = next(v for v in fake_krita_module.window.views() if v.document() is other)

    def user_clicks(i):
        if i in (3, 6):
            view_other.setVisible()  # the user clicks the other document's tab

    node = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", _frames(), W, H), user_clicks)
    assert fake_krita.keyframes(node) == [0, 1, 2, 3, 4]
    assert other_layer.frames == {} and other.undo_stack == []


def test_a_closed_document_gets_nothing_and_the_scratch_is_closed(doc, fake_krita_module):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    job = WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", _frames(), W, H)

    def close_it(i):
        if i == 2:
            doc.close()

    with pytest.raises(krita_writer.DocumentClosed):
        _write(job, close_it)
    assert all(d.closed for d in fake_krita_module.created)
    with pytest.raises(krita_writer.DocumentClosed):
        _write(job)


def test_a_failure_while_building_leaves_the_document_untouched(doc, fake_krita_module, monkeypatch):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    before = (doc.top_names(), list(doc.undo_stack))
    monkeypatch.setattr(fake_krita.FakeNode, "add_blank_frame", lambda self, t: None)  # Krita refuses
    with pytest.raises(krita_io.KritaIOError, match="did not add a keyframe at frame 0"):
        _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", _frames(), W, H))
    assert (doc.top_names(), doc.undo_stack) == before
    assert all(d.closed for d in fake_krita_module.created)
    with pytest.raises(krita_io.KritaIOError, match="expected"):
        _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", {1: b"\0" * 10}, W, H))


def test_review_hides_keys_and_sketches_and_restores_them_off_the_undo_stack(doc):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    sketch = doc.add_layer("sketch", {})
    sketch.setVisible(False)  # already hidden by the user: stays hidden afterwards
    res = _write(WriteJob(krita_io.doc_key(doc), ink.uniqueId(), "res", _frames(), W, H))
    n = len(doc.undo_stack)
    review = krita_writer.Review()
    assert review.start(doc, res.uniqueId(), [ink.uniqueId(), sketch.uniqueId()]) == ["ink", "sketch"]
    assert not ink.visible() and not sketch.visible() and res.visible()
    review.stop()
    assert ink.visible() and not sketch.visible() and not review.active
    assert len(doc.undo_stack) == n


def test_unique_names_and_removing(doc):
    doc.add_layer("ink in-betweens (flow)")
    doc.add_layer("ink in-betweens (flow) (2)")
    name = krita_writer.unique_layer_name(doc, krita_writer.result_layer_name("ink", "flow"))
    assert name == "ink in-betweens (flow) (3)"
    node = doc.add_layer("x")
    assert krita_writer.remove_layer(krita_io.doc_key(doc), node.uniqueId()) == "x"
    assert krita_writer.remove_layer(krita_io.doc_key(doc), node.uniqueId()) is None
