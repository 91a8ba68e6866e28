"""Reading keys and sketches from a document (fake Krita): drawn keys only, in bands."""

from __future__ import annotations

import pytest

from inbetween_krita import krita_io

from .conftest import H, W, disc, solid


def test_read_shot_takes_drawn_keys_in_range_and_sketches_on_inbetweens(doc):
    k0, k3, k6 = solid(1, 2, 3), solid(4, 5, 6), solid(7, 8, 9)
    keys = doc.add_layer("ink", {0: k0, 3: k3, 6: k6})
    sketch = doc.add_layer("Sketch rough", {0: solid(9, 9, 9), 2: solid(10, 0, 0), 3: solid(11, 0, 0),
                                            4: bytes(W * H * 4)})
    src = krita_io.read_shot(doc, keys, sketch, 0, 6)
    assert (src.width, src.height) == (W, H)
    assert src.keys == {0: k0, 3: k3, 6: k6}  # BGRA passed through untouched
    assert src.sketches == {2: solid(10, 0, 0)}  # on keys (0, 3) or empty (4): not sketches
    assert src.inbetween_frames == [1, 2, 4, 5]


def test_krita_s_empty_frame_zero_is_not_a_key(doc):
    """Issue 16 #1: keys drawn at 4 and 10, Krita's own empty keyframe at 0, range 0-11."""
    doc.setPlayBackRange(0, 11)
    k4, k10 = disc(10, 15, 5), disc(30, 15, 5)
    keys = doc.add_layer("ink", {0: b"", 4: k4, 10: k10})
    src = krita_io.read_shot(doc, keys, None, 0, 11)
    assert sorted(src.keys) == [4, 10] and src.blank == [0]
    assert src.inbetween_frames == [5, 6, 7, 8, 9]


def test_read_shot_respects_the_frame_range(doc):
    keys = doc.add_layer("ink", {0: solid(1, 1, 1), 3: solid(2, 2, 2), 6: solid(3, 3, 3)})
    src = krita_io.read_shot(doc, keys, None, 2, 6)
    assert sorted(src.keys) == [3, 6]


def test_frames_are_read_in_bands_with_pauses(doc, monkeypatch):
    monkeypatch.setattr(krita_io, "BAND_BYTES", W * 4 * 7)  # 7 rows per read
    k0, k4 = disc(10, 15, 6), disc(30, 15, 6)
    keys = doc.add_layer("ink", {0: k0, 4: k4})
    steps = krita_io.read_shot_stepwise(krita_io.ReadRequest(doc, keys, None, 0, 4))
    pauses = 0
    with pytest.raises(StopIteration) as stop:
        while True:
            next(steps)
            pauses += 1
    src = stop.value.value
    assert all(isinstance(b, list) for b in src.keys.values())  # bands, joined off the event loop
    assert src.materialize().keys == {0: k0, 4: k4}
    assert keys.reads == 2 * 5 and pauses >= 10  # ceil(30 / 7) = 5 bands per frame


def test_blank_test_stops_at_the_first_drawn_band(doc, monkeypatch):
    monkeypatch.setattr(krita_io, "BAND_BYTES", W * 4 * 5)
    keys = doc.add_layer("ink", {0: b"", 4: disc(10, 3, 2)})
    assert krita_io.run_steps(krita_io.read_frame_stepwise(keys, 4, W, H, stop_when_drawn=True)) is True
    assert keys.reads == 1
    assert krita_io.run_steps(krita_io.read_frame_stepwise(keys, 0, W, H, stop_when_drawn=True)) is False


@pytest.mark.parametrize("frames, message", [
    ({0: solid(1, 1, 1)}, r"'ink' has 1 drawn keyframe in frames 0-6"),
    ({}, "'ink' has no keyframes in frames 0-6"),
    ({0: solid(1, 1, 1), 1: solid(2, 2, 2)}, "no frame between them"),
    ({0: b"", 5: solid(1, 1, 1)}, r"empty keyframe\(s\) at 0 are not keys"),
])
def test_read_shot_explains_what_is_wrong(doc, frames, message):
    keys = doc.add_layer("ink", frames)
    with pytest.raises(krita_io.KritaIOError, match=message):
        krita_io.read_shot(doc, keys, None, 0, 6)


@pytest.mark.parametrize("kind, words", [("vectorlayer", "'Pose' is a vector layer"),
                                         ("grouplayer", "'Pose' is a group layer"),
                                         ("filllayer", "'Pose' is a fill layer")])
def test_other_layer_kinds_are_refused_by_name(doc, kind, words):
    node = doc.add_layer("Pose", {}, kind=kind)
    with pytest.raises(krita_io.KritaIOError, match=words):
        krita_io.read_shot(doc, node, None, 0, 6)


def test_read_shot_refuses_other_colour_spaces(doc):
    keys = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    keys.color = ("RGBA", "U16")
    with pytest.raises(krita_io.KritaIOError, match="'ink' is RGBA/U16.*8-bit RGBA"):
        krita_io.read_shot(doc, keys, None, 0, 6)


def test_layers_inside_groups_and_documents_by_identity(doc, fake_krita_module):
    group = doc.add_layer("characters", kind="grouplayer")
    ink = doc.add_layer("ink", {0: b""}, parent=group)
    assert [krita_io.layer_path(n) for n in krita_io.paint_layers(doc)] == ["characters/ink"]
    assert krita_io.node_by_id(doc, ink.uniqueId()) is ink
    key = krita_io.doc_key(doc)
    assert krita_io.find_document(key) is doc
    doc.close()
    assert krita_io.find_document(key) is None


def test_plan_uses_the_blank_cache(doc):
    keys = doc.add_layer("ink", {0: b"", 4: solid(1, 1, 1), 10: solid(2, 2, 2)})
    known = {0: True}
    plan = krita_io.plan_for(doc, keys, None, 0, 11, 1, lambda node, t: known.get(t))
    assert plan.keys == (4, 10) and plan.fill == [5, 6, 7, 8, 9]
    assert krita_io.fps(doc) == 24.0 and krita_io.playback_range(doc) == (0, 6)
