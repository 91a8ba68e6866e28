"""Where clients find the engine: the connection file in the user's state directory.

The engine writes host, port, token, pid and protocol version there (mode 0600, atomically);
clients read it. The directory follows platformdirs' `user_state_dir("inbetween")`; inside
Krita, which has no platformdirs, a standard-library rendering of the same rule is used
(tests check both agree). `INBETWEEN_STATE_DIR` overrides it, e.g. for tests or two engines.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from .atomic import write_text

APP_NAME = "inbetween"
CONNECTION_FILE_NAME = "engine.json"
STATE_DIR_ENV = "INBETWEEN_STATE_DIR"


def stdlib_state_dir() -> Path:
    """platformdirs' user_state_dir(APP_NAME, appauthor=False), without platformdirs."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    base = os.environ.get("XDG_STATE_HOME", "").strip() or str(Path.home() / ".local" / "state")
    return Path(base) / APP_NAME


def state_dir() -> Path:
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override)
    try:
        import platformdirs
    except ImportError:
        return stdlib_state_dir()
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_connection_file() -> Path:
    return state_dir() / CONNECTION_FILE_NAME


@dataclass(frozen=True)
class ConnectionInfo:
    host: str
    port: int
    token: str
    pid: int
    protocol: int
    version: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def read_connection_file(path: Path | None = None) -> ConnectionInfo | None:
    """The engine's connection info, or None when there is no (readable, well-formed) file."""
    path = path or default_connection_file()
    try:
        raw = json.loads(Path(path).read_text("utf-8"))
        return ConnectionInfo(
            host=str(raw["host"]),
            port=int(raw["port"]),
            token=str(raw["token"]),
            pid=int(raw["pid"]),
            protocol=int(raw["protocol"]),
            version=str(raw.get("version", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_connection_file(info: ConnectionInfo, path: Path | None = None) -> Path:
    """Write atomically, readable by the user only (0600, in a 0700 folder)."""
    path = Path(path or default_connection_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path.parent, 0o700)
    except OSError:
        pass
    return write_text(path, json.dumps(asdict(info)), mode=0o600)


def remove_connection_file(path: Path, pid: int) -> None:
    """Remove the file only if it still names this engine (a newer engine may have replaced it)."""
    info = read_connection_file(path)
    if info is not None and info.pid == pid:
        try:
            os.unlink(path)
        except OSError:
            pass


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
