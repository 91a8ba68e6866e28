"""Reading keys/sketches from a document and writing frames as keyframes (fake Krita)."""

from __future__ import annotations

import pytest

from inbetween_krita import krita_io

from .conftest import H, W, disc, solid


def test_read_shot_takes_keys_in_range_and_sketches_on_inbetweens(doc):
    k0, k3, k6 = solid(1, 2, 3), solid(4, 5, 6), solid(7, 8, 9)
    keys = doc.add_layer("ink", {0: k0, 3: k3, 6: k6})
    sketch = doc.add_layer("Sketch rough", {0: solid(9, 9, 9), 2: solid(10, 0, 0), 3: solid(11, 0, 0)})
    src = krita_io.read_shot(doc, keys, sketch, 0, 6)
    assert (src.width, src.height) == (W, H)
    assert src.keys == {0: k0, 3: k3, 6: k6}  # BGRA passed through untouched
    assert src.sketches == {2: solid(10, 0, 0)}  # sketches on keys (0, 3) are not in-betweens
    assert src.inbetween_frames == [1, 2, 4, 5]


def test_read_shot_respects_the_frame_range(doc):
    keys = doc.add_layer("ink", {0: solid(1, 1, 1), 3: solid(2, 2, 2), 6: solid(3, 3, 3)})
    src = krita_io.read_shot(doc, keys, None, 2, 6)
    assert sorted(src.keys) == [3, 6]
    assert src.inbetween_frames == [4, 5]


@pytest.mark.parametrize("frames, message", [
    ({0: solid(1, 1, 1)}, r"1 keyframe\(s\) in frames 0\.\.6"),
    ({}, "is not animated"),
    ({0: solid(1, 1, 1), 1: solid(2, 2, 2)}, "no frame between them"),
])
def test_read_shot_explains_what_is_wrong(doc, frames, message):
    keys = doc.add_layer("ink", frames)
    with pytest.raises(krita_io.KritaIOError, match=message):
        krita_io.read_shot(doc, keys, None, 0, 6)


def test_read_shot_refuses_other_colour_spaces(doc):
    keys = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    keys.color = ("RGBA", "U16")
    with pytest.raises(krita_io.KritaIOError, match="8-bit RGBA"):
        krita_io.read_shot(doc, keys, None, 0, 6)


def test_read_shot_needs_a_key_layer_and_a_range(doc):
    keys = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    with pytest.raises(krita_io.KritaIOError, match="choose the layer"):
        krita_io.read_shot(doc, None, None, 0, 6)
    with pytest.raises(krita_io.KritaIOError, match="empty"):
        krita_io.read_shot(doc, keys, None, 5, 2)


def test_default_layers(doc):
    ink = doc.add_layer("ink", {0: b"", 4: b""})
    doc.add_layer("background")
    sk = doc.add_layer("My SKETCHES")
    assert krita_io.default_sketch_layer(doc, ink) is sk
    assert krita_io.default_sketch_layer(doc, sk) is None  # never the key layer itself
    assert krita_io.default_sketch_layer(doc, ink, hint="") is None
    assert krita_io.default_key_layer(doc) is ink  # no active layer: the first animated one
    doc.setActiveNode(sk)
    assert krita_io.default_key_layer(doc) is sk
    assert krita_io.playback_range(doc) == (0, 6)


def test_write_frames_makes_one_keyframe_per_frame_above_the_source(doc):
    src = doc.add_layer("ink", {0: disc(10, 15, 5), 4: disc(30, 15, 5)})
    doc.add_layer("top")
    doc.setCurrentTime(2)
    frames = {t: disc(10 + 5 * t, 15, 5) for t in range(5)}
    progress = []
    node = krita_io.write_frames(doc, src, "ink in-betweens (flow)", frames, W, H,
                                 on_frame=lambda i, n: progress.append((i, n)))
    assert doc.top_names() == ["top", "ink in-betweens (flow)", "ink"]
    assert sorted(node.frames) == [0, 1, 2, 3, 4]
    for t in range(5):
        assert node.pixelDataAtTime(0, 0, W, H, t) == frames[t]
    assert progress[-1] == (5, 5)
    assert doc.currentTime() == 2  # the user's time is restored
    assert krita_io.missing_keyframes(node, range(5)) == []


def test_write_frames_pauses_for_krita_and_waits_for_the_active_layer(doc):
    """The writer yields to the event loop after layer changes and retries activation."""
    src = doc.add_layer("ink", {0: solid(1, 1, 1), 2: solid(2, 2, 2)})
    doc.activation_lag = 2
    steps = krita_io.write_frames_stepwise(doc, src, "out", {0: solid(1, 1, 1), 1: solid(5, 5, 5),
                                                             2: solid(2, 2, 2)}, W, H)
    pauses = []
    with pytest.raises(StopIteration) as stop:
        while True:
            pauses.append(next(steps))
    node = stop.value.value
    assert node.name() == "out" and sorted(node.frames) == [0, 1, 2]
    assert len(pauses) >= 3 and all(p > 0 for p in pauses)


def test_write_frames_starting_after_zero_leaves_krita_s_implicit_frame_blank(doc):
    src = doc.add_layer("ink", {3: solid(1, 1, 1), 5: solid(2, 2, 2)})
    node = krita_io.write_frames(doc, src, "out", {3: solid(1, 1, 1), 4: solid(7, 7, 7),
                                                   5: solid(2, 2, 2)}, W, H)
    assert sorted(node.frames) == [0, 3, 4, 5]
    assert node.frames[0] == bytes(W * H * 4)


def test_write_frames_rejects_wrong_sizes(doc):
    src = doc.add_layer("ink", {0: solid(1, 1, 1), 2: solid(2, 2, 2)})
    with pytest.raises(krita_io.KritaIOError, match="expected"):
        krita_io.write_frames(doc, src, "out", {1: b"\0" * 10}, W, H)
    assert doc.top_names() == ["ink"]  # nothing was added


def test_unique_layer_name(doc):
    doc.add_layer("ink in-betweens (flow)")
    doc.add_layer("ink in-betweens (flow) (2)")
    name = krita_io.unique_layer_name(doc, krita_io.result_layer_name("ink", "flow"))
    assert name == "ink in-betweens (flow) (3)"
    assert krita_io.unique_layer_name(doc, "fresh") == "fresh"
