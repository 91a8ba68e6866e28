"""The engine adapter of the Animate Anyone port: every in-between drawn in its pose.

Per segment: the reference drawing is key A (or, with `options.extra.reference = "nearer"`,
each in-between takes the key nearer in time, so the segment runs as two clips); every
in-between gets its pose from the shot (`Segment.inbetween_poses()`: the animator's poses,
interpolated on arcs between posed times); the clip the model generates is the reference key's
pose, the in-betweens' poses in order, and the other key's pose where the shot has them (they
anchor the motion at both ends; their generated frames are dropped, the keys are returned as
sent). The canvas is fitted into the model's frame (`framing.model_frame`), transparent keys
are composited on a matte colour and their alpha is recovered afterwards (as ToonCrafter does).

Every random draw (the initial noise; DDIM with eta 0 draws nothing else) comes from one seeded
CPU generator, so a seed gives the same frames on any device. Progress is reported per
denoising step, cancel is checked between steps, previews come from the sampler's current
clean-latent guess through a linear latent->RGB map fitted on the reference drawing.

Options (`options.extra`): `reference` ("first" | "nearer"), `dtype` ("fp16" | "bf16", GPU),
`cpu_offload` (the UNet's units visit the GPU one at a time), `context_loop` (the reference's
wrap-around windows, for looping clips).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch  # noqa: F401  (a missing runtime must fail the import: the registry reports it)

for _mod in ("diffusers", "transformers", "PIL"):
    if importlib.util.find_spec(_mod) is None:
        raise ImportError(f"{_mod} is required by the animate_anyone backend", name=_mod)

from inbetween_client.poses import TIME_TOLERANCE, Pose  # noqa: E402

from ...errors import BackendUnavailable, OutOfMemory, ShotError  # noqa: E402
from ..base import Availability, Backend, BackendInfo, FrameOut, JobContext, Plan  # noqa: E402
from ..common import imaging  # noqa: E402
from .config import AnimateAnyoneConfig, ConfigError  # noqa: E402
from .framing import model_frame, pose_image, reference_image  # noqa: E402
from .model_store import Installed, locate  # noqa: E402
from .probe import INFO, missing_files_reason  # noqa: E402

log = logging.getLogger(__name__)

PREVIEW_INTERVAL_S = 1.0
REFERENCE_CHOICES = ("first", "nearer")


@dataclass
class Clip:
    """One generated clip: a reference key, the poses of its frames, which frames are kept."""

    segment: int
    reference: str  # "a" or "b"
    poses: list[Pose]
    keep: list[tuple[int, int]] = field(default_factory=list)  # (clip frame, in-between index)


@dataclass
class AnimatePlan(Plan):
    installed: Installed | None = None
    cfg: AnimateAnyoneConfig | None = None
    steps: int = 30
    guidance: float = 3.5
    clips: list[Clip] = field(default_factory=list)
    loop: bool = False


def _pose_at(seg, t: float) -> Pose | None:
    for p in seg.poses:
        if abs(p.t - t) < TIME_TOLERANCE:
            return p.pose
    return None


def plan_clips(segments, reference: str) -> list[Clip]:
    """The clips of a shot; raises ShotError where an in-between has no pose."""
    clips = []
    for si, seg in enumerate(segments):
        poses = seg.inbetween_poses()
        missing = [ib.frame for ib, p in zip(seg.inbetweens, poses) if p is None]
        if missing:
            raise ShotError(
                f"animate_anyone draws every in-between in its pose, but segment {seg.start}-{seg.end} has no "
                f"pose for frame{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}: give poses on "
                "both keys (the in-betweens' poses are then interpolated) or on those frames (--poses FILE)")
        pose_a, pose_b = _pose_at(seg, 0.0), _pose_at(seg, 1.0)
        items = list(enumerate(poses))
        groups = [("a", items)]
        if reference == "nearer":
            early = [(i, p) for i, p in items if seg.inbetweens[i].t <= 0.5]
            late = [(i, p) for i, p in items if seg.inbetweens[i].t > 0.5]
            groups = [g for g in (("a", early), ("b", late)) if g[1]]
        for ref, group in groups:
            # anchors: the reference key's pose first; the other key's pose last when this clip
            # runs up to it (one clip per segment, or the second of "nearer")
            clip = Clip(si, ref, [pose_a] if ref == "a" and pose_a is not None else [])
            for i, p in group:
                clip.keep.append((len(clip.poses), i))
                clip.poses.append(p)
            if pose_b is not None and (ref == "b" or reference == "first"):
                clip.poses.append(pose_b)
            clips.append(clip)
    return clips


class AnimateAnyoneBackend(Backend):
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
        return availability_of(locate(self._models_dir(None)))

    def prepare(self, shot) -> Plan:
        base = super().prepare(shot)
        opts = shot.options
        inst = locate(self._models_dir(opts.model_dir))
        if not inst.ok:
            raise BackendUnavailable(f"animate_anyone: {availability_of(inst).reason}")
        try:
            cfg = AnimateAnyoneConfig.from_folder(inst.folder)
        except ConfigError as exc:
            raise BackendUnavailable(f"animate_anyone: {exc}") from None
        reference = str(opts.extra.get("reference", "first"))
        if reference not in REFERENCE_CHOICES:
            raise ShotError(f"options.reference must be one of {', '.join(REFERENCE_CHOICES)}, got {reference!r}")
        clips = plan_clips(base.segments, reference)
        steps = opts.steps or cfg.run.steps
        guidance = cfg.run.guidance if opts.guidance is None else opts.guidance
        return AnimatePlan(shot, base.segments, max(1, len(clips) * steps), installed=inst, cfg=cfg, steps=steps,
                           guidance=guidance, clips=clips, loop=bool(opts.extra.get("context_loop", False)))

    # -- models -------------------------------------------------------------------------------
    def _dtype(self, device: str, extra: dict) -> torch.dtype:
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if str(extra.get("dtype", "fp16")).lower() in ("bf16", "bfloat16") else torch.float16

    def _pipeline(self, plan: AnimatePlan):
        from .loading import load_model
        from .pipeline import FF_CHUNK_TOKENS, VAE_FRAME_CHUNK, AnimateAnyonePipeline

        inst = plan.installed
        assert inst is not None and plan.cfg is not None
        device = self.config.device or "cpu"
        extra = plan.shot.options.extra
        dtype = self._dtype(device, extra)
        key = (str(inst.folder.resolve()), device, dtype)
        if self._pipe is not None and self._key != key:
            self.unload()
        if self._pipe is None:
            log.info("loading Animate Anyone from %s on %s (%s)", inst.folder, device, dtype)
            model = load_model(inst, plan.cfg, dtype=dtype, device="cpu")
            cuda = device.startswith("cuda")
            for part in (model.denoising, model.vae, model.pose_guider):
                part.to(device)
            # the image encoder and the ReferenceNet visit the device once per clip and leave
            self._pipe = AnimateAnyonePipeline(model, device=device, dtype=dtype, offload_encoders=cuda,
                                               vae_frame_chunk=VAE_FRAME_CHUNK,
                                               ff_chunk_tokens=FF_CHUNK_TOKENS if cuda else None)
            self._key = key
        self._pipe.set_unet_offload(bool(extra.get("cpu_offload", False)))
        return self._pipe

    def loaded_models(self) -> list[str]:
        if self._pipe is None or self._key is None:
            return []
        return [f"animate_anyone:{Path(self._key[0]).name} ({self._key[1]}, {str(self._key[2]).replace('torch.', '')})"]

    def unload(self) -> None:
        self._pipe = None
        self._key = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- running ------------------------------------------------------------------------------
    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        assert isinstance(plan, AnimatePlan)
        with self._lock:
            ctx.check_cancelled()
            ctx.progress(0.0, "loading model")
            if self.config.threads:
                torch.set_num_threads(self.config.threads)
            try:
                pipe = self._pipeline(plan)
                for ci, clip in enumerate(plan.clips):
                    ctx.check_cancelled()
                    yield from self._clip(pipe, plan, ci, clip, ctx)
            except torch.cuda.OutOfMemoryError as exc:
                self.unload()
                raise OutOfMemory(f"animate_anyone ran out of GPU memory ({exc}); the model was unloaded. "
                                  "Try options.extra.cpu_offload=true") from exc
            ctx.progress(1.0, "done")

    def _clip(self, pipe, plan: AnimatePlan, ci: int, clip: Clip, ctx: JobContext) -> Iterator[FrameOut]:
        from . import preprocess
        from .context import clamped_windows, uniform_windows
        from .pipeline import SampleOptions

        cfg = plan.cfg
        assert cfg is not None
        seg = plan.segments[clip.segment]
        kh, kw = seg.key_a.shape[:2]
        box = model_frame(kw, kh, cfg.run.width, cfg.run.height, cfg.vae_factor)
        W, H = box.dst_w, box.dst_h
        transparent = imaging.has_transparency(seg.key_a, seg.key_b)
        matte = imaging.choose_matte_colour([seg.key_a, seg.key_b]) if transparent else imaging.BACKGROUND
        ref_rgb = reference_image(seg.key_a if clip.reference == "a" else seg.key_b, box, matte)
        stage = f"clip {ci + 1}/{len(plan.clips)}" if len(plan.clips) > 1 else "clip"
        done = ci * plan.steps
        total = max(1, len(plan.clips) * plan.steps)
        ctx.progress(done / total, f"{stage}: reference and poses")

        frames = len(clip.poses)
        poses = [preprocess.resize_pose(pose_image(p, box), W, H) for p in clip.poses]
        feats = pipe.prepare(ref_rgb, W, H, plan.guidance)
        pose_fea = pipe.pose_features(preprocess.pose_tensor(poses))
        lh, lw = cfg.latent_size(H, W)
        gen = torch.Generator().manual_seed(int(plan.shot.options.seed) + ci)
        noise = torch.randn((1, 4, frames, lh, lw), generator=gen)
        size, overlap = cfg.run.context_frames, cfg.run.context_overlap
        windows = (uniform_windows(frames, size, cfg.run.context_stride, overlap) if plan.loop
                   else clamped_windows(frames, size, overlap))
        ctx.check_cancelled()

        preview = None
        if ctx.previews:
            latent = feats.latents.float().cpu().numpy()
            preview = imaging.LatentPreview.fit(latent, ref_rgb[None].astype(np.float32))
        last_preview: float | None = None
        x = noise
        opts = SampleOptions(plan.steps, plan.guidance, windows)
        for state in pipe.sample_steps(feats, pose_fea, noise, opts):
            x = state.x
            ctx.progress((done + state.index + 1) / total, f"{stage}: step {state.index + 1}/{state.total}")
            ctx.check_cancelled()
            now = time.monotonic()
            if (preview is not None and state.index < state.total - 1
                    and (last_preview is None or now - last_preview >= PREVIEW_INTERVAL_S)):
                guess = state.pred_x0[0].transpose(0, 1).float().cpu().numpy()  # (frames, 4, h, w)
                rgb = preview.render(guess[[p for p, _ in clip.keep]], H, W)
                for (_, i), frame in zip(clip.keep, rgb):
                    yield FrameOut(seg.inbetweens[i].frame, self._to_canvas(frame, box, matte, transparent),
                                   preview=True)
                last_preview = time.monotonic()
        ctx.check_cancelled()
        ctx.progress((done + plan.steps) / total, f"{stage}: decoding")
        video = pipe.decode(x[:, :, [p for p, _ in clip.keep]])[0].cpu().numpy()  # (3, kept, H, W)
        for k, (_, i) in enumerate(clip.keep):
            frame = video[:, k].transpose(1, 2, 0) * 255.0
            yield FrameOut(seg.inbetweens[i].frame, self._to_canvas(frame, box, matte, transparent))

    @staticmethod
    def _to_canvas(frame: np.ndarray, box, matte: np.ndarray, transparent: bool) -> np.ndarray:
        """A model-frame RGB image in [0, 255] -> RGBA uint8 at the canvas size."""
        back = box.backward(np.ascontiguousarray(frame, dtype=np.float32))
        if transparent:
            return imaging.recover_alpha(back, matte)
        rgba = np.concatenate([np.clip(back, 0, 255), np.full(back.shape[:2] + (1,), 255.0)], axis=2)
        return np.round(rgba).astype(np.uint8)


def availability_of(inst: Installed) -> Availability:
    """The probe's answer for the files (the runtime is there: this module imported)."""
    if inst.ok:
        return Availability(True)
    return Availability(False, missing_files_reason(inst))
