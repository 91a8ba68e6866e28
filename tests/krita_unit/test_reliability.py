"""Faults seen from the Krita plugin: the engine killed (SIGKILL) mid-job, and the engine
refusing a job (over the size limit, queue full). The docker shows the failure and Retry."""

from __future__ import annotations

import shlex
import sys
import types

import pytest

from inbetween_krita import client_lib as cl
from inbetween_krita.controller import Controller

from . import fake_krita
from .conftest import disc
from .test_controller import Loop


@pytest.fixture
def loop():
    return Loop()


def _controller(loop) -> Controller:
    ctl = Controller(timer_factory=loop.timer, defer=loop.defer)
    ctl.settings.engine_command = f"{shlex.quote(sys.executable)} -m engine"
    return ctl


@pytest.mark.slow
def test_engine_killed_mid_job_then_retry_restarts_it_and_resubmits(fake_krita_module, engine, loop):
    w, h = 320, 200
    doc = fake_krita.FakeDocument(w, h, 0, 120)
    fake_krita_module.document = doc
    k0, k1 = disc(60, 100, 30, w, h), disc(260, 100, 30, w, h)
    ink = doc.add_layer("ink", {0: k0, 120: k1})
    doc.setActiveNode(ink)
    ctl = _controller(loop)
    messages: list[str] = []
    ctl.subscribe(lambda c: messages.append(c.message))
    try:
        assert ctl.generate() is True
        loop.spin(lambda: ctl.state == "running" and ctl.runner is not None and (
            ctl.runner.frames or "generating..." in messages))
        engine.popen.kill()  # SIGKILL mid-job
        loop.spin(lambda: ctl.state != "running")
        assert ctl.state == "failed" and "connection_lost" in ctl.message
        assert "Retry" in ctl.message and "Nothing was added" in ctl.message
        assert doc.top_names() == ["ink"] and ink.frames == {0: k0, 120: k1}  # document intact
        assert ctl.can_retry and ctl.engine_process is None  # the plugin did not start that engine

        assert ctl.retry() is True  # reconnect: nothing answers, so the engine command starts one
        assert ctl.state == "connecting" and not ctl.can_retry
        loop.spin(lambda: ctl.state in ("done", "failed", "disconnected") and not ctl.busy, timeout=240)
        assert ctl.state == "done", ctl.message
        assert ctl.engine_process is not None and ctl.engine_process.popen.pid != engine.popen.pid
        assert ctl.result_layer == "ink in-betweens (flow)"
        out = [n for n in doc.rootNode().childNodes() if n.name() == ctl.result_layer][0]
        assert sorted(out.frames) == list(range(121))
        assert out.frames[0] == k0 and out.frames[120] == k1
        assert ink.frames == {0: k0, 120: k1}
        assert not ctl.can_retry and ctl.retry() is False
    finally:
        ctl.shutdown()
    assert ctl.engine_process is None


def test_retry_without_an_engine_says_why_and_stays_offered(doc, loop, monkeypatch):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = _controller(loop)
    ctl.settings.engine_command = "/nonexistent/engine-binary"
    ctl.retry_selection = ctl.resolve()
    assert ctl.retry() is True
    loop.spin(lambda: ctl.state != "connecting")
    assert ctl.state == "disconnected" and "Could not start the engine" in ctl.message
    assert ctl.can_retry and doc.top_names() == ["ink"]


def test_over_the_size_limit_shows_the_engines_message(fake_krita_module, engine, loop):
    w, h = 4100, 4
    doc = fake_krita.FakeDocument(w, h, 0, 4)
    fake_krita_module.document = doc
    ink = doc.add_layer("ink", {0: bytes(w * h * 4), 4: bytes([255]) * (w * h * 4)})
    doc.setActiveNode(ink)
    ctl = _controller(loop)
    try:
        assert ctl.connect() is False
        loop.spin(lambda: ctl.state != "connecting")
        assert ctl.generate() is False
        assert ctl.state == "failed"
        assert "The engine refused the shot" in ctl.message and "over the size limit" in ctl.message
        assert "4096" in ctl.message and "smaller canvas" in ctl.message and "[bad_shot]" in ctl.message
        assert doc.top_names() == ["ink"] and not ctl.can_retry
    finally:
        ctl.shutdown()


def test_queue_full_shows_the_engines_message(doc, loop):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = _controller(loop)

    class BusyClient:
        connected = True

        def submit(self, request):
            raise cl.RemoteError(cl.ErrorCode.QUEUE_FULL, "this client already has 4 unfinished jobs")

    ctl.client = BusyClient()
    assert ctl.generate() is False
    assert ctl.state == "failed" and "4 unfinished jobs" in ctl.message
    assert "wait for one to finish" in ctl.message and "[queue_full]" in ctl.message
    assert doc.top_names() == ["ink"]


# ---------------------------------------------------------------- the docker, on PySide6

def _pyqt5_shim():
    """PyQt5 names the plugin uses, served by PySide6 (the only Qt binding in the venv)."""
    qtw = pytest.importorskip("PySide6.QtWidgets")
    from PySide6 import QtCore

    core = types.ModuleType("PyQt5.QtCore")
    core.__dict__.update({k: getattr(QtCore, k) for k in dir(QtCore) if not k.startswith("__")})
    core.pyqtSignal = QtCore.Signal
    pkg = types.ModuleType("PyQt5")
    pkg.QtCore, pkg.QtWidgets = core, qtw
    return pkg, core, qtw


def test_docker_shows_the_failure_and_a_retry_button(qapp, fake_krita_module, doc, loop, monkeypatch):
    pkg, core, qtw = _pyqt5_shim()
    for name, mod in (("PyQt5", pkg), ("PyQt5.QtCore", core), ("PyQt5.QtWidgets", qtw)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setitem(sys.modules, "PyQt6", None)  # force the PyQt5 branch of compat
    for name in ("inbetween_krita.compat", "inbetween_krita.docker"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(sys.modules["krita"], "DockWidget", qtw.QDockWidget, raising=False)
    from inbetween_krita import controller as controller_mod

    ctl = _controller(loop)
    monkeypatch.setattr(controller_mod, "_instance", ctl)
    from inbetween_krita import docker as docker_mod

    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    dock = docker_mod.InbetweenDocker()
    try:
        assert dock.retry_button.isHidden()
        # the engine died under a job (as the job runner reports it)
        sel = ctl.resolve()
        ctl._finish(sel, None, ctl.params(),  # type: ignore[arg-type]
                    __import__("inbetween_krita.job_runner", fromlist=["x"]).JobOutcome(
                        "failed", code="connection_lost", message="lost the connection to the engine"),
                    1.0)
        assert not dock.retry_button.isHidden() and dock.retry_button.isEnabled()
        assert "stopped while generating" in dock.message_label.text()
        asked = []
        monkeypatch.setattr(ctl, "retry", lambda: asked.append(True) or True)
        dock.retry_button.click()
        assert asked == [True]
    finally:
        ctl.unsubscribe(dock._on_controller)
        dock.deleteLater()
        import inbetween_krita

        for name in ("compat", "docker"):  # the shimmed modules must not leak into other tests
            sys.modules.pop(f"inbetween_krita.{name}", None)
            if hasattr(inbetween_krita, name):
                delattr(inbetween_krita, name)
