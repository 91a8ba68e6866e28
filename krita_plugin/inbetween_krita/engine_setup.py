"""One-click engine set-up: a private virtual environment with the engine, from the plugin zip.

The zip carries the engine's source (`engine_src/`: the `engine` and `inbetween_client`
packages with a pyproject naming their dependencies, made by scripts/build_krita_plugin.py).
The set-up finds a Python 3.10+ on the machine (Krita's own Python cannot make environments),
makes a venv in the user's data folder, pip-installs the engine there (its dependencies come
from PyPI: numpy, OpenCV, SciPy, platformdirs; about 100 MB) and checks that the engine
answers `--version`. Only then does it write the marker that engine_locator trusts, so an
interrupted set-up never leaves something half-installed that looks usable. It runs in a
thread; progress comes from pip's own output. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import engine_locator
from .client_lib import atomic

MIN_PYTHON = (3, 10)
PYTHON_ENV = "INBETWEEN_SETUP_PYTHON"
Report = Callable[[float, str], None]


class SetupError(Exception):
    """The set-up could not finish; the message says why and what to do."""


class SetupCancelled(SetupError):
    pass


def engine_source() -> Path | None:
    """The engine source shipped in the zip, or (in the repository) the repository itself."""
    here = Path(__file__).resolve().parent
    bundled = here / "engine_src"
    if (bundled / "pyproject.toml").is_file():
        return bundled
    repo = here.parents[1]
    if (repo / "pyproject.toml").is_file() and (repo / "engine" / "__init__.py").is_file():
        return repo
    return None


def _python_candidates() -> list[list[str]]:
    out: list[list[str]] = []
    if os.environ.get(PYTHON_ENV):
        out.append(engine_locator.split_command(os.environ[PYTHON_ENV]))
    names = ["python3.13", "python3.12", "python3.11", "python3.10", "python3", "python"]
    if sys.platform == "win32":
        launcher = shutil.which("py")
        if launcher:
            out.append([launcher, "-3"])
    for name in names:
        exe = shutil.which(name)
        if exe and [exe] not in out:
            out.append([exe])
    return out


def _clean_env() -> dict[str, str]:
    """Krita's environment without what would make another Python load Krita's libraries."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")}


