"""The engine is killed (SIGKILL) in the middle of a job: the app keeps the shot, offers
"Restart engine and retry", and that restarts the engine and resubmits the same segment."""

from __future__ import annotations

import numpy as np

from desktop_app.engine_link import CONNECTION_LOST
from desktop_app.model import images

from .conftest import SAMPLE

KEYS = [str(SAMPLE / "key_a.png"), str(SAMPLE / "key_b.png")]


def _pixels(img) -> np.ndarray:
    return np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(img.height(), img.width(), 4)


def test_killed_engine_is_restarted_and_the_segment_resubmitted(qtbot, window, engine):
    link, gen, panel = window.link, window.generator, window.generate_panel
    link.start(connection_file=engine.connection_file, args=["--device", "cpu"])
    qtbot.waitUntil(lambda: link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: panel.backend.currentText() == "flow", timeout=5_000)
    assert link.process is None  # the app found the engine; it did not start it
    try:
        window.open_images(KEYS, gap=60)
        doc = window.doc
        keys = [_pixels(doc.frames[i].drawing).copy() for i in doc.anchors()]
        window.cursor.set_current(30)
        seen: list[str] = []
        link.progress.connect(lambda f, s: seen.append(s))
        link.frameArrived.connect(lambda *a: seen.append("frame"))
        assert not panel.btn_retry.isVisibleTo(window)
        with qtbot.waitSignal(gen.finished, timeout=60_000) as lost:
            assert gen.generate_segment()
            qtbot.waitUntil(lambda: "started" in seen or "frame" in seen, timeout=30_000)
            engine.popen.kill()  # SIGKILL: no goodbye, the socket just drops
        assert lost.args == [False] and gen.last_error[0] == CONNECTION_LOST
        assert not any(f.has_generated for f in doc.frames)  # shot intact (previews are not in it)
        if doc.previews:
            assert "shown as previews" in panel.status.text()
        assert "Restart engine and retry" in panel.status.text() and "intact" in panel.status.text()
        assert panel.btn_retry.isVisibleTo(window) and panel.btn_retry.isEnabled()
        assert gen.retry_range == (0, 61)

        # the animator clicks the offered action: a new engine starts, the same segment runs
        submitted = []
        real_submit = link.submit
        link.submit = lambda req: (submitted.append(tuple(sorted(req.keys))), real_submit(req))[1]
        with qtbot.waitSignal(gen.finished, timeout=180_000) as done:
            panel.btn_retry.click()
            assert gen.retry_pending and "Restarting" in panel.status.text()
        assert done.args == [True], panel.status.text()
        assert submitted == [(0, 61)]
        assert link.connected and link.process is not None  # the app started this one
        assert link.process.popen.pid != engine.popen.pid
        assert all(doc.frames[i].has_generated for i in range(1, 61))
        for i, key in zip(doc.anchors(), keys):  # keys untouched through it all
            assert np.array_equal(_pixels(doc.frames[i].drawing), key)
        assert not panel.btn_retry.isVisibleTo(window) and gen.retry_range is None
        # nothing left to retry
        assert gen.restart_and_retry() is False
    finally:
        link.close(stop_engine=True)
    assert link.process is None


def test_a_failed_restart_is_reported_and_can_be_tried_again(qtbot, window, engine, private_state_dir):
    import sys

    link, gen, panel = window.link, window.generator, window.generate_panel
    link.start(connection_file=engine.connection_file, args=["--device", "cpu"])
    qtbot.waitUntil(lambda: link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: panel.backend.currentText() == "flow", timeout=5_000)
    window.open_images(KEYS, gap=60)
    window.cursor.set_current(30)
    seen: list[str] = []
    link.progress.connect(lambda f, s: seen.append(s))
    link.frameArrived.connect(lambda *a: seen.append("frame"))
    with qtbot.waitSignal(gen.finished, timeout=60_000):
        assert gen.generate_segment()
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        engine.popen.kill()
    # the engine command now fails (as when a GPU driver broke): the app says so, keeps the offer
    link._start_params = ([sys.executable, "-c", "import sys; sys.exit(4)"], private_state_dir / "none.json", ())
    with qtbot.waitSignal(link.connectedChanged, timeout=60_000):
        assert gen.restart_and_retry()
    qtbot.waitUntil(lambda: "Could not restart the engine" in panel.status.text(), timeout=5_000)
    assert "exited with code 4" in panel.status.text() and "intact" in panel.status.text()
    assert panel.btn_retry.isVisibleTo(window) and gen.retry_range is not None
    assert not any(f.has_generated for f in window.doc.frames)
