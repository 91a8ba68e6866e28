"""A fault-injection backend, registered only when INBETWEEN_FAULT_INJECTION=1.

Real backends fail in ways tests cannot provoke on demand (CUDA out of memory, a bug deep
in a model); this one fails exactly as asked, through the same worker path, so the tests
can prove that a failing job gets a clear error, the engine lives, and the model is unloaded
after an out-of-memory error. It is never visible to users.
"""

from __future__ import annotations

import os
import time
from typing import Iterator

import numpy as np

from .base import Backend, BackendInfo, FrameOut, JobContext, Plan

ENV = "INBETWEEN_FAULT_INJECTION"


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError, which the worker recognises by name."""


class FaultBackend(Backend):
    """Options: `fault` = "raise" | "oom" | "memoryerror" | "none", `after` = frames before it."""

    worker = "cpu"

    def __init__(self, config) -> None:
        super().__init__(config)
        self.loaded = False

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(name="faults", description="fault injection for tests")

    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        self.loaded = True  # as if a model had been loaded for this job
        fault = plan.shot.options.extra.get("fault", "none")
        after = int(plan.shot.options.extra.get("after", 0))
        delay = float(plan.shot.options.extra.get("delay", 0.0))
        n = 0
        for seg in plan.segments:
            for ib in seg.inbetweens:
                ctx.check_cancelled()
                if n == after:
                    if fault == "raise":
                        raise ValueError("injected failure in the backend")
                    if fault == "oom":
                        raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
                    if fault == "memoryerror":
                        raise MemoryError()
                time.sleep(delay)
                yield FrameOut(ib.frame, np.where(ib.t < 0.5, seg.key_a, seg.key_b))
                n += 1

    def loaded_models(self) -> list[str]:
        return ["fault-model"] if self.loaded else []

    def unload(self) -> None:
        self.loaded = False
