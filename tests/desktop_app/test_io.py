"""Project save/load (folder and single file), export, autosave and recovery files."""

from __future__ import annotations

import json
import os
import zipfile

import pytest

from desktop_app.io import autosave, export, project
from desktop_app.model import edits, images
from desktop_app.model.shot import LayerKind, Role
from tests.imaging import read_png

from .conftest import SAMPLE, disc


def _same_pixels(a, b) -> bool:
    return images.to_rgba_bytes(a) == images.to_rgba_bytes(b)


@pytest.mark.parametrize("name", ["shot_dir", "shot.ibproj"])
def test_save_and_load_round_trip(small_doc, tmp_path, name):
    doc = small_doc
    edits.set_layer_image(doc, 3, LayerKind.SKETCH, disc(x=48, color=(0, 0, 0, 255)))
    edits.apply_generated(doc, 0, 6, {2: disc(x=40, color=(0, 0, 255, 200))}, {})
    edits.set_role(doc, [4], Role.BREAKDOWN)
    edits.set_timing(doc, 0, "ease-in-out")
    edits.set_exposure(doc, 2)
    path = project.save(doc, tmp_path / name)
    back = project.load(path)
    assert (back.width, back.height, back.fps, back.exposure) == (96, 64, 12.0, 2)
    assert [f.role for f in back.frames] == [f.role for f in doc.frames]
    assert back.frames[0].timing == "ease-in-out"
    for i, f in enumerate(doc.frames):
        for kind in LayerKind:
            a, b = f.layer(kind), back.frames[i].layer(kind)
            assert (a is None) == (b is None), (i, kind)
            if a is not None:
                assert _same_pixels(a, b), (i, kind)
    # no temp files left behind by the atomic writes
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_folder_save_removes_layers_that_became_empty(small_doc, tmp_path):
    edits.set_layer_image(small_doc, 3, LayerKind.SKETCH, disc())
    project.save(small_doc, tmp_path / "p")
    assert len(list((tmp_path / "p/frames").glob("0004_sketch-*.png"))) == 1
    edits.set_layer_image(small_doc, 3, LayerKind.SKETCH, None)
    project.save(small_doc, tmp_path / "p")
    assert not list((tmp_path / "p/frames").glob("0004_sketch*.png"))
    manifest = json.loads((tmp_path / "p/project.json").read_text())
    assert manifest["format"] == "inbetween-studio" and len(manifest["frames"]) == 7


def test_load_rejects_garbage_with_a_clear_message(tmp_path):
    (tmp_path / "bad.ibproj").write_bytes(b"not a zip")
    with pytest.raises(project.ProjectError, match="not a readable"):
        project.load(tmp_path / "bad.ibproj")
    (tmp_path / "p").mkdir()
    (tmp_path / "p/project.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(project.ProjectError, match="not an inbetween-studio project"):
        project.load(tmp_path / "p")


def test_import_images_spaces_keys(qapp):
    doc = project.import_images([SAMPLE / "key_b.png", SAMPLE / "key_a.png"], gap=3)
    assert (doc.width, doc.height, len(doc)) == (512, 320, 5)
    assert doc.anchors() == [0, 4]
    a = images.load_image(str(SAMPLE / "key_a.png"))
    assert _same_pixels(doc.frames[0].drawing, a)  # sorted by name


def test_import_images_refuses_mixed_sizes(qapp, tmp_path):
    images.blank(10, 10).save(str(tmp_path / "small.png"))
    with pytest.raises(project.ProjectError, match="one canvas size"):
        project.import_images([SAMPLE / "key_a.png", tmp_path / "small.png"])


def test_export_png_sequence_names_alpha_holds_and_layers(small_doc, tmp_path):
    doc = small_doc
    edits.set_role(doc, [1], Role.HOLD)
    edits.set_layer_image(doc, 3, LayerKind.SKETCH, disc(x=48, color=(0, 0, 0, 255)))
    paths = export.export_png_sequence(doc, export.ExportOptions(tmp_path, "walk"))
    assert [p.name for p in paths] == [f"walk_{i:04d}.png" for i in range(1, 8)]
    first = read_png(tmp_path / "walk_0001.png")
    assert first.shape == (64, 96, 4)
    assert first[0, 0, 3] == 0 and first[32, 20, 3] == 255  # transparent background, opaque disc
    assert (read_png(tmp_path / "walk_0002.png") == first).all()  # the hold repeats the key
    assert read_png(tmp_path / "walk_0004.png")[:, :, 3].max() == 0  # sketch layer not exported
    only = export.export_png_sequence(doc, export.ExportOptions(tmp_path / "sk", "s", [3], (LayerKind.SKETCH,)))
    assert [p.name for p in only] == ["s_0004.png"] and read_png(only[0])[:, :, 3].max() > 0


def test_export_gif_preview(small_doc, tmp_path):
    if ".gif" not in export.preview_formats():
        pytest.skip("imageio/pillow not installed")
    import imageio.v3 as iio

    edits.apply_generated(small_doc, 0, 6, {i: disc(x=20 + 9 * i) for i in range(1, 6)}, {})
    path = export.export_animation(small_doc, tmp_path / "prev.gif")
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == 7


def test_export_mp4_preview_when_pyav_is_installed(small_doc, tmp_path):
    if ".mp4" not in export.preview_formats():
        with pytest.raises(export.ExportError, match="cannot write .mp4"):
            export.export_animation(small_doc, tmp_path / "prev.mp4")
        return
    path = export.export_animation(small_doc, tmp_path / "prev.mp4")
    assert path.stat().st_size > 0


def test_autosave_writes_side_file_and_recovery_finds_dead_sessions(small_doc, tmp_path, qapp):
    saver = autosave.Autosaver(interval_ms=60_000)
    saver.attach(small_doc, None)
    assert saver.tick() is None  # nothing changed yet
    edits.toggle_key(small_doc, [3])
    path = saver.tick()
    assert path is not None and path.exists() and path.parent == autosave.autosave_dir()
    assert autosave.find_recoverable(None) == []  # our own session is alive
    # the same file left by a dead process is offered
    with zipfile.ZipFile(path) as z:
        names = {n: z.read(n) for n in z.namelist()}
    names[autosave.NOTE] = json.dumps({"pid": 2**22 + 12345}).encode()
    orphan = autosave.autosave_dir() / f"untitled-999999{autosave.SUFFIX}"
    with zipfile.ZipFile(orphan, "w") as z:
        for n, d in names.items():
            z.writestr(n, d)
    found = autosave.find_recoverable(None)
    assert [r.path for r in found] == [orphan]
    assert autosave.recover(found[0]).frames[3].role is Role.KEY
    saver.discard()
    assert not path.exists()


def test_project_side_file_is_offered_only_when_newer(small_doc, tmp_path, qapp):
    proj = project.save(small_doc, tmp_path / "shot.ibproj")
    side = autosave.side_file(proj)
    assert side.name == "shot.ibproj.autosave.ibproj"
    project.save(small_doc, side)
    old = proj.stat().st_mtime - 100
    os.utime(side, (old, old))
    assert autosave.find_recoverable(proj) == []
    os.utime(side, None)
    assert [r.original for r in autosave.find_recoverable(proj)] == [proj]
