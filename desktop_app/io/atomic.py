"""Atomic writes: a crash or a full disk never leaves a half-written project or frame.

The write itself is the suite's shared one (`inbetween_client.atomic`: temp file in the same
folder, fsync, `os.replace`, sensible file mode); this module adds what only the app needs,
the clean-up of temp files a killed save left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from inbetween_client.atomic import write_bytes, write_text

__all__ = ["write_bytes", "write_text", "remove_orphans", "glob_escape"]


def remove_orphans(path: str | os.PathLike) -> int:
    """Delete temp files that a write of `path` killed before its `os.replace` left behind
    (`.NAME.XXXX.tmp` next to it); returns how many. Only call it for files this process is
    the one writer of (a project being saved, its autosave)."""
    path = Path(path)
    removed = 0
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def glob_escape(name: str) -> str:
    """`name` with glob wildcards escaped, as a literal in a glob pattern."""
    import glob

    return glob.escape(name)
