"""Peak device memory of a full-size ToonCrafter job, traced without a GPU.

The pipeline runs on PyTorch's `meta` device (shapes only, no data, seconds on any machine)
under a dispatch mode that counts the bytes of every tensor storage while it is alive. The
estimate per phase is: weights resident on the device in that phase (the placement policy
of `ToonCrafterPipeline` with `offload_encoders`: UNet, VAE and sketch encoder stay; the
text/vision towers and the Resampler visit one at a time) + the peak of live activations.

Attention is counted as a fused kernel (flash / memory-efficient SDPA, what CUDA runs): output
plus its log-sum-exp, never the full score matrix. Not included: the CUDA caching allocator's
rounding and fragmentation, cuDNN/cuBLAS workspaces and the CUDA context (about 0.3-0.5 GB on
its own), so a measured `torch.cuda.max_memory_allocated` should land a little above these
numbers and nvidia-smi higher still. `bench/tooncrafter_gpu.py` measures the real thing on a GPU.

    python bench/tooncrafter_memory.py                 # full size, fp16, with and without sketches
    python bench/tooncrafter_memory.py --chunk 2       # a smaller VAE frame chunk
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from engine.backends.common.memory_trace import (  # noqa: E402,F401  (LiveBytes etc. re-exported for tests)
    GiB, LiveBytes, PhasePeaks, fused_attention, weight_bytes)
from engine.backends.tooncrafter.config import ToonCrafterConfig  # noqa: E402
from engine.backends.tooncrafter.loading import ToonCrafterModel  # noqa: E402
from engine.backends.tooncrafter.pipeline import (  # noqa: E402
    Conditioning, RunOptions, SketchGuide, ToonCrafterPipeline)
from engine.backends.tooncrafter.sampler import DiffusionSchedule  # noqa: E402
from engine.backends.tooncrafter.sketch_encoder import SketchEncoder  # noqa: E402


def trace(cfg: ToonCrafterConfig, dtype: torch.dtype, sketch: bool, chunk: int) -> dict:
    with torch.device("meta"):
        model = ToonCrafterModel(cfg).to(dtype)
        control = SketchEncoder(cfg.control).to(dtype) if sketch else None
    model.schedule = DiffusionSchedule.compute(cfg.schedule)
    pipe = ToonCrafterPipeline(model, control, device="meta", dtype=dtype, vae_frame_chunk=chunk)
    T, H, W = cfg.unet.temporal_length, cfg.run.height, cfg.run.width
    lh, lw = cfg.latent_size
    meta = torch.device("meta")
    key = torch.empty((1, 3, H, W), device=meta)
    tokens = torch.zeros((1, cfg.text.context_length), dtype=torch.long, device=meta)
    w = {name: weight_bytes(part, dtype) for name, part in [
        ("unet", model.unet), ("vae_encoder", model.vae_encoder), ("decoder", model.decoder),
        ("text", model.text), ("vision", model.vision), ("resampler", model.resampler), ("sketch", control)]}
    resident = w["unet"] + w["vae_encoder"] + w["decoder"] + w["sketch"]
    tracker = LiveBytes()
    phase = PhasePeaks(tracker)
    peaks = phase.peaks

    with fused_attention(), tracker, torch.inference_mode():
        with phase("text"):
            text_c = pipe.text_embedding(tokens)
            text_u = pipe.text_embedding(tokens)
        with phase("vae_encode"):
            video = torch.stack([key] * (T // 2) + [key] * (T - T // 2), dim=2)
            enc = pipe.encode_video(video, torch.empty((T, 4, lh, lw), device=meta))
            del video
        with phase("image"):
            img_c = pipe.image_embedding(pipe.clip_tokens(key))
            img_u = pipe.image_embedding(pipe.clip_tokens(key))
        c_concat = torch.zeros_like(enc.z)
        cond = Conditioning(torch.cat([text_c, img_c], 1), torch.cat([text_u, img_u], 1), c_concat, enc.refs, enc.z)
        del text_c, text_u, img_c, img_u
        guide = None
        if sketch:
            guide = SketchGuide(torch.zeros((1, 1, T, H, W), device=meta), [5, 10], 0.6)
        with phase("denoise_step"):
            latent = pipe.sample(cond, torch.empty((1, 4, T, lh, lw), device=meta),
                                 lambda i: torch.empty((1, 4, T, lh, lw), device=meta), RunOptions(steps=1), guide)
        with phase("decode"):
            out = pipe.decode(latent, cond.refs)
            del out
    phase_weights = {"text": resident + w["text"], "vae_encode": resident,
                     "image": resident + max(w["vision"], w["resampler"]),
                     "denoise_step": resident, "decode": resident}
    totals = {name: (phase_weights[name] + peaks[name]) / GiB for name in peaks}
    return {"weights_gb": {k: v / GiB for k, v in w.items()},
            "activations_gb": {k: v / GiB for k, v in peaks.items()},
            "phase_total_gb": totals, "peak_gb": max(totals.values()),
            "peak_phase": max(totals, key=totals.get)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--chunk", type=int, default=4, help="VAE frame chunk (the GPU default is 4)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    cfg = ToonCrafterConfig.full()
    results = []
    for sketch in (False, True):
        r = trace(cfg, dtype, sketch, args.chunk)
        r.update(dtype=args.dtype, sketch=sketch, chunk=args.chunk)
        results.append(r)
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phase_total_gb"].items())
        print(f"{args.dtype} sketch={'on ' if sketch else 'off'} chunk={args.chunk}: peak {r['peak_gb']:.2f} GiB "
              f"in {r['peak_phase']} (weights + live tensors per phase, GiB: {phases})", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
