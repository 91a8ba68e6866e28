"""Animate Anyone inference: reference features once, windowed CFG denoising, chunked decode.

Call order (the reference's, see the parity fixture's README): CLIP image embeds of the
reference drawing; its VAE latents (posterior mean x 0.18215); pose features of every frame;
the ReferenceNet once at timestep 0 -> the bank; then per DDIM step and per context window the
denoising UNet on `[uncond, cond]` (zero image embeds and no reference for uncond), window
outputs averaged per frame, CFG, one DDIM step on every frame; finally a per-frame decode.
The only random draw is the initial noise, which the caller makes (on the CPU, seeded).

Memory on a GPU: weights in fp16/bf16; the image encoder and the ReferenceNet visit the device
only while the reference features are made (`offload_encoders`), and the bank they leave is a
few MB; the feed-forwards run on `ff_chunk_tokens` tokens at a time; the VAE decodes
`vae_frame_chunk` frames at a time; `offload_unet` keeps the UNet on the CPU and moves one unit
(resnet, transformer, motion module) at a time to the device during each call (slow, for cards
that cannot hold the UNet and a step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from diffusers import DDIMScheduler

from . import preprocess
from .loading import AnimateAnyoneModel
from .unet import walk_units


#: frames per VAE decode chunk and tokens per feed-forward chunk on a GPU: chosen with
#: bench/animate_anyone_memory.py (full size, fp16), see docs/animate_anyone.md
VAE_FRAME_CHUNK = 4
FF_CHUNK_TOKENS = 1 << 16


@dataclass
class ReferenceFeatures:
    """What the reference drawing gives every step and window of a segment."""

    embeds: torch.Tensor  # (1, D) CLIP image embeds (cond)
    latents: torch.Tensor  # (1, 4, h, w) scaled VAE latents
    banks: dict[str, torch.Tensor]  # block path -> (1, tokens, C), cond only
    cfg: bool  # features made for classifier-free guidance


@dataclass
class SampleOptions:
    steps: int
    guidance: float
    windows: list[list[int]]
    record: bool = False  # keep every window's raw UNet output in the step states


@dataclass
class StepState:
    index: int
    total: int
    t: int
    x: torch.Tensor  # latents after this step (1, 4, L, h, w)
    pred_x0: torch.Tensor
    noise_pred: torch.Tensor  # guided v (1, 4, L, h, w)
    window_outputs: list[torch.Tensor] | None = None  # raw (B, 4, F, h, w) per window


def make_scheduler(kwargs: dict, steps: int) -> DDIMScheduler:
    sched = DDIMScheduler(**kwargs)
    sched.set_timesteps(steps)
    return sched


class BlockOffload:
    """Keeps a UNet on the CPU and moves each unit its walk calls (a resnet, a transformer, a
    motion module, ...) to `device` only for that unit's forward: the weights resident on the
    device are one unit's, not the whole UNet's."""

    def __init__(self, unet: torch.nn.Module, device: torch.device) -> None:
        self.device = device
        self.handles = []
        for unit in walk_units(unet):
            self.handles.append(unit.register_forward_pre_hook(self._enter))
            self.handles.append(unit.register_forward_hook(self._exit))
        unet.to("cpu")

    def _enter(self, module: torch.nn.Module, args) -> None:
        module.to(self.device)

    @staticmethod
    def _exit(module: torch.nn.Module, args, output) -> None:
        module.to("cpu")

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []


class AnimateAnyonePipeline:
    def __init__(self, model: AnimateAnyoneModel, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32, offload_encoders: bool = False,
                 offload_unet: bool = False, vae_frame_chunk: int | None = 4,
                 ff_chunk_tokens: int | None = None) -> None:
        self.model = model
        self.cfg = model.cfg
        self.device = torch.device(device)
        self.dtype = dtype
        self.offload_encoders = offload_encoders
        self.vae_frame_chunk = vae_frame_chunk
        self._offload: BlockOffload | None = None
        self.set_unet_offload(offload_unet)
        model.denoising.set_feed_forward_chunk(ff_chunk_tokens)

    def set_unet_offload(self, on: bool) -> None:
        if on and self._offload is None and self.device.type != "cpu":
            self._offload = BlockOffload(self.model.denoising.unet, self.device)
        elif not on and self._offload is not None:
            self._offload.remove()
            self._offload = None
            self.model.denoising.to(self.device)

    # -- conditioning ---------------------------------------------------------------------
    def _visit(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(self.device)

    def _leave(self, module: torch.nn.Module) -> None:
        if self.offload_encoders and self.device.type != "cpu":
            module.to("cpu")
            torch.cuda.empty_cache()

    @torch.inference_mode()
    def image_encoder_outputs(self, pixels: torch.Tensor):
        """(1, 3, 224, 224) normalised pixels -> the transformers output (image_embeds, ...)."""
        enc = self._visit(self.model.image_encoder)
        out = enc(pixel_values=pixels.to(self.device, self.dtype))
        self._leave(enc)
        return out

    def image_embeds(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.image_encoder_outputs(pixels).image_embeds.float()

    @torch.inference_mode()
    def encode_reference(self, image: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) in [-1, 1] -> scaled posterior mean (1, 4, h, w), float32."""
        dist = self.model.vae.encode(image.to(self.device, self.dtype)).latent_dist
        return dist.mean.float() * self.cfg.latent_scale

    @torch.inference_mode()
    def pose_features(self, poses: torch.Tensor) -> torch.Tensor:
        """(1, 3, F, H, W) in [0, 1] -> (1, C0, F, h, w), in the UNet's dtype."""
        b, c, f, h, w = poses.shape
        frames = poses.transpose(1, 2).reshape(b * f, c, h, w).to(self.device, self.dtype)
        out = self.model.pose_guider(frames)
        return out.view(b, f, *out.shape[1:]).transpose(1, 2)

    @torch.inference_mode()
    def reference_banks(self, latents: torch.Tensor, encoder_hidden_states: torch.Tensor) -> dict[str, torch.Tensor]:
        """ReferenceNet at timestep 0 -> per block its `norm1` output (B, tokens, C) as written."""
        net = self._visit(self.model.reference)
        banks = net(latents.to(self.device), encoder_hidden_states.to(self.device))
        self._leave(net)
        return banks

    def prepare(self, reference_rgb: np.ndarray, width: int, height: int, guidance: float,
                path: str = "long") -> ReferenceFeatures:
        """The reference drawing (uint8 RGB, any size) -> embeds, latents and bank for a segment."""
        pixels = preprocess.clip_pixels(preprocess.clip_crop(reference_rgb, path))
        embeds = self.image_embeds(pixels)
        resized = preprocess.resize_reference(reference_rgb, width, height)
        latents = self.encode_reference(preprocess.reference_tensor(resized))
        banks = self.reference_banks(latents, embeds.unsqueeze(1))  # cond only: uncond never reads it
        return ReferenceFeatures(embeds, latents, banks, guidance > 1.0)

    # -- denoising --------------------------------------------------------------------------
    def encoder_states(self, feats: ReferenceFeatures) -> torch.Tensor:
        e = feats.embeds.unsqueeze(1).to(self.device)
        return torch.cat([torch.zeros_like(e), e]) if feats.cfg else e

    @torch.inference_mode()
    def unet(self, x: torch.Tensor, t: torch.Tensor, encoder_hidden_states: torch.Tensor,
             pose: torch.Tensor | None, banks: dict[str, torch.Tensor] | None, uncond_batches: int) -> torch.Tensor:
        out = self.model.denoising(x.to(self.device), t, encoder_hidden_states.to(self.device),
                                   None if pose is None else pose.to(self.device), banks, uncond_batches)
        return out.float()

    @torch.inference_mode()
    def window_outputs(self, x: torch.Tensor, t: torch.Tensor, feats: ReferenceFeatures, pose_fea: torch.Tensor,
                       window: list[int]) -> torch.Tensor:
        """Raw UNet output (B, 4, F, h, w) for one window ([uncond, cond] when guided)."""
        b = 2 if feats.cfg else 1
        xw = x[:, :, window].repeat(b, 1, 1, 1, 1)
        pw = pose_fea[:, :, window].repeat(b, 1, 1, 1, 1)
        return self.unet(xw, t, self.encoder_states(feats), pw, feats.banks, 1 if feats.cfg else 0)

    @torch.inference_mode()
    def guided(self, x: torch.Tensor, t: torch.Tensor, feats: ReferenceFeatures, pose_fea: torch.Tensor,
               guidance: float, windows: list[list[int]], record: bool = False):
        """Window outputs summed per frame / count (before CFG, as the reference), then CFG."""
        b = 2 if feats.cfg else 1
        _, c, frames, h, w = x.shape
        total = torch.zeros((b, c, frames, h, w), device=self.device)
        count = torch.zeros((1, 1, frames, 1, 1), device=self.device)
        kept = [] if record else None
        for win in windows:
            out = self.window_outputs(x, t, feats, pose_fea, win)
            total[:, :, win] += out
            count[:, :, win] += 1
            if kept is not None:
                kept.append(out)
        pred = total / count
        if feats.cfg:
            uncond, cond = pred.chunk(2)
            pred = uncond + guidance * (cond - uncond)
        return pred, kept

    def sample_steps(self, feats: ReferenceFeatures, pose_fea: torch.Tensor, noise: torch.Tensor,
                     opts: SampleOptions) -> Iterator[StepState]:
        """The DDIM loop from `noise` (1, 4, L, h, w), one state per step (the caller may stop
        between steps; nothing is held in inference mode across a yield)."""
        sched = make_scheduler(self.cfg.scheduler, opts.steps)
        x = noise.to(self.device, torch.float32)
        for i, t in enumerate(sched.timesteps):
            with torch.inference_mode():
                v, kept = self.guided(x, t, feats, pose_fea, opts.guidance, opts.windows, opts.record)
                out = sched.step(v, t, x, eta=0.0)
                x = out.prev_sample
            yield StepState(i, len(sched.timesteps), int(t), x, out.pred_original_sample, v, kept)

    def sample(self, feats: ReferenceFeatures, pose_fea: torch.Tensor, noise: torch.Tensor,
               opts: SampleOptions) -> torch.Tensor:
        x = noise
        for state in self.sample_steps(feats, pose_fea, noise, opts):
            x = state.x
        return x

    # -- decoding ---------------------------------------------------------------------------
    @torch.inference_mode()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(1, 4, L, h, w) -> (1, 3, L, H, W) float32 in [0, 1], `vae_frame_chunk` frames at a time."""
        b, c, frames, h, w = latents.shape
        z = latents.transpose(1, 2).reshape(b * frames, c, h, w) * (1 / self.cfg.latent_scale)
        chunk = self.vae_frame_chunk or b * frames
        parts = []
        for s in range(0, b * frames, chunk):
            dec = self.model.vae.decode(z[s:s + chunk].to(self.device, self.dtype)).sample
            parts.append((dec.float() / 2 + 0.5).clamp(0, 1))
        video = torch.cat(parts)
        return video.view(b, frames, *video.shape[1:]).transpose(1, 2)
