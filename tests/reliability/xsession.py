"""A real X display for the app: Xvfb, xdotool to drive it, ImageMagick's `import` to look.

`ensure_tools()` installs what is missing from Debian (root + apt only, like the Krita tests
install krita): Xvfb, xdotool, x11-utils and the libraries Qt's xcb platform plugin loads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

TOOLS = {"Xvfb": "xvfb", "xdotool": "xdotool", "xwininfo": "x11-utils", "import": "imagemagick"}
# what PySide6's libqxcb.so needs beyond a bare Debian (ldd of the plugin and libQt6XcbQpa)
QT_XCB_LIBS = ["libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
               "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1", "libxkbcommon-x11-0", "libegl1",
               "libgl1", "libfontconfig1", "libdbus-1-3", "xauth"]


def _installed(package: str) -> bool:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def ensure_tools() -> None:
    """Skip when the tools are missing and cannot be installed; fail when installing fails."""
    missing = [pkg for exe, pkg in TOOLS.items() if shutil.which(exe) is None]
    if shutil.which("dpkg-query"):
        missing += [p for p in QT_XCB_LIBS if not _installed(p)]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{', '.join(missing)} missing and cannot be installed here (needs root and apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *missing]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    still = [pkg for exe, pkg in TOOLS.items() if shutil.which(exe) is None]
    if still:
        pytest.fail(f"still missing after apt-get install: {still}")


class XServer:
    """Xvfb on a free display number (chosen by Xvfb itself: -displayfd)."""

    def __init__(self, size: str = "1600x1000x24") -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        self.env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb")

    def xdo(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise RuntimeError(f"xdotool {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def windows(self, name: str) -> list[str]:
        out = self.xdo("search", "--onlyvisible", "--name", name, check=False)
        return [w for w in out.split() if w]

    def wait_window(self, name: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.windows(name)
            if found:
                return found[0]
            time.sleep(0.25)
        raise TimeoutError(f"no window named {name!r} within {timeout:.0f} s")

    def screenshot(self, path: Path) -> Path:
        subprocess.run(["import", "-window", "root", str(path)], env=self.env, check=True, timeout=60,
                       capture_output=True)
        return path

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
