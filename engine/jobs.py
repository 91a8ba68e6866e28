"""Jobs and the fair queue that orders them.

Each device has one queue and one worker. Jobs are kept per client and the worker takes
them round-robin across clients, so a client that queues twenty jobs cannot starve one that
queues a single job: the second client's job runs after at most one job of the first.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable

from inbetween_client.errors import ErrorCode

from .backends.base import Backend, JobContext, Plan
from .request import OutputSpec

_job_ids = itertools.count(1)


def new_job_id() -> str:
    return f"j{next(_job_ids)}"


@dataclass
class Job:
    id: str
    client: str
    backend: Backend
    plan: Plan
    output: OutputSpec
    ctx: JobContext = field(default_factory=JobContext)
    submitted: float = field(default_factory=time.monotonic)
    state: str = "queued"  # queued -> running -> done | failed | cancelled
    cancel_reason: str = "job cancelled"
    #: the error code the job ends with once cancelled: `cancelled` when its client asked (or
    #: left), `shutting_down` when the engine is stopping, so clients can tell engine loss apart
    cancel_code: str = ErrorCode.CANCELLED

    @property
    def cancelled(self) -> bool:
        return self.ctx.cancelled()

    def cancel(self, reason: str = "job cancelled", code: str = ErrorCode.CANCELLED) -> None:
        if not self.ctx.cancel_event.is_set():
            self.cancel_reason = reason
            self.cancel_code = code
        self.ctx.cancel_event.set()

    def describe(self) -> dict:
        return {
            "job": self.id,
            "client": self.client,
            "backend": self.backend.info.name,
            "frames": self.plan.frame_count,
            "state": self.state,
        }


class FairQueue:
    """Per-client FIFO queues served round-robin. Thread-safe; `pop` blocks."""

    def __init__(self) -> None:
        self._by_client: OrderedDict[str, deque[Job]] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, job: Job) -> None:
        with self._cond:
            self._by_client.setdefault(job.client, deque()).append(job)
            self._cond.notify()

    def pop(self, timeout: float | None = None) -> Job | None:
        """Next job in round-robin order; None when closed or on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._by_client and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._closed:
                return None
            client, jobs = next(iter(self._by_client.items()))
            job = jobs.popleft()
            # the served client goes to the back of the rotation
            del self._by_client[client]
            if jobs:
                self._by_client[client] = jobs
            return job

    def remove(self, predicate: Callable[[Job], bool]) -> list[Job]:
        """Take out every queued job matching `predicate` (for cancel and disconnect)."""
        removed: list[Job] = []
        with self._cond:
            for client in list(self._by_client):
                jobs = self._by_client[client]
                keep = deque(j for j in jobs if not predicate(j))
                removed.extend(j for j in jobs if predicate(j))
                if keep:
                    self._by_client[client] = keep
                else:
                    del self._by_client[client]
        return removed

    def order(self) -> list[Job]:
        """Queued jobs in the order they will run (round-robin simulated on a copy)."""
        with self._cond:
            queues = [list(q) for q in self._by_client.values()]
        out: list[Job] = []
        depth = 0
        while True:
            layer = [q[depth] for q in queues if depth < len(q)]
            if not layer:
                return out
            out.extend(layer)
            depth += 1

    def count(self, client: str) -> int:
        with self._cond:
            return len(self._by_client.get(client, ()))

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
