"""Unit tests of the Krita plugin against a fake `krita` module (no Krita, no Qt needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from . import fake_krita

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "krita_plugin"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))


@pytest.fixture(autouse=True)
def fake_krita_module(monkeypatch):
    monkeypatch.setitem(sys.modules, "krita", fake_krita.make_module())
    fake_krita.FakeKrita._instance = None
    app = fake_krita.FakeKrita.instance()
    yield app
    fake_krita.FakeKrita._instance = None


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    path = tmp_path / "krita-plugin.json"
    monkeypatch.setenv("INBETWEEN_KRITA_SETTINGS", str(path))
    return path


@pytest.fixture(autouse=True)
def private_plugin_state(tmp_path, monkeypatch):
    """The plugin's state folder (results kept on disk until Apply or Discard)."""
    path = tmp_path / "krita-plugin-state"
    monkeypatch.setenv("INBETWEEN_KRITA_STATE", str(path))
    return path


W, H = 40, 30


def solid(b: int, g: int, r: int, a: int = 255, w: int = W, h: int = H) -> bytes:
    return bytes((b, g, r, a)) * (w * h)


def disc(cx: float, cy: float, rad: float, w: int = W, h: int = H) -> bytes:
    """An opaque red (BGRA) disc on transparent."""
    buf = bytearray(w * h * 4)
    for y in range(h):
        for x in range(w):
            if (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= rad * rad:
                buf[(y * w + x) * 4:(y * w + x) * 4 + 4] = bytes((30, 40, 220, 255))
    return bytes(buf)


@pytest.fixture
def doc(fake_krita_module):
    d = fake_krita.FakeDocument(W, H, 0, 6)
    fake_krita_module.document = d
    return d
