"""From a ShotSource to generated frames: builds the request and drives the job without blocking.

No `krita` import here. Krita must never freeze while the engine works, so the job is never
waited on: a timer calls `JobRunner.pump()`, which takes whatever events `Job.poll()` has and
turns them into callbacks. The heavy part of each frame (swapping RGBA to Krita's BGRA: 0.17 s
for a 4096x4096 frame, and its thumbnail) runs in one worker thread, in chunks so that the
thread never holds Python's lock for long. The timer is a QTimer in Krita; tests pass their
own factory (or call `pump()` themselves), so this module is testable without Qt.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from . import client_lib as cl
from .krita_io import ShotSource

POLL_INTERVAL_MS = 40
CHUNK = 4 << 20  # bytes per channel-swap step (a multiple of 4)

#: Options each backend really uses (the engine does not advertise them yet): the docker shows
#: only these. A backend the engine describes with an "options" list overrides this table.
BACKEND_OPTIONS: dict[str, tuple[str, ...]] = {
    "flow": ("preview",),
    "tooncrafter": ("seed", "steps", "guidance", "sketch_strength"),
    "animate_anyone": ("seed", "steps", "guidance"),
}
DEFAULT_OPTIONS = ("seed",)


def backend_options(backend: str, advertised: dict[str, Any] | None = None) -> tuple[str, ...]:
    if advertised and isinstance(advertised.get("options"), (list, tuple)):
        return tuple(str(o) for o in advertised["options"])
    return BACKEND_OPTIONS.get(backend, DEFAULT_OPTIONS)


@dataclass
class GenerateParams:
    backend: str = "flow"
    timing: str = "linear"  # every segment without its own entry in `segment_timing`
    segment_timing: dict[int, str] = field(default_factory=dict)  # segment start -> curve
    exposure: int = 1
    fps: float = 24.0
    options: dict[str, Any] = field(default_factory=dict)  # only the backend's own (see above)

    def timing_for(self, start: int) -> str:
        return self.segment_timing.get(start, self.timing)


def swap_channels(data: bytes) -> bytes:
    """RGBA <-> BGRA in chunks (each chunk one short C call), for worker threads."""
    if len(data) <= CHUNK:
        return cl.bgra_to_rgba(data)
    out = bytearray(data)
    for i in range(0, len(out), CHUNK):
        part = out[i:i + CHUNK]
        part[0::4], part[2::4] = part[2::4], part[0::4]
        out[i:i + CHUNK] = part
    return bytes(out)


def build_request(source: ShotSource, params: GenerateParams) -> "cl.ShotRequest":
    """Keys and sketches (BGRA from Krita) as an RGBA shot with per-segment timing, and the
    poses of the pose layers (by frame) placed on the segments."""
    w, h = source.width, source.height
    keys = {t: cl.ImageData.rgba(swap_channels(d), w, h) for t, d in sorted(source.keys.items())}
    sketches = {t: cl.ImageData.rgba(swap_channels(d), w, h) for t, d in sorted(source.sketches.items())}
    starts = sorted(source.keys)[:-1]
    allowed = backend_options(params.backend)
    request = cl.ShotRequest(
        width=w,
        height=h,
        keys=keys,
        sketches=sketches,
        timing={t: params.timing_for(t) for t in starts},
        exposure=int(params.exposure),
        fps=float(params.fps),
        backend=params.backend,
        options={k: v for k, v in params.options.items() if k in allowed and v is not None},
        encoding="rgba",
        previews=True,
    )
    if source.poses:  # by frame: the client library places each at the engine's time of its frame
        request.set_frame_poses(dict(source.poses))
    return request


@dataclass
class JobOutcome:
    """How a job ended. `frames` are BGRA bytes by frame index, ready for Krita."""

    state: str  # "done" | "failed" | "cancelled"
    frames: dict[int, bytes] = field(default_factory=dict)
    holds: dict[int, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""
    thumbs: dict[int, Any] = field(default_factory=dict)


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


Thumbnailer = Callable[[bytes, int, int], Any]  # (BGRA, w, h) -> a small image; worker thread


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
        thumbnailer: Thumbnailer | None = None,
        on_preview: Callable[[int, Any], None] | None = None,
    ) -> None:
        self.job = job
        self.expected = list(expected)
        self.on_status = on_status or (lambda s: None)
        self.on_progress = on_progress or (lambda f, s: None)
        self.on_finished = on_finished or (lambda o: None)
        self.on_preview = on_preview or (lambda t, img: None)
        self.thumbnailer = thumbnailer
        self.frames: dict[int, Future] = {}
        self.outcome: JobOutcome | None = None
        self._previews: list[tuple[int, Future]] = []
        self._done: cl.Done | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbetween-frames")
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
        self.on_status("cancelling...")
        try:
            self.job.cancel()
        except cl.ClientError as exc:
            self._finish(JobOutcome("failed", code="connection_lost", message=str(exc)))

    def _convert(self, rgba: bytes, w: int, h: int) -> tuple[bytes, Any]:
        bgra = swap_channels(rgba)
        thumb = self.thumbnailer(bgra, w, h) if self.thumbnailer is not None else None
        return bgra, thumb

    def pump(self) -> bool:
        """Handle the events that arrived; True once the job has ended (never blocks)."""
        if self.finished:
            return True
        self._deliver_previews()
        if self._done is not None:
            self._complete()
            return self.finished
        try:
            events = self.job.poll()
        except cl.ConnectionLost as exc:
            self._finish(JobOutcome("failed", code="connection_lost",
                                    message=f"lost the connection to the engine: {exc}"))
            return True
        for ev in events:
            self._handle(ev)
            if self.finished or self._done is not None:
                break
        if self._done is not None:
            self._complete()
        return self.finished

    def _deliver_previews(self) -> None:
        ready = [(t, f) for t, f in self._previews if f.done()]
        self._previews = [(t, f) for t, f in self._previews if not f.done()]
        for t, fut in ready:
            try:
                self.on_preview(t, fut.result()[1])
            except Exception:  # noqa: BLE001 - a preview is never worth failing the job
                pass

    def _handle(self, ev: Any) -> None:
        if isinstance(ev, cl.Queued):
            self.on_status("queued" if ev.position == 0 else f"queued: {ev.position} job(s) ahead")
        elif isinstance(ev, cl.Started):
            self.on_status("generating...")
        elif isinstance(ev, cl.Progress):
            self.on_progress(max(0.0, min(0.99, ev.fraction)), ev.stage)
        elif isinstance(ev, cl.Frame):
            if ev.encoding != "rgba":
                self._finish(JobOutcome("failed", code="bad_frame",
                                        message=f"the engine sent a {ev.encoding!r} frame; expected raw RGBA"))
                return
            fut = self._pool.submit(self._convert, ev.data, ev.width, ev.height)
            if ev.preview:
                if self.thumbnailer is not None and len(self._previews) < 4:
                    self._previews.append((ev.frame, fut))
            else:
                self.frames[ev.frame] = fut
                self._previews.append((ev.frame, fut))
        elif isinstance(ev, cl.Done):
            missing = [t for t in self.expected if t not in self.frames and t not in ev.holds]
            if missing:
                self._finish(JobOutcome("failed", code="incomplete",
                                        message=f"the engine finished without frames {missing}"))
                return
            self.on_status("receiving the frames...")
            self._done = ev
        elif isinstance(ev, cl.Failed):
            cancelled = ev.code == cl.ErrorCode.CANCELLED
            self._finish(JobOutcome("cancelled" if cancelled else "failed", code=ev.code, message=ev.message))

    def _complete(self) -> None:
        """After Done: finish once every frame has been converted (checked on each pump)."""
        if not all(f.done() for f in self.frames.values()):
            return
        ev = self._done
        assert ev is not None
        try:
            converted = {t: f.result() for t, f in self.frames.items()}
        except Exception as exc:  # noqa: BLE001
            self._finish(JobOutcome("failed", code="bad_frame", message=f"could not convert a frame: {exc}"))
            return
        self._deliver_previews()
        self.on_progress(1.0, "done")
        self._finish(JobOutcome("done", {t: c[0] for t, c in converted.items()}, dict(ev.holds),
                                dict(ev.stats), thumbs={t: c[1] for t, c in converted.items()}))

    def _finish(self, outcome: JobOutcome) -> None:
        if self.finished:
            return
        if self._timer is not None:
            self._timer.stop()
        self.frames = {}
        self._previews = []
        self._pool.shutdown(wait=False)
        self.outcome = outcome
        self.on_finished(outcome)
