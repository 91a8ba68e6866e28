"""The whole workflow against a real engine process (flow backend): open two keys, sketch,
generate, accept, export, save/reopen; and what happens when the engine dies mid-job."""

from __future__ import annotations

import sys

import numpy as np

from desktop_app.engine_link import CONNECTION_LOST
from desktop_app.io import project
from desktop_app.io.export import ExportOptions
from desktop_app.model import images
from desktop_app.model.shot import LayerKind, Role
from tests.imaging import read_png

from .conftest import SAMPLE

KEYS = [str(SAMPLE / "key_a.png"), str(SAMPLE / "key_b.png")]


def _connect(qtbot, window, engine):
    window.link.start(connection_file=engine.connection_file)
    qtbot.waitUntil(lambda: window.link.connected, timeout=30_000)
    qtbot.waitUntil(lambda: window.generate_panel.backend.currentText() == "flow", timeout=5_000)
    assert "flow" in window.engine_label.text() and "cpu" in window.engine_label.text()
    combo = window.generate_panel.backend
    for i in range(combo.count()):  # backends the engine cannot run are listed, disabled, with why
        item = combo.model().item(i)
        available = next(b["available"] for b in window.link.backends() if b["name"] == item.text())
        assert item.isEnabled() == available
        if not available:
            assert item.toolTip().startswith("Unavailable")


def _pixels(img) -> np.ndarray:
    return np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(img.height(), img.width(), 4)


def test_keys_sketch_generate_accept_export_and_reopen(qtbot, window, engine, tmp_path):
    _connect(qtbot, window, engine)
    assert window.open_images(KEYS, gap=7)
    doc = window.doc
    assert doc.anchors() == [0, 8] and len(doc) == 9
    # the animator sketches the middle in-between on the sketch layer
    window.cursor.set_current(4)
    window.a_sketch.trigger()
    assert window.canvas.active_layer is LayerKind.SKETCH
    from desktop_app.model import edits
    edits.set_layer_image(doc, 4, LayerKind.SKETCH, images.load_image(str(SAMPLE / "sketch_mid.png")))
    window.canvas.draw_line([(250, 300), (260, 305)])  # plus a stroke with the pen, same layer
    sketch = doc.frames[4].sketch

    arrived = []
    window.link.frameArrived.connect(lambda i, img, preview: arrived.append((i, preview)))
    with qtbot.waitSignal(window.generator.finished, timeout=120_000) as done:
        assert window.generator.generate_segment()
        assert window.generate_panel.btn_cancel.isEnabled()
    assert done.args == [True], window.generate_panel.status.text()
    assert sorted({i for i, p in arrived if not p}) == list(range(1, 8))
    assert not doc.previews
    # keys untouched, sketch untouched, every in-between has a generated layer
    assert np.array_equal(_pixels(doc.frames[0].drawing), read_png(SAMPLE / "key_a.png"))
    assert np.array_equal(_pixels(doc.frames[8].drawing), read_png(SAMPLE / "key_b.png"))
    assert doc.frames[4].sketch is sketch
    assert all(doc.frames[i].has_generated for i in range(1, 8))
    mid = _pixels(doc.frames[4].generated)
    assert mid[:, :, 3].max() == 255 and mid[0, 0, 3] == 0  # drawn character on transparency
    assert not np.array_equal(mid, read_png(SAMPLE / "key_a.png"))
    window.timeline.strip.grab()  # tinted generated cells paint

    # accept all, then export the PNG sequence
    window.cursor.select_range(0, 8)
    assert window.generator.accept_selection() == 7
    assert not any(f.has_generated for f in doc.frames)
    out = tmp_path / "export"
    paths = window.export(ExportOptions(out, "jump"), out / "jump.gif")
    assert [p.name for p in paths] == [f"jump_{i:04d}.png" for i in range(1, 10)]
    assert sorted(p.name for p in out.glob("*.png")) == [p.name for p in paths]
    assert (out / "jump.gif").stat().st_size > 0
    first, middle = read_png(out / "jump_0001.png"), read_png(out / "jump_0005.png")
    assert np.array_equal(first, read_png(SAMPLE / "key_a.png"))  # keys exported untouched, alpha kept
    assert middle.shape == (320, 512, 4) and middle[0, 0, 3] == 0 and middle[:, :, 3].max() == 255
    assert not np.array_equal(middle, first)

    # save, reopen, same shot
    assert window.save_to(tmp_path / "jump.ibproj")
    assert "*" not in window.windowTitle()
    saved = [(f.role, [_pixels(f.layer(k)).tobytes() if f.layer(k) is not None else None for k in LayerKind])
             for f in doc.frames]
    assert window.open_path(tmp_path / "jump.ibproj")
    again = [(f.role, [_pixels(f.layer(k)).tobytes() if f.layer(k) is not None else None for k in LayerKind])
             for f in window.doc.frames]
    assert again == saved


