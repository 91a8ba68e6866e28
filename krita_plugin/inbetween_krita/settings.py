"""The docker's choices, kept between Krita sessions in a small JSON file (written atomically).

A JSON file rather than kritarc so that the settings can be read and tested without Krita, and
so that a half-written file after a crash can never exist (temp file + os.replace). Choices
that belong to one saved document (its keys layer, per-segment timing) are kept by file name
in `documents`, the most recent few only.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .client_lib import atomic

SETTINGS_ENV = "INBETWEEN_KRITA_SETTINGS"
TIMINGS = ("linear", "ease-in", "ease-out", "ease-in-out")
MAX_DOCUMENTS = 40


@dataclass
class Settings:
    """What the user picked last time; unknown or malformed entries fall back to the defaults."""

    engine_command: str = ""  # empty: found by itself (engine_locator)
    app_bundle: str = ""  # a downloaded app's folder, chosen with "Use app..."
    start_engine: bool = True  # start an engine when none answers
    backend: str = "flow"
    timing: str = "linear"
    exposure: int = 1
    seed: int = 0
    steps: int = 0  # 0: the backend's default
    guidance: float = 0.0  # 0: the backend's default
    preview: bool = False  # flow's fast preview (poses by skinning); off: the final frames
    sketch_hint: str = "sketch"  # default sketch layer: the first whose name contains this
    write_when_done: bool = False  # False: preview in the docker first, then Apply
    keep_previous: bool = False  # False: a new result replaces the previous one of the same keys
    review_alone: bool = True  # hide the keys and sketch layers while a result is reviewed
    send_poses: bool = True  # send the pose layers' skeletons with Generate
    poses_follow_frame: bool = True  # show only the pose layer of the current frame
    documents: dict = field(default_factory=dict)  # file name -> per-document choices

    @classmethod
    def from_dict(cls, raw: object) -> "Settings":
        out = cls()
        if not isinstance(raw, dict):
            return out
        for f in fields(cls):
            value = raw.get(f.name)
            default = getattr(out, f.name)
            if isinstance(default, bool) != isinstance(value, bool):
                continue
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if isinstance(value, type(default)):
                setattr(out, f.name, value)
        if out.timing not in TIMINGS:
            out.timing = "linear"
        if out.exposure not in (1, 2, 3):
            out.exposure = 1
        out.seed = max(0, out.seed)
        out.steps = max(0, min(1000, out.steps))
        out.guidance = max(0.0, min(100.0, out.guidance))
        out.documents = {str(k): v for k, v in list(out.documents.items())[-MAX_DOCUMENTS:]
                         if isinstance(v, dict)}
        return out

    def remember_document(self, path: str, data: dict[str, Any]) -> None:
        if not path:
            return
        self.documents.pop(path, None)
        self.documents[path] = data
        while len(self.documents) > MAX_DOCUMENTS:
            self.documents.pop(next(iter(self.documents)))


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
