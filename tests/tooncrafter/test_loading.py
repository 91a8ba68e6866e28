"""Checkpoint formats: the official pickled `.ckpt` layout ({"state_dict": ...}) loads like the
safetensors file, and a pickle that would run code is refused (weights_only)."""

from __future__ import annotations

import pickle

import pytest


def test_ckpt_pickle_loads_like_safetensors(fixture_path, tmp_path, torch_mod):
    from safetensors.torch import load_file

    from engine.backends.tooncrafter.config import ToonCrafterConfig
    from engine.backends.tooncrafter.loading import load_model, read_checkpoint

    torch = torch_mod
    sd = load_file(str(fixture_path / "model.safetensors"))
    ckpt = tmp_path / "model.ckpt"
    torch.save({"state_dict": {k: v.float() for k, v in sd.items()}, "global_step": 1}, ckpt)
    assert set(read_checkpoint(ckpt)) == set(sd)
    cfg = ToonCrafterConfig.from_json_file(fixture_path / "config.json")
    a = load_model(ckpt, cfg)
    b = load_model(fixture_path / "model.safetensors", cfg)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


class _Evil:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['EVIL_MARK'], 'w').write('ran')",))


def test_pickled_code_is_never_run(tmp_path, monkeypatch, torch_mod):
    from engine.backends.tooncrafter.loading import CheckpointError, read_checkpoint

    mark = tmp_path / "mark"
    monkeypatch.setenv("EVIL_MARK", str(mark))
    path = tmp_path / "model.ckpt"
    torch_mod.save({"state_dict": {}, "payload": _Evil()}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
    assert not mark.exists()


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_half_precision_plumbing(fixture_path, tensors, torch_mod, dtype_name):
    """The GPU dtypes work end to end through a UNet call and a decode (run here on the CPU):
    no dtype mismatch anywhere, finite outputs near the fp32 reference."""
    from engine.backends.tooncrafter.config import ToonCrafterConfig
    from engine.backends.tooncrafter.loading import load_model
    from engine.backends.tooncrafter.pipeline import ToonCrafterPipeline

    torch = torch_mod
    dtype = getattr(torch, dtype_name)
    inputs, expected = tensors
    cfg = ToonCrafterConfig.from_json_file(fixture_path / "config.json")
    pipe = ToonCrafterPipeline(load_model(fixture_path / "model.safetensors", cfg, dtype=dtype), None,
                               dtype=dtype, vae_frame_chunk=4)
    ctx = torch.cat([expected["text_emb_cond"], expected["img_emb_cond"]], dim=1)
    v = pipe.unet(inputs["unet_x_t"], inputs["unet_t"], ctx, expected["c_concat"], inputs["fs"])
    assert v.dtype == torch.float32 and torch.isfinite(v).all()
    assert (v - expected["unet_out"]).abs().max().item() < 0.25
    refs = [expected[f"vae_ref_{i}"] for i in range(len([k for k in expected if k.startswith("vae_ref_")]))]
    video = pipe.decode_frames(expected["h_latent_final"][:, :, :3], refs)  # 3 frames: half convs are slow on CPU
    assert video.dtype == torch.float32 and torch.isfinite(video).all() and video.shape[2] == 3
