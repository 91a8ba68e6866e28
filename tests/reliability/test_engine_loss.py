"""Engine loss as the animator sees it (issue 15, defect 5): an engine stopped with SIGTERM
under a job is reported as the engine stopping (never as a cancel), the frames received stay
visible as previews, "Restart engine and retry" restarts it and resubmits; an engine the app
started is reaped at once (no zombie) and ends when the app is gone, even if the app is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inbetween_client.connection import read_connection_file
from inbetween_client.errors import ErrorCode

from .conftest import SAMPLE

KEYS = [str(SAMPLE / "key_a.png"), str(SAMPLE / "key_b.png")]
REPO = Path(__file__).resolve().parents[2]


def _state(pid: int) -> str | None:
    """The process state letter from /proc (R, S, Z...), None once it is gone entirely."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _running(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _generate_until_frames(qtbot, window, gen):
    window.open_images(KEYS, gap=60)
    window.cursor.set_current(30)
    frames: list[int] = []
    window.link.frameArrived.connect(lambda i, img, preview: frames.append(i))
    assert gen.generate_segment()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=60_000)
    return frames


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM semantics")
def test_sigterm_mid_job_is_engine_loss_with_previews_kept_and_retry_restarts(qtbot, window, engine):
    link, gen, panel = window.link, window.generator, window.generate_panel
    link.start(connection_file=engine.connection_file, args=["--device", "cpu"])
    qtbot.waitUntil(lambda: link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: panel.backend.currentText() == "flow", timeout=5_000)
    try:
        with qtbot.waitSignal(gen.finished, timeout=120_000) as lost:
            _generate_until_frames(qtbot, window, gen)
            engine.popen.send_signal(signal.SIGTERM)
        doc = window.doc
        assert lost.args == [False]
        assert gen.last_error[0] == ErrorCode.SHUTTING_DOWN, gen.last_error
        text = panel.status.text()
        assert "engine was shut down" in text and "cancel" not in text.lower(), text
        assert "intact" in text and "shown as previews" in text and "Restart engine and retry" in text
        assert doc.previews and not any(f.has_generated for f in doc.frames)  # visible, not in the shot
        assert panel.btn_retry.isVisibleTo(window)
        engine.popen.wait(30)

        with qtbot.waitSignal(gen.finished, timeout=180_000) as done:
            panel.btn_retry.click()
        assert done.args == [True], panel.status.text()
        assert link.process is not None and link.process.popen.pid != engine.popen.pid
        assert all(doc.frames[i].has_generated for i in range(1, 61)) and not doc.previews
    finally:
        link.close(stop_engine=True)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see zombies")
def test_an_engine_the_app_started_is_reaped_when_it_dies(qtbot, window, private_state_dir):
    link, gen = window.link, window.generator
    link.start(connection_file=private_state_dir / "engine.json", args=["--device", "cpu"])
    qtbot.waitUntil(lambda: link.connected, timeout=60_000)
    qtbot.waitUntil(lambda: window.generate_panel.backend.currentText() == "flow", timeout=5_000)
    assert link.process is not None
    pid = link.process.popen.pid
    try:
        with qtbot.waitSignal(gen.finished, timeout=120_000):
            _generate_until_frames(qtbot, window, gen)
            os.kill(pid, signal.SIGKILL)
        assert gen.last_error[0] in ("connection_lost", ErrorCode.SHUTTING_DOWN)
        assert _wait(lambda: _state(pid) is None, 30), f"engine {pid} left as {_state(pid)!r} (zombie)"
        assert "--parent-pid" in link.process.popen.args and str(os.getpid()) in link.process.popen.args
    finally:
        link.close(stop_engine=True)


def _no_core_dump() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the SIGABRT case must not leave a core file


APP = """
import os, sys
from desktop_app.main import build, parse_args
app, win = build(parse_args(["--engine-args", "--device cpu"]))
sys.exit(app.exec())
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGABRT])
def test_an_engine_started_by_an_app_ends_when_the_app_dies(private_state_dir, sig):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    app = subprocess.Popen([sys.executable, "-c", APP], cwd=REPO, env=env, preexec_fn=_no_core_dump,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cf = private_state_dir / "engine.json"
        assert _wait(lambda: read_connection_file(cf) is not None or app.poll() is not None, 120)
        info = read_connection_file(cf)
        assert info is not None, "the app did not start an engine"
        assert _running(info.pid)
        app.send_signal(sig)
        app.wait(30)
        assert _wait(lambda: not _running(info.pid), 60), "the engine outlived the app that started it"
        assert read_connection_file(cf) is None  # it stopped cleanly and removed its file
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
