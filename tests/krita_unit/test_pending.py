"""Results waiting for Apply survive a Krita crash: kept on disk atomically, offered again after a
restart (into their document, found by file name), removed by Apply and Discard."""

from __future__ import annotations

import os

from inbetween_krita import pending_store
from inbetween_krita.pending_store import PendingStore
from inbetween_krita.results import Result, Target
from inbetween_krita.shot_plan import make_plan

from . import fake_krita
from .conftest import H, W, disc, solid
from .test_controller import Loop, make, settled


def _result(doc_file: str = "/work/shot.kra") -> Result:
    plan = make_plan("ink", (0, 4), [0, 4])
    target = Target("{root}", "shot.kra", "{ink}", "ink", None, None, plan, W, H, "flow", 12.0, doc_file)
    frames = {t: solid(t, 2 * t, 3, 255) for t in range(5)}
    return Result(target, frames, {}, {}, 1.5, "flow, linear", note="poses")


def test_save_load_remove_round_trip(private_plugin_state):
    store = PendingStore()
    assert store.root == private_plugin_state / "pending"
    r = _result()
    store.save(r).result()
    folder = store.folder(r)
    assert folder.parent.name.startswith("shot-") and (folder / "meta.json").is_file()
    assert sorted(p.name for p in folder.iterdir()) == [f"{t:06d}.bgra.z" for t in range(5)] + ["meta.json"]
    found = PendingStore().load()
    assert found.problems == [] and len(found.results) == 1
    back = found.results[0]
    assert back.recovered and back.uid == r.uid and back.frames == r.frames and back.note == "poses"
    assert back.target == r.target and back.target.plan.keys == (0, 4) and back.target.fps == 12.0
    store.remove(back).result()
    assert not folder.exists() and not folder.parent.exists()
    assert PendingStore().load().results == []


def test_a_save_cut_short_is_never_read(private_plugin_state):
    store = PendingStore()
    r = _result()
    store.save(r).result()
    folder = store.folder(r)
    # a crash in the middle of a save leaves only the hidden temporary folder
    partial = folder.parent / ".0123.tmp"
    partial.mkdir()
    (partial / "000000.bgra.z").write_bytes(b"half")
    # and a damaged complete one (a truncated frame) is reported, not offered
    broken = _result()
    store.save(broken).result()
    (store.folder(broken) / "000002.bgra.z").write_bytes(b"\x78\x01broken")
    found = PendingStore().load()
    assert [x.uid for x in found.results] == [r.uid]
    assert len(found.problems) == 1 and broken.uid in found.problems[0]
    os.utime(partial, (1, 1))  # an old leftover is cleaned up
    PendingStore().load()
    assert not partial.exists()


def test_unsaved_documents_get_a_folder_of_their_own():
    a, b = _result(""), _result("/x/a b.kra")
    assert pending_store.document_folder(a.target) == "shot.kra-unsaved"
    assert pending_store.document_folder(b.target).startswith("a_b-")


def test_a_result_is_kept_on_disk_until_apply_and_offered_after_a_restart(fake_krita_module, engine, private_plugin_state):
    doc = fake_krita.FakeDocument(W, H, 0, 4, name="shot")
    doc.file_name = "/work/shot.kra"
    fake_krita_module.document = doc
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    loop = Loop()
    ctl = make(loop)
    try:
        assert ctl.generate(doc)
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        ctl.pending.wait()
        result = ctl.latest()
        assert (ctl.pending.folder(result) / "meta.json").is_file()
    finally:
        ctl.link.shutdown()  # Krita "crashes": nothing else of the shutdown runs
    # Krita starts again; the document is opened again (a new identity, the same file)
    fake_krita.FakeKrita._instance = None
    app = fake_krita.FakeKrita.instance()
    doc2 = fake_krita.FakeDocument(W, H, 0, 4, name="shot")
    doc2.file_name = "/work/shot.kra"
    ink2 = doc2.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    app.document = doc2
    loop2 = Loop()
    ctl2 = make(loop2)
    try:
        loop2.spin(lambda: bool(ctl2.history.items))
        again = ctl2.latest()
        assert again.recovered and again.uid == result.uid and again.frames == result.frames
        assert "1 result(s) from an earlier session are waiting" in ctl2.message
        assert ctl2.result_document_open(again)  # found by its file name
        assert ctl2.apply(again)
        loop2.spin(settled(ctl2))
        assert ctl2.state == "done", ctl2.message
        assert doc2.top_names() == ["ink in-betweens (flow)", "ink"]  # right above its keys layer
        assert ink2.visible() is False  # reviewed alone, as after any Apply
        ctl2.pending.wait()
        assert not ctl2.pending.folder(again).exists()  # written: no longer pending
    finally:
        ctl2.shutdown()


def test_discard_removes_the_kept_result(doc, engine):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    loop = Loop()
    ctl = make(loop)
    try:
        assert ctl.generate(doc)
        loop.spin(settled(ctl))
        result = ctl.latest()
        ctl.discard(result)
        ctl.pending.wait()
        assert not ctl.pending.folder(result).exists()
        assert PendingStore().load().results == []
    finally:
        ctl.shutdown()


def test_a_result_that_cannot_be_kept_on_disk_says_so(doc, engine, private_plugin_state):
    private_plugin_state.parent.mkdir(parents=True, exist_ok=True)
    private_plugin_state.write_text("a file where the state folder should be")
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    loop = Loop()
    ctl = make(loop)
    try:
        assert ctl.generate(doc)
        loop.spin(lambda: "could not be kept on disk" in ctl.message)
        assert ctl.message.startswith("Ready: 3 in-betweens") and "a crash of Krita would lose it" in ctl.message
        assert ctl.latest().state == "ready"  # still in the docker, to Apply
    finally:
        ctl.shutdown()
