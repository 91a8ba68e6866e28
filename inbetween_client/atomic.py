"""Atomic file writes, shared by the engine, the desktop app and the Krita plugin (stdlib only).

Data goes to a temporary file in the same folder, is flushed and fsynced, then moved over the
target with `os.replace` (atomic on POSIX and Windows): a crash or a full disk leaves the old
file or the new one, never part of one, and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    mask = os.umask(0)  # the only way to read the umask; set straight back
    os.umask(mask)
    return 0o666 & ~mask


_DEFAULT_MODE = _default_mode()
#: the mode a plain open() gives a new file here (0666 less the umask): for files that must
#: look alike whichever way they were written
DEFAULT_FILE_MODE = _DEFAULT_MODE


def write_bytes(path: str | os.PathLike, data: bytes, mode: int | None = None) -> Path:
    """Write `data` so readers see the old bytes or the new, never a part.

    The file gets `mode`, else the mode of the file it replaces, else what a plain `open()`
    would give (`mkstemp` alone makes 0600 files, which tools sharing a folder could not read).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is None:
            try:
                mode = path.stat().st_mode & 0o7777
            except OSError:
                mode = _DEFAULT_MODE
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):  # POSIX; on Windows the mode bits mean little
                os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def write_text(path: str | os.PathLike, text: str, mode: int | None = None) -> Path:
    """UTF-8 text, written like `write_bytes`."""
    return write_bytes(path, text.encode("utf-8"), mode)
