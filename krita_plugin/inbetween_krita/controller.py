"""The plugin's one piece of state: documents' choices, the running job and the results.

The docker and the actions (Tools > Scripts) both talk to this object, so generating works
with or without the docker open (tests trigger the actions directly). It glues `krita_io`
(reading), `krita_writer` (writing), `job_runner` and `engine_link` together and tells
listeners what happened. Krita's event loop is never blocked for long: the keys are read band
by band from timer callbacks, the shot is built and sent from a thread, the job is polled,
and the result is written band by band into a scratch document (krita_writer).

A Generate goes: reading -> submitting -> running -> a `Result` waiting in the docker
(preview, then Apply or Discard; or written at once with "write when done"). A job belongs to
its document: the result goes there whatever is active meanwhile, or, if that document was
closed, waits to be written into another one. When the engine stops under a job (killed, or
shut down: `shutting_down`) nothing is written and Retry resubmits the same frames.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Callable

from . import client_lib as cl
from . import krita_io, krita_writer, settings as settings_mod
from .blank_scan import BlankScanner
from .choices import DocumentChoices
from .engine_link import EngineLink
from .job_runner import GenerateParams, JobOutcome, JobRunner, backend_options, build_request, qt_timer_factory
from .krita_io import KritaIOError
from .pending_store import PendingStore
from .pose_actions import PoseTools
from .result_actions import ResultActions
from .results import History, Result, Target
from .shot_plan import ShotPlan, frames_text, make_plan

REFUSAL_HINTS = {
    "bad_shot": " Use a smaller canvas or fewer frames between the keys, then generate again.",
    "queue_full": " The engine is busy with other jobs: wait for one to finish, then generate again.",
}
ENGINE_GONE = ("connection_lost", "shutting_down")


POSE_HINT = (" Pose the frames it names ('Pose this frame' in the docker), or choose a backend that does not "
             "need poses, then generate again.")


def refusal_text(code: str, message: str) -> str:
    """The engine's words for a refused shot, and what the user can do about it."""
    hint = POSE_HINT if code == "bad_shot" and "pose" in message.lower() else REFUSAL_HINTS.get(code, "")
    return f"The engine refused the shot: {message.rstrip('.')}.{hint} Nothing was changed. [{code}]"


def _qt_single_shot(ms: int, fn: Callable[[], None]) -> None:
    from .compat import QTimer

    QTimer.singleShot(ms, fn)


def _qt_thumbnailer() -> Callable[[bytes, int, int], Any] | None:
    try:
        from .preview_image import thumbnail
    except ImportError:
        return None
    return thumbnail