def test_engine_dying_mid_job_keeps_the_shot_and_says_so(qtbot, window, engine, tmp_path):
    _connect(qtbot, window, engine)
    window.open_images(KEYS, gap=80)
    doc = window.doc
    before = doc.frames
    window.cursor.set_current(10)
    started = []
    window.link.progress.connect(lambda f, s: started.append(s))
    window.link.frameArrived.connect(lambda *a: started.append("frame"))
    with qtbot.waitSignal(window.generator.finished, timeout=60_000) as done:
        assert window.generator.generate_segment()
        qtbot.waitUntil(lambda: "started" in started or "frame" in started, timeout=30_000)
        engine.popen.kill()
    assert done.args == [False]
    assert window.generator.last_error[0] == CONNECTION_LOST
    assert doc.frames == before and not doc.previews  # nothing half-applied
    assert "intact" in window.generate_panel.status.text()
    assert "engine stopped" in window.statusBar().currentMessage().lower()
    qtbot.waitUntil(lambda: "Engine stopped" in window.engine_label.text(), timeout=10_000)
    # drawing and export still work without the engine
    window.canvas.draw_line([(10, 10), (100, 100)])
    assert window.export(ExportOptions(tmp_path / "out", "x", [0, 1]))
    assert not window.generator.generate_segment()
    assert "not running" in window.generate_panel.status.text()


def test_cancel_leaves_the_shot_unchanged(qtbot, window, engine):
    _connect(qtbot, window, engine)
    window.open_images(KEYS, gap=80)
    before = window.doc.frames
    window.cursor.set_current(5)
    seen = []
    window.link.progress.connect(lambda f, s: seen.append(s))
    window.link.frameArrived.connect(lambda *a: seen.append("frame"))
    with qtbot.waitSignal(window.generator.finished, timeout=60_000) as done:
        assert window.generator.generate_segment()
        qtbot.waitUntil(lambda: "frame" in seen, timeout=30_000)
        assert window.doc.previews  # frames show while the job runs
        window.generator.cancel()
    assert done.args == [False] and window.generator.last_error[0] == "cancelled"
    assert window.doc.frames == before and not window.doc.previews
    assert "cancelled" in window.generate_panel.status.text()
    assert not window.generate_panel.btn_cancel.isEnabled()


def test_app_works_and_explains_when_the_engine_cannot_start(qtbot, window, private_state_dir, tmp_path):
    window.link.start(command=[sys.executable, "-c", "import sys; print('no GPU here'); sys.exit(3)"],
                      connection_file=private_state_dir / "none.json")
    qtbot.waitUntil(lambda: "unavailable" in window.engine_label.text(), timeout=30_000)
    assert "exited with code 3" in window.engine_label.text()
    window.open_images(KEYS, gap=3)
    window.canvas.draw_line([(10, 10), (100, 100)])
    assert not window.generator.generate_segment()
    assert window.export(ExportOptions(tmp_path, "s"))


def test_crash_recovery_from_the_autosave_file(qtbot, qapp, tmp_path):
    from desktop_app.main_window import MainWindow

    first = MainWindow(autosave_ms=60_000)
    first.quiet = True
    first.open_images(KEYS, gap=3)
    assert first.save_to(tmp_path / "shot.ibproj")
    first.cursor.set_current(2)
    first.canvas.draw_line([(50, 50), (200, 120)])
    assert first.autosaver.tick() is not None
    side = tmp_path / "shot.ibproj.autosave.ibproj"
    assert side.exists()
    # the app "crashes": it never gets to clean up its autosave
    first.autosaver.discard = lambda: None
    first.ask_unsaved = lambda: "discard"
    first.link.close()
    first.deleteLater()

    second = MainWindow(autosave_ms=60_000)
    qtbot.addWidget(second)
    second.quiet = True
    second.ask_unsaved = lambda: "discard"
    offered = []
    second.ask_recover = lambda found: offered.extend(found) or found[0]
    assert second.open_path(tmp_path / "shot.ibproj")
    assert [r.path for r in offered] == [side]
    assert second.doc.frames[2].drawing is not None and not images.is_blank(second.doc.frames[2].drawing)
    assert second.doc.frames[2].role is Role.INBETWEEN
    assert "*" in second.windowTitle() and second.project_path == tmp_path / "shot.ibproj"
    assert side.exists()  # the recovered work is protected by this session's autosave at once
    # saving makes it the project and removes the side file
    assert second.save()
    assert not side.exists()
    assert project.load(tmp_path / "shot.ibproj").frames[2].drawing is not None


def test_main_opens_a_project_without_engine(qtbot, qapp, tmp_path):
    from desktop_app.main import build, parse_args

    doc = project.import_images(KEYS, gap=2)
    project.save(doc, tmp_path / "p")
    app, win = build(parse_args([str(tmp_path / "p"), "--no-engine"]))
    qtbot.addWidget(win)
    assert app is qapp
    assert len(win.doc) == 4 and win.windowTitle().startswith("p — ")
    assert "not used" in win.engine_label.text()
    assert win.project_path == tmp_path / "p"
