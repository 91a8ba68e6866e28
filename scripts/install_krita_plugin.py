#!/usr/bin/env python3
"""Install the built plugin zip into a Krita profile's pykrita folder, and enable it.

For development and for the end-to-end test: it does what Krita's "Import Python Plugin from
File" does (unpack the zip next to the other plugins) plus what the Python Plugin Manager's
checkbox does (`[python] enable_inbetween_krita=true` in kritarc). Without arguments it builds
the zip first and uses the current user's profile.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "inbetween_krita"


def default_pykrita_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "krita" / "pykrita"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "krita" / "pykrita"
    base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(base) / "krita" / "pykrita"


def default_kritarc() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "kritarc"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / "kritarc"
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "kritarc"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kritarc-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def enable_in_kritarc(kritarc: Path, name: str) -> None:
    """Set `enable_<name>=true` in the [python] group, keeping every other line as it was."""
    lines = kritarc.read_text("utf-8").splitlines() if kritarc.exists() else []
    key = f"enable_{name}"
    out: list[str] = []
    in_python = found_group = done = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if in_python and not done:
                out.append(f"{key}=true")
                done = True
            in_python = stripped == "[python]"
            found_group = found_group or in_python
        elif in_python and stripped.split("=", 1)[0].strip() == key:
            if not done:
                out.append(f"{key}=true")
                done = True
            continue
        out.append(line)
    if in_python and not done:
        out.append(f"{key}=true")
        done = True
    if not found_group:
        if out and out[-1].strip():
            out.append("")
        out += ["[python]", f"{key}=true"]
    _atomic_write(kritarc, "\n".join(out) + "\n")


def install(zip_path: Path, pykrita: Path, kritarc: Path | None) -> Path:
    """Replace any installed copy with the zip's content; returns the package folder."""
    pykrita.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        if f"{PLUGIN_NAME}.desktop" not in names or f"{PLUGIN_NAME}/__init__.py" not in names:
            raise SystemExit(f"{zip_path} is not a {PLUGIN_NAME} plugin zip")
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=pykrita))
        try:
            zf.extractall(staging)
            target = pykrita / PLUGIN_NAME
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging / PLUGIN_NAME, target)
            os.replace(staging / f"{PLUGIN_NAME}.desktop", pykrita / f"{PLUGIN_NAME}.desktop")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if kritarc is not None:
        enable_in_kritarc(kritarc, PLUGIN_NAME)
    return pykrita / PLUGIN_NAME


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, help="a built zip (default: build one now)")
    parser.add_argument("--pykrita", type=Path, default=None, help="pykrita folder of the Krita profile")
    parser.add_argument("--kritarc", type=Path, default=None, help="kritarc to enable the plugin in")
    parser.add_argument("--no-enable", action="store_true", help="do not touch kritarc")
    args = parser.parse_args(argv)
    zip_path = args.zip
    if zip_path is None:
        sys.path.insert(0, str(REPO / "scripts"))
        from build_krita_plugin import build

        zip_path = build()
    kritarc = None if args.no_enable else (args.kritarc or default_kritarc())
    target = install(zip_path, args.pykrita or default_pykrita_dir(), kritarc)
    print(f"installed {zip_path.name} into {target}" + (f"; enabled in {kritarc}" if kritarc else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
