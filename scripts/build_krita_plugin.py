#!/usr/bin/env python3
"""Build dist/inbetween_krita-krita-plugin.zip, installable with Krita's
Tools > Scripts > Import Python Plugin from File.

The zip holds `inbetween_krita.desktop` and the `inbetween_krita/` package at its top level
(the layout Krita's importer expects), with a copy of the engine's client library vendored as
`inbetween_krita/vendor/inbetween_client` so that the plugin needs nothing but Krita's own
Python. The copy is made here and only here, so it always matches the suite version; a
`build_info.json` inside records that version and the protocol version.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN_NAME = "inbetween_krita"
PLUGIN_SRC = REPO / "krita_plugin"
CLIENT_SRC = REPO / "inbetween_client"
# a fixed timestamp keeps the zip byte-identical between builds of the same sources
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def _suite_versions() -> tuple[str, int]:
    sys.path.insert(0, str(REPO))
    try:
        import inbetween_client
    finally:
        sys.path.pop(0)
    return inbetween_client.__version__, inbetween_client.PROTOCOL_VERSION


def _sources(folder: Path) -> list[Path]:
    """Files to ship: no caches, no compiled files, no stale vendored copy."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo"):
            continue
        if rel.parts and rel.parts[0] == "vendor":
            continue
        out.append(path)
    return out


def _entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """A file, preceded by entries for its folders: Krita's importer finds the package by its
    folder entry (`inbetween_krita/`), so a zip of bare file entries would import nothing."""
    parts = name.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        folder = "/".join(parts[:i]) + "/"
        if folder not in zf.NameToInfo:
            dir_info = zipfile.ZipInfo(folder, ZIP_DATE)
            dir_info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(dir_info, b"")
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build(out_dir: Path = REPO / "dist") -> Path:
    """Write the zip atomically (temp file + rename) and return its path."""
    version, protocol = _suite_versions()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN_NAME}-krita-plugin.zip"
    pkg = PLUGIN_SRC / PLUGIN_NAME
    fd, tmp = tempfile.mkstemp(prefix=".build-", suffix=".zip", dir=out_dir)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            _entry(zf, f"{PLUGIN_NAME}.desktop", (PLUGIN_SRC / f"{PLUGIN_NAME}.desktop").read_bytes())
            for path in _sources(pkg):
                _entry(zf, f"{PLUGIN_NAME}/{path.relative_to(pkg).as_posix()}", path.read_bytes())
            _entry(zf, f"{PLUGIN_NAME}/vendor/__init__.py",
                   b'"""Copies of libraries the plugin needs, made by scripts/build_krita_plugin.py."""\n')
            for path in _sources(CLIENT_SRC):
                rel = path.relative_to(CLIENT_SRC).as_posix()
                _entry(zf, f"{PLUGIN_NAME}/vendor/inbetween_client/{rel}", path.read_bytes())
            info = {"name": PLUGIN_NAME, "version": version, "protocol": protocol}
            _entry(zf, f"{PLUGIN_NAME}/build_info.json", (json.dumps(info, indent=2) + "\n").encode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=REPO / "dist")
    args = parser.parse_args(argv)
    path = build(args.out_dir)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
