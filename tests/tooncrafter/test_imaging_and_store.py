"""Letterboxing, alpha, retiming, and the model store (incl. an offline hub-cache download)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backends.tooncrafter import imaging, model_store


def test_letterbox_round_trip_keeps_aspect():
    box = imaging.Letterbox.fit(100, 300, 320, 512)
    assert box.w == 512 and box.h == round(100 * 512 / 300) and box.y0 > 0 and box.x0 == 0
    img = np.random.default_rng(0).uniform(0, 255, (100, 300, 3)).astype(np.float32)
    fwd = box.forward(img, 255.0)
    assert fwd.shape == (320, 512, 3) and (fwd[0] == 255).all()
    assert box.backward(fwd).shape == (100, 300, 3)


def test_alpha_recovered_from_white():
    rgb = np.full((4, 4, 3), 255.0, np.float32)
    rgb[1:3, 1:3] = (200, 0, 0)
    rgba = imaging.recover_alpha(rgb)
    assert rgba[0, 0, 3] == 0 and rgba[1, 1, 3] == 255 and tuple(rgba[1, 1, :3]) == (200, 0, 0)


def test_retime_and_sketch_frames():
    video = np.arange(16, dtype=np.float32)[:, None, None, None] * np.ones((16, 2, 2, 1), np.float32)
    picked = imaging.retime(video, [1 / 6, 0.5, 5 / 6])
    assert [int(p[0, 0, 0]) for p in picked] == [2, 8, 12]
    assert imaging.sketch_frame_index(0.01, 16) == 1 and imaging.sketch_frame_index(0.99, 16) == 14
    hint = imaging.sketch_hint(np.zeros((10, 10, 4), np.uint8), imaging.Letterbox.fit(10, 10, 8, 16))
    assert hint.shape == (8, 16) and hint.max() == 0.0  # transparent sketch: no lines


def test_locate(tmp_path):
    assert not model_store.locate(tmp_path).ok
    sub = tmp_path / "tooncrafter"
    sub.mkdir()
    (sub / "model.ckpt").write_bytes(b"x")
    inst = model_store.locate(tmp_path)
    assert inst.ok and inst.model == sub / "model.ckpt" and inst.sketch_encoder is None


def test_download_from_offline_hub_cache(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    cache = tmp_path / "hub"
    snap = cache / "models--Doubiiu--ToonCrafter" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (cache / "models--Doubiiu--ToonCrafter" / "refs").mkdir()
    (cache / "models--Doubiiu--ToonCrafter" / "refs" / "main").write_text("a" * 40)
    for name in model_store.HF_FILES:
        (snap / name).write_bytes(name.encode())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True, raising=False)
    out = model_store.download(tmp_path / "models", cache_dir=cache)
    assert [p.name for p in out[:2]] == list(model_store.HF_FILES)
    assert (tmp_path / "models" / "tooncrafter" / "model.ckpt").read_bytes() == b"model.ckpt"
    assert model_store.locate(tmp_path / "models").ok
