"""Project files: `project.json` plus one PNG per non-empty layer, in a folder or a zip file.

A folder (`shot/project.json`, `shot/frames/0001_drawing-<hash>.png`, ...) is friendly to
version control and other tools; a single file (`shot.ibproj`, a zip of the same tree) is easy
to mail. Both are written so that a crash (SIGKILL, power cut) at any moment leaves either the
old or the new version on disk, never a mix:

- a single file is one temp file + `os.replace`;
- in a folder, every PNG's name carries a hash of its bytes, so a save never overwrites a file
  the previous `project.json` points at; `project.json` is replaced last (the commit point),
  and only then are PNGs no longer referenced deleted. Before content-addressed names a killed
  save left the old manifest pointing at new pixels (found by tests/reliability).
- temp files orphaned by a killed save (`.NAME.XXXX.tmp`: inside a project folder, or next to
  a single-file project or autosave) are removed by the next save (or autosave discard) of
  that project; both found by tests/reliability. Two apps saving the same project at once
  are not supported.

Older projects with plain `frames/0001_drawing.png` names load unchanged (the manifest names
its files). A frame's pose is stored in its manifest entry (`"pose"`: the engine's pose JSON,
plus `hidden_at` for joints marked hidden); projects from before poses have none and open as
they always did.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from inbetween_client.poses import PoseError

from ..model import images
from ..model.pose_layer import PoseLayer
from ..model.shot import TIMINGS, Frame, LayerKind, Role, ShotDocument
from . import atomic

FORMAT_NAME = "inbetween-studio"
FORMAT_VERSION = 1
MANIFEST = "project.json"
SINGLE_FILE_SUFFIXES = (".ibproj", ".zip")


class ProjectError(Exception):
    """A project that cannot be read or written; the message is for the user."""


def is_single_file(path: Path) -> bool:
    return path.suffix.lower() in SINGLE_FILE_SUFFIXES


def is_project_path(path: Path) -> bool:
    return (path.is_dir() and (path / MANIFEST).is_file()) or path.name == MANIFEST or (
        path.is_file() and is_single_file(path))


def _layer_name(index: int, kind: LayerKind, data: bytes = b"") -> str:
    """`frames/0001_drawing-<12 hex of sha1>.png`: the hash makes saves crash-consistent."""
    digest = hashlib.sha1(data).hexdigest()[:12]
    return f"frames/{index + 1:04d}_{kind.value}-{digest}.png"


def _remove_orphan_temps(folder: Path) -> None:
    """Temp files of a save killed before its `os.replace` (only this app writes here)."""
    for tmp in folder.glob(".*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass


_PNG_CACHE: "OrderedDict[int, bytes | None]" = OrderedDict()
_PNG_CACHE_SIZE = 2048


def _encoded(img: QImage) -> bytes | None:
    """PNG bytes of a layer, None if it is blank; cached by QImage.cacheKey().

    Layer images are never modified in place (the model swaps frames), so a cache key
    names fixed pixels: an autosave only encodes the layers that changed since the last one.
    """
    key = img.cacheKey()
    if key in _PNG_CACHE:
        _PNG_CACHE.move_to_end(key)
        return _PNG_CACHE[key]
    data = None if images.is_blank(img) else images.to_png_bytes(img)
    _PNG_CACHE[key] = data
    if len(_PNG_CACHE) > _PNG_CACHE_SIZE:
        _PNG_CACHE.popitem(last=False)
    return data


def serialize(doc: ShotDocument) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the PNG files (relative name -> bytes) of a document."""
    files: dict[str, bytes] = {}
    frames = []
    for i, f in enumerate(doc.frames):
        layers = {}
        for kind in LayerKind:
            img = f.layer(kind)
            data = _encoded(img) if img is not None else None
            if data is not None:
                name = _layer_name(i, kind, data)
                files[name] = data
                layers[kind.value] = name
        entry = {"role": f.role.value, "timing": f.timing, "layers": layers}
        if f.accepted:
            entry["accepted"] = True
        if f.pose is not None:
            entry["pose"] = f.pose.to_json()
        frames.append(entry)
    manifest = {
        "format": FORMAT_NAME, "version": FORMAT_VERSION,
        "width": doc.width, "height": doc.height, "fps": doc.fps, "exposure": doc.exposure,
        "frames": frames,
    }
    return manifest, files


