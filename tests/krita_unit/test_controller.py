"""The controller end to end with a fake Krita document and a real engine (no Qt: manual timers)."""

from __future__ import annotations

import time

import pytest

from inbetween_krita import krita_io
from inbetween_krita.controller import Controller

from . import fake_krita
from .conftest import H, W, disc, solid


class Loop:
    """A tiny event loop standing in for Qt: repeating timers and single shots, run by `spin`."""

    def __init__(self):
        self.timers = []
        self.shots = []
        self.between = None  # called once per turn (a user doing something meanwhile)

    def timer(self, cb):
        loop = self

        class T:
            running = False

            def start(self, ms):
                self.running = True
                if self not in loop.timers:
                    loop.timers.append(self)

            def stop(self):
                self.running = False

        t = T()
        t.cb = cb
        return t

    def defer(self, ms, fn):
        self.shots.append(fn)

    def spin(self, until, timeout=120.0):
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, "timed out"
            for t in list(self.timers):
                if t.running:
                    t.cb()
            shots, self.shots = self.shots, []
            for fn in shots:
                fn()
            if self.between:
                self.between()
            time.sleep(0.005)


@pytest.fixture
def loop():
    return Loop()


def make(loop) -> Controller:
    return Controller(timer_factory=loop.timer, defer=loop.defer, thumbnailer=None)


def settled(ctl):
    return lambda: ctl.state in ("done", "failed", "cancelled", "idle") and not ctl.busy


def result_node(doc, name):
    return next(n for n in krita_io.iter_nodes(doc.rootNode()) if n.name() == name)


