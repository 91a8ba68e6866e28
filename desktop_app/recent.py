"""Recent projects, kept as a small JSON list in the app's state dir (not QSettings, so
tests and several installs never share it by accident)."""

from __future__ import annotations

import json
from pathlib import Path

from inbetween_client.connection import state_dir

from .io import atomic

MAX_RECENT = 10


def _file() -> Path:
    return state_dir() / "studio" / "recent.json"


def load() -> list[str]:
    try:
        items = json.loads(_file().read_text("utf-8"))
        return [str(p) for p in items if isinstance(p, str)][:MAX_RECENT]
    except (OSError, ValueError):
        return []


def add(path: str | Path) -> list[str]:
    p = str(Path(path).resolve())
    items = [p] + [x for x in load() if x != p]
    items = items[:MAX_RECENT]
    try:
        atomic.remove_orphans(_file())  # of a write killed mid-way (tests/reliability)
        atomic.write_text(_file(), json.dumps(items, indent=1))
    except OSError:
        pass
    return items
