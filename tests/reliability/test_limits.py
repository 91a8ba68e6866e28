"""The engine's limits, as the animator sees them in the app: a shot over the size limit or
with too many frames is refused before anything is sent (the limits come from the engine's
capabilities), with the limit and what to do; an engine that does not announce a limit still
refuses with its own message (`bad_shot`), and a full queue (`queue_full`) too, with a hint.
The shot is unchanged."""

from __future__ import annotations

from inbetween_client.errors import ErrorCode, RemoteError

from desktop_app.model.shot import Frame, Role, ShotDocument

from .conftest import disc


def _connect(qtbot, window, engine) -> None:
    window.link.start(connection_file=engine.connection_file)
    qtbot.waitUntil(lambda: window.link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: window.generate_panel.backend.currentText() == "flow", timeout=5_000)


def _keys_doc(w: int, h: int, gap: int) -> ShotDocument:
    frames = [Frame(role=Role.KEY, drawing=disc(w, h, x=4, y=4, r=3))] + [Frame() for _ in range(gap)] + \
        [Frame(role=Role.KEY, drawing=disc(w, h, x=8, y=4, r=3))]
    return ShotDocument(w, h, 24.0, frames)


def test_over_the_size_limit_and_too_many_frames_show_the_engines_message(qtbot, window, engine):
    _connect(qtbot, window, engine)
    panel = window.generate_panel
    window.set_document(_keys_doc(4100, 8, 3), None)
    before = window.doc.frames
    window.cursor.set_current(1)
    assert window.generator.generate_segment() is False
    text = panel.status.text()
    assert "Cannot generate" in text and "4100×8" in text and "at most 4096 pixels a side" in text
    assert "scale the images down" in text and "unchanged" in text
    assert window.statusBar().currentMessage() == text
    assert window.generator.last_error[0] == ErrorCode.TOO_LARGE
    assert window.doc.frames == before and not window.generator.running

    window.set_document(_keys_doc(16, 8, 1200), None)
    window.cursor.set_current(1)
    assert window.generator.generate_segment() is False
    text = panel.status.text()
    assert "1202 frames" in text and "at most 1000 frames" in text and "in parts" in text
    assert not window.generator.running and panel.btn_segment.isEnabled()
    assert window.link.client.status()["running"] == []  # nothing reached the engine

    # an engine that announces no limits still refuses, with its own words
    window.link.client.capabilities = {k: v for k, v in window.link.client.capabilities.items() if k != "limits"}
    window.set_document(_keys_doc(4100, 8, 3), None)
    window.cursor.set_current(1)
    assert window.generator.generate_segment() is False
    text = panel.status.text()
    assert "The engine refused the shot" in text and "over the size limit" in text and "4096" in text
    assert "smaller canvas" in text and "unchanged" in text and "[bad_shot]" in text
    assert window.generator.last_error[0] == ErrorCode.BAD_SHOT and not window.generator.running


def test_queue_full_shows_the_engines_message(qtbot, window, small_doc):
    window.set_document(small_doc, None)
    window.cursor.set_current(2)

    def busy(request):
        raise RemoteError(ErrorCode.QUEUE_FULL, "this client already has 4 unfinished jobs")

    window.link.client = type("Connected", (), {"connected": True, "capabilities": {}})()
    window.link.submit = busy
    try:
        assert window.generator.generate_segment() is False
    finally:
        window.link.client = None
    text = window.generate_panel.status.text()
    assert "4 unfinished jobs" in text and "wait for one to finish" in text and "[queue_full]" in text
    assert not window.generator.running and not small_doc.previews
