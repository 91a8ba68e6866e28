"""Finding an engine without being told: the set-up's environment, app bundles, PATH."""

from __future__ import annotations

import json
import os
import stat

from inbetween_krita import engine_locator as el


def _exe(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho inbetween-engine 0.1.0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _isolate(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("INBETWEEN_KRITA_ENGINE_DIR", raising=False)
    monkeypatch.delenv(el.ENV_COMMAND, raising=False)
    monkeypatch.setattr(el, "app_folders", lambda: [tmp_path / "opt" / el.APP_FOLDER])


def test_nothing_installed_finds_nothing(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    assert el.candidates() == [] and el.best() is None
    assert el.managed_root() == tmp_path / "data" / "inbetween" / "krita-engine"


def test_the_order_of_places(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    on_path = _exe(tmp_path / "bin" / el.EXE)
    app = _exe(tmp_path / "opt" / el.APP_FOLDER / el.EXE)
    bundle = _exe(tmp_path / "Downloads" / "my-app" / el.APP_FOLDER / el.EXE)
    root = el.managed_root()
    managed = _exe(root / "venv" / "bin" / el.EXE)
    assert [c.kind for c in el.candidates()] == ["app", "path"]  # no marker yet: not trusted
    (root / el.MARKER).write_text(json.dumps({"command": [str(managed)]}))
    monkeypatch.setenv(el.ENV_COMMAND, "/env/engine --x")
    found = el.candidates("my-engine serve-ish", str(tmp_path / "Downloads" / "my-app"))
    assert [c.kind for c in found] == ["command", "env", "managed", "bundle", "app", "path"]
    assert found[0].command == ("my-engine", "serve-ish") and found[1].command == ("/env/engine", "--x")
    assert [c.command for c in found[2:]] == [(str(managed),), (str(bundle),), (str(app),), (str(on_path),)]
    assert "set up by this plugin" in found[2].where and str(bundle.parent) in found[3].where


def test_a_bundle_folder_is_recognised_in_several_shapes(tmp_path):
    exe = _exe(tmp_path / "dl" / el.APP_FOLDER / el.EXE)
    assert el.bundle_engine(tmp_path / "dl") == exe
    assert el.bundle_engine(tmp_path / "dl" / el.APP_FOLDER) == exe
    assert el.bundle_engine(exe) == exe
    mac = _exe(tmp_path / "mac" / f"{el.APP_FOLDER}.app" / "Contents" / "MacOS" / el.EXE)
    assert el.bundle_engine(tmp_path / "mac") == mac
    assert el.bundle_engine(tmp_path / "nothing") is None


def test_a_broken_marker_is_ignored(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    root = el.managed_root()
    root.mkdir(parents=True)
    (root / el.MARKER).write_text("{half")
    assert el.managed_engine() is None
    (root / el.MARKER).write_text(json.dumps({"command": [str(root / "gone")]}))
    assert el.managed_engine() is None
    assert os.environ["PATH"] == str(tmp_path / "bin")
