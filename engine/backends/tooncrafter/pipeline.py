"""ToonCrafter inference: conditioning, (sketch-guided) DDIM sampling and dual-reference decoding.

Follows the reference call order exactly (text -> VAE encode with the posterior draw ->
CLIP image -> Resampler -> DDIM (x_T, then one eta draw per step) -> decode, then the
reference's re-decode of 14 frames whose middle two replace frames T/2-1 and T/2).

Memory: weights live in fp16/bf16 on the GPU; the text/vision towers and the Resampler can be
moved off the device once the context is built (`offload_encoders`), the UNet can go to the CPU
between steps (`offload_unet`), and the VAE works in frame chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from .loading import ToonCrafterModel
from .sampler import DDIMPlan, SamplerOptions, StepRecord, StepState, iterate
from .sketch_encoder import SketchEncoder


@dataclass
class Conditioning:
    context_cond: torch.Tensor  # (B, 77 + T*q, C)
    context_uncond: torch.Tensor
    c_concat: torch.Tensor  # (B, 4, T, h, w)
    refs: list[torch.Tensor]
    z: torch.Tensor


@dataclass
class SketchGuide:
    hint: torch.Tensor  # (B, 1, T, H, W), lines = 1.0
    frames: list[int] | None  # frames that get residuals; None = every frame (the reference)
    scale: float = 0.6


@dataclass
class RunOptions:
    steps: int = 50
    guidance: float = 7.5
    guidance_rescale: float = 0.7
    eta: float = 1.0
    fs: int = 10
    redecode_middle: bool = True
    record: bool = False


class ToonCrafterPipeline:
    def __init__(self, model: ToonCrafterModel, sketch_encoder: SketchEncoder | None = None,
                 device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                 offload_encoders: bool = False, offload_unet: bool = False,
                 vae_frame_chunk: int | None = None) -> None:
        self.model = model
        self.sketch_encoder = sketch_encoder
        self.device = torch.device(device)
        self.dtype = dtype
        self.offload_encoders = offload_encoders
        self.offload_unet = offload_unet
        self.vae_frame_chunk = vae_frame_chunk
        self.records: list[StepRecord] = []

    # -- conditioning -------------------------------------------------------------------
    def _on_device(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(self.device)

    def _release(self, module: torch.nn.Module) -> None:
        if self.offload_encoders and self.device.type != "cpu":
            module.to("cpu")
            torch.cuda.empty_cache()

    @torch.inference_mode()
    def text_embedding(self, tokens: torch.Tensor) -> torch.Tensor:
        tower = self._on_device(self.model.text)
        out = tower(tokens.to(self.device)).float()
        self._release(tower)
        return out

    @torch.inference_mode()
    def clip_tokens(self, image: torch.Tensor) -> torch.Tensor:
        tower = self._on_device(self.model.vision)
        out = tower(image.to(self.device)).float()
        self._release(tower)
        return out

    @torch.inference_mode()
    def image_embedding(self, clip_tokens: torch.Tensor) -> torch.Tensor:
        res = self._on_device(self.model.resampler)
        out = res(clip_tokens.to(self.device)).float()
        self._release(res)
        return out

    @torch.inference_mode()
    def encode_video(self, video: torch.Tensor, noise: torch.Tensor):
        enc = self._on_device(self.model.vae_encoder)
        out = enc(video.to(self.device), noise.to(self.device), frame_chunk=self.vae_frame_chunk or 4)
        self._release(enc)
        return out

    @torch.inference_mode()
    def condition(self, key_first: torch.Tensor, key_last: torch.Tensor, tokens_cond: torch.Tensor,
                  tokens_uncond: torch.Tensor, noise_posterior: torch.Tensor, frames: int) -> Conditioning:
        """key_*: (B, 3, H, W) in [-1, 1]; the clip is frames/2 copies of each key."""
        text_c = self.text_embedding(tokens_cond)
        text_u = self.text_embedding(tokens_uncond)
        half = frames // 2
        video = torch.stack([key_first] * half + [key_last] * (frames - half), dim=2)
        enc = self.encode_video(video, noise_posterior)
        img_c = self.image_embedding(self.clip_tokens(key_first))
        img_u = self.image_embedding(self.clip_tokens(torch.zeros_like(key_first)))
        c_concat = torch.zeros_like(enc.z)
        c_concat[:, :, 0] = enc.z[:, :, 0]
        c_concat[:, :, -1] = enc.z[:, :, -1]
        return Conditioning(torch.cat([text_c, img_c], dim=1), torch.cat([text_u, img_u], dim=1),
                            c_concat, enc.refs, enc.z)

    # -- denoising ----------------------------------------------------------------------
    @torch.inference_mode()
    def control_residuals(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                          guide: SketchGuide) -> list[torch.Tensor]:
        """Scaled residuals for every frame (zeros on frames without a sketch)."""
        assert self.sketch_encoder is not None
        b, c, frames, h, w = x.shape
        sel = list(range(frames)) if guide.frames is None else list(guide.frames)
        xs = x[:, :, sel].transpose(1, 2).reshape(b * len(sel), c, h, w)
        hint = guide.hint[:, :, sel].transpose(1, 2).reshape(b * len(sel), -1, *guide.hint.shape[-2:])
        ctx = context.repeat_interleave(len(sel), dim=0)
        raw = self.sketch_encoder(xs.to(self.device), hint.to(self.device), t[:1].to(self.device), ctx)
        if guide.frames is None:
            return [r * guide.scale for r in raw]
        out = []
        for r in raw:
            full = r.new_zeros((b, frames) + tuple(r.shape[1:]))
            full[:, sel] = r.view(b, len(sel), *r.shape[1:]) * guide.scale
            out.append(full.view(b * frames, *r.shape[1:]))
        return out

    @torch.inference_mode()
    def unet(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor, c_concat: torch.Tensor,
             fs: torch.Tensor, guide: SketchGuide | None = None) -> torch.Tensor:
        control = None
        if guide is not None and self.sketch_encoder is not None:
            control = self.control_residuals(x, t, context, guide)
        inp = torch.cat([x, c_concat], dim=1).to(self.device)
        return self.model.unet(inp, t.to(self.device), context.to(self.device), fs.to(self.device), control).float()

    # -- sampling -------------------------------------------------------------------------
    def sample_steps(self, cond: Conditioning, noise_x_T: torch.Tensor,
                     step_noise: Callable[[int], torch.Tensor], opts: RunOptions,
                     guide: SketchGuide | None = None) -> Iterator[StepState]:
        """The DDIM loop, one state per step (the caller may stop between steps)."""
        sched = self.model.schedule
        assert sched is not None
        plan = DDIMPlan.make(sched, opts.steps, opts.eta)
        b = noise_x_T.shape[0]
        fs = torch.full((b,), opts.fs, dtype=torch.long)
        use_cfg = opts.guidance != 1.0

        def denoise(x: torch.Tensor, t: torch.Tensor, i: int):
            if self.offload_unet and self.device.type != "cpu":
                self.model.unet.to(self.device)
            v_c = self.unet(x, t, cond.context_cond, cond.c_concat, fs, guide)
            v_u = self.unet(x, t, cond.context_uncond, cond.c_concat, fs, guide) if use_cfg else None
            if self.offload_unet and self.device.type != "cpu":
                self.model.unet.to("cpu")
            return v_c, v_u

        sopts = SamplerOptions(opts.guidance, opts.guidance_rescale, opts.eta, record=opts.record)
        self.records = sopts.records
        steps = iterate(denoise, noise_x_T.to(self.device), plan, sched, sopts, step_noise)
        while True:
            with torch.inference_mode():  # not across the yield: the caller's code is its own
                state = next(steps, None)
            if state is None:
                return
            yield state

    def sample(self, cond: Conditioning, noise_x_T: torch.Tensor, step_noise: Callable[[int], torch.Tensor],
               opts: RunOptions, guide: SketchGuide | None = None,
               on_step: Callable[[int, int, torch.Tensor], None] | None = None) -> torch.Tensor:
        """The whole loop; returns the final latent."""
        x = noise_x_T.to(self.device).float()
        for state in self.sample_steps(cond, noise_x_T, step_noise, opts, guide):
            x = state.x
            if on_step is not None:
                on_step(state.index, state.total, x)
        return x

    # -- decoding -------------------------------------------------------------------------
    @torch.inference_mode()
    def decode_frames(self, z: torch.Tensor, refs: list[torch.Tensor]) -> torch.Tensor:
        """z: (B, C, T, h, w) scaled latents -> (B, 3, T, H, W) in about [-1, 1]."""
        b, c, t, h, w = z.shape
        flat = z.transpose(1, 2).reshape(b * t, c, h, w).to(self.device)
        flat = flat * (1.0 / self.model.cfg.schedule.scale_factor)
        dec = self.model.decoder(flat, [r.to(self.device) for r in refs], t, self.vae_frame_chunk)
        return dec.float().view(b, t, *dec.shape[1:]).transpose(1, 2)

    @torch.inference_mode()
    def decode(self, z: torch.Tensor, refs: list[torch.Tensor], redecode_middle: bool = True) -> torch.Tensor:
        video = self.decode_frames(z, refs)
        t = z.shape[2]
        if redecode_middle and t >= 4:
            index = [i for i in range(t) if i not in (1, t - 2)]
            mid = self.decode_frames(z[:, :, index], refs)
            video[:, :, t // 2 - 1:t // 2 + 1] = mid[:, :, t // 2 - 2:t // 2]
        return video

    def middle_frames_of_redecode(self, z: torch.Tensor, refs: list[torch.Tensor]) -> torch.Tensor:
        t = z.shape[2]
        index = [i for i in range(t) if i not in (1, t - 2)]
        mid = self.decode_frames(z[:, :, index], refs)
        return mid[:, :, t // 2 - 2:t // 2]
