"""Faults seen from the Krita plugin: the engine killed (SIGKILL) or stopped (SIGTERM) mid-job,
an idle engine dying, and the engine refusing a job. The docker shows the failure and Retry."""

from __future__ import annotations

import shlex
import signal
import sys
import types

import pytest

from inbetween_krita import client_lib as cl
from inbetween_krita.controller import Controller

from . import fake_krita
from .conftest import disc
from .test_controller import Loop, settled


@pytest.fixture
def loop():
    return Loop()


def _controller(loop) -> Controller:
    ctl = Controller(timer_factory=loop.timer, defer=loop.defer, thumbnailer=None)
    ctl.settings.engine_command = f"{shlex.quote(sys.executable)} -m engine"
    return ctl


def _long_shot(fake_krita_module, frames=120):
    w, h = 320, 200
    doc = fake_krita.FakeDocument(w, h, 0, frames)
    fake_krita_module.document = doc
    k0, k1 = disc(60, 100, 30, w, h), disc(260, 100, 30, w, h)
    ink = doc.add_layer("ink", {0: k0, frames: k1})
    doc.setActiveNode(ink)
    return doc, ink, k0, k1


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill", "term"])
def test_engine_gone_mid_job_then_retry_restarts_it_and_resubmits(fake_krita_module, engine, loop, how):
    doc, ink, k0, k1 = _long_shot(fake_krita_module)
    ctl = _controller(loop)
    try:
        assert ctl.generate() is True
        loop.spin(lambda: ctl.state == "running" and ctl.progress > 0.06)
        if how == "kill":
            engine.popen.kill()  # SIGKILL mid-job
        else:
            engine.popen.send_signal(signal.SIGTERM)  # the engine stops politely: shutting_down
        loop.spin(lambda: ctl.state != "running")
        code = "connection_lost" if how == "kill" else "shutting_down"
        assert ctl.state == "failed" and f"[{code}]" in ctl.message, ctl.message
        assert "Cancelled" not in ctl.message and "cancel" not in ctl.message.lower()
        assert "Retry" in ctl.message and "Nothing was written" in ctl.message
        assert ctl.progress == 0.0  # the bar does not stay where it was
        assert not ctl.connected and ctl.link.state == "disconnected"
        assert doc.top_names() == ["ink"] and ink.frames == {0: k0, 120: k1}  # document intact
        assert ctl.can_retry and ctl.link.engine_process is None  # the plugin did not start that one

        assert ctl.retry() is True  # nothing answers, so the engine command starts one
        assert not ctl.can_retry
        loop.spin(settled(ctl), timeout=240)
        assert ctl.state == "done", ctl.message
        assert ctl.link.engine_process is not None and ctl.link.engine_process.popen.pid != engine.popen.pid
        result = ctl.latest()
        assert sorted(result.frames) == list(range(121))
        assert result.frames[0] == k0 and result.frames[120] == k1
        assert not ctl.can_retry and ctl.retry() is False
    finally:
        ctl.shutdown()
    assert ctl.link.engine_process is None


def test_an_idle_engine_dying_is_noticed(doc, engine, loop):
    ctl = _controller(loop)
    try:
        ctl.connect(False)
        loop.spin(lambda: ctl.connected)
        assert ctl.link.describe().startswith("Engine: connected")
        engine.popen.kill()
        loop.spin(lambda: ctl.link.state == "disconnected", timeout=30)
        assert "the engine stopped" in ctl.link.describe()
    finally:
        ctl.shutdown()


def test_an_engine_started_elsewhere_is_found_by_itself(doc, loop, private_state_dir):
    from inbetween_client.launcher import start_engine

    ctl = _controller(loop)
    try:
        loop.spin(lambda: True)
        assert not ctl.connected
        proc = start_engine([sys.executable, "-m", "engine"], private_state_dir / "engine.json")
        try:
            loop.spin(lambda: ctl.connected, timeout=60)  # no button pressed
        finally:
            ctl.link.disconnect()
            proc.stop()
    finally:
        ctl.shutdown()


