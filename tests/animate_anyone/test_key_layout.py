"""The port against the full-size layout of every official file (keys_full.json), on the meta
device: every key consumed or explicitly unused, every parameter and buffer filled, every shape
right; then the same for the fixture's own files (shapes from their headers)."""

from __future__ import annotations

import json

import pytest

from .conftest import KEYS_FULL

#: keys_full.json file entry -> the loader's name for that file
FILES = {
    "denoising_unet.pth": "denoising_unet",
    "motion_module.pth": "motion_module",
    "reference_unet.pth": "reference_unet",
    "pose_guider.pth": "pose_guider",
    "sd-vae-ft-mse (diffusion_pytorch_model.*)": "vae",
    "sd-image-variations-diffusers/image_encoder (pytorch_model.bin)": "image_encoder",
}
SD15_UNET = "stable-diffusion-v1-5/unet (diffusion_pytorch_model.*)"


@pytest.fixture(scope="module")
def layout(torch_mod):
    if not KEYS_FULL.is_file():
        pytest.skip(f"{KEYS_FULL} not found")
    return json.loads(KEYS_FULL.read_text())


def _report(reports):
    for part, r in reports.items():
        print(f"{part}: {r.consumed} keys consumed, {len(r.unused)} unused at inference, "
              f"{len(r.unfilled)} parameters unfilled")


def test_full_size_layout(layout, torch_mod):
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig
    from engine.backends.animate_anyone.loading import check_layout

    files = layout["files"]
    assert set(files) == set(FILES) | {SD15_UNET}
    shapes = {name: {k: tuple(v["shape"]) for k, v in files[entry]["keys"].items()} for entry, name in FILES.items()}
    for entry, name in FILES.items():
        assert len(shapes[name]) == files[entry]["n_keys"]
    reports = check_layout(shapes, AnimateAnyoneConfig.full())
    _report(reports)
    total = sum(len(s) for s in shapes.values())
    assert sum(r.consumed + len(r.unused) for r in reports.values()) == total
    for part, r in reports.items():
        assert not r.unknown, (part, r.unknown[:5])
        assert not r.mismatched, (part, r.mismatched[:5])
        assert not r.unfilled, (part, r.unfilled[:5])
    # unused keys are exactly what keys_full.json says inference never reads ...
    ref_unused = reports["reference"].unused
    last = "up_blocks.3.attentions.2."
    assert ref_unused and all(k.startswith(last) for k in ref_unused)
    assert all(k.startswith(last + "proj_out.") or ".transformer_blocks.0." in k and
               k.split(".transformer_blocks.0.")[1].split(".")[0] in ("attn1", "norm2", "attn2", "norm3", "ff")
               for k in ref_unused)
    assert "up_blocks.3.attentions.2" in files["reference_unet.pth"]["unused_at_inference"]
    # ... and the image encoder's int64 position_ids buffer, which transformers 5 recomputes
    assert reports["image_encoder"].unused == ["vision_model.embeddings.position_ids"]
    # the SD 1.5 UNet weights are never read: their keys are exactly denoising_unet.pth's
    assert set(files[SD15_UNET]["keys"]) == set(files["denoising_unet.pth"]["keys"])
    assert layout["checks"]["union_covers_every_inference_unet3d_key"]


def test_full_size_motion_modules_and_pairing(layout, torch_mod):
    """21 motion modules at the official paths with one position encoding per block, and a
    bank reader for every bank writer (the reference's pairing is the identity by name)."""
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig
    from engine.backends.animate_anyone.loading import AnimateAnyoneModel
    from engine.backends.animate_anyone.unet import transformer_block_paths

    torch = torch_mod
    with torch.device("meta"):
        model = AnimateAnyoneModel(AnimateAnyoneConfig.full())
    mm = {k.split(".temporal_transformer")[0] for k in model.denoising.state_dict() if ".motion_modules." in k}
    assert len(mm) == 21
    pe = layout["files"]["motion_module.pth"]["persistent_buffers"]
    assert len(pe) == 42
    assert {p.split(".temporal_transformer")[0] for p in pe} == {m[len("unet."):] for m in mm}
    pairs = layout["checks"]["reference_attention_pairing"]["pairs"]
    writers = transformer_block_paths(model.reference.unet)
    readers = transformer_block_paths(model.denoising.unet)
    assert writers == readers
    assert sorted((p["reader"], p["writer"]) for p in pairs) == sorted(zip(readers, writers))


def test_fixture_files_match_their_config(fixture_path, torch_mod):
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig
    from engine.backends.animate_anyone.loading import check_layout
    from engine.backends.animate_anyone.model_store import locate
    from engine.backends.common.checkpoints import read_shapes

    inst = locate(fixture_path)
    assert inst.ok, inst.missing
    paths = {**inst.networks, "vae": inst.vae, "image_encoder": inst.image_encoder}
    shapes = {name: read_shapes(p) for name, p in paths.items()}
    reports = check_layout(shapes, AnimateAnyoneConfig.from_folder(fixture_path))
    _report(reports)
    for part, r in reports.items():
        assert r.ok, (part, r.unknown[:3], r.mismatched[:3], r.unfilled[:3])
    assert sum(r.consumed + len(r.unused) for r in reports.values()) == sum(len(s) for s in shapes.values())
