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
from .results import History, Result, Target
from .shot_plan import ShotPlan, frames_text, make_plan

REFUSAL_HINTS = {
    "bad_shot": " Use a smaller canvas or fewer frames between the keys, then generate again.",
    "queue_full": " The engine is busy with other jobs: wait for one to finish, then generate again.",
}
ENGINE_GONE = ("connection_lost", "shutting_down")


def refusal_text(code: str, message: str) -> str:
    """The engine's words for a refused shot, and what the user can do about it."""
    return (f"The engine refused the shot: {message.rstrip('.')}.{REFUSAL_HINTS.get(code, '')}"
            f" Nothing was changed. [{code}]")


def _qt_single_shot(ms: int, fn: Callable[[], None]) -> None:
    from .compat import QTimer

    QTimer.singleShot(ms, fn)


def _qt_thumbnailer() -> Callable[[bytes, int, int], Any] | None:
    try:
        from .preview_image import thumbnail
    except ImportError:
        return None
    return thumbnail


class Controller:
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
            target = Target(key, title, str(keys.uniqueId()), keys.name(),
                            str(sketch.uniqueId()) if sketch is not None else None,
                            sketch.name() if sketch is not None else None, plan, source.width,
                            source.height, params.backend, params.fps)
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
                             "doc": target.doc_title}
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
        self._set("running", f"Generating frames {frames_text(target.plan.fill)} of '{target.keys_name}' "
                             f"({len(source.keys)} keys, {n_sk} sketch(es), {params.backend})...")
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
        result = Result(target, frames, dict(outcome.holds), thumbs, elapsed, text)
        self.history.add(result)
        self.progress = 1.0
        self._set("done", f"Ready: {len(outcome.frames)} in-betweens for {what} in {elapsed:.1f} s. "
                          "Preview them below, then Apply (or Discard).")
        if self.settings.write_when_done:
            self.apply(result)

    def save_settings(self) -> bool:
        try:
            settings_mod.save(self.settings)
        except OSError as exc:
            self._set(message=f"Could not save the settings: {exc}")
            return False
        return True

    # ------------------------------------------------------------ results

    def result_document_open(self, result: Result) -> bool:
        return krita_io.find_document(result.target.doc_key) is not None

    def latest(self) -> Result | None:
        return self.history.items[0] if self.history.items else None

    def apply(self, result: Result | None = None, into: str = "own") -> bool:
        """Write a result: into its own document ("own"), the active one, or a new one."""
        result = result or next(iter(self.history.waiting), None)
        if result is None:
            self._set(message="There is no result to write.")
            return False
        if self.busy:
            self._set(message="Wait for the running job to finish first.")
            return False
        t = result.target
        doc = krita_io.find_document(t.doc_key) if into == "own" else None
        keys_uid = t.keys_uid
        if into == "own" and doc is None:
            self._set("failed", f"The document '{t.doc_title}' of {result.title} was closed. The result is "
                                "kept: write it into the active document or a new one.")
            return False
        if into == "active":
            doc = krita_io.active_document()
            if doc is None or (int(doc.width()), int(doc.height())) != (t.width, t.height):
                self._set("failed", f"{result.title} is {t.width}x{t.height}: open a document of that "
                                    "size, or write it into a new document.")
                return False
            keys_uid = t.keys_uid if krita_io.node_by_id(doc, t.keys_uid) is not None else ""
        elif into == "new":
            doc = krita_writer.new_document_for(t.width, t.height, f"{t.keys_name} in-betweens",
                                                t.fps, max(result.frames))
            keys_uid = ""
        assert doc is not None
        key = krita_io.doc_key(doc)
        ch = self.choices.for_doc(doc)
        previous = ch.last_result.get(t.slot)
        if previous is not None and krita_io.node_by_id(doc, previous) is None:
            previous = None
        old_uid = None if self.settings.keep_previous else previous
        name = krita_writer.result_layer_name(t.keys_name, t.backend)
        job = krita_writer.WriteJob(key, keys_uid, name, result.frames, t.width, t.height, old_uid,
                                    above_uid=previous if self.settings.keep_previous else None)
        if self.settings.review_alone:
            job.hide_uids = self._review_hides(result, doc)
        self.last_write = job
        self.review.stop()
        result.state = "writing"
        title = krita_io.doc_title(doc)
        self.progress = 0.0
        self._set("writing", f"Writing {len(result.frames)} keyframes of '{name}' into '{title}' (a scratch "
                             "document opens for a moment)...")

        def done(node: Any) -> None:
            self._activity = "written"
            result.state = "written"
            result.layer_uid, result.layer_name = job.written_uid, node.name()
            result.written_doc_key = key
            self.choices.written.add(str(job.written_uid))
            ch.last_result[t.slot] = str(job.written_uid)
            self.progress = 1.0
            replaced = " It replaced the previous result (Ctrl+Z twice brings that back)." if job.replaced else ""
            self._set("done", f"Wrote '{node.name()}' into '{title}': keyframes at "
                              f"{frames_text(sorted(result.frames))}. One Ctrl+Z takes it back.{replaced}")
            if self.settings.review_alone:  # the writer hid them while showing the result
                self.review.adopt(key, job.hidden)
                self._activity = "reviewing"

        def failed(exc: BaseException) -> None:
            result.state = "ready"
            self.progress = 0.0
            if isinstance(exc, krita_writer.DocumentClosed):
                msg = (f"The document '{title}' was closed before {result.title} was written. The result is "
                       "kept: write it into the active document or a new one.")
            else:
                msg = (f"Could not write {result.title}: {type(exc).__name__}: {exc}. Nothing was changed in "
                       f"'{title}'; the result is kept.")
            self._set("failed", msg)

        self._run_steps(krita_writer.write_stepwise(job), done, failed)
        return True

    def discard(self, result: Result | None = None) -> None:
        result = result or self.latest()
        if result is None:
            return
        if self.review.active:
            self.review.stop()
        self.history.remove(result)
        result.state = "discarded"
        result.frames, result.thumbs = {}, {}
        self.progress = 0.0
        self._set("idle", f"Discarded {result.title}.")

    def take_back(self, result: Result | None = None) -> bool:
        """Remove a written result's layer from its document (one undo step); it stays in the list."""
        result = result or next((r for r in self.history.items if r.state == "written"), None)
        if result is None or result.layer_uid is None or result.written_doc_key is None:
            self._set(message="No written result to take back.")
            return False
        self.review.stop()
        name = krita_writer.remove_layer(result.written_doc_key, result.layer_uid)
        result.state, result.layer_uid = "ready", None
        self._set("idle", f"Removed '{name}'; the result is still here to write again." if name else
                  f"The layer of {result.title} was already gone; the result is still here.")
        return name is not None

    # ------------------------------------------------------------ review

    def start_review(self, result: Result) -> str:
        """Show a written result alone: the keys and sketch layers are hidden until stop_review."""
        doc = krita_io.find_document(result.written_doc_key or "")
        if doc is None or result.layer_uid is None:
            return ""
        names = self.review.start(doc, result.layer_uid, self._review_hides(result, doc))
        self._notify()
        return ", ".join(f"'{n}'" for n in names)

    def _review_hides(self, result: Result, doc: Any) -> list[str]:
        """The keys, the sketches and other results of the same keys in `doc`."""
        t = result.target
        hide = [t.keys_uid] + ([t.sketch_uid] if t.sketch_uid else [])
        hide += [r.layer_uid for r in self.history.items
                 if r is not result and r.layer_uid and r.target.keys_uid == t.keys_uid
                 and r.written_doc_key == krita_io.doc_key(doc)]
        return hide

    def stop_review(self) -> None:
        self.review.stop()
        self._notify()


_instance: Controller | None = None


def instance() -> Controller:
    """The plugin's controller (one per Krita process)."""
    global _instance
    if _instance is None:
        _instance = Controller()
    return _instance
