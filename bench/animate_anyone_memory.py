"""Peak device memory of a full-size Animate Anyone job, traced without a GPU.

The pipeline runs on PyTorch's `meta` device (shapes only, no data, seconds on any machine)
under `engine.backends.common.memory_trace.LiveBytes`, which counts the bytes of every tensor
storage while it is alive; attention is counted as a fused kernel (flash / memory-efficient
SDPA, what CUDA runs). The estimate per phase is the weights resident on the device in that
phase (the placement policy of the backend: denoising UNet, VAE and pose guider stay; the image
encoder and the ReferenceNet visit one at a time and leave) + the peak of live activations.
Not included: the CUDA caching allocator's rounding and fragmentation, library workspaces and
the CUDA context (about 0.3-0.5 GB), so `bench/animate_anyone_gpu.py` on a GPU should measure
a little more.

The job: one reference drawing, 24 frames at 512x768 (one context window of 24: the whole clip
in one UNet call of 2 x 24 frames for CFG), 30 DDIM steps (every step has the same peak, so one
is traced), VAE decode in chunks.

    python bench/animate_anyone_memory.py                       # fp16, the backend's settings
    python bench/animate_anyone_memory.py --ff-chunk 0 --chunk 24  # no feed-forward chunks, one decode
    python bench/animate_anyone_memory.py --offload-unet        # UNet one block at a time
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from engine.backends.animate_anyone.config import AnimateAnyoneConfig  # noqa: E402
from engine.backends.animate_anyone.context import clamped_windows  # noqa: E402
from engine.backends.animate_anyone.loading import AnimateAnyoneModel  # noqa: E402
from engine.backends.animate_anyone.pipeline import (  # noqa: E402
    FF_CHUNK_TOKENS, VAE_FRAME_CHUNK, AnimateAnyonePipeline, ReferenceFeatures, SampleOptions)
from engine.backends.animate_anyone.unet import walk_units  # noqa: E402
from engine.backends.common.memory_trace import GiB, LiveBytes, PhasePeaks, fused_attention, weight_bytes  # noqa: E402


def _largest_unit(unet: torch.nn.Module, dtype: torch.dtype) -> int:
    """What `cpu_offload` keeps on the device at most: the largest unit the UNet walk calls."""
    return max(weight_bytes(u, dtype) for u in walk_units(unet))


def trace(cfg: AnimateAnyoneConfig, dtype: torch.dtype, frames: int = 24, width: int = 512, height: int = 768,
          chunk: int = VAE_FRAME_CHUNK, ff_chunk_tokens: int | None = FF_CHUNK_TOKENS,
          offload_unet: bool = False) -> dict:
    meta = torch.device("meta")
    with meta:
        model = AnimateAnyoneModel(cfg).to(dtype)
    pipe = AnimateAnyonePipeline(model, device="meta", dtype=dtype, vae_frame_chunk=chunk,
                                 ff_chunk_tokens=ff_chunk_tokens or None)
    h, w = cfg.latent_size(height, width)
    w_ = {name: weight_bytes(getattr(model, name), dtype)
          for name in ("denoising", "reference", "pose_guider", "vae", "image_encoder")}
    unet_resident = _largest_unit(model.denoising.unet, dtype) if offload_unet else w_["denoising"]
    resident = w_["vae"] + w_["pose_guider"]
    tracker = LiveBytes()
    phase = PhasePeaks(tracker)
    windows = clamped_windows(frames, cfg.run.context_frames, cfg.run.context_overlap)
    with fused_attention(), tracker, torch.inference_mode():
        with phase("image_encoder"):
            embeds = pipe.image_embeds(torch.empty((1, 3, 224, 224), device=meta))
        with phase("vae_encode"):
            latents = pipe.encode_reference(torch.empty((1, 3, height, width), device=meta))
        with phase("reference_net"):
            banks = pipe.reference_banks(latents, embeds.unsqueeze(1))
        with phase("pose_guider"):
            pose = pipe.pose_features(torch.empty((1, 3, frames, height, width), device=meta))
        feats = ReferenceFeatures(embeds, latents, banks, cfg=True)
        noise = torch.empty((1, 4, frames, h, w), device=meta)
        with phase("denoise_step"):  # the loop's own state (latents, window sums) counts too
            x = pipe.sample(feats, pose, noise, SampleOptions(1, cfg.run.guidance, windows))
        with phase("decode"):
            video = pipe.decode(x)
            del video
    bank_bytes = sum(b.numel() * b.element_size() for b in banks.values())
    phase_weights = {"image_encoder": resident + unet_resident + w_["image_encoder"],
                     "vae_encode": resident + unet_resident,
                     "reference_net": resident + unet_resident + w_["reference"],
                     "pose_guider": resident + unet_resident,
                     "denoise_step": resident + unet_resident,
                     "decode": resident + (0 if offload_unet else unet_resident)}
    totals = {name: (phase_weights[name] + phase.peaks[name]) / GiB for name in phase.peaks}
    return {"weights_gb": {k: v / GiB for k, v in w_.items()},
            "unet_resident_gb": unet_resident / GiB,
            "bank_mb": bank_bytes / 2 ** 20,
            "activations_gb": {k: v / GiB for k, v in phase.peaks.items()},
            "phase_total_gb": totals, "peak_gb": max(totals.values()),
            "peak_phase": max(totals, key=totals.get)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=768)
    ap.add_argument("--chunk", type=int, default=VAE_FRAME_CHUNK, help="VAE frames per decode chunk")
    ap.add_argument("--ff-chunk", type=int, default=FF_CHUNK_TOKENS,
                    help="tokens per feed-forward chunk (0: none)")
    ap.add_argument("--offload-unet", action="store_true", help="UNet blocks visit the device one at a time")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    r = trace(AnimateAnyoneConfig.full(), dtype, args.frames, args.width, args.height, args.chunk,
              args.ff_chunk, args.offload_unet)
    phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phase_total_gb"].items())
    print(f"{args.dtype} {args.width}x{args.height} x {args.frames} frames, decode chunk {args.chunk}, "
          f"ff chunk {args.ff_chunk or 'off'}{', UNet offload' if args.offload_unet else ''}: "
          f"peak {r['peak_gb']:.2f} GiB in {r['peak_phase']} (weights + live tensors per phase, GiB: {phases})")
    if args.json:
        print(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