class Controller(ResultActions):
    """States: "idle", "reading", "submitting", "running", "writing", "done", "failed", "cancelled"."""

    BUSY = ("reading", "submitting", "running", "writing")

    def __init__(self, timer_factory: Callable = qt_timer_factory,
                 defer: Callable[[int, Callable[[], None]], None] | None = None,
                 thumbnailer: Callable[[bytes, int, int], Any] | None | str = "qt") -> None:
        self.settings = settings_mod.load()
        self._timer_factory = timer_factory
        self._defer = defer or _qt_single_shot
        self.thumbnailer = _qt_thumbnailer() if thumbnailer == "qt" else thumbnailer
        self._listeners: list[Callable[["Controller"], None]] = []
        self.link = EngineLink(self.settings, timer_factory, self._notify)
        self.choices = DocumentChoices(self.settings)
        self.history = History()
        self.review = krita_writer.Review()
        self.state = "idle"
        self.message = ""
        self.progress = 0.0
        self._activity = ""
        #: how long each of the plugin's own steps held Krita's event loop: (activity, ms), for
        #: steps of 20 ms or more (the real-Krita test compares them with the loop's gaps)
        self.step_log: deque[tuple[str, float]] = deque(maxlen=400)
        self.runner: JobRunner | None = None
        self.current: Target | None = None  # the job being read/submitted/run
        self.previews: dict[int, Any] = {}  # thumbnails of the running job's frames
        self.retry_job: tuple[Target, krita_io.ShotSource, GenerateParams] | None = None
        self.last_request: dict[str, Any] = {}
        self.last_write: krita_writer.WriteJob | None = None
        self.blanks = BlankScanner(self._run_steps, self._defer, self._notify, lambda: self.busy)
        self._submit_result: tuple[Any, BaseException | None] | None = None
        self._poll_timer: Any = None
        self._cancel_requested = False
        self.pose_notes: list[str] = []  # about the poses of the job being sent (shown)
        self.poses = PoseTools(self)
        self.pending = PendingStore()
        self._recover()

    # ------------------------------------------------------------ observers

    def subscribe(self, listener: Callable[["Controller"], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[["Controller"], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    def _set(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.state = state
        if message is not None:
            self.message = message
        self._notify()

    def say(self, text: str) -> None:
        """Show a message (the docker's message line) without changing the state."""
        self._set(message=text)

    @property
    def activity(self) -> str:
        """What is being done right now, finer than the state (shown; the freeze measurement
        attributes each block of the event loop to it)."""
        if self.state == "writing" and self.last_write is not None:
            return self.last_write.activity
        return self._activity

    # ------------------------------------------------------------ engine (delegated)

    @property
    def connected(self) -> bool:
        return self.link.connected

    def connect(self, start_if_needed: bool | None = None) -> bool:
        return self.link.connect(start_if_needed)

    def backends(self) -> list[dict[str, Any]]:
        return self.link.backends()

    def shutdown(self) -> None:
        """Krita is closing: cancel the job, restore a review, stop an engine the plugin started."""
        if self.runner is not None and not self.runner.finished:
            self.runner.cancel()
        try:
            self.review.stop()
        except Exception:  # noqa: BLE001
            pass
        self.link.shutdown()
        self.pending.wait()  # results being kept on disk are complete before Krita exits

    # ------------------------------------------------------------ planning (shown before Generate)

    @property
    def busy(self) -> bool:
        return self.state in self.BUSY

    def params(self, doc: Any | None = None) -> GenerateParams:
        s = self.settings
        options: dict[str, Any] = {"seed": s.seed}
        if s.steps:
            options["steps"] = s.steps
        if s.guidance:
            options["guidance"] = s.guidance
        if s.preview:
            options["preview"] = True
        allowed = backend_options(s.backend, self.link.backend_info(s.backend))
        seg = dict(self.choices.for_doc(doc).segment_timing) if doc is not None else {}
        return GenerateParams(backend=s.backend, timing=s.timing, segment_timing=seg, exposure=s.exposure,
                              fps=krita_io.fps(doc) if doc is not None else 24.0,
                              options={k: v for k, v in options.items() if k in allowed})

    def plan(self, doc: Any) -> ShotPlan:
        """What Generate would fill in `doc` now; raises KritaIOError naming the problem."""
        keys = self.choices.keys_node(doc)
        sketch = self.choices.sketch_node(doc, keys)
        start, end = self.choices.frame_range(doc)
        plan = krita_io.plan_for(doc, keys, sketch, start, end, self.settings.exposure,
                                 self.blanks.tester(krita_io.doc_key(doc)))
        self.blanks.soon()
        return plan

    def _run_steps(self, steps: Any, on_done: Callable[[Any], None],
                   on_error: Callable[[BaseException], None]) -> None:
        """Advance a generator of pauses (ms) from timer callbacks; then call on_done(value)."""
        def advance() -> None:
            t0 = time.perf_counter()
            try:
                pause = next(steps)
            except StopIteration as stop:
                self._log_step(t0)
                on_done(stop.value)
                return
            except Exception as exc:  # noqa: BLE001 - Krita raises plain exceptions; shown to the user
                on_error(exc)
                return
            self._log_step(t0)
            self._defer(pause, advance)
        advance()

    def _log_step(self, t0: float) -> None:
        ms = (time.perf_counter() - t0) * 1000
        if ms >= 20:
            self.step_log.append((f"{self.state}: {self.activity}", round(ms, 1)))

    # ------------------------------------------------------------ generating

    def generate(self, doc: Any | None = None) -> bool:
        """Read the keys of `doc` (default: the active document) and submit the shot."""
        if self.busy:
            self._set(message="A job is already running; cancel it first.")
            return False
        doc = doc or krita_io.active_document()
        try:
            if doc is None:
                raise KritaIOError("Open a document first.")
            keys = self.choices.keys_node(doc)
            sketch = self.choices.sketch_node(doc, keys)
            start, end = self.choices.frame_range(doc)
        except KritaIOError as exc:
            self.progress = 0.0
            self._set("failed", str(exc))
            return False
        self._activity = "start reading"
        params = self.params(doc)
        req = krita_io.ReadRequest(doc, keys, sketch, start, end, params.exposure)
        key = krita_io.doc_key(doc)
        title = krita_io.doc_title(doc)
        self.progress = 0.0
        self.previews = {}
        self._cancel_requested = False
        self._set("reading", f"Reading the keys of '{keys.name()}' in '{title}'...")

        def read_progress(i: int, n: int) -> None:
            self.progress = 0.05 * i / n
            self._activity = f"read keyframe {i} of {n}"

        def read_done(source: krita_io.ShotSource) -> None:
            if self._cancel_requested:
                self.progress = 0.0
                self._set("cancelled", "Cancelled before the shot was sent: nothing was changed.")
                return
            times = sorted(source.keys) + list(source.blank)
            plan = make_plan(keys.name(), (start, end), times, source.blank, params.exposure,
                             source.sketches.keys())
            try:
                source.poses, self.pose_notes = self.poses.for_generate(doc, plan)
            except KritaIOError as exc:
                self.progress = 0.0
                self._set("failed", str(exc))
                return
            target = Target(key, title, str(keys.uniqueId()), keys.name(),
                            str(sketch.uniqueId()) if sketch is not None else None,
                            sketch.name() if sketch is not None else None, plan, source.width,
                            source.height, params.backend, params.fps, doc.fileName() or "")
            self._submit(target, source, params)

        def read_failed(exc: BaseException) -> None:
            self.progress = 0.0
            text = str(exc) if isinstance(exc, KritaIOError) else f"Could not read the keys: {type(exc).__name__}: {exc}"
            self._set("failed", text)

        steps = krita_io.read_shot_stepwise(req, read_progress)
        self._run_steps(steps, read_done, read_failed)
        return True

    def _submit(self, target: Target, source: krita_io.ShotSource, params: GenerateParams) -> None:
        """Connect (starting an engine if allowed), then build and send the shot from a thread."""
        self.current = target
        self.retry_job = None
        self._activity = "connect and send"
        self._set("submitting", f"Sending {len(source.keys)} keys of '{target.keys_name}' to the engine...")

        def connected(ok: bool) -> None:
            if self._cancel_requested:
                self.progress = 0.0
                self._set("cancelled", "Cancelled before the shot was sent: nothing was changed.")
                return
            if not ok:
                self.retry_job = (target, source, params)
                self.progress = 0.0
                self._set("failed", f"Could not reach the engine ({self.link.message}). Nothing was "
                                    "changed; press Retry once it is available.")
                return
            self._send(target, source, params)

        self.link.when_connected(connected)

    def _send(self, target: Target, source: krita_io.ShotSource, params: GenerateParams) -> None:
        client = self.link.client
        thumbs = self.thumbnailer
        self._submit_result = None

        def run() -> None:
            try:
                source.materialize()  # joins the bands read from Krita (here, not in the event loop)
                request = build_request(source, params)
                key_thumbs = {t: thumbs(d, source.width, source.height) for t, d in source.keys.items()} \
                    if thumbs else {}
                job = client.submit(request)  # type: ignore[union-attr]
                self._submit_result = ((job, request, key_thumbs), None)
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
                self._submit_result = (None, exc)

        thread = threading.Thread(target=run, name="inbetween-submit", daemon=True)
        thread.start()

        def poll() -> None:
            if thread.is_alive() or self._submit_result is None:
                return
            self._poll_timer.stop()
            self._activity = "job accepted"
            value, exc = self._submit_result
            if exc is not None:
                self._submit_failed(target, source, params, exc)
            else:
                self._started(target, source, params, *value)

        self._poll_timer = self._timer_factory(poll)
        self._poll_timer.start(30)

    def _submit_failed(self, target: Target, source: krita_io.ShotSource, params: GenerateParams,
                       exc: BaseException) -> None:
        self.progress = 0.0
        if isinstance(exc, cl.RemoteError):
            self._set("failed", refusal_text(exc.code, exc.message))
        elif isinstance(exc, (cl.ClientError, TimeoutError, OSError)):
            self.link.lost(f"lost while sending a shot: {exc}")
            self.retry_job = (target, source, params)
            self._set("failed", f"Lost the engine while sending the keys of '{target.keys_name}': {exc}. "
                                "Nothing was changed; press Retry to start the engine and try again.")
        else:
            self._set("failed", f"Could not send the shot: {type(exc).__name__}: {exc}")

    def _started(self, target: Target, source: krita_io.ShotSource, params: GenerateParams,
                 job: Any, request: Any, key_thumbs: dict[int, Any]) -> None:
        self.last_request = {"backend": request.backend, "fps": request.fps, "exposure": request.exposure,
                             "timing": dict(request.timing), "options": dict(request.options),
                             "keys": sorted(request.keys), "sketches": sorted(request.sketches),
                             "doc": target.doc_title,
                             "poses": sorted(p.frame for track in request.poses.values() for p in track.poses),
                             "pose_times": {str(start): [round(p.t, 4) for p in track.poses]
                                            for start, track in request.poses.items()}}
        started = time.monotonic()
        self.previews = dict(key_thumbs)

        def preview(t: int, img: Any) -> None:
            if img is not None:
                self.previews[t] = img
                self._notify()

        def finished(outcome: JobOutcome) -> None:
            self._activity = f"job {outcome.state}"
            self._finish(target, source, params, outcome, time.monotonic() - started, key_thumbs)

        self.runner = JobRunner(job, target.plan.fill, on_status=lambda s: self._set(message=s),
                                on_progress=self._on_progress, on_finished=finished,
                                timer_factory=self._timer_factory, thumbnailer=self.thumbnailer,
                                on_preview=preview)
        self.progress = 0.05
        n_sk = len(source.sketches)
        posed = f", poses at {frames_text(sorted(source.poses))}" if source.poses else ""
        self._set("running", f"Generating frames {frames_text(target.plan.fill)} of '{target.keys_name}' "
                             f"({len(source.keys)} keys, {n_sk} sketch(es){posed}, {params.backend})..."
                             + "".join(" " + n for n in self.pose_notes))
        if self._cancel_requested:
            self.runner.cancel()
        self.runner.start()

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress = 0.05 + 0.95 * fraction
        self._set(message=f"{stage or 'generating'}: {fraction * 100:.0f}%")

    def cancel(self) -> None:
        self._cancel_requested = True
        if self.runner is not None and not self.runner.finished:
            self.runner.cancel()
        elif self.state in ("reading", "submitting"):
            self._set(message="Cancelling...")

    @property
    def can_retry(self) -> bool:
        return self.retry_job is not None and not self.busy

    def retry(self) -> bool:
        """Start the engine if none answers and resubmit the frames of the job that was lost."""
        if self.retry_job is None:
            self._set(message="There is no lost job to retry.")
            return False
        if self.busy:
            self._set(message="A job is already running; cancel it first.")
            return False
        target, source, params = self.retry_job
        self._cancel_requested = False
        self.progress = 0.0
        if not self.link.connected and not self.link.busy:
            self.link.connect(start=True)
        self._submit(target, source, params)
        return True

    def _finish(self, target: Target, source: krita_io.ShotSource, params: GenerateParams,
                outcome: JobOutcome, elapsed: float, key_thumbs: dict[int, Any]) -> None:
        self.runner = None
        what = f"'{target.keys_name}' frames {target.span[0]}-{target.span[1]} of '{target.doc_title}'"
        if outcome.state == "cancelled":
            self.progress = 0.0
            self._set("cancelled", f"Cancelled {what}: nothing was written.")
            return
        if outcome.state != "done":
            self.progress = 0.0
            if outcome.code in ENGINE_GONE:
                self.retry_job = (target, source, params)
                if outcome.code == "shutting_down":
                    why = "the engine was shut down while generating"
                    self.link.lost("the engine was shut down (stopped by a signal or a shutdown request).")
                else:
                    why = "the engine stopped answering while generating"
                    self.link.lost(f"the engine stopped ({outcome.message}).")
                self._set("failed", f"Generating {what} did not finish: {why} ({outcome.message}). Nothing "
                                    f"was written; press Retry to start the engine and generate the same "
                                    f"frames again. [{outcome.code}]")
            elif outcome.code in REFUSAL_HINTS:
                self._set("failed", refusal_text(outcome.code, outcome.message))
            else:
                self._set("failed", f"Generating {what} failed: {outcome.message} [{outcome.code}]")
            return
        frames = dict(source.keys)  # keys copied untouched, byte for byte
        frames.update(outcome.frames)
        thumbs = dict(key_thumbs)
        thumbs.update({t: img for t, img in outcome.thumbs.items() if img is not None})
        text = f"{params.backend}, {params.timing}" + (f", on {params.exposure}s" if params.exposure > 1 else "")
        posed = ""
        if source.poses:
            posed = (f" Poses at {frames_text(sorted(source.poses))} were sent "
                     f"({self.poses.backend_note(params.backend)}).")
        posed += "".join(" " + n for n in self.pose_notes)
        posed += "".join(" " + n for n in cl.done_notes(outcome.stats))
        result = Result(target, frames, dict(outcome.holds), thumbs, elapsed, text, note=posed.strip())
        self.history.add(result)
        self._keep_on_disk(result)
        self.progress = 1.0
        self._set("done", f"Ready: {len(outcome.frames)} in-betweens for {what} in {elapsed:.1f} s.{posed} "
                          "Preview them below, then Apply (or Discard).")
        if self.settings.write_when_done:
            self.apply(result)

    def _keep_on_disk(self, result: Result) -> None:
        """Save a waiting result (worker thread) until Apply or Discard; say so if that fails."""
        saving = self.pending.save(result)

        def check() -> None:
            if not saving.done():
                self._defer(300, check)
            elif saving.exception() is not None:
                self._set(message=f"{self.message} (It could not be kept on disk, so a crash of Krita would "
                                  f"lose it: {saving.exception()}.)")

        self._defer(300, check)

    def _recover(self) -> None:
        """Offer again the results an earlier session left waiting (read in a thread)."""
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["found"] = self.pending.load(self.thumbnailer)
            except Exception as exc:  # noqa: BLE001 - shown, never raised
                box["error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=run, name="inbetween-recover", daemon=True)
        thread.start()

        def check() -> None:
            if thread.is_alive():
                self._defer(200, check)
                return
            found = box.get("found")
            if found is not None and found.results:
                for result in reversed(found.results):  # newest ends first
                    self.history.add(result)
                names = ", ".join(r.title for r in found.results[:3])
                self._set(message=f"{len(found.results)} result(s) from an earlier session are waiting: {names}. "
                                  "Apply them (into their document once it is open) or Discard them.")
            elif "error" in box:
                self._set(message=f"Could not read the results kept from an earlier session: {box['error']}")

        self._defer(200, check)

    def save_settings(self) -> bool:
        try:
            settings_mod.save(self.settings)
        except OSError as exc:
            self._set(message=f"Could not save the settings: {exc}")
            return False
        return True

_instance: Controller | None = None


def instance() -> Controller:
    """The plugin's controller (one per Krita process)."""
    global _instance
    if _instance is None:
        _instance = Controller()
    return _instance
