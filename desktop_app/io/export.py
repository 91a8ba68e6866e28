"""Export: a PNG sequence `NAME_0001.png` (alpha kept) and an animated preview (GIF or MP4).

Frame numbers are the shot's frame numbers (first frame = 0001, zero-padded to 4 digits, as
compositing tools expect), so exporting a range keeps numbers stable. A hold exports the
drawing it holds: the sequence has one file per frame and plays at the shot's fps.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from ..model import images
from ..model.shot import LayerKind, ShotDocument
from . import atomic

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


def frame_filename(name: str, index: int, digits: int = 4) -> str:
    """`name_0001.png` for frame index 0."""
    return f"{name}_{index + 1:0{digits}d}.png"


def export_png_sequence(doc: ShotDocument, opts: ExportOptions) -> list[Path]:
    """Write one PNG per frame (straight alpha preserved); returns the paths written."""
    if not opts.name or any(c in opts.name for c in "/\\"):
        raise ExportError(f"{opts.name!r} is not a usable file name")
    frames = range(len(doc)) if opts.frames is None else sorted(set(opts.frames))
    out = []
    try:
        for i in frames:
            img = doc.composite(i, opts.layers)
            path = Path(opts.folder) / frame_filename(opts.name, i, opts.digits)
            atomic.write_bytes(path, images.to_png_bytes(img))
            out.append(path)
    except OSError as exc:
        raise ExportError(f"could not write to {opts.folder}: {exc.strerror or exc}") from exc
    return out


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
        rgb = _on_background(doc.composite(i, layers))
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
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - any writer failure is an export failure
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"could not write {path.name}: {exc}") from exc
    return path
