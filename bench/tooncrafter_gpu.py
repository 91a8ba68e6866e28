"""Speed and memory of the ToonCrafter port: full-size architecture, random weights.

Speed does not depend on the weight values, so no checkpoint is needed. Measures, for each
dtype and with/without the sketch encoder: seconds per denoising step (CFG: two UNet calls,
plus two sketch-encoder calls when sketches are on), total seconds for conditioning +
`--steps` steps + the decode (with the reference's 14-frame re-decode), and peak GPU memory.

    python bench/tooncrafter_gpu.py                      # GPU: 16 frames 512x320, 50 steps, fp16 + bf16
    python bench/tooncrafter_gpu.py --small --steps 3    # CPU: reduced architecture, CPU-only numbers

Targets (issue): peak memory < 8 GB; total < 12 s (2x faster than the reference's 24 s on an A100).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from bench.common import random_init  # noqa: E402
from engine.backends.tooncrafter.backend import VAE_FRAME_CHUNK  # noqa: E402
from engine.backends.tooncrafter.config import (  # noqa: E402
    ControlNetConfig, ResamplerConfig, RunDefaults, TextTowerConfig, ToonCrafterConfig, UNetConfig, VAEConfig,
    VisionTowerConfig)
from engine.backends.tooncrafter.loading import ToonCrafterModel, materialize_buffers, place_for_inference  # noqa: E402
from engine.backends.tooncrafter.pipeline import RunOptions, SketchGuide, ToonCrafterPipeline  # noqa: E402
from engine.backends.tooncrafter.sampler import DiffusionSchedule  # noqa: E402
from engine.backends.tooncrafter.sketch_encoder import SketchEncoder  # noqa: E402


def small_config() -> ToonCrafterConfig:
    """Same switches, block structure and 16 frames as the real model; 1/10 of the channels and
    128x128 pixels (about 1/1000 of the UNet compute), so a 2-core CPU gets through it."""
    return ToonCrafterConfig(
        unet=UNetConfig(model_channels=32, num_head_channels=16, context_dim=128),
        vae=VAEConfig(ch=32, fusion_heads=2, fusion_dim_head=32),
        text=TextTowerConfig(width=128, heads=2, layers=3, vocab_size=1000, sot_id=998, eot_id=999),
        vision=VisionTowerConfig(width=128, heads=2, layers=3, patch_size=16),
        resampler=ResamplerConfig(dim=128, depth=2, dim_head=32, heads=2, embedding_dim=128, output_dim=128),
        control=ControlNetConfig(model_channels=32, num_head_channels=16, context_dim=128),
        run=replace(RunDefaults(), height=128, width=128),
    )


def build(cfg: ToonCrafterConfig, dtype: torch.dtype, device: str, sketch: bool) -> ToonCrafterPipeline:
    gen = torch.Generator().manual_seed(0)
    with torch.device("meta"):
        model = ToonCrafterModel(cfg)
        control = SketchEncoder(cfg.control) if sketch else None
    model.to_empty(device="cpu")
    materialize_buffers(model, "cpu", force=True)
    random_init(model, gen)
    model.to(dtype).eval().requires_grad_(False)
    model.schedule = DiffusionSchedule.compute(cfg.schedule)
    place_for_inference(model, device)
    if control is not None:
        control.to_empty(device="cpu")
        random_init(control, gen)
        control.to(device=device, dtype=dtype).eval().requires_grad_(False)
    cuda = device.startswith("cuda")
    return ToonCrafterPipeline(model, control, device=device, dtype=dtype, offload_encoders=cuda,
                               vae_frame_chunk=VAE_FRAME_CHUNK)


def run_once(pipe: ToonCrafterPipeline, cfg: ToonCrafterConfig, steps: int, sketch: bool) -> dict:
    dev = pipe.device
    T, H, W = cfg.unet.temporal_length, cfg.run.height, cfg.run.width
    lh, lw = cfg.latent_size
    gen = torch.Generator().manual_seed(1)
    keys = [torch.rand((1, 3, H, W), generator=gen) * 2 - 1 for _ in range(2)]
    tokens = torch.zeros(1, cfg.text.context_length, dtype=torch.long)
    tokens[0, 0], tokens[0, 1] = cfg.text.sot_id, cfg.text.eot_id
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    step_times: list[float] = []
    t0 = time.perf_counter()
    cond = pipe.condition(keys[0], keys[1], tokens, tokens, torch.randn((T, 4, lh, lw), generator=gen), T)
    guide = None
    if sketch:
        hint = torch.zeros((1, 1, T, H, W))
        hint[:, :, [5, 10], H // 2, :] = 1.0
        guide = SketchGuide(hint, [5, 10], 0.6)
    sync()
    last = [time.perf_counter()]

    def on_step(i: int, n: int, _x) -> None:
        sync()
        now = time.perf_counter()
        step_times.append(now - last[0])
        last[0] = now

    latent = pipe.sample(cond, torch.randn((1, 4, T, lh, lw), generator=gen),
                         lambda i: torch.randn((1, 4, T, lh, lw)), RunOptions(steps=steps), guide, on_step)
    video = pipe.decode(latent, cond.refs)
    sync()
    total = time.perf_counter() - t0
    assert video.shape == (1, 3, T, H, W)
    out = {"s_per_step": sum(step_times[1:] or step_times) / max(1, len(step_times[1:] or step_times)),
           "total_s": total}
    if dev.type == "cuda":
        out["peak_gpu_gb"] = torch.cuda.max_memory_allocated() / 2 ** 30
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="reduced architecture on the CPU (fp32)")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda unless --small)")
    ap.add_argument("--steps", type=int, default=None, help="denoising steps (default 50, --small 3)")
    ap.add_argument("--dtypes", default=None, help="comma list of fp16,bf16,fp32")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cpu" if args.small else "cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: use --small (CPU) or run on a GPU machine", file=sys.stderr)
        return 2
    cfg = small_config() if args.small else ToonCrafterConfig.full()
    steps = args.steps or (3 if args.small else cfg.run.steps)
    names = (args.dtypes or ("fp32" if device == "cpu" else "fp16,bf16")).split(",")
    dtypes = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
    results = []
    for name in names:
        for sketch in (False, True):
            pipe = build(cfg, dtypes[name], device, sketch)
            if device.startswith("cuda"):
                run_once(pipe, cfg, 1, sketch)  # warm-up (kernels, allocator)
            r = run_once(pipe, cfg, steps, sketch)
            r.update(dtype=name, sketch=sketch, steps=steps, device=device, small=args.small,
                     frames=cfg.unet.temporal_length, size=f"{cfg.run.width}x{cfg.run.height}")
            results.append(r)
            mem = f", peak {r['peak_gpu_gb']:.2f} GB" if "peak_gpu_gb" in r else ""
            print(f"{name:5s} sketch={'on ' if sketch else 'off'} {r['size']} x{r['frames']}: "
                  f"{r['s_per_step']:.3f} s/step, total {r['total_s']:.2f} s for {steps} steps{mem}", flush=True)
            del pipe
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