def test_over_the_size_limit_shows_the_engines_message(fake_krita_module, engine, loop):
    w, h = 4100, 4
    doc = fake_krita.FakeDocument(w, h, 0, 4)
    fake_krita_module.document = doc
    ink = doc.add_layer("ink", {0: bytes([0, 0, 0, 9]) * (w * h), 4: bytes([255]) * (w * h * 4)})
    doc.setActiveNode(ink)
    ctl = _controller(loop)
    try:
        assert ctl.generate() is True
        loop.spin(settled(ctl))
        assert ctl.state == "failed"
        assert "The engine refused the shot" in ctl.message and "over the size limit" in ctl.message
        assert "4096" in ctl.message and "smaller canvas" in ctl.message and "[bad_shot]" in ctl.message
        assert doc.top_names() == ["ink"] and not ctl.can_retry and ctl.progress == 0.0
    finally:
        ctl.shutdown()


def test_queue_full_shows_the_engines_message(doc, loop):
    ink = doc.add_layer("ink", {0: disc(10, 15, 6), 4: disc(30, 15, 6)})
    doc.setActiveNode(ink)
    ctl = _controller(loop)

    class BusyClient:
        connected = True
        capabilities: dict = {}

        def submit(self, request):
            raise cl.RemoteError(cl.ErrorCode.QUEUE_FULL, "this client already has 4 unfinished jobs")

        def close(self):
            pass

    ctl.link.client = BusyClient()
    assert ctl.generate() is True
    loop.spin(settled(ctl))
    assert ctl.state == "failed" and "4 unfinished jobs" in ctl.message
    assert "wait for one to finish" in ctl.message and "[queue_full]" in ctl.message
    assert doc.top_names() == ["ink"]
    ctl.link.client = None
    ctl.shutdown()


# ---------------------------------------------------------------- the docker, on PySide6

def _pyqt5_shim():
    """PyQt5 names the plugin uses, served by PySide6 (the only Qt binding in the venv)."""
    qtw = pytest.importorskip("PySide6.QtWidgets")
    from PySide6 import QtCore, QtGui

    core = types.ModuleType("PyQt5.QtCore")
    core.__dict__.update({k: getattr(QtCore, k) for k in dir(QtCore) if not k.startswith("__")})
    core.pyqtSignal = QtCore.Signal
    pkg = types.ModuleType("PyQt5")
    pkg.QtCore, pkg.QtGui, pkg.QtWidgets = core, QtGui, qtw
    return pkg, core, QtGui, qtw


@pytest.fixture
def docker_mod(qapp, fake_krita_module, monkeypatch):
    pkg, core, gui, qtw = _pyqt5_shim()
    for name, mod in (("PyQt5", pkg), ("PyQt5.QtCore", core), ("PyQt5.QtGui", gui), ("PyQt5.QtWidgets", qtw)):
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setitem(sys.modules, "PyQt6", None)  # force the PyQt5 branch of compat
    shimmed = ("compat", "docker", "result_panel", "pose_panel", "preview_image")
    for name in shimmed:
        monkeypatch.delitem(sys.modules, f"inbetween_krita.{name}", raising=False)
    monkeypatch.setattr(sys.modules["krita"], "DockWidget", qtw.QDockWidget, raising=False)
    from inbetween_krita import docker as mod

    yield mod
    import inbetween_krita

    for name in shimmed:  # the shimmed modules must not leak into other tests
        sys.modules.pop(f"inbetween_krita.{name}", None)
        if hasattr(inbetween_krita, name):
            delattr(inbetween_krita, name)


