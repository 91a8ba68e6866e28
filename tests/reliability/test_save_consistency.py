"""Deterministic versions of what the kill runs found in project saving: a save interrupted
just before its commit point leaves the old version intact (no mix of old manifest and new
pixels), and temp files orphaned by killed saves are cleaned by the next save."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop_app.io import atomic, autosave, project
from desktop_app.model import edits, images
from desktop_app.model.shot import LayerKind

from .conftest import disc


def _pixels(doc) -> list[bytes | None]:
    return [images.to_rgba_bytes(f.drawing) if f.drawing is not None else None for f in doc.frames]


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even `except Exception` handlers."""


@pytest.mark.parametrize("suffix", ["", ".ibproj"])
@pytest.mark.parametrize("kill_at_write", [1, 2, 3, 4])
def test_a_save_killed_midway_leaves_the_old_version(small_doc, tmp_path, monkeypatch, suffix, kill_at_write):
    path = tmp_path / f"shot{suffix}"
    project.save(small_doc, path)
    old = _pixels(project.load(path))
    for i in (0, 2, 3, 6):  # the next version changes several frames, keys included
        edits.set_layer_image(small_doc, i, LayerKind.DRAWING, disc(x=10 + 9 * i, color=(0, 90, 200, 255)))
    new = _pixels(small_doc)
    assert new != old
    real = atomic.write_bytes
    calls = {"n": 0}

    def dying(p, data):
        calls["n"] += 1
        if calls["n"] == kill_at_write:
            raise Killed()
        return real(p, data)

    monkeypatch.setattr(atomic, "write_bytes", dying)
    with pytest.raises(Killed):
        project.save(small_doc, path)
        raise Killed()  # a single-file save has one write: kill after it instead
    monkeypatch.setattr(atomic, "write_bytes", real)
    assert _pixels(project.load(path)) in (old, new)
    if suffix == "" and kill_at_write <= 4:
        assert _pixels(project.load(path)) == old  # the manifest (the commit point) was not written
    project.save(small_doc, path)  # the next save completes and cleans up
    assert _pixels(project.load(path)) == new
    if suffix == "":  # every file the manifest names is there, no temp file is
        manifest = json.loads((path / "project.json").read_text())
        referenced = {n for f in manifest["frames"] for n in f["layers"].values()}
        names = {f"frames/{p.name}" for p in (path / "frames").iterdir()}
        assert referenced == names

def test_orphaned_temp_files_are_removed_by_the_next_save(small_doc, tmp_path):
    folder, single = tmp_path / "shot", tmp_path / "shot.ibproj"
    project.save(small_doc, folder)
    project.save(small_doc, single)
    orphans = [folder / ".project.json.ab12cd.tmp", folder / "frames" / ".0001_drawing-0123.png.x1y2z3.tmp",
               tmp_path / ".shot.ibproj.q9w8e7.tmp", tmp_path / ".shot.autosave.ibproj.r5t6y7.tmp"]
    unrelated = tmp_path / ".somebody-else.png.k1k1k1.tmp"
    for p in orphans + [unrelated]:
        p.write_bytes(b"half a file")
    project.save(small_doc, folder)
    project.save(small_doc, single)
    saver = autosave.Autosaver(60_000)
    saver.attach(small_doc, folder)
    saver.discard()
    assert [p for p in orphans if p.exists()] == []
    assert unrelated.exists()  # not ours: left alone
    assert np.array_equal(np.frombuffer(b"".join(x or b"" for x in _pixels(project.load(folder))), np.uint8),
                          np.frombuffer(b"".join(x or b"" for x in _pixels(small_doc)), np.uint8))


def test_recent_list_cleans_a_killed_write(private_state_dir, tmp_path):
    """Found by bench/kill_app.py: an app killed while updating recent.json left its temp file."""
    from desktop_app import recent

    recent.add(tmp_path / "a")
    orphan = private_state_dir / "studio" / ".recent.json.zz99yy.tmp"
    orphan.write_text("[")
    assert recent.add(tmp_path / "b")[0].endswith("b")
    assert not orphan.exists() and recent.load()[1].endswith("a")
