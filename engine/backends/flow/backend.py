"""Adapter from the engine's backend interface to the flow in-betweening functions."""

from __future__ import annotations

from typing import Iterator

from ..base import Backend, BackendInfo, FrameOut, JobContext, Plan
from .interpolate import interpolate_segment


class FlowBackend(Backend):
    worker = "cpu"

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(
            name="flow",
            description="classical cartoon in-betweening on the CPU (OpenCV, no weights)",
            needs_gpu=False,
            supports_sketches=True,
        )

    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        done = 0
        for seg in plan.segments:
            frames = interpolate_segment(
                seg.key_a, seg.key_b, seg.times, seg.sketches, ctx.check_cancelled
            )
            for ib, rgba in zip(seg.inbetweens, frames):
                done += 1
                yield FrameOut(ib.frame, rgba)
                ctx.progress(done / plan.work_units, f"frame {done}/{plan.work_units}")
