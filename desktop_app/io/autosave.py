"""Autosave every few seconds to a side file, and recovery of it after a crash.

A saved project `shot/` (or `shot.ibproj`) autosaves to `shot.autosave.ibproj` next to it;
an untitled shot to `<state dir>/studio/autosave/untitled-<pid>.ibproj`. A clean save or a
clean close deletes the side file, so one that survives means the app died: at the next
start (or when that project is opened again) the app offers to restore it. Autosaves are
single zip files written atomically, so a crash during an autosave keeps the previous one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from inbetween_client.connection import pid_alive, state_dir

from ..model.shot import ShotDocument
from . import atomic, project

SUFFIX = ".autosave.ibproj"
NOTE = "autosave.json"
DEFAULT_INTERVAL_MS = 5000


def autosave_dir() -> Path:
    return state_dir() / "studio" / "autosave"


def side_file(project_path: Path | None, pid: int | None = None) -> Path:
    if project_path is None:
        return autosave_dir() / f"untitled-{pid or os.getpid()}{SUFFIX}"
    project_path = Path(project_path)
    if project_path.name == project.MANIFEST:
        project_path = project_path.parent
    return project_path.with_name(project_path.name + SUFFIX)


@dataclass(frozen=True)
class Recovery:
    """An autosave left behind by a session that did not close cleanly."""

    path: Path
    original: Path | None  # the project it belongs to, None for an untitled shot
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        what = str(self.original) if self.original else "an untitled shot"
        return f"{what} (autosaved {when})"


def _note(path: Path) -> dict:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read(NOTE))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}


def find_recoverable(project_path: Path | None = None) -> list[Recovery]:
    """Autosaves to offer: the one of `project_path` if newer than the project, and
    autosaves of untitled shots whose app is gone."""
    out: list[Recovery] = []
    if project_path is not None:
        side = side_file(project_path)
        if side.is_file():
            target = Path(project_path)
            manifest = target / project.MANIFEST if target.is_dir() else target
            base = manifest.stat().st_mtime if manifest.exists() else 0.0
            if side.stat().st_mtime >= base:
                out.append(Recovery(side, target, side.stat().st_mtime))
    folder = autosave_dir()
    if folder.is_dir():
        for side in sorted(folder.glob(f"untitled-*{SUFFIX}")):
            pid = _note(side).get("pid", 0)
            if int(pid) != os.getpid() and not pid_alive(int(pid)):
                out.append(Recovery(side, None, side.stat().st_mtime))
    return out


def recover(rec: Recovery) -> ShotDocument:
    return project.load(rec.path)


class Autosaver(QObject):
    """Writes the document to its side file on a timer, only when it changed since last time."""

    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc: ShotDocument | None = None
        self.project_path: Path | None = None
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    @property
    def path(self) -> Path:
        return side_file(self.project_path)

    def attach(self, doc: ShotDocument, project_path: Path | None) -> None:
        """Follow a (new) document; the previous one's side file is left to `discard`."""
        if self.doc is not None:
            self.doc.undo_stack.indexChanged.disconnect(self._changed)
        self.doc, self.project_path, self._dirty = doc, project_path, False
        doc.undo_stack.indexChanged.connect(self._changed)

    def _changed(self, *_: object) -> None:
        self._dirty = True

    def mark_dirty(self) -> None:
        """Autosave at the next tick even without an edit (e.g. just after a recovery)."""
        self._dirty = True

    def tick(self) -> Path | None:
        """Autosave now if there are unsaved changes (the timer calls this)."""
        if self.doc is None or not self._dirty:
            return None
        note = {"pid": os.getpid(), "original": str(self.project_path or ""), "time": time.time()}
        try:
            path = project.save(self.doc, self.path, extra={NOTE: json.dumps(note).encode()})
        except (project.ProjectError, OSError) as exc:
            self.failed.emit(f"Autosave failed: {exc}")
            return None
        self._dirty = False
        self.saved.emit(str(path))
        return path

    def discard(self) -> None:
        """The work is safely saved (or deliberately dropped): remove the side file."""
        self._dirty = False
        try:
            self.path.unlink(missing_ok=True)
            atomic.remove_orphans(self.path)  # of an autosave that was killed mid-write
        except OSError:
            pass
