"""Results waiting in the docker for Apply, kept on disk so that a Krita crash never loses them.

No Krita and no Qt here. Each result that is ready but not written goes, in a worker thread,
into the plugin's state folder, one folder per document and one per result:

    <state>/pending/<document>/<result uid>/meta.json     what, where, which frames
    <state>/pending/<document>/<result uid>/000012.bgra.z  each frame, BGRA, zlib (fast level)

written into a hidden `.<uid>.tmp` folder first and renamed into place when complete, so a
crash leaves either the whole result or nothing the plugin reads. After a restart the
controller loads them and offers them again (into their document when it is open, by file
name; else into the active or a new document). Apply and Discard remove the folder.
The state folder is `INBETWEEN_KRITA_STATE`, else the platform's user state folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .results import Result, Target
from .shot_plan import ShotPlan

STATE_ENV = "INBETWEEN_KRITA_STATE"
FORMAT = 1
META = "meta.json"
STALE_TMP_S = 3600.0  # an unfinished save older than this is a crash's leftover


def state_dir() -> Path:
    """`INBETWEEN_KRITA_STATE`, else the platform's per-user state folder."""
    override = os.environ.get(STATE_ENV, "").strip()
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME", "").strip() or Path.home() / ".local" / "state")
    return base / "inbetween" / "krita-plugin"


def document_folder(target: Target) -> str:
    """A folder name per document: its file name (and a hash of its path), or its title."""
    if target.doc_file:
        stem = Path(target.doc_file.replace("\\", "/")).stem
        tag = hashlib.sha1(target.doc_file.encode("utf-8")).hexdigest()[:8]
    else:
        stem, tag = target.doc_title or "untitled", "unsaved"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "document"
    return f"{stem[:40]}-{tag}"


def _target_json(t: Target) -> dict[str, Any]:
    out = asdict(t)
    out["plan"] = {"layer": t.plan.layer, "requested": list(t.plan.requested), "keyframes": list(t.plan.keyframes),
                   "blank": list(t.plan.blank), "exposure": t.plan.exposure, "sketches": list(t.plan.sketches)}
    return out


def _target_from(raw: dict[str, Any]) -> Target:
    p = raw["plan"]
    plan = ShotPlan(str(p["layer"]), (int(p["requested"][0]), int(p["requested"][1])),
                    tuple(int(v) for v in p["keyframes"]), tuple(int(v) for v in p["blank"]),
                    int(p["exposure"]), tuple(int(v) for v in p["sketches"]))
    fields_ = {k: v for k, v in raw.items() if k != "plan" and k in Target.__dataclass_fields__}
    return Target(plan=plan, **fields_)


def _frame_file(t: int) -> str:
    return f"{t:06d}.bgra.z"


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@dataclass
class Recovered:
    """What `load` found: results to offer again, and the folders it could not read."""

    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class PendingStore:
    """Saves and removes pending results in one worker thread (in order: a discard queued after
    a save removes what the save wrote)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else state_dir() / "pending"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbetween-pending")

    def folder(self, result: Result) -> Path:
        return self.root / document_folder(result.target) / result.uid

    def save(self, result: Result) -> Future:
        meta = {"format": FORMAT, "uid": result.uid, "saved": time.time(), "target": _target_json(result.target),
                "frames": sorted(result.frames), "holds": {str(k): v for k, v in result.holds.items()},
                "elapsed_s": result.elapsed_s, "params_text": result.params_text, "note": result.note}
        frames = dict(result.frames)  # bytes are immutable: the worker writes this snapshot
        folder = self.folder(result)
        return self._pool.submit(self._write, folder, meta, frames)

    def _write(self, folder: Path, meta: dict[str, Any], frames: dict[int, bytes]) -> Path:
        tmp = folder.parent / f".{folder.name}.tmp"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            for t, data in frames.items():
                _write_bytes(tmp / _frame_file(t), zlib.compress(data, 1))
            _write_bytes(tmp / META, json.dumps(meta, indent=1).encode("utf-8"))
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
                fd = os.open(folder.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise OSError(f"could not write {folder.parent}: {exc.strerror or exc}") from exc
        return folder

    def remove(self, result: Result) -> Future:
        return self._pool.submit(self._remove, self.folder(result))

    @staticmethod
    def _remove(folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.parent.rmdir()  # the document's folder, once it holds nothing
        except OSError:
            pass

    def wait(self) -> None:
        """Finish every queued save and removal (tests, Krita closing)."""
        self._pool.submit(lambda: None).result()

    def load(self, thumbnailer: Any = None) -> Recovered:
        """Every complete result on disk (call from a worker thread: it decompresses frames)."""
        out = Recovered()
        if not self.root.is_dir():
            return out
        for doc_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for folder in sorted(doc_dir.iterdir()):
                if folder.name.startswith("."):
                    self._drop_stale(folder)
                    continue
                if not (folder / META).is_file():
                    continue
                try:
                    out.results.append(self._read(folder, thumbnailer))
                except (OSError, ValueError, KeyError, TypeError, zlib.error) as exc:
                    out.problems.append(f"{folder}: {type(exc).__name__}: {exc}")
        out.results.sort(key=lambda r: r.saved_at, reverse=True)
        return out

    @staticmethod
    def _drop_stale(folder: Path) -> None:
        try:
            if folder.name.endswith(".tmp") and time.time() - folder.stat().st_mtime > STALE_TMP_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass

    @staticmethod
    def _read(folder: Path, thumbnailer: Any) -> Result:
        meta = json.loads((folder / META).read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r} is not {FORMAT}")
        target = _target_from(meta["target"])
        size = target.width * target.height * 4
        frames: dict[int, bytes] = {}
        for t in meta["frames"]:
            data = zlib.decompress((folder / _frame_file(int(t))).read_bytes())
            if len(data) != size:
                raise ValueError(f"frame {t} has {len(data)} bytes, expected {size}")
            frames[int(t)] = data
        thumbs = {t: thumbnailer(d, target.width, target.height) for t, d in frames.items()} if thumbnailer else {}
        result = Result(target, frames, {int(k): int(v) for k, v in meta["holds"].items()}, thumbs,
                        float(meta["elapsed_s"]), str(meta["params_text"]), uid=str(meta["uid"]),
                        note=str(meta.get("note", "")))
        result.recovered = True
        result.saved_at = float(meta.get("saved", 0.0))
        return result
