#!/usr/bin/env python3
"""Build dist/inbetween_krita-krita-plugin.zip, installable with Krita's
Tools > Scripts > Import Python Plugin from File.

The zip holds `inbetween_krita.desktop` and the `inbetween_krita/` package at its top level
(the layout Krita's importer expects), with a copy of the engine's client library vendored as
`inbetween_krita/vendor/inbetween_client` so that the plugin needs nothing but Krita's own
Python, and the engine's source as `inbetween_krita/engine_src/` (the `engine` and
`inbetween_client` packages with a pyproject of their own) for the docker's one-click set-up.
The copies are made here and only here, so they always match the suite version; a
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


ENGINE_PACKAGES = ("engine", "inbetween_client")


def _project_table() -> dict:
    """[project] of the repository's pyproject.toml (dependencies and extras of the engine)."""
    text = (REPO / "pyproject.toml").read_text("utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import re

        deps = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M)
        found = re.findall(r'"([^"]+)"', deps.group(1)) if deps else []
        return {"dependencies": found, "optional-dependencies": {}}
    return tomllib.loads(text)["project"]


def engine_pyproject(version: str) -> str:
    """A pyproject for the engine alone, so the docker's set-up can `pip install` it from the zip."""
    project = _project_table()
    deps = project.get("dependencies", [])
    extras = project.get("optional-dependencies", {})

    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    lines = [
        "# Made by scripts/build_krita_plugin.py from the suite's pyproject.toml: the engine alone,",
        "# installed by the Krita plugin's one-click set-up into a private environment.",
        "[build-system]",
        'requires = ["setuptools>=77"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        'name = "inbetween-engine"',
        f"version = {json.dumps(version)}",
        'description = "The in-betweening engine of the In-between suite (for the Krita plugin)"',
        'requires-python = ">=3.10"',
        f"dependencies = {toml_list(deps)}",
        "",
        "[project.optional-dependencies]",
        f"tooncrafter = {toml_list(extras.get('tooncrafter', []))}",
        "",
        "[project.scripts]",
        'inbetween-engine = "engine.cli:main"',
        "",
        "[tool.setuptools.packages.find]",
        f"include = {toml_list([p + '*' for p in ENGINE_PACKAGES])}",
        "",
        "[tool.setuptools.package-data]",
        '"*" = ["*.json", "*.png", "*.svg"]',
        "",
    ]
    return "\n".join(lines)


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
            src = f"{PLUGIN_NAME}/engine_src"
            _entry(zf, f"{src}/pyproject.toml", engine_pyproject(version).encode())
            for package in ENGINE_PACKAGES:
                for path in _sources(REPO / package):
                    _entry(zf, f"{src}/{package}/{path.relative_to(REPO / package).as_posix()}", path.read_bytes())
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
