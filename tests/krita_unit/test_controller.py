"""The controller end to end with a fake Krita document and a real engine (no Qt: manual timers)."""

from __future__ import annotations

import time

import pytest

from inbetween_krita import controller as controller_mod
from inbetween_krita.controller import Choices, Controller

from .conftest import disc, solid


class Loop:
    """A tiny event loop standing in for Qt: repeating timers and single shots, run by `spin`."""

    def __init__(self):
        self.timers = []
        self.shots = []

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
            time.sleep(0.01)


@pytest.fixture
def loop():
    return Loop()


def make(loop) -> Controller:
    return Controller(timer_factory=loop.timer, defer=loop.defer)


def test_generate_writes_a_layer_with_keys_untouched(doc, engine, loop):
    k0, k4 = disc(10, 15, 6), disc(30, 15, 6)
    ink = doc.add_layer("ink", {0: k0, 4: k4})
    doc.add_layer("sketch", {0: solid(0, 0, 0, 0), 2: disc(20, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    states = []
    ctl.subscribe(lambda c: states.append(c.state))
    assert ctl.generate() is True
    loop.spin(lambda: ctl.state in ("done", "failed") and not ctl.busy)
    assert ctl.state == "done", ctl.message
    assert ctl.result_layer == "ink in-betweens (flow)"
    assert "3 in-betweens" in ctl.message
    assert doc.top_names() == ["sketch", "ink in-betweens (flow)", "ink"]
    out = [n for n in doc.rootNode().childNodes() if n.name() == ctl.result_layer][0]
    assert sorted(out.frames) == [0, 1, 2, 3, 4]
    assert out.frames[0] == k0 and out.frames[4] == k4
    for t in (1, 2, 3):
        assert any(a > 0 for a in out.frames[t][3::4])
    assert "idle" in states and "running" in states and states[-1] == "done"
    # a second run makes a second layer, never overwrites the first
    assert ctl.generate(ctl.resolve(Choices(key_layer="ink", sketch_layer=controller_mod.NONE)))
    loop.spin(lambda: ctl.state == "done" and not ctl.busy and ctl.result_layer != "ink in-betweens (flow)")
    assert ctl.result_layer == "ink in-betweens (flow) (2)"
    ctl.shutdown()


def test_engine_not_running_says_so(doc, loop):
    ink = doc.add_layer("ink", {0: solid(1, 1, 1), 4: solid(2, 2, 2)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    assert ctl.generate() is True  # waits for the connection, which fails
    assert ctl.state == "connecting" and ctl.busy
    loop.spin(lambda: ctl.state != "connecting")
    assert ctl.state == "disconnected" and not ctl.busy
    assert "not reachable" in ctl.message and "engine command" in ctl.message.lower()


@pytest.mark.slow
def test_engine_started_from_the_configured_command(doc, loop, private_state_dir):
    import shlex
    import sys

    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 2: disc(20, 15, 6)})
    doc.setActiveNode(ink)
    ctl = make(loop)
    ctl.settings.engine_command = f"{shlex.quote(sys.executable)} -m engine"
    ctl.settings.start_engine = True
    try:
        assert ctl.generate() is True  # pending until the engine is up
        assert ctl.state == "connecting"
        loop.spin(lambda: ctl.state in ("done", "failed", "disconnected") and not ctl.busy)
        assert ctl.state == "done", ctl.message
        assert ctl.engine_process is not None
    finally:
        ctl.shutdown()
    assert ctl.engine_process is None


def test_a_bad_engine_command_is_reported(doc, loop):
    doc.add_layer("ink", {0: solid(1, 1, 1), 2: solid(2, 2, 2)})
    ctl = make(loop)
    ctl.settings.engine_command = "/nonexistent/engine-binary"
    assert ctl.connect() is False
    loop.spin(lambda: ctl.state == "disconnected")
    assert "Could not start the engine" in ctl.message


def test_document_problems_are_messages(doc, engine, loop):
    ctl = make(loop)
    ctl.settings.sketch_hint = "sketch"
    doc.add_layer("ink", {0: solid(1, 1, 1)})
    assert ctl.generate() is False
    assert ctl.state == "failed" and "two or more" in ctl.message
    assert ctl.generate(None) is False
    with pytest.raises(Exception, match="no paint layer named 'nope'"):
        ctl.resolve(Choices(key_layer="nope"))
    ctl.shutdown()


def test_backends_and_cancel(doc, engine, loop):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 40: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    doc._range = (0, 40)
    ctl = make(loop)
    assert ctl.connect() is False  # in the background
    loop.spin(lambda: ctl.state != "connecting")
    assert ctl.connected and ctl.state == "idle" and ctl.connect() is True
    assert "flow" in [b["name"] for b in ctl.backends()]
    assert ctl.generate()
    ctl.cancel()
    loop.spin(lambda: ctl.state in ("cancelled", "done", "failed") and not ctl.busy)
    # the job may finish before the cancel arrives; either way nothing half-written remains
    assert ctl.state in ("cancelled", "done"), ctl.message
    if ctl.state == "cancelled":
        assert doc.top_names() == ["ink"]
    ctl.shutdown()
