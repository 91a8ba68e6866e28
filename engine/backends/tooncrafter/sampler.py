"""DDIM sampling as the reference does it: v-prediction, zero-terminal-SNR schedule, trailing
timesteps, eta 1.0, classifier-free guidance with guidance rescale, dynamic rescale of x0.

diffusers' `DDIMScheduler` gives the trailing timesteps; what it lacks (the reference's
previous-alpha rule on uneven spacings, which uses the previous *sampled* timestep and
alphas_cumprod[0] at the end, the dynamic x0 rescale, float32 evaluation order of the step
scalars) is written here. Every random draw can be supplied (`noise_x_T`, `step_noise`), like
diffusers' `latents=`, so a run is reproducible bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch

from .config import ScheduleConfig


@dataclass
class DiffusionSchedule:
    """The model's 1000-step buffers (float32, as stored in the checkpoint)."""

    alphas_cumprod: torch.Tensor
    sqrt_alphas_cumprod: torch.Tensor
    sqrt_one_minus_alphas_cumprod: torch.Tensor
    scale_arr: torch.Tensor

    @classmethod
    def compute(cls, cfg: ScheduleConfig) -> "DiffusionSchedule":
        """The reference's buffers computed from the config (float64, stored float32)."""
        betas = np.linspace(cfg.linear_start ** 0.5, cfg.linear_end ** 0.5, cfg.timesteps, dtype=np.float64) ** 2
        if cfg.zero_terminal_snr:
            betas = zero_terminal_snr(betas)
        ac = np.cumprod(1.0 - betas, axis=0)
        scale = np.concatenate([np.linspace(1.0, cfg.base_scale, cfg.turning_step),
                                np.full(cfg.timesteps, cfg.base_scale)])
        f32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
        return cls(f32(ac), f32(np.sqrt(ac)), f32(np.sqrt(1.0 - ac)), f32(scale))

    @classmethod
    def from_buffers(cls, buffers: dict[str, torch.Tensor], cfg: ScheduleConfig) -> "DiffusionSchedule":
        need = ("alphas_cumprod", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod", "scale_arr")
        if not all(k in buffers for k in need):
            return cls.compute(cfg)
        return cls(*(buffers[k].float().cpu() for k in need))


def zero_terminal_snr(betas: np.ndarray) -> np.ndarray:
    """Rescale betas so the last timestep has zero SNR (Lin et al. 2023, Algorithm 1)."""
    alphas_bar_sqrt = np.sqrt(np.cumprod(1.0 - betas, axis=0))
    first, last = alphas_bar_sqrt[0].copy(), alphas_bar_sqrt[-1].copy()
    alphas_bar_sqrt -= last
    alphas_bar_sqrt *= first / (first - last)
    alphas_bar = alphas_bar_sqrt ** 2
    alphas = np.concatenate([alphas_bar[0:1], alphas_bar[1:] / alphas_bar[:-1]])
    return 1.0 - alphas


def trailing_timesteps(steps: int, train_steps: int = 1000) -> np.ndarray:
    """Ascending trailing DDIM timesteps, e.g. [332, 666, 999] for 3 steps (via diffusers)."""
    try:
        from diffusers import DDIMScheduler

        sched = DDIMScheduler(num_train_timesteps=train_steps, timestep_spacing="trailing")
        sched.set_timesteps(steps)
        return np.sort(sched.timesteps.numpy().astype(np.int64))
    except ImportError:  # same formula, if diffusers is missing
        c = train_steps / steps
        return np.flip(np.round(np.arange(train_steps, 0, -c))).astype(np.int64) - 1


@dataclass
class DDIMPlan:
    """Per-DDIM-step scalars, indexed like the reference (`index` 0 = smallest t)."""

    timesteps: torch.Tensor  # int64, ascending
    alphas: torch.Tensor
    alphas_prev: torch.Tensor
    sigmas: torch.Tensor
    sqrt_one_minus_alphas: torch.Tensor
    scale_arr: torch.Tensor
    scale_arr_prev: torch.Tensor

    @classmethod
    def make(cls, sched: DiffusionSchedule, steps: int, eta: float = 1.0) -> "DDIMPlan":
        ts = trailing_timesteps(steps, sched.alphas_cumprod.shape[0])
        ac = sched.alphas_cumprod
        alphas = ac[ts]
        prev = np.asarray([ac[0].item()] + ac[ts[:-1]].tolist(), dtype=np.float64)
        a64 = alphas.double().numpy()
        sigmas = eta * np.sqrt((1 - prev) / (1 - a64) * (1 - a64 / prev))
        scale = sched.scale_arr[ts]
        return cls(
            timesteps=torch.from_numpy(ts.copy()), alphas=alphas,
            alphas_prev=torch.tensor(prev, dtype=torch.float32),
            sigmas=torch.tensor(sigmas, dtype=torch.float32),
            sqrt_one_minus_alphas=torch.tensor(np.sqrt(1.0 - a64), dtype=torch.float32),
            scale_arr=scale, scale_arr_prev=torch.cat([scale[0:1], scale[:-1]]),
        )

    @property
    def steps(self) -> int:
        return int(self.timesteps.shape[0])

    def sampling_order(self) -> list[int]:
        return [int(t) for t in self.timesteps.flip(0)]


def rescale_guidance(v: torch.Tensor, v_cond: torch.Tensor, rescale: float) -> torch.Tensor:
    """Guidance rescale (Lin et al. 2023): pull the CFG output's std towards the conditional one."""
    dims = list(range(1, v.ndim))
    std_cond = v_cond.std(dim=dims, keepdim=True)
    std_cfg = v.std(dim=dims, keepdim=True)
    return rescale * (v * (std_cond / std_cfg)) + (1 - rescale) * v


@dataclass
class StepRecord:
    v_cond: torch.Tensor
    v_uncond: torch.Tensor | None
    pred_x0: torch.Tensor
    x_prev: torch.Tensor


@dataclass
class SamplerOptions:
    guidance: float = 7.5
    guidance_rescale: float = 0.7
    eta: float = 1.0
    dynamic_rescale: bool = True
    record: bool = False
    records: list[StepRecord] = field(default_factory=list)


#: (x, t, step_index) -> (v_cond, v_uncond or None)
DenoiseFn = Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor | None]]


