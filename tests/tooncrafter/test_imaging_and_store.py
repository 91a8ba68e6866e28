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


def _character(white_paint: bool) -> np.ndarray:
    """A transparent key: a dark-outlined red disc with (optionally) a white eye in it."""
    import cv2

    key = np.zeros((64, 96, 4), np.uint8)
    cv2.circle(key, (48, 32), 20, (200, 30, 30, 255), -1, lineType=cv2.LINE_AA)
    cv2.circle(key, (48, 32), 20, (20, 20, 20, 255), 2, lineType=cv2.LINE_AA)
    if white_paint:
        cv2.circle(key, (54, 26), 6, (255, 255, 255, 255), -1)
    return key


def test_white_matte_unless_the_drawing_paints_white():
    plain, with_eye = _character(False), _character(True)
    assert tuple(imaging.choose_matte_colour([plain, plain])) == (255, 255, 255)
    colour = imaging.choose_matte_colour([plain, with_eye])
    assert tuple(colour) != (255, 255, 255)
    # no opaque pixel of either key is near the chosen colour
    for key in (plain, with_eye):
        opaque = key[..., :3][key[..., 3] >= 128].astype(np.float32)
        assert (np.abs(opaque - colour).max(axis=1) >= imaging.MATTE_HARD).all()
    assert tuple(imaging.choose_matte_colour([np.zeros((8, 8, 4), np.uint8)] * 2)) == (255, 255, 255)


@pytest.mark.parametrize("white_paint", [False, True])
def test_alpha_round_trip_keeps_white_paint_opaque(white_paint):
    """A frame that reproduces the composited key exactly must come back as the key: the white
    eye stays opaque and white, the outside transparent, soft edges partial."""
    key = _character(white_paint)
    colour = imaging.choose_matte_colour([key, key])
    rgba = imaging.recover_alpha(imaging.composite_rgb(key, colour), colour)
    alpha = rgba[..., 3].astype(int)
    assert alpha[0, 0] == 0 and alpha[32, 48] == 255
    if white_paint:
        assert alpha[26, 54] == 255 and (rgba[26, 54, :3] >= 250).all()
    solid = key[..., 3] == 255
    assert np.abs(alpha[solid] - 255).max() <= 1
    assert (alpha[key[..., 3] == 0] == 0).all()


def test_latent_preview_fits_a_linear_latent_space():
    """Latents that are a linear image of the colours (plus noise) are mapped back to them."""
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (2, 64, 96, 3)).astype(np.float32)
    import cv2

    small = np.stack([cv2.resize(im, (12, 8), interpolation=cv2.INTER_AREA) for im in images])
    mix = rng.normal(size=(3, 4)).astype(np.float32) / 100
    latents = (small @ mix + 0.3).transpose(0, 3, 1, 2) + rng.normal(0, 1e-3, (2, 4, 8, 12))
    preview = imaging.LatentPreview.fit(latents.astype(np.float32), images)
    out = preview.render(latents.astype(np.float32), 8, 12)
    assert out.shape == (2, 8, 12, 3)
    assert np.abs(out - small).mean() < 2.0  # of 255
    flat = imaging.LatentPreview.fit(np.zeros((2, 4, 8, 12), np.float32), np.full((2, 64, 96, 3), 200.0))
    assert np.isfinite(flat.weights).all()
    assert np.allclose(flat.render(np.zeros((1, 4, 8, 12), np.float32), 16, 24), 200.0, atol=1.0)


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
