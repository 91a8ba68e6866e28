"""Export: a PNG sequence `NAME_0001.png` (alpha kept) and an animated preview (GIF or MP4).

Frame numbers are the shot's frame numbers (first frame = 0001, zero-padded to 4 digits, as
compositing tools expect), so exporting a range keeps numbers stable. A hold exports the
drawing it holds: the sequence has one file per frame and plays at the shot's fps.

A PNG sequence is all or nothing: every PNG is first written (and fsynced) into a hidden
staging folder inside the target folder, which is where a full disk or a read-only folder
fails; only then are the files renamed into place (renames in one folder need no space).
Files they replace are moved aside first and put back if a rename fails. So on any error the
folder is as it was (a folder the export created is removed again): no partial PNG, no temp
files, no half-replaced sequence mixing two versions.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from inbetween_client.atomic import DEFAULT_FILE_MODE as FILE_MODE

from ..model import images
from ..model.shot import LayerKind, ShotDocument

DEFAULT_LAYERS = (LayerKind.GENERATED, LayerKind.DRAWING)


class ExportError(Exception):
    """Export failed; the message says why in words for the user."""


@dataclass
class ExportOptions:
    folder: Path
    name: str = "shot"
    frames: list[int] | None = None  # None: every frame
    layers: tuple[LayerKind, ...] = DEFAULT_LAYERS
    digits: int = 4


@dataclass
class ExportReview:
    """What the animator should know before exporting: frames that are not final."""

    generated: list[int]  # unaccepted generated frames (shown by a hold too)
    empty: list[int]  # frames with nothing on the exported layers

    @property
    def ok(self) -> bool:
        return not self.generated and not self.empty

    def text(self) -> str:
        def frames(idx: list[int]) -> str:
            shown = ", ".join(str(i + 1) for i in idx[:12]) + (", …" if len(idx) > 12 else "")
            return f"{len(idx)} frame{'s' if len(idx) != 1 else ''} ({shown})"

        parts = []
        if self.generated:
            parts.append(f"{frames(self.generated)} generated but not accepted")
        if self.empty:
            parts.append(f"{frames(self.empty)} empty")
        return "The export includes " + " and ".join(parts) + "."


def review(doc: ShotDocument, frames: Iterable[int] | None = None,
           layers: tuple[LayerKind, ...] = DEFAULT_LAYERS) -> ExportReview:
    """Unaccepted generated and empty frames among those to export (previews never count:
    they are not part of the shot and are never exported)."""
    idx = range(len(doc)) if frames is None else sorted(set(frames))
    generated, empty = [], []
    for i in idx:
        src = doc.source_index(i)
        if LayerKind.GENERATED in layers and doc.frames[src].has_generated:
            generated.append(i)
        if images.is_blank(doc.composite(i, layers, previews=False)):
            empty.append(i)
    return ExportReview(generated, empty)


def frame_filename(name: str, index: int, digits: int = 4) -> str:
    """`name_0001.png` for frame index 0."""
    return f"{name}_{index + 1:0{digits}d}.png"


STAGING_PREFIX = ".inbetween-export-"


def _why(exc: OSError) -> str:
    """Words for the user; a full disk and a read-only folder are the usual suspects."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the folder is read-only or not writable ({exc.strerror})"
    return str(exc.strerror or exc)


def export_png_sequence(doc: ShotDocument, opts: ExportOptions) -> list[Path]:
    """Write one PNG per frame (straight alpha preserved); returns the paths written.

    All or nothing (see the module docstring): on ExportError nothing was added or changed.
    """
    if not opts.name or any(c in opts.name for c in "/\\"):
        raise ExportError(f"{opts.name!r} is not a usable file name")
    frames = range(len(doc)) if opts.frames is None else sorted(set(opts.frames))
    folder = Path(opts.folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    created_root = missing[-1] if missing else None  # the top folder this export creates
    stage: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        staged = []
        for i in frames:
            name = frame_filename(opts.name, i, opts.digits)
            _write_synced(stage / name, images.to_png_bytes(doc.composite(i, opts.layers, previews=False)))
            staged.append(name)
        out = _move_into_place(stage, folder, staged)
    except OSError as exc:
        if created_root is not None:
            shutil.rmtree(created_root, ignore_errors=True)
        raise ExportError(f"could not export to {folder}: {_why(exc)}. "
                          "Nothing was written; the folder is as it was.") from exc
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
    return out


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, FILE_MODE)  # every exported file alike: PNGs and the animated preview


def _move_into_place(stage: Path, folder: Path, names: list[str]) -> list[Path]:
    """Rename staged files over the targets; on failure undo every rename done so far."""
    aside = stage / "replaced"
    aside.mkdir()
    done: list[tuple[str, bool]] = []  # (name, an older file was moved aside)
    try:
        for name in names:
            target = folder / name
            had_old = target.exists()
            if had_old:
                os.replace(target, aside / name)
            done.append((name, had_old))
            os.replace(stage / name, target)
    except OSError:
        for name, had_old in reversed(done):
            try:
                (folder / name).unlink(missing_ok=True)
                if had_old:
                    os.replace(aside / name, folder / name)
            except OSError:
                pass
        raise
    return [folder / n for n in names]


def _on_background(img: QImage, color=Qt.GlobalColor.white) -> QImage:
    out = QImage(img.size(), QImage.Format.Format_RGB888)
    out.fill(color)
    p = QPainter(out)
    p.drawImage(0, 0, img)
    p.end()
    return out


def preview_formats() -> dict[str, str]:
    """Animated formats this installation can write, suffix -> description."""
    fmts = {}
    if find_spec("imageio") and find_spec("PIL"):
        fmts[".gif"] = "Animated GIF"
    if find_spec("imageio") and find_spec("av"):
        fmts[".mp4"] = "MP4 video (H.264)"
    return fmts


def export_animation(doc: ShotDocument, path: str | Path, frames: Iterable[int] | None = None,
                     layers: tuple[LayerKind, ...] = DEFAULT_LAYERS) -> Path:
    """An animated preview on a white background, at the shot's fps, via imageio."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in preview_formats():
        raise ExportError(f"cannot write {suffix or 'that'} previews here; available: "
                          f"{', '.join(preview_formats()) or 'none (pip install imageio pillow)'}")
    import numpy as np
    import imageio.v3 as iio

    idx = list(range(len(doc))) if frames is None else sorted(set(frames))
    if not idx:
        raise ExportError("no frames to export")
    stack = []
    for i in idx:
        rgb = _on_background(doc.composite(i, layers, previews=False))
        w, h = rgb.width(), rgb.height()
        arr = np.frombuffer(bytes(rgb.constBits()), np.uint8).reshape(h, rgb.bytesPerLine())[:, : w * 3]
        stack.append(arr.reshape(h, w, 3).copy())
    video = np.stack(stack)
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=path.parent if path.parent.exists() else None)
    os.close(fd)
    try:
        if suffix == ".gif":
            iio.imwrite(tmp, video, extension=".gif", duration=1000.0 / doc.fps, loop=0)
        else:
            if video.shape[1] % 2 or video.shape[2] % 2:  # H.264 wants even sizes
                video = video[:, : video.shape[1] // 2 * 2, : video.shape[2] // 2 * 2]
            iio.imwrite(tmp, video, plugin="pyav", codec="libx264", fps=doc.fps)
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600; the PNGs next to it are a plain open()'s mode
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - any writer failure is an export failure
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"could not write {path.name}: {exc}") from exc
    return path