def find_python() -> tuple[list[str], str]:
    """(command, "3.x") of a Python that can make a venv with pip; SetupError if none."""
    probe = ("import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])")
    seen = []
    for cmd in _python_candidates():
        try:
            out = subprocess.run([*cmd, "-c", probe], capture_output=True, text=True, timeout=60,
                                 env=_clean_env(), stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = out.stdout.strip()
        seen.append(f"{cmd[0]} ({version or 'no venv/ensurepip'})")
        if out.returncode == 0 and re.fullmatch(r"\d+\.\d+", version):
            if tuple(int(p) for p in version.split(".")) >= MIN_PYTHON:
                return cmd, version
    hint = ("On Debian or Ubuntu: sudo apt install python3 python3-venv. Elsewhere: install Python "
            "3.10 or newer from python.org, then press Set up again.")
    found = f" Found: {', '.join(seen)}." if seen else " No Python was found on PATH."
    raise SetupError(f"The set-up needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer with its venv "
                     f"module.{found} {hint}")


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def venv_engine(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin") / engine_locator.EXE


@dataclass
class PipProgress:
    """Turns pip's output lines into a fraction between `lo` and `hi` and a short stage text."""

    lo: float = 0.12
    hi: float = 0.88
    seen: int = 0
    fraction: float = 0.12

    def feed(self, line: str) -> str | None:
        text = line.strip()
        if not text:
            return None
        if text.startswith(("Collecting", "Downloading", "Processing", "Obtaining")):
            self.seen += 1
            # asymptotic: ~16 steps for the engine's dependencies and the build tools
            self.fraction = self.lo + (self.hi - 0.1 - self.lo) * (1 - 0.88 ** self.seen)
        elif "Building wheel" in text or "Preparing metadata" in text or "build dependencies" in text:
            self.fraction = max(self.fraction, self.lo + 0.02)
        elif text.startswith("Installing collected packages"):
            self.fraction = self.hi - 0.08
        elif text.startswith("Successfully installed"):
            self.fraction = self.hi
        else:
            return None
        return text if len(text) < 110 else text[:107] + "..."


class EngineSetup:
    """Install the engine into `root/venv`; `run()` blocks (call it from a thread)."""

    def __init__(self, source: Path | None = None, root: Path | None = None,
                 python: list[str] | None = None, pip_args: tuple[str, ...] = ()) -> None:
        self.source = source or engine_source()
        self.root = root or engine_locator.managed_root()
        self.python = python
        self.pip_args = pip_args
        self._proc: subprocess.Popen | None = None
        self._cancel = False
        self.log_path = self.root / "setup.log"

    def cancel(self) -> None:
        self._cancel = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _check(self) -> None:
        if self._cancel:
            raise SetupCancelled("The set-up was cancelled; nothing was installed.")

    def _run(self, cmd: list[str], log, on_line: Callable[[str], None] | None = None,
             timeout: float = 1800.0) -> None:
        self._check()
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      env=_clean_env(), stdin=subprocess.DEVNULL, bufsize=1)
        tail: list[str] = []
        deadline = time.monotonic() + timeout
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            log.write(line)
            tail = (tail + [line.rstrip()])[-15:]
            if on_line:
                on_line(line)
            if time.monotonic() > deadline:
                self._proc.kill()
        code = self._proc.wait()
        self._proc = None
        self._check()
        if code != 0:
            raise SetupError(f"`{Path(cmd[0]).name} {' '.join(cmd[1:3])} ...` failed (exit code {code}):\n"
                             + "\n".join(tail) + f"\nFull log: {self.log_path}")

    def run(self, report: Report) -> engine_locator.EngineCandidate:
        if self.source is None:
            raise SetupError("This copy of the plugin has no engine source (engine_src/) to install; "
                             "use a downloaded app instead, or build the zip with scripts/build_krita_plugin.py.")
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / engine_locator.MARKER
        venv = self.root / "venv"
        marker.unlink(missing_ok=True)  # from now on no half-installed engine is trusted
        build = Path(tempfile.mkdtemp(prefix="inbetween-engine-src-"))
        try:
            with open(self.log_path, "w", encoding="utf-8") as log:
                report(0.01, "looking for Python 3.10+ on this computer...")
                python, version = (self.python, "given") if self.python else find_python()
                report(0.04, f"making a private environment with Python {version} in {venv}...")
                if venv.exists():
                    shutil.rmtree(venv)
                self._run([*python, "-m", "venv", str(venv)], log, timeout=600)
                report(0.10, "copying the engine source...")
                src = build / "engine_src"
                shutil.copytree(self.source, src, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", ".venv", "build", "dist", "*.egg-info", ".git", "tests"))
                progress = PipProgress()

                def on_pip_line(line: str) -> None:
                    stage = progress.feed(line)
                    if stage:
                        report(progress.fraction, stage)

                report(0.12, "installing the engine and its dependencies from PyPI (about 100 MB)...")
                self._run([str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check",
                           "--progress-bar", "off", *self.pip_args, str(src)], log, on_pip_line)
                report(0.92, "checking that the engine starts...")
                exe = venv_engine(venv)
                out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=300,
                                     env=_clean_env(), stdin=subprocess.DEVNULL)
                log.write(out.stdout + out.stderr)
                if out.returncode != 0 or "inbetween-engine" not in out.stdout:
                    raise SetupError(f"The installed engine does not start: {out.stdout}{out.stderr}\n"
                                     f"Full log: {self.log_path}")
                self._check()
                info = {"command": [str(exe)], "version": out.stdout.strip(), "python": python,
                        "source": str(self.source), "installed_at": time.strftime("%Y-%m-%d %H:%M:%S")}
                atomic.write_text(marker, json.dumps(info, indent=2))
                report(1.0, f"the engine is installed: {out.stdout.strip()}")
        except SetupError:
            self._cleanup(venv)
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the user
            self._cleanup(venv)
            raise SetupError(f"The set-up failed: {type(exc).__name__}: {exc}. Full log: {self.log_path}") from exc
        finally:
            shutil.rmtree(build, ignore_errors=True)
        found = engine_locator.managed_engine(self.root)
        assert found is not None
        return found

    def _cleanup(self, venv: Path) -> None:
        (self.root / engine_locator.MARKER).unlink(missing_ok=True)
        shutil.rmtree(venv, ignore_errors=True)