def save(doc: ShotDocument, path: str | Path, extra: dict[str, bytes] | None = None) -> Path:
    """Write the project to a folder or (by suffix .ibproj/.zip) a single file.

    `extra` adds files next to project.json (autosave notes where the shot came from).
    """
    path = Path(path)
    if path.name == MANIFEST:
        path = path.parent
    manifest, files = serialize(doc)
    files.update(extra or {})
    text = json.dumps(manifest, indent=1)
    try:
        if is_single_file(path):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # PNGs are compressed already
                for name, data in files.items():
                    z.writestr(name, data)
                z.writestr(MANIFEST, text)
            atomic.remove_orphans(path)  # of a save of this file that was killed
            atomic.write_bytes(path, buf.getvalue())
        else:
            path.mkdir(parents=True, exist_ok=True)
            frames_dir = path / "frames"
            for folder in (path, frames_dir):
                _remove_orphan_temps(folder)
            for name, data in files.items():
                target = path / name
                if name.startswith("frames/") and target.is_file():
                    continue  # content-addressed: same name, same bytes, already there
                atomic.write_bytes(target, data)
            atomic.write_text(path / MANIFEST, text)  # the commit point
            if frames_dir.is_dir():  # layers that became empty, frames removed, old versions
                for old in frames_dir.glob("*.png"):
                    if f"frames/{old.name}" not in files:  # noqa: SIM102
                        old.unlink(missing_ok=True)
    except OSError as exc:
        raise ProjectError(f"could not save {path}: {exc.strerror or exc}") from exc
    return path


def load(path: str | Path) -> ShotDocument:
    """Read a project folder, its project.json, or a single-file project."""
    path = Path(path)
    if path.name == MANIFEST:
        path = path.parent
    try:
        if path.is_file():
            with zipfile.ZipFile(path) as z:
                manifest = json.loads(z.read(MANIFEST))
                blobs = {n: z.read(n) for n in z.namelist() if n.endswith(".png")}
            read = blobs.__getitem__
        else:
            manifest = json.loads((path / MANIFEST).read_text("utf-8"))
            read = lambda name: (path / name).read_bytes()  # noqa: E731
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ProjectError(f"{path} is not a readable inbetween-studio project: {exc}") from exc
    return _from_manifest(manifest, read, path)


def _from_manifest(manifest: dict[str, Any], read: Any, path: Path) -> ShotDocument:
    if manifest.get("format") != FORMAT_NAME:
        raise ProjectError(f"{path} is not an inbetween-studio project")
    if int(manifest.get("version", 0)) > FORMAT_VERSION:
        raise ProjectError(f"{path} was written by a newer inbetween-studio (format "
                           f"{manifest.get('version')}); please update the app")
    w, h = int(manifest["width"]), int(manifest["height"])
    frames = []
    for i, entry in enumerate(manifest.get("frames", [])):
        layers: dict[str, Any] = {}
        for kind in LayerKind:
            name = entry.get("layers", {}).get(kind.value)
            if name:
                try:
                    img = images.from_png_bytes(read(name))
                except (OSError, KeyError, ValueError) as exc:
                    raise ProjectError(f"frame {i + 1}: cannot read {name}: {exc}") from exc
                if (img.width(), img.height()) != (w, h):
                    raise ProjectError(f"frame {i + 1}: {name} is {img.width()}x{img.height()}, "
                                       f"the shot is {w}x{h}")
                layers[kind.value] = img
        timing = entry.get("timing", "linear")
        pose = None
        if entry.get("pose") is not None:
            try:
                pose = PoseLayer.from_json(entry["pose"], f"frame {i + 1}: pose")
            except PoseError as exc:
                raise ProjectError(f"{path}: {exc}") from None
        frames.append(Frame(role=Role(entry.get("role", "inbetween")),
                            timing=timing if timing in TIMINGS else "linear",
                            accepted=bool(entry.get("accepted", False)), pose=pose, **layers))
    return ShotDocument(w, h, float(manifest.get("fps", 24.0)), frames,
                        int(manifest.get("exposure", 1)))


def import_images(paths: list[str | Path], fps: float = 24.0, gap: int = 0) -> ShotDocument:
    """A PNG sequence (sorted by name) becomes key frames, with `gap` empty in-betweens after
    each but the last (gap 0: a plain sequence; gap > 0: keys spaced out ready to in-between).

    Every image must have the size of the first one: the engine needs one canvas size.
    """
    ordered = sorted(Path(p) for p in paths)
    if not ordered:
        raise ProjectError("no images to open")
    frames = []
    size = None
    for p in ordered:
        try:
            img = images.load_image(str(p))
        except ValueError as exc:
            raise ProjectError(str(exc)) from exc
        if size is None:
            size = (img.width(), img.height())
        elif (img.width(), img.height()) != size:
            raise ProjectError(f"{p.name} is {img.width()}x{img.height()}, but {ordered[0].name} is "
                               f"{size[0]}x{size[1]}: a shot has one canvas size")
        if frames and gap > 0:
            frames.extend(Frame() for _ in range(gap))
        frames.append(Frame(role=Role.KEY, drawing=img))
    assert size is not None
    return ShotDocument(size[0], size[1], fps, frames)
