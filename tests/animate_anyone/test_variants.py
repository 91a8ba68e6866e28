"""No size is hard-coded: a variant of the fixture's architecture (other widths, heads, layers
per block, motion-module levels, one temporal attention, pose-guider widths, a 3-level VAE, a
latent that is not a multiple of the up factor) builds, saves and loads through the real files
layout, and runs every stage with random weights."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np


def test_variant_architecture_round_trips_and_runs(tmp_path, fixture_config, torch_mod):
    from safetensors.torch import save_file

    from bench.common import random_init
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig, PoseGuiderConfig
    from engine.backends.animate_anyone.context import clamped_windows
    from engine.backends.animate_anyone.loading import AnimateAnyoneModel, load_model
    from engine.backends.animate_anyone.model_store import locate
    from engine.backends.animate_anyone.pipeline import AnimateAnyonePipeline, SampleOptions
    from engine.backends.animate_anyone.unet import transformer_block_paths

    torch = torch_mod
    raw = json.loads(json.dumps(fixture_config))
    m = raw["models"]
    unet = dict(m["unet_base_config"], block_out_channels=[32, 64, 64, 96], attention_head_dim=2,
                cross_attention_dim=24, layers_per_block=1)
    m["unet_base_config"] = unet
    m["unet_additional_kwargs"]["motion_module_resolutions"] = [1, 4]
    m["unet_additional_kwargs"]["motion_module_mid_block"] = False
    m["unet_additional_kwargs"]["motion_module_kwargs"].update(num_attention_heads=4,
                                                               attention_block_types=["Temporal_Self"])
    m["pose_guider"] = {"conditioning_embedding_channels": 32, "conditioning_channels": 3,
                        "block_out_channels": [8, 16, 32]}
    raw["pipeline"].update(width=72, height=104, context_frames=4, context_overlap=2, num_inference_steps=2)
    vae = dict(m["vae"]["config"], block_out_channels=[32, 32, 32],
               down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3)
    enc = dict(m["image_encoder"]["config"], hidden_size=32, num_attention_heads=4, projection_dim=24,
               intermediate_size=64, num_hidden_layers=1)
    raw["models"]["vae"]["config"] = vae
    cfg = AnimateAnyoneConfig(vae=vae, image_encoder=enc, pose_guider=PoseGuiderConfig(3, (8, 16, 32))).with_overrides(raw)
    assert cfg.vae_factor == 4 and cfg.motion.attention_block_types == ("Temporal_Self",)

    with torch.device("meta"):
        model = AnimateAnyoneModel(cfg)
    model.to_empty(device="cpu")
    random_init(model, torch.Generator().manual_seed(0))
    mm = [k for k in model.denoising.state_dict() if k.endswith("temporal_transformer.norm.weight")]
    assert len(mm) == 2 * 1 + 2 * 2  # levels 1 and 4, down (1 layer) and up (2 layers)
    assert not any(".attn2." in k for k in model.denoising.state_dict() if "motion_modules" in k)
    # write it out in the official layout (prefixes and AnimateDiff names undone) and load it back
    from diffusers.models.embeddings import SinusoidalPositionalEmbedding

    for mod in model.modules():
        if isinstance(mod, SinusoidalPositionalEmbedding):
            mod.pe.copy_(SinusoidalPositionalEmbedding(mod.pe.shape[-1], mod.pe.shape[1]).pe)
        if "position_ids" in mod._buffers:
            mod.position_ids = torch.arange(mod.position_ids.shape[-1]).expand(mod.position_ids.shape)
    den = {k[len("unet."):]: v for k, v in model.denoising.state_dict().items()}
    official = {}
    for k, v in den.items():
        k = (k.replace(".attn1.", ".attention_blocks.0.").replace(".norm1.", ".norms.0.")
             .replace(".norm3.", ".ff_norm.").replace(".pos_embed.pe", ".attention_blocks.0.pos_encoder.pe")
             if ".motion_modules." in k else k)
        official[k] = v.contiguous()
    save_file({k: v for k, v in official.items() if ".motion_modules." not in k}, str(tmp_path / "denoising_unet.safetensors"))
    save_file({k: v for k, v in official.items() if ".motion_modules." in k}, str(tmp_path / "motion_module.safetensors"))
    save_file({k[len("unet."):]: v.contiguous() for k, v in model.reference.state_dict().items()},
              str(tmp_path / "reference_unet.safetensors"))
    save_file(model.pose_guider.state_dict(), str(tmp_path / "pose_guider.safetensors"))
    for sub, part, name, conf in (("vae", model.vae, "diffusion_pytorch_model.safetensors", vae),
                                  ("image_encoder", model.image_encoder, "model.safetensors", enc)):
        (tmp_path / sub).mkdir()
        save_file({k: v.contiguous() for k, v in part.state_dict().items()}, str(tmp_path / sub / name))
        (tmp_path / sub / "config.json").write_text(json.dumps(conf))
    (tmp_path / "unet_base").mkdir()
    (tmp_path / "unet_base" / "config.json").write_text(json.dumps(unet))
    (tmp_path / "config.json").write_text(json.dumps(raw))
    loaded = load_model(locate(tmp_path))
    assert loaded.cfg == cfg
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert transformer_block_paths(loaded.reference.unet)[-1] == loaded.reference.last_block

    pipe = AnimateAnyonePipeline(loaded)
    w, h = cfg.run.width, cfg.run.height
    lh, lw = cfg.latent_size(h, w)
    assert (lh, lw) == (26, 18)  # not a multiple of the UNet's up factor 8: forced upsample sizes
    rng = np.random.default_rng(0)
    feats = pipe.prepare(rng.integers(0, 256, (90, 60, 3), dtype=np.uint8), w, h, 2.0)
    assert {k: tuple(v.shape[1:]) for k, v in feats.banks.items()}["down_blocks.0.attentions.0.transformer_blocks.0"] \
        == (lh * lw, 32)
    frames = 6
    pose = pipe.pose_features(torch.from_numpy(rng.random((1, 3, frames, h, w), dtype=np.float32)))
    assert tuple(pose.shape) == (1, 32, frames, lh, lw)
    windows = clamped_windows(frames, cfg.run.context_frames, cfg.run.context_overlap)
    assert len(windows) == 2
    noise = torch.randn((1, 4, frames, lh, lw), generator=torch.Generator().manual_seed(1))
    x = pipe.sample(feats, pose, noise, SampleOptions(cfg.run.steps, cfg.run.guidance, windows))
    video = pipe.decode(x)
    assert tuple(video.shape) == (1, 3, frames, h, w) and torch.isfinite(video).all()
    # guidance 1: no CFG batch, the reference on every row
    plain = replace(feats, cfg=False)
    x1 = pipe.sample(plain, pose, noise, SampleOptions(1, 1.0, windows))
    assert torch.isfinite(x1).all()
