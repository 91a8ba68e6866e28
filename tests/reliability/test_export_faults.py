"""Export against a read-only folder and a disk that fills up mid-sequence.

The contract (desktop_app/io/export.py): a clear ExportError, and the folder exactly as it was:
no partial PNG, no staging or temp files, files of an earlier export untouched. Where the test
runs as root a real tmpfs is mounted (a tiny one that really fills up, a read-only one); else a
chmod'ed folder and, for disk-full, the low-level write raising ENOSPC at the Nth file.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from desktop_app.io import export
from desktop_app.io.export import ExportError, ExportOptions
from desktop_app.model import images
from desktop_app.model.shot import Frame, Role, ShotDocument

from .conftest import disc


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder (hidden ones included) with its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _mount(target: Path, options: str) -> bool:
    """Mount a tmpfs (root only); False where that is not possible."""
    if os.geteuid() != 0:
        return False
    target.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                       capture_output=True, timeout=30)
    return r.returncode == 0


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=30)


def _noisy_doc(n: int = 12, w: int = 256, h: int = 192) -> ShotDocument:
    """Frames whose PNGs do not compress to nothing (a disc per frame on noise-like stripes)."""
    import numpy as np

    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        arr = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        arr[:, :, 3] = 255
        frames.append(Frame(role=Role.KEY, drawing=images.from_rgba_bytes(arr.tobytes(), w, h)))
    return ShotDocument(w, h, 24.0, frames)


@pytest.fixture
def prior_export(qapp, tmp_path):
    """A folder holding an earlier export of 3 frames that a failed export must leave alone."""
    folder = tmp_path / "out"
    doc = ShotDocument(96, 64, 12.0, [Frame(role=Role.KEY, drawing=disc(x=20 + 10 * i)) for i in range(3)])
    export.export_png_sequence(doc, ExportOptions(folder, "shot"))
    return folder


def test_disk_full_midway_leaves_the_folder_as_it_was(qapp, tmp_path):
    folder = tmp_path / "small"
    doc = _noisy_doc()
    one = len(images.to_png_bytes(doc.composite(0)))
    mounted = _mount(folder, f"size={one * 5 + 64 * 1024},mode=0777")  # room for ~5 of 12 frames
    try:
        if mounted:
            (folder / "earlier.txt").write_text("an earlier file")
            before = _snapshot(folder)
            with pytest.raises(ExportError, match="disk is full") as info:
                export.export_png_sequence(doc, ExportOptions(folder, "shot"))
            assert _snapshot(folder) == before  # no partial PNG, no staging folder
            assert "Nothing was written" in str(info.value)
            # and the disk is usable again: a sequence that fits goes through
            paths = export.export_png_sequence(doc, ExportOptions(folder, "shot", frames=[0, 1]))
            assert [p.name for p in paths] == ["shot_0001.png", "shot_0002.png"]
        else:
            pytest.skip("not root: the ENOSPC-at-the-Nth-file test below covers disk-full")
    finally:
        if mounted:
            _umount(folder)


@pytest.mark.parametrize("fail_at", [0, 1, 5, 11])
def test_enospc_at_the_nth_file_leaves_the_folder_as_it_was(qapp, prior_export, monkeypatch, fail_at):
    """The low-level write fails with ENOSPC at file `fail_at`, as a full disk does."""
    before = _snapshot(prior_export)
    calls = {"n": 0}
    real = export._write_synced

    def failing(path: Path, data: bytes) -> None:
        if calls["n"] == fail_at:
            # a full disk writes part of the file before failing: leave that part behind too
            path.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        calls["n"] += 1
        real(path, data)

    monkeypatch.setattr(export, "_write_synced", failing)
    doc = ShotDocument(96, 64, 12.0, [Frame(role=Role.KEY, drawing=disc(x=30 + i)) for i in range(12)])
    with pytest.raises(ExportError, match="disk is full"):
        export.export_png_sequence(doc, ExportOptions(prior_export, "shot"))
    assert _snapshot(prior_export) == before


def test_a_failing_rename_puts_the_earlier_files_back(qapp, prior_export, monkeypatch):
    before = _snapshot(prior_export)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:  # the second frame's move into place
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)

    monkeypatch.setattr(export.os, "replace", flaky)
    doc = ShotDocument(96, 64, 12.0, [Frame(role=Role.KEY, drawing=disc(x=60)) for _ in range(3)])
    with pytest.raises(ExportError):
        export.export_png_sequence(doc, ExportOptions(prior_export, "shot"))
    assert _snapshot(prior_export) == before


def test_read_only_folder_is_a_clear_error_and_nothing_changes(qapp, prior_export, tmp_path):
    doc = ShotDocument(96, 64, 12.0, [Frame(role=Role.KEY, drawing=disc(x=50)) for _ in range(3)])
    before = _snapshot(prior_export)
    ro = tmp_path / "ro"
    if os.geteuid() == 0:  # root ignores permission bits: a read-only mount is the honest test
        if not _mount(ro, "ro,size=1m"):
            pytest.skip("cannot mount a read-only tmpfs here")
        try:
            with pytest.raises(ExportError, match="read-only") as info:
                export.export_png_sequence(doc, ExportOptions(ro, "shot"))
            assert _snapshot(ro) == {}
            with pytest.raises(ExportError, match="read-only"):  # a folder to create inside it
                export.export_png_sequence(doc, ExportOptions(ro / "new" / "deeper", "shot"))
            assert not (ro / "new").exists()
        finally:
            _umount(ro)
    else:
        prior_export.chmod(0o555)
        try:
            with pytest.raises(ExportError, match="read-only") as info:
                export.export_png_sequence(doc, ExportOptions(prior_export, "shot"))
        finally:
            prior_export.chmod(0o755)
        assert _snapshot(prior_export) == before
    assert "Nothing was written" in str(info.value)


def test_a_new_folder_is_removed_again_when_the_export_fails(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_write_synced",
                        lambda p, d: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    doc = ShotDocument(96, 64, 12.0, [Frame(role=Role.KEY, drawing=disc())])
    with pytest.raises(ExportError):
        export.export_png_sequence(doc, ExportOptions(tmp_path / "a" / "b", "shot"))
    assert list(tmp_path.iterdir()) == []


def test_the_window_shows_the_error(window, monkeypatch, tmp_path):
    monkeypatch.setattr(export, "_write_synced",
                        lambda p, d: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    shown = []
    window.error = lambda title, text: shown.append((title, text))
    assert window.export(ExportOptions(tmp_path / "x", "shot")) == []
    assert shown and shown[0][0] == "Export failed" and "disk is full" in shown[0][1]
    assert not (tmp_path / "x").exists()


def test_saved_and_exported_files_get_normal_permissions(qapp, small_doc, tmp_path):
    """mkstemp makes 0600 files; a project or frames shared with other users must not be."""
    from desktop_app.io import project

    mask = os.umask(0o022)
    try:
        project.save(small_doc, tmp_path / "p")
        project.save(small_doc, tmp_path / "p.ibproj")
        export.export_png_sequence(small_doc, ExportOptions(tmp_path / "e", "s"))
    finally:
        os.umask(mask)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o644)}