def test_docker_shows_the_plan_the_failure_and_a_retry_button(docker_mod, doc, loop, monkeypatch):
    from inbetween_krita import controller as controller_mod
    from inbetween_krita import job_runner, krita_io

    ctl = _controller(loop)
    monkeypatch.setattr(controller_mod, "_instance", ctl)
    doc.setPlayBackRange(0, 11)
    ink = doc.add_layer("ink", {0: b"", 4: disc(10, 15, 6), 10: disc(30, 15, 6)})
    doc.add_layer("Vector 1", kind="vectorlayer")
    doc.setActiveNode(ink)
    dock = docker_mod.InbetweenDocker()
    try:
        dock.refresh_document()
        assert dock.key_combo.currentText() == "ink"
        assert [dock.key_combo.itemText(i) for i in range(dock.key_combo.count())] == ["ink"]  # paint only
        loop.spin(lambda: ctl.blanks.known, timeout=10)
        dock.refresh_document()
        assert "Fills frames 5-9" in dock.plan_label.text() and "trimmed" in dock.plan_label.text()
        assert dock.seed_spin.isHidden()  # flow uses no seed
        # but it has a fast preview setting: shown, off by default, kept in the settings and sent
        assert not dock.preview_check.isHidden() and not dock.preview_check.isChecked()
        assert "preview" not in ctl.params(doc).options
        dock.preview_check.setChecked(True)
        assert ctl.settings.preview is True and ctl.params(doc).options == {"preview": True}
        dock.preview_check.setChecked(False)
        assert ctl.settings.preview is False and ctl.params(doc).options == {}
        assert not dock.retry_button.isEnabled()
        # the engine died under a job (as the job runner reports it)
        source = krita_io.read_shot(doc, ink, None, 0, 11)
        from inbetween_krita.results import Target
        from inbetween_krita.shot_plan import make_plan

        target = Target(krita_io.doc_key(doc), "shot", ink.uniqueId(), "ink", None, None,
                        make_plan("ink", (0, 11), [4, 10]), 40, 30, "flow")
        ctl._finish(target, source, ctl.params(doc),
                    job_runner.JobOutcome("failed", code="shutting_down", message="the engine is shutting down"),
                    1.0, {})
        assert dock.retry_button.isEnabled() and "[shutting_down]" in dock.message_label.text()
        assert dock.progress_bar.value() == 0
        asked = []
        monkeypatch.setattr(ctl, "retry", lambda: asked.append(True) or True)
        dock.retry_button.click()
        assert asked == [True]
        vector = next(n for n in krita_io.iter_nodes(doc.rootNode()) if n.name() == "Vector 1")
        doc.setActiveNode(vector)
        dock.active_button.click()
        assert "'Vector 1' is a vector layer" in dock.message_label.text()
        assert ctl.choices.keys_node(doc) is ink
        # the pose box: Pose this frame makes a pose layer, which is not a keys choice
        doc.setCurrentTimeQuietly(4)
        dock.pose_panel.pose_button.click()
        assert dock.message_label.text().startswith("Added 'pose 0004': a default skeleton fitted to the "
                                                    "drawing of 'ink' at frame 4.")
        dock.refresh_document()
        assert "Poses at frames 4" in dock.pose_panel.summary_label.text()
        assert [dock.key_combo.itemText(i) for i in range(dock.key_combo.count())] == ["ink"]
        dock.pose_panel.show_button.click()
        assert "Frame 4 has its own pose ('pose 0004')" in dock.message_label.text()
        dock.pose_panel.send_check.setChecked(False)
        assert ctl.settings.send_poses is False and "not sent with Generate" in dock.pose_panel.summary_label.text()
    finally:
        dock.pose_panel.timer.stop()
        ctl.unsubscribe(dock._on_controller)
        dock.timer.stop()
        dock.deleteLater()
        ctl.shutdown()


def test_docker_takes_the_folder_of_a_downloaded_app(docker_mod, doc, loop, monkeypatch, tmp_path):
    import stat

    from inbetween_krita import controller as controller_mod
    from inbetween_krita import engine_locator

    ctl = _controller(loop)
    ctl.settings.engine_command = ""
    monkeypatch.setattr(controller_mod, "_instance", ctl)
    monkeypatch.setenv("INBETWEEN_KRITA_ENGINE_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(engine_locator, "app_folders", lambda: [])
    monkeypatch.setattr(engine_locator, "path_engines", lambda: [])
    monkeypatch.delenv(engine_locator.ENV_COMMAND, raising=False)
    dock = docker_mod.InbetweenDocker()
    try:
        assert ctl.link.candidate() is None and not dock.setup_button.isHidden()
        assert dock.use_app(str(tmp_path)) is False and "no inbetween-engine" in dock.message_label.text()
        exe = tmp_path / "Downloads" / engine_locator.APP_FOLDER / engine_locator.EXE
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\nexit 3\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
        assert dock.use_app(str(tmp_path / "Downloads")) is True
        assert ctl.settings.app_bundle == str(tmp_path / "Downloads")
        assert ctl.link.candidate().kind == "bundle"
        loop.spin(lambda: not ctl.link.busy, timeout=60)
        assert "could not start the app at" in ctl.link.message  # that script exits at once
        dock._on_controller(ctl)
        assert dock.setup_button.isHidden() and not dock.start_button.isHidden()
    finally:
        ctl.unsubscribe(dock._on_controller)
        dock.timer.stop()
        dock.deleteLater()
        ctl.shutdown()
