"""Speed and memory of the Animate Anyone port: full-size architecture, random weights.

Speed does not depend on the weight values, so no checkpoint is needed. Measures, per dtype:
seconds per denoising step (CFG: one UNet call on 2 x frames per context window), total seconds
for the reference features (image encoder, VAE encode, ReferenceNet), the pose features,
`--steps` steps and the chunked decode, and peak GPU memory (`torch.cuda.max_memory_allocated`).
The backend's settings are used (encoders offloaded after the bank, feed-forward and decode
chunks).

    python bench/animate_anyone_gpu.py                      # GPU: 24 frames 512x768, 30 steps, fp16 + bf16
    python bench/animate_anyone_gpu.py --offload-unet       # the same with the UNet one block at a time
    python bench/animate_anyone_gpu.py --small --steps 3    # CPU: reduced architecture, CPU-only numbers

Target (issue): peak memory < 8 GB (users report ~15 GB for the reference implementation).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.common import random_init  # noqa: E402
from engine.backends.animate_anyone.config import AnimateAnyoneConfig, MotionConfig, RunConfig  # noqa: E402
from engine.backends.animate_anyone.context import clamped_windows  # noqa: E402
from engine.backends.animate_anyone.loading import AnimateAnyoneModel  # noqa: E402
from engine.backends.animate_anyone.pipeline import (  # noqa: E402
    FF_CHUNK_TOKENS, VAE_FRAME_CHUNK, AnimateAnyonePipeline, SampleOptions)


def small_config() -> AnimateAnyoneConfig:
    """The real block structure, motion modules at every level and 24-frame windows; 1/10 of the
    widths (the parity fixture's), a small VAE and image encoder, 128x192 pixels."""
    full = AnimateAnyoneConfig.full()
    unet = dict(full.unet, block_out_channels=[32, 32, 64, 64], attention_head_dim=4, cross_attention_dim=48)
    vae = dict(full.vae, block_out_channels=[32, 32, 32, 32])
    enc = dict(full.image_encoder, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
               num_attention_heads=2, projection_dim=48)
    return replace(full, unet=unet, vae=vae, image_encoder=enc, motion=MotionConfig(),
                   run=RunConfig(width=128, height=192))


def build(cfg: AnimateAnyoneConfig, dtype: torch.dtype, device: str, offload_unet: bool) -> AnimateAnyonePipeline:
    from diffusers.models.embeddings import SinusoidalPositionalEmbedding

    gen = torch.Generator().manual_seed(0)
    with torch.device("meta"):
        model = AnimateAnyoneModel(cfg)
    model.to_empty(device="cpu")
    random_init(model, gen)
    for m in model.modules():  # buffers left uninitialised by to_empty
        if isinstance(m, SinusoidalPositionalEmbedding):
            m.pe.copy_(SinusoidalPositionalEmbedding(m.pe.shape[-1], m.pe.shape[1]).pe)
        if "position_ids" in m._buffers:
            m.position_ids = torch.arange(m.position_ids.shape[-1]).expand(m.position_ids.shape)
    model.to(dtype).eval().requires_grad_(False)
    cuda = device.startswith("cuda")
    for part in (model.denoising, model.vae, model.pose_guider):
        part.to(device)
    return AnimateAnyonePipeline(model, device=device, dtype=dtype, offload_encoders=cuda, offload_unet=offload_unet,
                                 vae_frame_chunk=VAE_FRAME_CHUNK, ff_chunk_tokens=FF_CHUNK_TOKENS if cuda else None)


def run_once(pipe: AnimateAnyonePipeline, cfg: AnimateAnyoneConfig, frames: int, steps: int) -> dict:
    dev = pipe.device
    w, h = cfg.run.width, cfg.run.height
    lh, lw = cfg.latent_size(h, w)
    rng = np.random.default_rng(1)
    reference = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    poses = torch.from_numpy(rng.random((1, 3, frames, h, w), dtype=np.float32))
    noise = torch.randn((1, 4, frames, lh, lw), generator=torch.Generator().manual_seed(2))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    feats = pipe.prepare(reference, w, h, cfg.run.guidance)
    pose = pipe.pose_features(poses)
    sync()
    t_prep = time.perf_counter() - t0
    opts = SampleOptions(steps, cfg.run.guidance, clamped_windows(frames, cfg.run.context_frames, cfg.run.context_overlap))
    step_times = []
    last = time.perf_counter()
    x = noise
    for state in pipe.sample_steps(feats, pose, noise, opts):
        x = state.x
        sync()
        now = time.perf_counter()
        step_times.append(now - last)
        last = now
    video = pipe.decode(x)
    sync()
    total = time.perf_counter() - t0
    assert video.shape == (1, 3, frames, h, w) and torch.isfinite(video).all()
    timed = step_times[1:] or step_times  # the first step pays one-time kernel selection
    out = {"s_per_step": sum(timed) / len(timed), "prepare_s": t_prep, "total_s": total}
    if dev.type == "cuda":
        out["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2 ** 30
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="reduced architecture on the CPU (fp32)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda unless --small)")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--steps", type=int, default=None, help="denoising steps (default 30, --small 3)")
    ap.add_argument("--dtypes", default=None, help="comma list of fp16,bf16,fp32")
    ap.add_argument("--offload-unet", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cpu" if args.small else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: use --small (CPU) or run on a GPU machine", file=sys.stderr)
        return 2
    cfg = small_config() if args.small else AnimateAnyoneConfig.full()
    steps = args.steps or (3 if args.small else cfg.run.steps)
    names = (args.dtypes or ("fp32" if device == "cpu" else "fp16,bf16")).split(",")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    results = []
    for name in names:
        pipe = build(cfg, dtypes[name], device, args.offload_unet)
        if device.startswith("cuda"):
            run_once(pipe, cfg, args.frames, 1)  # warm-up (kernels, allocator)
        r = run_once(pipe, cfg, args.frames, steps)
        r.update(dtype=name, steps=steps, device=device, small=args.small, frames=args.frames,
                 size=f"{cfg.run.width}x{cfg.run.height}", offload_unet=args.offload_unet)
        results.append(r)
        mem = f", peak {r['peak_gpu_gb']:.2f} GB" if "peak_gpu_gb" in r else ""
        print(f"{name:5s} {r['size']} x{args.frames}: {r['s_per_step']:.3f} s/step, reference+poses "
              f"{r['prepare_s']:.2f} s, total {r['total_s']:.2f} s for {steps} steps{mem}", flush=True)
        del pipe
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
