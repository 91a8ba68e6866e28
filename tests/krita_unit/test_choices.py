"""The keys layer: chosen explicitly, defaulted once per document, never a result, refused by kind."""

from __future__ import annotations

import pytest

from inbetween_krita import krita_io, settings as settings_mod
from inbetween_krita.choices import DocumentChoices
from inbetween_krita.results import NONE

from . import fake_krita
from .conftest import H, W, solid


def make():
    return DocumentChoices(settings_mod.Settings())


def test_default_is_the_active_paint_layer_when_first_seen_and_then_stays(doc):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    other = doc.add_layer("other", {})
    doc.setActiveNode(ink)
    ch = make()
    assert ch.keys_node(doc) is ink
    doc.setActiveNode(other)  # e.g. the result became active (issue 16 #4)
    assert ch.keys_node(doc) is ink


@pytest.mark.parametrize("kind, words", [("vectorlayer", "'Vector 1' is a vector layer"),
                                         ("grouplayer", "'Vector 1' is a group layer")])
def test_an_active_layer_of_another_kind_is_never_used_and_is_named(doc, kind, words):
    """Issue 16 #2: a vector or group layer active must not pick some other layer silently."""
    group = doc.add_layer("group", kind="grouplayer")
    doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)}, parent=group)
    active = doc.add_layer("Vector 1", kind=kind)
    doc.setActiveNode(active)
    ch = make()
    with pytest.raises(krita_io.KritaIOError, match=f"Choose the keys layer of 'shot'.*{words}"):
        ch.keys_node(doc)
    with pytest.raises(krita_io.KritaIOError, match=words + ": the keys are read"):
        ch.use_active(doc)


def test_a_result_layer_is_never_the_default(doc):
    res = doc.add_layer("ink in-betweens (flow)", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.setActiveNode(res)
    ch = make()
    with pytest.raises(krita_io.KritaIOError, match="'ink in-betweens \\(flow\\)' is a result"):
        ch.keys_node(doc)
    assert "earlier result" in ch.set_keys(doc, res)  # chosen on purpose: allowed, and said
    assert ch.keys_node(doc) is res


def test_choices_are_per_document(doc, fake_krita_module):
    a = doc.add_layer("a", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.setActiveNode(a)
    other = fake_krita.FakeDocument(W, H, name="other")
    b = other.add_layer("b", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    other.setActiveNode(b)
    ch = make()
    assert ch.keys_node(doc) is a and ch.keys_node(other) is b
    ch.set_sketch(other, NONE)
    assert ch.sketch_node(other, b) is None


def test_a_deleted_keys_layer_is_named(doc):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.setActiveNode(ink)
    ch = make()
    ch.keys_node(doc)
    ink.remove()
    with pytest.raises(krita_io.KritaIOError, match="'ink' is no longer in 'shot'"):
        ch.keys_node(doc)


def test_saved_documents_keep_their_choice_by_file_name(doc):
    doc.file_name = "/work/shot.kra"
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    other = doc.add_layer("other", {})
    doc.setActiveNode(other)
    s = settings_mod.Settings()
    first = DocumentChoices(s)
    first.set_keys(doc, ink)
    first.for_doc(doc).segment_timing[0] = "ease-in"
    first.remember(doc)
    again = DocumentChoices(settings_mod.Settings.from_dict({"documents": s.documents}))
    assert again.keys_node(doc) is ink
    assert again.for_doc(doc).segment_timing == {0: "ease-in"}


def test_automatic_sketch_layer_skips_keys_and_results(doc):
    ink = doc.add_layer("sketch keys", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.add_layer("sketch keys in-betweens (flow)", {})
    rough = doc.add_layer("Rough SKETCH", {})
    doc.setActiveNode(ink)
    ch = make()
    assert ch.sketch_node(doc, ink) is rough
    assert ch.frame_range(doc) == (0, 6)


def test_a_default_without_keyframes_gives_way_until_the_user_chooses(doc):
    """A new document: Background is active when the docker first sees it, keys drawn later."""
    bg = doc.add_layer("Background", {})
    doc.setActiveNode(bg)
    ch = make()
    assert ch.keys_node(doc) is bg
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    res = doc.add_layer("ink in-betweens (flow)", {0: solid(1, 1, 1)})
    doc.setActiveNode(res)
    assert ch.keys_node(doc) is bg  # a result never becomes the default
    doc.setActiveNode(ink)
    assert ch.keys_node(doc) is ink  # an animated paint layer does
    other = doc.add_layer("other", {0: solid(1, 1, 1), 2: solid(2, 2, 2)})
    doc.setActiveNode(other)
    assert ch.keys_node(doc) is ink  # and then it stays
    ch.set_keys(doc, bg)
    doc.setActiveNode(other)
    assert ch.keys_node(doc) is bg  # chosen: never replaced
