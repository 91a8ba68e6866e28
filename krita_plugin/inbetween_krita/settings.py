"""The docker's choices, kept between Krita sessions in a small JSON file (written atomically).

A JSON file rather than kritarc so that the settings can be read and tested without Krita, and
so that a half-written file after a crash can never exist (temp file + os.replace).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .client_lib import atomic

SETTINGS_ENV = "INBETWEEN_KRITA_SETTINGS"
TIMINGS = ("linear", "ease-in", "ease-out", "ease-in-out")


@dataclass
class Settings:
    """What the user picked last time; unknown or malformed entries fall back to the defaults."""

    engine_command: str = ""  # e.g. "/path/to/venv/bin/python -m engine" or "inbetween-engine"
    start_engine: bool = True  # start the engine with engine_command when none answers
    backend: str = "flow"
    timing: str = "linear"
    seed: int = 0
    sketch_hint: str = "sketch"  # default sketch layer: the first whose name contains this

    @classmethod
    def from_dict(cls, raw: object) -> "Settings":
        out = cls()
        if not isinstance(raw, dict):
            return out
        for f in fields(cls):
            value = raw.get(f.name)
            if isinstance(value, type(getattr(out, f.name))) and not (
                isinstance(value, bool) and f.type != "bool"
            ):
                setattr(out, f.name, value)
        if out.timing not in TIMINGS:
            out.timing = "linear"
        if out.seed < 0:
            out.seed = 0
        return out


def settings_path() -> Path:
    """`INBETWEEN_KRITA_SETTINGS`, else the platform's user config folder."""
    override = os.environ.get(SETTINGS_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Preferences"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME", "").strip() or Path.home() / ".config")
    return base / "inbetween" / "krita-plugin.json"


def load(path: Path | None = None) -> Settings:
    try:
        raw = json.loads((path or settings_path()).read_text("utf-8"))
    except (OSError, ValueError):
        return Settings()
    return Settings.from_dict(raw)


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    return atomic.write_text(path or settings_path(), json.dumps(asdict(settings), indent=2))
