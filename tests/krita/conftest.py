"""Real-Krita end-to-end tests: make sure Krita and Xvfb are there (installing them if we may)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

# plain install: Krita needs its Recommends python3-pyqt5 for Python plugins, xvfb-run needs xauth
# a plain install: Krita needs its Recommends python3-pyqt5 for Python plugins, xvfb-run needs xauth
PACKAGES = ["krita", "xvfb"]


def _missing() -> list[str]:
    return [p for p, exe in zip(PACKAGES, ["krita", "xvfb-run"]) if shutil.which(exe) is None]


@pytest.fixture(scope="session")
def krita_installed() -> str:
    """Path of the krita executable; installs Debian's krita and xvfb when missing (root + apt only)."""
    missing = _missing()
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.skip(f"{', '.join(missing)} missing and cannot be installed here (needs root and apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *PACKAGES]):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
            if proc.returncode != 0:
                pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        if _missing():
            pytest.fail(f"still missing after apt-get install: {_missing()}")
    return shutil.which("krita")  # type: ignore[return-value]
