"""The engine adapter of the ToonCrafter port.

Per segment: both keys are letterboxed into the model's frame (512x320 for the real model,
from config.json otherwise), transparent keys are composited on a matte colour (white, or a
chroma-key colour when the drawing paints near-white) and their alpha is recovered afterwards,
sketches become hints for the frames they fall on (other frames get no sketch residual), the 16
generated frames are retimed to the requested in-betweens and mapped back to the keys' size.
Keys themselves are never touched (the engine returns them as sent).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch  # noqa: F401  (a missing runtime must fail the import: the registry reports it)

if importlib.util.find_spec("transformers") is None:  # CLIP towers
    raise ImportError("transformers is required by the tooncrafter backend", name="transformers")

from ...errors import BackendUnavailable, OutOfMemory, ShotError
from ..base import Availability, Backend, BackendInfo, FrameOut, JobContext, Plan
from . import imaging
from .config import ToonCrafterConfig
from .model_store import Installed, locate
from .probe import INFO

log = logging.getLogger(__name__)

# frames per VAE chunk (and row tiles of the decoder's temporal layers of the same size): the
# full-size fp16 decode then peaks at ~2.7 GiB of live tensors instead of ~5.2 GiB
# (bench/tooncrafter_memory.py); used on the CPU too, where RAM is the limit
VAE_FRAME_CHUNK = 4
# at most one set of preview frames per this many seconds (the first after step 1)
PREVIEW_INTERVAL_S = 1.0


@dataclass
class ToonPlan(Plan):
    installed: Installed | None = None
    cfg: ToonCrafterConfig | None = None
    steps: int = 50
    guidance: float = 7.5
    sketch_strength: float = 0.6
    prompt: str = ""


class ToonCrafterBackend(Backend):
    worker = "device"

    def __init__(self, config) -> None:
        super().__init__(config)
        self._pipe = None
        self._key: tuple | None = None
        self._lock = threading.Lock()

    @property
    def info(self) -> BackendInfo:
        return INFO

    # -- checks ------------------------------------------------------------------------------
    def _models_dir(self, model_dir: str | None) -> str | None:
        return model_dir or self.config.models_dir or None

    def availability(self) -> Availability:
        inst = locate(self._models_dir(None))
        if not inst.ok:
            return Availability(False, f"no checkpoint in {inst.folder} (run `inbetween-engine models download "
                                       "tooncrafter` or put model.ckpt there)")
        return Availability(True)

    def prepare(self, shot) -> Plan:
        base = super().prepare(shot)
        opts = shot.options
        inst = locate(self._models_dir(opts.model_dir))
        if not inst.ok:
            raise BackendUnavailable(f"tooncrafter: no checkpoint in {inst.folder}")
        cfg = ToonCrafterConfig.from_json_file(inst.config) if inst.config else ToonCrafterConfig.full()
        if shot.sketches and inst.sketch_encoder is None:
            raise ShotError(f"this shot has sketches but there is no sketch_encoder checkpoint in {inst.folder}")
        prompt = str(opts.extra.get("prompt", "") or "")
        if prompt.strip() and inst.tokenizer is None:
            raise ShotError("options.prompt needs the CLIP tokenizer files (models download tooncrafter); "
                            "leave it empty otherwise")
        steps = opts.steps or cfg.run.steps
        return ToonPlan(shot, base.segments, max(1, len(base.segments) * steps), installed=inst, cfg=cfg,
                        steps=steps, guidance=cfg.run.guidance if opts.guidance is None else opts.guidance,
                        sketch_strength=(cfg.run.control_scale if opts.sketch_strength is None
                                         else opts.sketch_strength), prompt=prompt)

    # -- models -------------------------------------------------------------------------------
    def _dtype(self, device: str, extra: dict) -> torch.dtype:
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if str(extra.get("dtype", "fp16")).lower() in ("bf16", "bfloat16") else torch.float16

    def _pipeline(self, plan: ToonPlan):
        """The loaded pipeline for this plan's model/device/dtype, loading what is missing."""
        from .loading import load_model, load_sketch_encoder, place_for_inference
        from .pipeline import ToonCrafterPipeline

        inst, cfg = plan.installed, plan.cfg
        assert inst is not None and cfg is not None and inst.model is not None
        device = self.config.device or "cpu"
        extra = plan.shot.options.extra
        dtype = self._dtype(device, extra)
        want_sketch = bool(plan.shot.sketches) and inst.sketch_encoder is not None
        key = (str(inst.model), device, dtype, str(inst.sketch_encoder) if want_sketch else None)
        if self._pipe is not None and self._key is not None:
            same_model = self._key[:3] == key[:3]
            if same_model and (key[3] is None or self._key[3] == key[3]):
                self._pipe.offload_unet = bool(extra.get("cpu_offload", False))
                return self._pipe
            if not same_model:
                self.unload()
        if self._pipe is None:
            log.info("loading %s on %s (%s)", inst.model, device, dtype)
            model = load_model(inst.model, cfg, dtype=dtype, device="cpu")
            place_for_inference(model, device)
            self._pipe = ToonCrafterPipeline(model, None, device=device, dtype=dtype,
                                             offload_encoders=device.startswith("cuda"),
                                             vae_frame_chunk=VAE_FRAME_CHUNK)
        if want_sketch and self._pipe.sketch_encoder is None:
            self._pipe.sketch_encoder = load_sketch_encoder(inst.sketch_encoder, cfg, dtype=dtype, device=device)
        self._pipe.offload_unet = bool(extra.get("cpu_offload", False))
        self._key = (key[0], key[1], key[2], str(inst.sketch_encoder) if self._pipe.sketch_encoder else None)
        return self._pipe

    def loaded_models(self) -> list[str]:
        if self._pipe is None or self._key is None:
            return []
        names = [f"tooncrafter:{Path(self._key[0]).name} ({self._key[1]}, {str(self._key[2]).replace('torch.', '')})"]
        if self._pipe.sketch_encoder is not None:
            names.append("tooncrafter:sketch_encoder")
        return names

    def unload(self) -> None:
        self._pipe = None
        self._key = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- running ------------------------------------------------------------------------------
    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        assert isinstance(plan, ToonPlan)
        with self._lock:
            ctx.check_cancelled()
            ctx.progress(0.0, "loading model")
            total = max(1, len(plan.segments) * plan.steps)
            if self.config.threads:
                torch.set_num_threads(self.config.threads)
            try:
                pipe = self._pipeline(plan)
                for si, seg in enumerate(plan.segments):
                    ctx.check_cancelled()
                    yield from self._segment(pipe, plan, si, seg, ctx, total)
            except torch.cuda.OutOfMemoryError as exc:
                self.unload()  # so the next job (e.g. with cpu_offload) starts from a clean device
                raise OutOfMemory(f"tooncrafter ran out of GPU memory ({exc}); the model was unloaded. "
                                  "Try options.extra.cpu_offload=true") from exc
            ctx.progress(1.0, "done")

    def _segment(self, pipe, plan: ToonPlan, si: int, seg, ctx: JobContext, total: int) -> Iterator[FrameOut]:
        """One key pair: previews while sampling (if wanted), then the final in-betweens."""
        from .clip import tokenize
        from .pipeline import RunOptions, SketchGuide

        cfg = plan.cfg
        assert cfg is not None and plan.installed is not None
        T = cfg.unet.temporal_length
        H, W = cfg.run.height, cfg.run.width
        lh, lw = cfg.latent_size
        kh, kw = seg.key_a.shape[:2]
        box = imaging.Letterbox.fit(kh, kw, H, W)
        transparent = imaging.has_transparency(seg.key_a, seg.key_b)
        bg = imaging.choose_matte_colour([seg.key_a, seg.key_b]) if transparent else imaging.BACKGROUND
        key_rgb = [box.forward(imaging.composite_rgb(k, bg), bg) for k in (seg.key_a, seg.key_b)]
        keys = [torch.from_numpy(imaging.to_model_tensor_layout(rgb))[None] for rgb in key_rgb]
        tok_dir = str(plan.installed.tokenizer) if plan.installed.tokenizer else None
        tokens_c = tokenize(plan.prompt, cfg.text, tok_dir)
        tokens_u = tokenize("", cfg.text)
        # every random draw, in the reference's order, from one CPU generator (same on any device)
        gen = torch.Generator().manual_seed(int(plan.shot.options.seed) + si)
        noise_post = torch.randn((T, cfg.vae.z_channels, lh, lw), generator=gen)
        x_T = torch.randn((1, cfg.vae.z_channels, T, lh, lw), generator=gen)
        eta = [torch.randn((1, cfg.vae.z_channels, T, lh, lw), generator=gen) for _ in range(plan.steps)]

        stage = f"segment {si + 1}/{len(plan.segments)}"
        ctx.progress(si * plan.steps / total, f"{stage}: encoding")
        cond = pipe.condition(keys[0], keys[1], tokens_c, tokens_u, noise_post, T)
        guide = None
        sketches = seg.sketches
        if sketches and pipe.sketch_encoder is not None and plan.sketch_strength > 0:
            hint = torch.zeros((1, 1, T, H, W))
            where: dict[int, int] = {}
            for pos, sk in sorted(sketches.items()):
                fi = imaging.sketch_frame_index(seg.inbetweens[pos].t, T)
                hint[0, 0, fi] = torch.from_numpy(imaging.sketch_hint(sk, box))
                where[fi] = pos
            guide = SketchGuide(hint, sorted(where), plan.sketch_strength)

        opts = RunOptions(steps=plan.steps, guidance=plan.guidance, guidance_rescale=cfg.run.guidance_rescale,
                          eta=cfg.run.eta, fs=int(plan.shot.options.extra.get("fs", cfg.run.fs)))
        ctx.check_cancelled()
        preview = None
        if ctx.previews:
            ends = cond.z[0][:, [0, T - 1]].transpose(0, 1).float().cpu().numpy()  # (2, C, h, w)
            preview = imaging.LatentPreview.fit(ends, np.stack(key_rgb))
        last_preview: float | None = None
        latent = None
        for state in pipe.sample_steps(cond, x_T, lambda i: eta[i], opts, guide):
            latent = state.x
            ctx.progress((si * plan.steps + state.index + 1) / total, f"{stage}: step {state.index + 1}/{state.total}")
            ctx.check_cancelled()
            now = time.monotonic()
            if (preview is not None and state.index < state.total - 1
                    and (last_preview is None or now - last_preview >= PREVIEW_INTERVAL_S)):
                guess = state.pred_x0[0].transpose(0, 1).float().cpu().numpy()  # (T, C, h, w)
                rgb = preview.render(guess, H, W)
                for ib, frame in zip(seg.inbetweens, imaging.retime(rgb, seg.times)):
                    yield FrameOut(ib.frame, self._to_key(frame, box, bg, transparent), preview=True)
                last_preview = time.monotonic()
        assert latent is not None
        ctx.check_cancelled()
        ctx.progress((si + 1) * plan.steps / total, f"{stage}: decoding")
        video = pipe.decode(latent, cond.refs)[0].float().cpu().numpy()  # (3, T, H, W)
        rgb = np.stack([imaging.from_model_output(video[:, i]) for i in range(T)])
        mode = str(plan.shot.options.extra.get("retime", "nearest"))
        picked = imaging.retime(rgb, seg.times, "blend" if mode == "blend" else "nearest")
        for ib, frame in zip(seg.inbetweens, picked):
            yield FrameOut(ib.frame, self._to_key(frame, box, bg, transparent))

    @staticmethod
    def _to_key(frame: np.ndarray, box: imaging.Letterbox, bg: np.ndarray, transparent: bool) -> np.ndarray:
        """A model-frame RGB image -> RGBA uint8 at the keys' size (alpha matted if keys had any)."""
        back = box.backward(frame)
        if transparent:
            return imaging.recover_alpha(back, bg)
        rgba = np.concatenate([np.clip(back, 0, 255), np.full(back.shape[:2] + (1,), 255.0)], axis=2)
        return np.round(rgba).astype(np.uint8)
