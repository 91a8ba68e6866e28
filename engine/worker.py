"""One worker thread per device: runs jobs from its fair queue, one at a time.

The worker turns everything a backend can do wrong into a job failure with a clear code
(out of memory unloads the model so the next job can retry), so a broken job never takes
the engine down. It reports through a `JobSink`, which the server implements.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from inbetween_client.errors import ErrorCode

from .backends.base import FrameOut
from .errors import EngineError, JobCancelled
from .jobs import FairQueue, Job

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.05


class JobSink(Protocol):
    """Where a worker reports; called from the worker thread."""

    def job_started(self, job: Job) -> None: ...
    def job_progress(self, job: Job, fraction: float, stage: str, eta_s: float | None) -> None: ...
    def job_frame(self, job: Job, frame: FrameOut) -> None: ...
    def job_done(self, job: Job, frames: list[int], stats: dict) -> None: ...
    def job_failed(self, job: Job, code: str, message: str) -> None: ...


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(exc).lower()


class Worker(threading.Thread):
    def __init__(self, name: str, queue: FairQueue, sink: JobSink) -> None:
        super().__init__(name=f"worker-{name}", daemon=True)
        self.device_name = name
        self.queue = queue
        self.sink = sink
        self.current: Job | None = None

    def run(self) -> None:
        while True:
            job = self.queue.pop()
            if job is None:
                return
            self.current = job
            try:
                self._run_job(job)
            finally:
                self.current = None

    def _run_job(self, job: Job) -> None:
        if job.cancelled:
            job.state = "cancelled"
            self.sink.job_failed(job, job.cancel_code, job.cancel_reason)
            return
        job.state = "running"
        self.sink.job_started(job)
        started = time.monotonic()
        last = [0.0]

        def on_progress(fraction: float, stage: str) -> None:
            now = time.monotonic()
            if fraction < 1.0 and now - last[0] < PROGRESS_INTERVAL_S:
                return
            last[0] = now
            elapsed = now - started
            eta = elapsed / fraction * (1.0 - fraction) if fraction > 0 else None
            self.sink.job_progress(job, fraction, stage, eta)

        job.ctx.on_progress = on_progress
        job.ctx.started = started
        job.ctx.previews = job.output.previews
        frames: list[int] = []
        backend_s = 0.0  # time inside the backend only, so clients can tell protocol overhead
        try:
            produced = iter(job.backend.run(job.plan, job.ctx))
            while True:
                t0 = time.perf_counter()
                out = next(produced, None)
                backend_s += time.perf_counter() - t0
                if out is None:
                    break
                job.ctx.check_cancelled()
                self.sink.job_frame(job, out)
                if not out.preview:
                    frames.append(out.frame)
            job.ctx.check_cancelled()
        except JobCancelled:
            job.state = "cancelled"
            self.sink.job_failed(job, job.cancel_code, job.cancel_reason)
            return
        except EngineError as exc:
            job.state = "failed"
            self.sink.job_failed(job, exc.code, exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - any backend fault becomes a job failure
            job.state = "failed"
            if _is_out_of_memory(exc):
                log.warning("job %s ran out of memory; unloading %s", job.id, job.backend.info.name)
                job.backend.unload()
                self.sink.job_failed(
                    job, ErrorCode.OUT_OF_MEMORY,
                    f"{job.backend.info.name} ran out of memory ({exc}); the model was unloaded, "
                    "try fewer frames or a smaller size",
                )
            else:
                log.exception("job %s failed in backend %s", job.id, job.backend.info.name)
                self.sink.job_failed(
                    job, ErrorCode.BACKEND_FAILED,
                    f"{job.backend.info.name} failed: {type(exc).__name__}: {exc}",
                )
            return
        job.state = "done"
        self.sink.job_done(job, frames, {
            **job.ctx.notes,
            "backend_s": backend_s, "run_s": time.monotonic() - started, "frames": len(frames),
        })
