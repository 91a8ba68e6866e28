"""Quick checks of what the bundle relies on, run from source (no build needed)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import inbetween_client
from engine.backends import bundled
from engine.backends.registry import BackendRegistry
from inbetween_client import launcher

REPO = Path(__file__).resolve().parents[2]


def test_engine_command_from_source_is_this_python():
    assert launcher.default_engine_command() == [sys.executable, "-m", "engine"]


def test_engine_command_in_a_bundle_is_the_engine_next_to_the_app(monkeypatch, tmp_path):
    app = tmp_path / "inbetween-studio" / ("inbetween-studio.exe" if sys.platform == "win32" else "inbetween-studio")
    app.parent.mkdir()
    app.write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app))
    engine = "inbetween-engine.exe" if sys.platform == "win32" else "inbetween-engine"
    assert launcher.default_engine_command() == [str(app.resolve().with_name(engine))]


def test_lite_bundle_explains_the_missing_generative_runtime(monkeypatch):
    reason = "its runtime is not installed (torch); install the project's 'tooncrafter' extra"
    assert bundled.explain_missing_runtime("tooncrafter", reason) == reason  # from source: unchanged
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    text = bundled.explain_missing_runtime("tooncrafter", reason)
    assert "this build of the app has no generative runtime" in text
    assert "inbetween-suite[tooncrafter]" in text and "engine running elsewhere" in text
    # other reasons and other backends are left alone
    assert bundled.explain_missing_runtime("tooncrafter", "no checkpoint in /x") == "no checkpoint in /x"
    assert bundled.explain_missing_runtime("flow", reason) == reason


def test_registry_uses_the_bundle_message_when_frozen(monkeypatch):
    from engine.backends.base import EngineConfig
    from engine.backends.registry import BackendEntry

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    entry = BackendEntry("tooncrafter", "no_such_module_for_the_test:X", "test",
                         probe=f"{__name__}:_missing_probe")
    reg = BackendRegistry(EngineConfig(), (entry,))
    [row] = reg.describe_all()
    assert not row["available"] and "no generative runtime" in row["reason"]
    reg = BackendRegistry(EngineConfig(), (BackendEntry("tooncrafter", "no_such_module_for_the_test:X", "t"),))
    _info, avail = reg.describe("tooncrafter")
    assert not avail.available and "no generative runtime" in avail.reason


def _missing_probe(_config):
    from engine.backends.base import Availability

    return Availability(False, "its runtime is not installed (torch, transformers)")


def test_versions_agree():
    version = inbetween_client.__version__
    for module in ("engine", "desktop_app"):
        out = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        assert version in out and f"protocol {inbetween_client.PROTOCOL_VERSION}" in out


def test_about_box_shows_the_version(qapp):
    from desktop_app.widgets.about import about_text

    assert inbetween_client.__version__ in about_text()


def test_krita_zip_carries_the_suite_and_protocol_versions(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_krita_plugin.py"), "--out-dir", str(tmp_path)],
                   check=True, timeout=120, capture_output=True)
    with zipfile.ZipFile(tmp_path / "inbetween_krita-krita-plugin.zip") as zf:
        info = json.loads(zf.read("inbetween_krita/build_info.json"))
    assert info["version"] == inbetween_client.__version__
    assert info["protocol"] == inbetween_client.PROTOCOL_VERSION

