"""The backend interface: what the job queue needs from an in-betweening method.

A backend turns a validated `Shot` into frames. It is split in two steps so the queue can
reject a job before it waits in line (`prepare` is cheap and raises `ShotError` or
`BackendUnavailable`) and so the heavy part (`run`) can stream frames, report progress
and stop between steps when its job is cancelled.
"""

from __future__ import annotations

import abc
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import JobCancelled, ShotError
from ..shot import Segment, Shot


@dataclass(frozen=True)
class EngineConfig:
    """What backends may know of the engine they run in."""

    device: str = "cpu"  # the resolved device for GPU-capable backends: "cpu" or "cuda[:N]"
    models_dir: str = ""
    threads: int = 0  # 0: let the libraries decide


@dataclass(frozen=True)
class BackendInfo:
    """Capabilities, advertised to clients in the `capabilities` message."""

    name: str
    description: str
    needs_gpu: bool = False
    supports_sketches: bool = True
    #: Whether the backend uses the shot's poses; one that does not ignores them (clients say so).
    supports_poses: bool = False
    max_inbetweens_per_segment: int | None = None
    resolution: str = "any size"
    #: The shot options the backend really uses (of seed, steps, guidance, sketch_strength, and
    #: its own extras), so clients show only those instead of keeping their own tables.
    options: tuple[str, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "needs_gpu": self.needs_gpu,
            "supports_sketches": self.supports_sketches,
            "supports_poses": self.supports_poses,
            "max_inbetweens_per_segment": self.max_inbetweens_per_segment,
            "resolution": self.resolution,
            "options": list(self.options),
        }


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


@dataclass(frozen=True)
class FrameOut:
    """A frame produced by a backend: final (`preview=False`) or a preview to show meanwhile."""

    frame: int
    rgba: np.ndarray
    preview: bool = False


@dataclass
class Plan:
    """What `prepare` decided; backends may subclass it to carry more."""

    shot: Shot
    segments: list[Segment]
    work_units: int  # denominator of progress: e.g. frames, or frames x denoising steps

    @property
    def frame_count(self) -> int:
        return sum(len(s.inbetweens) for s in self.segments)


ProgressFn = Callable[[float, str], None]


@dataclass
class JobContext:
    """Handed to `Backend.run`: reports progress and tells whether the job was cancelled."""

    cancel_event: threading.Event = field(default_factory=threading.Event)
    on_progress: ProgressFn | None = None
    previews: bool = True  # the client wants previews; a backend may skip making them otherwise
    started: float = field(default_factory=time.monotonic)
    #: Facts about how the job ran (e.g. flow's `flow_path`), JSON-able scalars. The worker
    #: merges them into the `done` message's stats so clients can show them without asking
    #: the backend; the worker's own keys (backend_s, run_s, frames) win on a clash.
    notes: dict[str, Any] = field(default_factory=dict)
    #: Set by a backend that supports poses but did not follow this job's (why, one line):
    #: the engine then reports `poses.used: false` with that reason instead of `supports_poses`.
    poses_ignored: str | None = None

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Backends call this between steps; it raises so that no half-made frame escapes."""
        if self.cancel_event.is_set():
            raise JobCancelled()

    def progress(self, fraction: float, stage: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(fraction, 0.0), 1.0), stage)


class Backend(abc.ABC):
    """Base class of in-betweening backends; one instance per engine, shared by all jobs."""

    #: Which worker runs its jobs: "cpu", or "device" for the engine's --device.
    worker: str = "cpu"

    def __init__(self, config: EngineConfig) -> None:
        self.config = config

    @property
    @abc.abstractmethod
    def info(self) -> BackendInfo: ...

    def availability(self) -> Availability:
        return Availability(True)

    def prepare(self, shot: Shot) -> Plan:
        segments = shot.segments()
        limit = self.info.max_inbetweens_per_segment
        if limit is not None:
            for s in segments:
                if len(s.inbetweens) > limit:
                    raise ShotError(
                        f"segment {s.start}-{s.end} has {len(s.inbetweens)} in-betweens; "
                        f"{self.info.name} makes at most {limit} per segment"
                    )
        if shot.sketches and not self.info.supports_sketches:
            raise ShotError(f"backend {self.info.name} does not take sketches")
        return Plan(shot, segments, max(1, sum(len(s.inbetweens) for s in segments)))

    @abc.abstractmethod
    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        """Yield every in-between of the plan (final frames, optionally previews before them)."""

    def loaded_models(self) -> list[str]:
        """Names of models this backend holds in memory now (for `status`)."""
        return []

    def warm_up(self) -> None:
        """Load what the first job would load, ahead of it (the engine calls this in the
        background at start for the default backend); a no-op unless a backend needs one."""

    def unload(self) -> None:
        """Free models and memory (after an out-of-memory error, or at shutdown)."""
