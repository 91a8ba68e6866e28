"""Finding an engine to start, so that the plugin works from its zip alone (standard library only).

Inside Krita `sys.executable` is Krita itself and Krita's PATH rarely has the suite's
executables, so the plugin looks where the suite puts its engine, in this order:

1. the engine command the user typed (settings), then `INBETWEEN_ENGINE_COMMAND`;
2. the private environment made by the docker's one-click set-up (engine_setup.py);
3. an app bundle the user pointed the docker at (a folder with `inbetween-engine` inside);
4. the downloadable app's usual install folders (`inbetween-studio/inbetween-engine`);
5. `inbetween-engine` on PATH, in `~/.local/bin` (pip --user) and in pipx's environments.

A running engine is found before any of this, through its connection file (the client library).
Only file existence is checked here (cheap enough for a timer); starting the engine is the test.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ENV_COMMAND = "INBETWEEN_ENGINE_COMMAND"
APP_FOLDER = "inbetween-studio"
EXE = "inbetween-engine" + (".exe" if sys.platform == "win32" else "")
MARKER = "installed.json"


@dataclass(frozen=True)
class EngineCandidate:
    kind: str  # "command" | "env" | "managed" | "bundle" | "app" | "path"
    command: tuple[str, ...]
    where: str  # for the docker: what was found, and where

    @property
    def label(self) -> str:
        return self.where


def data_dir() -> Path:
    """The user's data folder for the suite (platformdirs' user_data_dir("inbetween"), by hand)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "inbetween"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "inbetween"
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "inbetween"


def managed_root() -> Path:
    """Where the one-click set-up installs the engine (a private virtual environment)."""
    override = os.environ.get("INBETWEEN_KRITA_ENGINE_DIR")
    return Path(override) if override else data_dir() / "krita-engine"


def split_command(text: str) -> list[str]:
    return shlex.split(text, posix=os.name != "nt")


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def managed_engine(root: Path | None = None) -> EngineCandidate | None:
    """The set-up's engine, trusted only once its marker says the install finished."""
    root = root or managed_root()
    try:
        info = json.loads((root / MARKER).read_text("utf-8"))
        command = tuple(str(part) for part in info["command"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not command or not _is_file(Path(command[0])):
        return None
    return EngineCandidate("managed", command, f"the engine set up by this plugin in {root}")


def bundle_engine(folder: str | Path) -> Path | None:
    """The `inbetween-engine` of an app bundle: the folder itself, its `inbetween-studio/`, or
    a macOS .app's Contents/MacOS."""
    folder = Path(folder).expanduser()
    if _is_file(folder) and folder.name.lower().startswith("inbetween-engine"):
        return folder
    for sub in (Path(), Path(APP_FOLDER), Path("Contents/MacOS"), Path(f"{APP_FOLDER}.app/Contents/MacOS")):
        exe = folder / sub / EXE
        if _is_file(exe):
            return exe
    return None


def app_folders() -> list[Path]:
    """Where people usually put the downloaded app."""
    home = Path.home()
    if sys.platform == "win32":
        bases = [os.environ.get("LOCALAPPDATA", ""), os.environ.get("LOCALAPPDATA", "") + "\\Programs",
                 os.environ.get("ProgramFiles", ""), str(home / "Downloads"), str(home / "Desktop")]
        return [Path(b) / APP_FOLDER for b in bases if b]
    if sys.platform == "darwin":
        return [Path("/Applications") / f"{APP_FOLDER}.app", home / "Applications" / f"{APP_FOLDER}.app",
                home / "Downloads" / APP_FOLDER]
    return [Path("/opt") / APP_FOLDER, home / ".local" / "opt" / APP_FOLDER, home / "Applications" / APP_FOLDER,
            home / APP_FOLDER, home / "Downloads" / APP_FOLDER, home / "Desktop" / APP_FOLDER]


def path_engines() -> list[Path]:
    found = []
    exe = shutil.which("inbetween-engine")
    if exe:
        found.append(Path(exe))
    home = Path.home()
    scripts = "Scripts" if sys.platform == "win32" else "bin"
    for p in (home / ".local" / "bin" / EXE,
              home / ".local" / "share" / "pipx" / "venvs" / "inbetween-suite" / scripts / EXE,
              home / ".local" / "pipx" / "venvs" / "inbetween-suite" / scripts / EXE):
        if _is_file(p) and p not in found:
            found.append(p)
    return found


def candidates(configured: str = "", bundle: str = "", env: dict[str, str] | None = None,
               root: Path | None = None) -> list[EngineCandidate]:
    """Every engine this machine seems to have, best first (see the module docstring)."""
    env = os.environ if env is None else env
    out: list[EngineCandidate] = []
    if configured.strip():
        out.append(EngineCandidate("command", tuple(split_command(configured)), "the engine command you set"))
    if env.get(ENV_COMMAND, "").strip():
        out.append(EngineCandidate("env", tuple(split_command(env[ENV_COMMAND])), f"${ENV_COMMAND}"))
    managed = managed_engine(root)
    if managed is not None:
        out.append(managed)
    if bundle.strip():
        exe = bundle_engine(bundle)
        if exe is not None:
            out.append(EngineCandidate("bundle", (str(exe),), f"the app at {exe.parent}"))
    for folder in app_folders():
        exe = bundle_engine(folder)
        if exe is not None:
            out.append(EngineCandidate("app", (str(exe),), f"the app at {exe.parent}"))
    for exe in path_engines():
        out.append(EngineCandidate("path", (str(exe),), f"{exe}"))
    return _unique(out)


def _unique(items: Iterable[EngineCandidate]) -> list[EngineCandidate]:
    seen: set[tuple[str, ...]] = set()
    out = []
    for c in items:
        if c.command not in seen:
            seen.add(c.command)
            out.append(c)
    return out


def best(configured: str = "", bundle: str = "", env: dict[str, str] | None = None,
         root: Path | None = None) -> EngineCandidate | None:
    found = candidates(configured, bundle, env, root)
    return found[0] if found else None
