"""Weight formats and loading errors: the official `.pth` files (float32, torch.save) load like
the fixture's fp16 safetensors repacks; the VAE's deprecated attention names are accepted;
broken folders and files fail with a message that names the problem; half precision works."""

from __future__ import annotations

import shutil

import pytest

NETWORKS = ("denoising_unet", "reference_unet", "pose_guider", "motion_module")


def _copy_base(src, dst):
    for sub in ("vae", "image_encoder", "unet_base"):
        shutil.copytree(src / sub, dst / sub)
    shutil.copy(src / "config.json", dst / "config.json")


def _same_weights(torch, a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_official_pth_files_load_like_the_safetensors_repack(fixture_path, tmp_path, model, torch_mod):
    """torch.save'd float32 state dicts (what train_stage_*.py writes), read with
    weights_only=True, plus diffusers/transformers `.bin` base models."""
    from safetensors.torch import load_file

    from engine.backends.animate_anyone.loading import load_model
    from engine.backends.animate_anyone.model_store import locate

    torch = torch_mod
    for name in NETWORKS:
        sd = load_file(str(fixture_path / f"{name}.safetensors"))
        torch.save({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, tmp_path / f"{name}.pth")
    _copy_base(fixture_path, tmp_path)
    vae = tmp_path / "vae" / "diffusion_pytorch_model.safetensors"
    sd = load_file(str(vae))
    # the published sd-vae-ft-mse predates diffusers' attention renaming
    old = {k.replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
           .replace(".to_out.0.", ".proj_attn."): v for k, v in sd.items()}
    assert old.keys() != sd.keys()
    vae.unlink()
    torch.save(old, tmp_path / "vae" / "diffusion_pytorch_model.bin")
    enc = tmp_path / "image_encoder" / "model.safetensors"
    torch.save(load_file(str(enc)), tmp_path / "image_encoder" / "pytorch_model.bin")
    enc.unlink()
    inst = locate(tmp_path)
    assert inst.ok and all(p.suffix == ".pth" for p in inst.networks.values())
    assert inst.vae.suffix == ".bin" and inst.image_encoder.suffix == ".bin"
    _same_weights(torch, load_model(inst), model)


def test_models_folder_with_animate_anyone_subfolder(fixture_path, tmp_path, torch_mod):
    from engine.backends.animate_anyone.model_store import SUBDIR, locate

    sub = tmp_path / SUBDIR
    sub.mkdir()
    inst = locate(tmp_path)
    assert not inst.ok and inst.folder == sub
    assert "denoising_unet.pth" in inst.missing and any(m.startswith("vae/") for m in inst.missing)
    for name in NETWORKS:
        shutil.copy(fixture_path / f"{name}.safetensors", sub / f"{name}_fp16.safetensors")
    _copy_base(fixture_path, sub)
    inst = locate(tmp_path)
    assert inst.ok and inst.folder == sub and inst.networks["pose_guider"].name == "pose_guider_fp16.safetensors"


def test_missing_and_broken_files_fail_clearly(fixture_path, tmp_path, torch_mod):
    from engine.backends.animate_anyone.loading import load_model
    from engine.backends.animate_anyone.model_store import locate
    from engine.backends.common.checkpoints import CheckpointError

    for name in NETWORKS:
        shutil.copy(fixture_path / f"{name}.safetensors", tmp_path / f"{name}.safetensors")
    _copy_base(fixture_path, tmp_path)
    (tmp_path / "pose_guider.safetensors").unlink()
    with pytest.raises(CheckpointError, match="pose_guider.pth"):
        load_model(locate(tmp_path))
    (tmp_path / "pose_guider.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="pose_guider.safetensors"):
        load_model(locate(tmp_path))
    # a checkpoint of another architecture: the wrong shape is named
    torch = torch_mod
    from safetensors.torch import load_file, save_file

    sd = load_file(str(fixture_path / "pose_guider.safetensors"))
    sd["conv_out.weight"] = torch.zeros((8,) + tuple(sd["conv_out.weight"].shape[1:]), dtype=torch.float16)
    save_file(sd, str(tmp_path / "pose_guider.safetensors"))
    with pytest.raises(CheckpointError, match="conv_out.weight has shape"):
        load_model(locate(tmp_path))


def test_tied_position_encodings_must_agree(fixture_path, tmp_path, torch_mod):
    from safetensors.torch import load_file, save_file

    from engine.backends.animate_anyone.loading import load_model
    from engine.backends.animate_anyone.model_store import locate
    from engine.backends.common.checkpoints import CheckpointError

    for name in NETWORKS:
        shutil.copy(fixture_path / f"{name}.safetensors", tmp_path / f"{name}.safetensors")
    _copy_base(fixture_path, tmp_path)
    sd = load_file(str(tmp_path / "motion_module.safetensors"))
    key = next(k for k in sd if k.endswith("attention_blocks.1.pos_encoder.pe"))
    sd[key] = sd[key] + 1
    save_file(sd, str(tmp_path / "motion_module.safetensors"))
    with pytest.raises(CheckpointError, match="pos_encoder.pe differs"):
        load_model(locate(tmp_path))


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
def test_half_precision_plumbing(fixture_path, tensors, torch_mod, dtype_name):
    """The GPU dtypes work through the reference features, a windowed step and a decode (run
    here on the CPU): no dtype mismatch anywhere, finite outputs near the float32 reference."""
    from engine.backends.animate_anyone import preprocess
    from engine.backends.animate_anyone.loading import load_model
    from engine.backends.animate_anyone.model_store import locate
    from engine.backends.animate_anyone.pipeline import AnimateAnyonePipeline, SampleOptions

    torch = torch_mod
    dtype = getattr(torch, dtype_name)
    inputs, expected = tensors
    pipe = AnimateAnyonePipeline(load_model(locate(fixture_path), dtype=dtype), dtype=dtype, ff_chunk_tokens=100)
    w, h = expected["ref_image_tensor"].shape[-1], expected["ref_image_tensor"].shape[-2]
    feats = pipe.prepare(inputs["ref_image_uint8"].numpy(), w, h, 3.5)
    assert all(b.dtype == dtype for b in feats.banks.values())
    frames = [preprocess.resize_pose(p, w, h) for p in inputs["pose_frames_uint8"][:4].numpy()]
    pose = pipe.pose_features(preprocess.pose_tensor(frames))
    noise = inputs["noise_long"][:, :, :4]
    states = list(pipe.sample_steps(feats, pose, noise, SampleOptions(1, 3.5, [[0, 1, 2], [1, 2, 3]])))
    x = states[-1].x
    assert x.dtype == torch.float32 and torch.isfinite(x).all() and x.shape == noise.shape
    video = pipe.decode(x[:, :, :2])
    assert video.dtype == torch.float32 and torch.isfinite(video).all() and video.shape[2] == 2


def test_feed_forward_chunks_change_nothing(pipeline, tensors, torch_mod):
    """The memory-saving token chunks of the feed-forwards give the unchunked numbers."""
    torch = torch_mod
    inputs, expected = tensors
    x = torch.cat([inputs["unet_test_latents"]] * 2)
    t = inputs["unet_test_t"].reshape(())
    ehs = torch.cat([torch.zeros_like(expected["clip_image_embeds_short"]),
                     expected["clip_image_embeds_short"]]).unsqueeze(1)
    pose = torch.cat([expected["pose_fea_short"]] * 2)
    banks = {k[len("refnet_bank."):]: v for k, v in expected.items() if k.startswith("refnet_bank.")}
    whole = pipeline.unet(x, t, ehs, pose, banks, 1)
    pipeline.model.denoising.set_feed_forward_chunk(64)
    try:
        chunked = pipeline.unet(x, t, ehs, pose, banks, 1)
    finally:
        pipeline.model.denoising.set_feed_forward_chunk(None)
    assert (chunked - whole).abs().max().item() < 1e-6
    assert torch.equal(pipeline.unet(x, t, ehs, pose, banks, 1), whole)  # and it is switched off again


def test_unet_block_offload_moves_each_unit_around_its_forward(pipeline, tensors, torch_mod, monkeypatch):
    """`cpu_offload`: every unit the UNet walk calls (stem, resnets, transformers, motion modules,
    samplers, head) is sent to the device right before its forward and back to the CPU right
    after, every parameter is in some unit, and the numbers do not change (checked with the CPU
    as the "device": the hooks' calls are recorded)."""
    from engine.backends.animate_anyone.pipeline import BlockOffload
    from engine.backends.animate_anyone.unet import walk_units

    torch = torch_mod
    inputs, expected = tensors
    x = torch.cat([inputs["unet_test_latents"]] * 2)
    t = inputs["unet_test_t"].reshape(())
    ehs = torch.cat([torch.zeros_like(expected["clip_image_embeds_short"]),
                     expected["clip_image_embeds_short"]]).unsqueeze(1)
    pose = torch.cat([expected["pose_fea_short"]] * 2)
    whole = pipeline.unet(x, t, ehs, pose, None, 0)
    unet = pipeline.model.denoising.unet
    device = torch.device("cpu")
    offload = BlockOffload(unet, device)
    calls = []
    original = torch.nn.Module.to

    def spy(self, *args, **kwargs):
        calls.append((self, args[0] if args else kwargs.get("device")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", spy)
    try:
        out = pipeline.unet(x, t, ehs, pose, None, 0)
    finally:
        monkeypatch.setattr(torch.nn.Module, "to", original)
        offload.remove()
    assert torch.equal(out, whole)
    units = walk_units(unet)
    for unit in units:
        moves = [d for m, d in calls if m is unit]
        assert moves == [device, "cpu"], (type(unit).__name__, moves)
    covered = {id(p) for u in units for p in u.parameters()}
    assert all(id(p) in covered for p in unet.parameters())
    assert not offload.handles and not any(u._forward_pre_hooks for u in units)