def ddim_step(x: torch.Tensor, v: torch.Tensor, t: int, index: int, plan: DDIMPlan,
              sched: DiffusionSchedule, noise: torch.Tensor, dynamic_rescale: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One reference DDIM step; scalars as float32 tensors in the reference's evaluation order."""
    dev = x.device
    f = lambda a: a.to(device=dev, dtype=torch.float32)  # noqa: E731
    sa, s1a = f(sched.sqrt_alphas_cumprod[t]), f(sched.sqrt_one_minus_alphas_cumprod[t])
    x, v = x.float(), v.float()
    e_t = sa * v + s1a * x
    pred_x0 = sa * x - s1a * v
    if dynamic_rescale:
        pred_x0 = pred_x0 * (f(plan.scale_arr_prev[index]) / f(plan.scale_arr[index]))
    a_prev, sigma = f(plan.alphas_prev[index]), f(plan.sigmas[index])
    dir_xt = (1.0 - a_prev - sigma ** 2).sqrt() * e_t
    x_prev = a_prev.sqrt() * pred_x0 + dir_xt + sigma * noise.to(device=dev, dtype=torch.float32)
    return x_prev, pred_x0


@dataclass
class StepState:
    """The sampler after one step: `x` goes on to the next step; `pred_x0` is the current guess
    of the clean latent (what a preview shows)."""

    index: int  # sampling step, 0 first
    total: int
    x: torch.Tensor
    pred_x0: torch.Tensor


def iterate(denoise: DenoiseFn, x_T: torch.Tensor, plan: DDIMPlan, sched: DiffusionSchedule,
            opts: SamplerOptions, step_noise: Callable[[int], torch.Tensor]) -> Iterator[StepState]:
    """The DDIM loop from x_T, one step per iteration; `step_noise(i)` gives the eta noise of
    sampling step i. A generator, so callers can emit previews or stop between steps."""
    x = x_T.float()
    order = plan.sampling_order()
    for i, t in enumerate(order):
        index = plan.steps - 1 - i
        ts = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        v_c, v_u = denoise(x, ts, i)
        if v_u is None:
            v = v_c.float()
        else:
            v_c, v_u = v_c.float(), v_u.float()
            v = v_u + opts.guidance * (v_c - v_u)
            if opts.guidance_rescale > 0:
                v = rescale_guidance(v, v_c, opts.guidance_rescale)
        x_new, pred_x0 = ddim_step(x, v, t, index, plan, sched, step_noise(i), opts.dynamic_rescale)
        if opts.record:
            opts.records.append(StepRecord(v_c, v_u, pred_x0, x_new))
        x = x_new
        yield StepState(i, len(order), x, pred_x0)
