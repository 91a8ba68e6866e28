"""From a ShotSource to generated frames: builds the request and drives the job without blocking.

No `krita` import here. Krita must never freeze while the engine works, so the job is never
waited on: a timer calls `JobRunner.pump()`, which takes whatever events `Job.poll()` has and
turns them into callbacks. The timer is a QTimer in Krita; tests pass their own factory (or call
`pump()` themselves), so this module is testable without Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from . import client_lib as cl
from .krita_io import ShotSource

POLL_INTERVAL_MS = 40


@dataclass
class GenerateParams:
    backend: str = "flow"
    timing: str = "linear"
    seed: int = 0


def build_request(source: ShotSource, params: GenerateParams) -> "cl.ShotRequest":
    """Keys and sketches (BGRA from Krita) as an RGBA shot; one timing curve for every segment."""
    w, h = source.width, source.height
    keys = {t: cl.ImageData.rgba(cl.bgra_to_rgba(d), w, h) for t, d in sorted(source.keys.items())}
    sketches = {t: cl.ImageData.rgba(cl.bgra_to_rgba(d), w, h) for t, d in sorted(source.sketches.items())}
    starts = sorted(source.keys)[:-1]
    return cl.ShotRequest(
        width=w,
        height=h,
        keys=keys,
        sketches=sketches,
        timing={t: params.timing for t in starts},
        backend=params.backend,
        options={"seed": int(params.seed)},
        encoding="rgba",
        previews=False,
    )


@dataclass
class JobOutcome:
    """How a job ended. `frames` are BGRA bytes by frame index, ready for Krita."""

    state: str  # "done" | "failed" | "cancelled"
    frames: dict[int, bytes] = field(default_factory=dict)
    holds: dict[int, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""


class Timer(Protocol):
    def start(self, interval_ms: int) -> None: ...
    def stop(self) -> None: ...


def qt_timer_factory(callback: Callable[[], None]) -> Timer:
    """A repeating QTimer calling `callback` on Krita's GUI thread."""
    from .compat import QTimer

    class _QtTimer:
        def __init__(self) -> None:
            self._timer = QTimer()
            self._timer.timeout.connect(callback)

        def start(self, interval_ms: int) -> None:
            self._timer.start(interval_ms)

        def stop(self) -> None:
            self._timer.stop()

    return _QtTimer()


class JobRunner:
    """Drives one submitted job to its end; callbacks run on the thread that pumps (Krita's GUI)."""

    def __init__(
        self,
        job: "cl.Job",
        expected: list[int],
        on_status: Callable[[str], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        on_finished: Callable[[JobOutcome], None] | None = None,
        timer_factory: Callable[[Callable[[], None]], Timer] | None = qt_timer_factory,
    ) -> None:
        self.job = job
        self.expected = list(expected)
        self.on_status = on_status or (lambda s: None)
        self.on_progress = on_progress or (lambda f, s: None)
        self.on_finished = on_finished or (lambda o: None)
        self.frames: dict[int, bytes] = {}
        self.outcome: JobOutcome | None = None
        self._cancel_requested = False
        self._timer = timer_factory(self.pump) if timer_factory is not None else None

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def start(self) -> None:
        if self._timer is not None:
            self._timer.start(POLL_INTERVAL_MS)

    def cancel(self) -> None:
        """Ask the engine to stop; the job then ends with a "cancelled" outcome."""
        if self.finished:
            return
        self._cancel_requested = True
        self.on_status("cancelling...")
        try:
            self.job.cancel()
        except cl.ClientError as exc:
            self._finish(JobOutcome("failed", code="connection_lost", message=str(exc)))

    def pump(self) -> bool:
        """Handle the events that arrived; True once the job has ended (never blocks)."""
        if self.finished:
            return True
        try:
            events = self.job.poll()
        except cl.ConnectionLost as exc:
            self._finish(JobOutcome("failed", code="connection_lost",
                                    message=f"lost the connection to the engine: {exc}"))
            return True
        for ev in events:
            self._handle(ev)
            if self.finished:
                break
        return self.finished

    def _handle(self, ev: Any) -> None:
        if isinstance(ev, cl.Queued):
            self.on_status("queued" if ev.position == 0 else f"queued: {ev.position} job(s) ahead")
        elif isinstance(ev, cl.Started):
            self.on_status("generating...")
        elif isinstance(ev, cl.Progress):
            self.on_progress(max(0.0, min(1.0, ev.fraction)), ev.stage)
        elif isinstance(ev, cl.Frame):
            if ev.preview:
                return
            if ev.encoding != "rgba":
                self._finish(JobOutcome("failed", code="bad_frame",
                                        message=f"the engine sent a {ev.encoding!r} frame; expected raw RGBA"))
                return
            self.frames[ev.frame] = cl.rgba_to_bgra(ev.data)
        elif isinstance(ev, cl.Done):
            missing = [t for t in self.expected if t not in self.frames and t not in ev.holds]
            if missing:
                self._finish(JobOutcome("failed", code="incomplete",
                                        message=f"the engine finished without frames {missing}"))
                return
            self.on_progress(1.0, "done")
            self._finish(JobOutcome("done", dict(self.frames), dict(ev.holds), dict(ev.stats)))
        elif isinstance(ev, cl.Failed):
            cancelled = ev.code == cl.ErrorCode.CANCELLED
            self._finish(JobOutcome("cancelled" if cancelled else "failed", code=ev.code, message=ev.message))

    def _finish(self, outcome: JobOutcome) -> None:
        if self.finished:
            return
        if self._timer is not None:
            self._timer.stop()
        self.frames = {}
        self.outcome = outcome
        self.on_finished(outcome)