def test_generate_previews_first_then_apply_writes_one_undo_step(doc, engine, loop, fake_krita_module):
    k0, k4 = disc(10, 15, 6), disc(30, 15, 6)
    ink = doc.add_layer("ink", {0: k0, 4: k4})
    doc.add_layer("sketch", {0: solid(0, 0, 0, 0), 2: disc(20, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    states = []
    ctl.subscribe(lambda c: states.append(c.state))
    try:
        assert ctl.generate() is True
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        assert "Ready: 3 in-betweens for 'ink' frames 0-4 of 'shot'" in ctl.message
        assert doc.top_names() == ["sketch", "ink"]  # nothing written before Apply
        assert ["reading", "submitting", "running", "done"] == [s for i, s in enumerate(states)
                                                                if i == 0 or s != states[i - 1]][-4:]
        result = ctl.latest()
        assert sorted(result.frames) == [0, 1, 2, 3, 4] and result.frames[0] == k0
        assert ctl.last_request["sketches"] == [2] and ctl.last_request["fps"] == 24.0
        assert ctl.last_request["options"] == {}  # flow uses no options: the seed is not sent
        n = len(doc.undo_stack)
        assert ctl.apply() is True
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        assert doc.top_names() == ["sketch", "ink in-betweens (flow)", "ink"]
        out = result_node(doc, "ink in-betweens (flow)")
        assert out.frames[0] == k0 and out.frames[4] == k4 and out.isPinnedToTimeline()
        assert [e[0] for e in doc.undo_stack[n:]] == ["add"]
        assert "One Ctrl+Z takes it back" in ctl.message
        assert not ink.visible() and ctl.review.active  # reviewed alone...
        ctl.stop_review()
        assert ink.visible()  # ...and restored
        # a second Generate on the same keys: the keys layer is still 'ink', not the result (#4)
        doc.setActiveNode(out)
        assert ctl.generate() is True
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        assert ctl.apply() and (loop.spin(settled(ctl)) or True)
        assert doc.top_names() == ["sketch", "ink in-betweens (flow)", "ink"], "replaced, not stacked"
        assert "replaced the previous result" in ctl.message
        ctl.settings.keep_previous = True
        assert ctl.generate() and (loop.spin(settled(ctl)) or True)
        assert ctl.apply() and (loop.spin(settled(ctl)) or True)
        assert doc.top_names() == ["sketch", "ink in-betweens (flow) (2)", "ink in-betweens (flow)", "ink"]
        assert not result_node(doc, "ink in-betweens (flow)").visible()  # the older one: hidden in review
    finally:
        ctl.shutdown()


def test_a_job_belongs_to_its_document(fake_krita_module, engine, loop):
    """Issue 16 #3: switching documents during a job never misplaces or loses the result."""
    a = fake_krita.FakeDocument(W, H, 0, 4, name="a")
    ink = a.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    a.setActiveNode(ink)
    b = fake_krita.FakeDocument(W, H, 0, 4, name="b")
    b_layer = b.add_layer("paint", {})
    b.setActiveNode(b_layer)
    fake_krita_module.document = b
    fake_krita_module.document = a
    ctl = make(loop)
    try:
        assert ctl.generate() is True
        fake_krita_module.document = b  # the user switches while the job runs
        loop.spin(settled(ctl))
        assert ctl.state == "done", ctl.message
        assert ctl.apply() and (loop.spin(settled(ctl)) or True)
        assert ctl.state == "done", ctl.message
        assert a.top_names() == ["ink in-betweens (flow)", "ink"] and b.top_names() == ["paint"]
        assert b.undo_stack == [] and fake_krita_module.activeDocument() is b  # b stays in front

        # the document closes during the next job: the result is kept and offered
        fake_krita_module.document = a
        ctl.settings.keep_previous = True
        assert ctl.generate(a)
        a.close()
        loop.spin(settled(ctl))
        result = ctl.latest()
        assert ctl.state == "done" and result.state == "ready"
        assert ctl.apply(result) is False and "was closed" in ctl.message and result.frames
        assert ctl.apply(result, into="active") is True  # b has the same size
        loop.spin(settled(ctl))
        assert b.top_names() == ["ink in-betweens (flow)", "paint"], ctl.message
        small = fake_krita.FakeDocument(8, 8, name="small")
        fake_krita_module.document = small
        assert ctl.apply(result, into="active") is False and "open a document of that size" in ctl.message
        assert ctl.apply(result, into="new") is True
        loop.spin(settled(ctl))
        new = fake_krita_module.activeDocument()
        assert new.top_names() == ["ink in-betweens (flow)"] and (new.width(), new.height()) == (W, H)
    finally:
        ctl.shutdown()


def test_exposure_fps_and_per_segment_timing_reach_the_engine(doc, engine, loop):
    ink = doc.add_layer("ink", {0: disc(8, 15, 5), 6: disc(20, 15, 5), 12: disc(32, 15, 5)})
    doc.setActiveNode(ink)
    doc.setPlayBackRange(0, 12)
    doc.setFramesPerSecond(12)
    ctl = make(loop)
    ctl.settings.exposure = 2
    ctl.settings.timing = "ease-in"
    ctl.choices.for_doc(doc).segment_timing[6] = "ease-out"
    try:
        assert ctl.generate() and (loop.spin(settled(ctl)) or True)
        assert ctl.state == "done", ctl.message
        assert ctl.last_request["fps"] == 12.0 and ctl.last_request["exposure"] == 2
        assert ctl.last_request["timing"] == {0: "ease-in", 6: "ease-out"}
        result = ctl.latest()
        assert sorted(result.frames) == [0, 2, 4, 6, 8, 10, 12]
        assert result.holds == {1: 0, 3: 2, 5: 4, 7: 6, 9: 8, 11: 10}
        assert result.shown_at(3) == 2
        assert ctl.apply() and (loop.spin(settled(ctl)) or True)
        out = result_node(doc, "ink in-betweens (flow)")
        assert fake_krita.keyframes(out) == [0, 2, 4, 6, 8, 10, 12]  # holds get no keyframe
    finally:
        ctl.shutdown()


def test_write_when_done_and_discard(doc, engine, loop):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 3: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    try:
        ctl.settings.write_when_done = True
        assert ctl.generate() and (loop.spin(lambda: ctl.latest() is not None and settled(ctl)()) or True)
        loop.spin(lambda: ctl.latest().state == "written" and settled(ctl)())
        assert "ink in-betweens (flow)" in doc.top_names()
        assert ctl.take_back() is True and doc.top_names() == ["ink"]
        assert ctl.latest().state == "ready"
        ctl.discard()
        assert ctl.latest() is None and "Discarded" in ctl.message
    finally:
        ctl.shutdown()


def test_no_engine_anywhere_offers_the_set_up(doc, loop, monkeypatch, tmp_path):
    monkeypatch.setenv("INBETWEEN_KRITA_ENGINE_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("INBETWEEN_ENGINE_COMMAND", raising=False)
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    assert ctl.link.candidate() is None
    assert ctl.generate() is True
    loop.spin(settled(ctl))
    assert ctl.state == "failed" and ctl.progress == 0.0
    assert "Set up engine" in ctl.link.message and "Use app" in ctl.link.message
    assert ctl.can_retry and doc.top_names() == ["ink"]
    ctl.shutdown()


def test_a_bad_engine_command_is_reported(doc, loop):
    ctl = make(loop)
    ctl.settings.engine_command = "/nonexistent/engine-binary"
    assert ctl.connect(True) is False
    loop.spin(lambda: ctl.link.state == "disconnected")
    assert "could not start the engine command you set" in ctl.link.message
    ctl.shutdown()


def test_document_problems_are_messages_naming_the_layer(doc, engine, loop):
    ctl = make(loop)
    ink = doc.add_layer("ink", {0: b"", 5: solid(1, 1, 1)})
    doc.setActiveNode(ink)
    assert ctl.generate() is True
    loop.spin(settled(ctl))
    assert ctl.state == "failed" and "'ink' has 1 drawn keyframe" in ctl.message
    assert ctl.progress == 0.0
    ctl.shutdown()


def test_cancel(doc, engine, loop):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 60: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    doc.setPlayBackRange(0, 60)
    ctl = make(loop)
    try:
        assert ctl.connect() is False
        loop.spin(lambda: ctl.connected)
        assert ctl.generate()
        loop.spin(lambda: ctl.state == "running")
        ctl.cancel()
        loop.spin(settled(ctl))
        assert ctl.state in ("cancelled", "done"), ctl.message  # it may finish before the cancel
        if ctl.state == "cancelled":
            assert ctl.progress == 0.0 and "nothing was written" in ctl.message
        assert doc.top_names() == ["ink"]
    finally:
        ctl.shutdown()


def test_the_plan_is_shown_before_generate(doc, loop):
    doc.setPlayBackRange(0, 11)
    ink = doc.add_layer("ink", {0: b"", 4: disc(10, 15, 6), 10: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    plan = ctl.plan(doc)  # the blank test of frame 0 is not known yet: scanned in the background
    loop.spin(lambda: ctl.blanks.known and not ctl.blanks.scanning, timeout=10)
    plan = ctl.plan(doc)
    assert plan.keys == (4, 10) and "Fills frames 5-9" in plan.describe()
    ctl.shutdown()


def test_a_key_drawn_later_on_the_empty_frame_is_noticed(doc, loop, monkeypatch):
    from inbetween_krita import blank_scan

    ink = doc.add_layer("ink", {0: b"", 4: disc(10, 15, 6), 6: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    ctl.plan(doc)
    loop.spin(lambda: ctl.blanks.known and not ctl.blanks.scanning, timeout=10)
    assert ctl.plan(doc).keys == (4, 6)
    ink.frames[0] = disc(5, 15, 4)  # the animator draws on Krita's empty frame 0
    monkeypatch.setattr(blank_scan, "TTL_BLANK_S", 0.0)
    ctl.plan(doc)
    loop.spin(lambda: not ctl.blanks.scanning and not ctl.blanks.wanted, timeout=10)
    assert ctl.plan(doc).keys == (0, 4, 6)
    ctl.shutdown()
