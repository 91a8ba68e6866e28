"""Finding a running engine, or starting one (standard library only).

Clients first try the connection file; if nothing answers they start the engine as a
child process and wait until it has written its connection file. The command is
configurable because inside Krita or a bundled app `sys.executable` is not a Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .client import EngineClient
from .connection import ConnectionInfo, default_connection_file, read_connection_file
from .errors import EngineNotRunning


def default_engine_command() -> list[str]:
    """How to start the engine from here: `python -m engine`, or, in a frozen bundle (where
    `sys.executable` is the app itself), the `inbetween-engine` executable next to it."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).resolve()
        name = "inbetween-engine" + (".exe" if sys.platform == "win32" else "")
        return [str(exe.with_name(name))]
    return [sys.executable, "-m", "engine"]


@dataclass
class EngineProcess:
    """An engine this client started; `stop()` ends it (politely, then by force)."""

    popen: subprocess.Popen
    connection_file: Path
    log_path: Path
    info: ConnectionInfo
    private_dir: Path | None = None  # a temporary folder of a private engine, removed on stop

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the engine and delete its start-up log (it was only kept to explain failures)."""
        if self.popen.poll() is None:
            try:
                with EngineClient.connect(self.info, timeout=2.0) as c:
                    c.shutdown()
            except Exception:  # noqa: BLE001 - fall back to a signal
                self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        try:
            self.log_path.unlink()
        except OSError:
            pass
        if self.private_dir is not None:
            shutil.rmtree(self.private_dir, ignore_errors=True)
        return self.popen.returncode


def start_engine(
    command: Sequence[str] | None = None,
    connection_file: Path | None = None,
    args: Sequence[str] = (),
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    parent_pid: int | None = None,
) -> EngineProcess:
    """Start `command serve` and wait for its connection file; raises EngineNotRunning with its log.

    With `parent_pid` the engine stops by itself once that process is gone (`serve
    --parent-pid`), so an app that dies (SIGKILL, abort) never leaves its engine behind. A
    daemon thread waits on the child from the start, so an engine that exits or is killed is
    reaped at once and never lingers as a zombie while the app runs on.
    """
    cmd = list(command or default_engine_command())
    cf = Path(connection_file or default_connection_file())
    cf.parent.mkdir(parents=True, exist_ok=True)
    log_fd, log_name = tempfile.mkstemp(prefix="inbetween-engine-", suffix=".log")
    full = cmd + ["serve", "--connection-file", str(cf), *args]
    if parent_pid is not None:
        full += ["--parent-pid", str(int(parent_pid))]
    creationflags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
    try:
        popen = subprocess.Popen(
            full, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=subprocess.STDOUT,
            env=env, creationflags=creationflags,
        )
    except OSError as exc:
        os.close(log_fd)
        Path(log_name).unlink(missing_ok=True)
        raise EngineNotRunning(f"cannot start the engine with {full[0]!r}: {exc}") from None
    os.close(log_fd)
    threading.Thread(target=popen.wait, name=f"engine-reaper-{popen.pid}", daemon=True).start()
    proc = EngineProcess(popen, cf, Path(log_name), ConnectionInfo("", 0, "", popen.pid, 0))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            message = f"the engine exited with code {popen.returncode} while starting:\n{proc.log_tail()}"
            proc.stop()
            raise EngineNotRunning(message)
        info = read_connection_file(cf)
        if info is not None and info.pid == popen.pid:
            proc.info = info
            return proc
        time.sleep(0.05)
    message = f"the engine did not start within {timeout:.0f} s:\n{proc.log_tail()}"
    proc.stop(timeout=5)
    raise EngineNotRunning(message)


def connect_or_start(
    command: Sequence[str] | None = None,
    connection_file: Path | None = None,
    args: Sequence[str] = (),
    client_name: str = "inbetween-client",
    private: bool = False,
    env: dict[str, str] | None = None,
    tie_to_caller: bool = False,
) -> tuple[EngineClient, EngineProcess | None]:
    """A connected client, plus the process if this call had to start the engine.

    With `private`, a started engine uses its own temporary connection file, so it serves
    only this caller and disappears with it (the CLI's one-shot commands use that). With
    `tie_to_caller`, a started engine stops once this process is gone (see `start_engine`).
    """
    info = read_connection_file(connection_file)
    if info is not None:
        try:
            return EngineClient.connect(info, client_name=client_name), None
        except EngineNotRunning:
            pass
    private_dir = Path(tempfile.mkdtemp(prefix="inbetween-")) if private else None
    if private_dir is not None:
        connection_file = private_dir / "engine.json"
    try:
        proc = start_engine(command, connection_file, args, env=env,
                            parent_pid=os.getpid() if tie_to_caller else None)
    except BaseException:
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)
        raise
    proc.private_dir = private_dir
    try:
        return EngineClient.connect(proc.info, client_name=client_name), proc
    except Exception:
        proc.stop()
        raise
