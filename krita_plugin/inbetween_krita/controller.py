"""The plugin's one piece of state: the engine connection, the settings and the running job.

The docker and the "generate" action both talk to this object, so the action works with or
without the docker open (tests trigger it directly). It glues `krita_io` (document access) to
`job_runner` (engine access) and tells listeners what happened. Connecting (and starting the
engine) happens in a thread; the job is polled from a timer; so Krita blocks only while a shot
is sent and while the finished frames are written.

When the engine dies under a job (or while a shot is sent) nothing is written to the document
and the controller keeps the selection: `retry()` (the docker's Retry button) reconnects,
starting the engine from the configured command if none answers, and resubmits it. When the
engine refuses a job (`bad_shot`: over the size or frame limits; `queue_full`) its own message
is shown with a hint of what to do.
"""

from __future__ import annotations

import os
import shlex
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from . import client_lib as cl
from . import krita_io, settings as settings_mod
from .job_runner import GenerateParams, JobOutcome, JobRunner, build_request, qt_timer_factory

CLIENT_NAME = "krita"

REFUSAL_HINTS = {
    "bad_shot": " Use a smaller canvas or fewer frames between the keys, then generate again.",
    "queue_full": " The engine is busy with other jobs: wait for one to finish, then generate again.",
}


def refusal_text(code: str, message: str) -> str:
    """The engine's words for a refused shot, and what the user can do about it."""
    return (f"The engine refused the shot: {message.rstrip('.')}.{REFUSAL_HINTS.get(code, '')}"
            f" Nothing was changed. [{code}]")


AUTO = "auto"  # Choices value: decide when Generate is pressed
NONE = "none"


@dataclass
class Choices:
    """The docker's choices, resolved against the document only when Generate is pressed, so
    that "the active layer" and "the playback range" mean what they are at that moment."""

    key_layer: str = AUTO  # AUTO: the active layer; else a layer name
    sketch_layer: str = AUTO  # AUTO: a layer named like the hint; NONE: no sketches; else a name
    frame_range: tuple[int, int] | None = None  # None: the playback range


@dataclass
class Selection:
    """What to in-between: the document, key and sketch layers and the frame range."""

    doc: Any
    key_layer: Any
    sketch_layer: Any | None
    start: int
    end: int


class Controller:
    """States: "disconnected", "connecting", "idle", "running", "done", "failed", "cancelled"."""

    def __init__(self, timer_factory: Callable = qt_timer_factory,
                 defer: Callable[[int, Callable[[], None]], None] | None = None) -> None:
        self.settings = settings_mod.load()
        self.client: cl.EngineClient | None = None
        self.engine_process: cl.EngineProcess | None = None
        self.runner: JobRunner | None = None
        self.state = "disconnected"
        self.message = "not connected to the engine"
        self.progress = 0.0
        self.result_layer: str | None = None
        self.last_outcome: JobOutcome | None = None
        self.choices_provider: Callable[[], Choices] | None = None  # set by the docker
        self._listeners: list[Callable[["Controller"], None]] = []
        self._timer_factory = timer_factory
        self._defer = defer or _qt_single_shot
        self.writing = False
        self._starting: threading.Thread | None = None
        self._start_error: str | None = None
        self._new_client: cl.EngineClient | None = None
        self._start_timer: Any = None
        self._pending: Selection | None = None  # a generate request waiting for the engine
        self.retry_selection: Selection | None = None  # a job the engine lost, for retry()

    # ------------------------------------------------------------ observers

    def subscribe(self, listener: Callable[["Controller"], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[["Controller"], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _set(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.state = state
        if message is not None:
            self.message = message
        for listener in list(self._listeners):
            listener(self)

    # ------------------------------------------------------------ engine connection

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    def backends(self) -> list[dict[str, Any]]:
        """The engine's backends as it advertises them (name, available, reason, ...)."""
        if not self.connected:
            return []
        return list(self.client.capabilities.get("backends", []))  # type: ignore[union-attr]

    @property
    def connecting(self) -> bool:
        return self._starting is not None

    def connect(self, start_if_needed: bool | None = None) -> bool:
        """Connect (and, if allowed and configured, start the engine) without blocking Krita.

        True only if already connected. Otherwise a thread connects (the engine's first answer
        can take seconds while it looks at its backends; starting it takes longer) and a timer
        picks up the result; listeners hear "connecting", then "idle" or "disconnected".
        """
        if self.connected:
            return True
        if self._starting is not None:
            return False
        start = self.settings.start_engine if start_if_needed is None else start_if_needed
        command = self.engine_command() if start and self.settings.engine_command.strip() else None
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        self._start_error = None
        self._new_client = None

        def run() -> None:
            try:
                try:
                    self._new_client = cl.EngineClient.connect(timeout=30.0, client_name=CLIENT_NAME)
                    return
                except cl.EngineNotRunning as exc:
                    if command is None:
                        hint = ("" if self.settings.engine_command.strip() else
                                " Set the engine command and press Start engine, or run `inbetween-engine serve`.")
                        self._start_error = f"The engine is not reachable: {exc}.{hint}"
                        return
                try:
                    self.engine_process = cl.start_engine(command, cl.default_connection_file(), env=env)
                except cl.ClientError as exc:
                    self._start_error = f"Could not start the engine: {exc}"
                    return
                self._new_client = cl.EngineClient.connect(
                    self.engine_process.info, timeout=30.0, client_name=CLIENT_NAME)
            except cl.RemoteError as exc:
                self._start_error = f"The engine refused the connection: {exc.message}"
            except Exception as exc:  # noqa: BLE001 - shown to the user, never raised into Qt
                self._start_error = f"Could not connect to the engine: {type(exc).__name__}: {exc}"

        self._starting = threading.Thread(target=run, name="inbetween-engine-connect", daemon=True)
        self._starting.start()
        what = f"Starting the engine if needed: {' '.join(command)}" if command else "Connecting to the engine..."
        self._set("connecting", what)
        self._start_timer = self._timer_factory(self._check_connected)
        self._start_timer.start(100)
        return False

    def engine_command(self) -> list[str]:
        cmd = self.settings.engine_command.strip()
        return shlex.split(cmd, posix=os.name != "nt")

    def _check_connected(self) -> None:
        if self._starting is None or self._starting.is_alive():
            return
        self._start_timer.stop()
        self._starting = None
        if self._new_client is None:
            self._pending = None
            self._set("disconnected", self._start_error or "Could not connect to the engine")
            return
        self.client, self._new_client = self._new_client, None
        info = self.client.info
        self._set("idle", f"Connected to the engine {info.version} at {info.address}".replace("  ", " "))
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.generate(pending)

    def disconnect(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None
        self._set("disconnected", "disconnected")

    def shutdown(self) -> None:
        """Krita is closing: drop the connection and stop an engine this plugin started."""
        if self.runner is not None and not self.runner.finished:
            self.runner.cancel()
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001
                pass
            self.client = None
        if self.engine_process is not None:
            self.engine_process.stop(timeout=5.0)
            self.engine_process = None

    # ------------------------------------------------------------ generating

    @property
    def busy(self) -> bool:
        return (self.writing or self._pending is not None
                or (self.runner is not None and not self.runner.finished))

    def resolve(self, choices: Choices | None = None) -> Selection:
        """Turn choices (default: all automatic) into document, layers and range."""
        choices = choices or Choices()
        doc = krita_io.active_document()
        if doc is None:
            raise krita_io.KritaIOError("open a document first")
        if choices.key_layer == AUTO:
            key = krita_io.default_key_layer(doc)
        else:
            key = krita_io.find_layer(doc, choices.key_layer)
            if key is None:
                raise krita_io.KritaIOError(f"there is no paint layer named '{choices.key_layer}'")
        if choices.sketch_layer == AUTO:
            sketch = krita_io.default_sketch_layer(doc, key, self.settings.sketch_hint)
        elif choices.sketch_layer == NONE:
            sketch = None
        else:
            sketch = krita_io.find_layer(doc, choices.sketch_layer)
            if sketch is None:
                raise krita_io.KritaIOError(f"there is no paint layer named '{choices.sketch_layer}'")
        start, end = choices.frame_range or krita_io.playback_range(doc)
        return Selection(doc, key, sketch, start, end)

    def params(self) -> GenerateParams:
        s = self.settings
        return GenerateParams(backend=s.backend, timing=s.timing, seed=s.seed)

    def generate(self, selection: Selection | None = None) -> bool:
        """Read the keys, submit the shot and start polling; False (with a message) if it cannot."""
        if self.busy:
            self._set(message="a job is already running; cancel it first")
            return False
        self.result_layer = None
        self.last_outcome = None
        try:
            if selection is None:
                selection = self.resolve(self.choices_provider() if self.choices_provider else None)
            source = krita_io.read_shot(selection.doc, selection.key_layer, selection.sketch_layer,
                                        selection.start, selection.end)
        except krita_io.KritaIOError as exc:
            self._set("failed", str(exc))
            return False
        if not self.connected:
            self._pending = selection  # generated once connected; dropped if that fails
            self.connect()
            return True
        params = self.params()
        try:
            job = self.client.submit(build_request(source, params))  # type: ignore[union-attr]
        except cl.RemoteError as exc:
            self._set("failed", refusal_text(exc.code, exc.message))
            return False
        except (cl.ClientError, TimeoutError) as exc:
            self.client = None
            self.retry_selection = selection
            self._set("disconnected", f"Lost the engine while submitting: {exc}. The document is "
                                      "unchanged; press Retry to restart the engine and try again.")
            return False
        self.retry_selection = None
        expected = source.inbetween_frames
        started = time.monotonic()

        def finished(outcome: JobOutcome) -> None:
            self._finish(selection, source, params, outcome, time.monotonic() - started)

        self.runner = JobRunner(job, expected, on_status=lambda s: self._set(message=s),
                                on_progress=self._on_progress, on_finished=finished,
                                timer_factory=self._timer_factory)
        self.progress = 0.0
        n_sk = len(source.sketches)
        self._set("running", f"submitted {len(source.keys)} keys, {n_sk} sketch(es), "
                             f"{len(expected)} in-betweens to '{params.backend}'")
        self.runner.start()
        return True

    @property
    def can_retry(self) -> bool:
        return self.retry_selection is not None and not self.busy and not self.connecting

    def retry(self) -> bool:
        """Reconnect (starting the engine from the configured command if none answers) and
        resubmit the job the engine lost. False (with a message) if there is nothing to retry."""
        sel = self.retry_selection
        if sel is None:
            self._set(message="there is no lost job to retry")
            return False
        if self.busy or self.connecting:
            self._set(message="a job is already running; cancel it first")
            return False
        if self.engine_process is not None and self.engine_process.popen.poll() is not None:
            self.engine_process.stop(timeout=1.0)  # ours and dead: remove its log
            self.engine_process = None
        if self.client is not None and not self.client.connected:
            self.client.close()
            self.client = None
        if self.connected:
            return self.generate(sel)
        self._pending = sel  # generated once connected; kept for another retry if that fails
        self.connect(start_if_needed=True)
        return True

    def cancel(self) -> None:
        if self.runner is not None and not self.runner.finished:
            self.runner.cancel()
        elif self._pending is not None:
            self._pending = None
            self._set("cancelled", "cancelled before the engine started")

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress = fraction
        self._set(message=f"{stage or 'generating'}: {fraction * 100:.0f}%")

    def _finish(self, sel: Selection, source: krita_io.ShotSource, params: GenerateParams,
                outcome: JobOutcome, elapsed: float) -> None:
        self.last_outcome = outcome
        if outcome.state == "cancelled":
            self._set("cancelled", "cancelled: nothing was added to the document")
            return
        if outcome.state != "done":
            if outcome.code == "connection_lost":
                self.client = None
                self.retry_selection = sel
                self._set("failed", f"The engine stopped while generating ({outcome.message}). "
                                    "Nothing was added to the document; press Retry to restart the "
                                    "engine and generate again. [connection_lost]")
                return
            if outcome.code in REFUSAL_HINTS:
                self._set("failed", refusal_text(outcome.code, outcome.message))
                return
            self._set("failed", f"generation failed: {outcome.message} [{outcome.code}]")
            return
        frames = dict(source.keys)  # keys copied untouched, byte for byte
        frames.update(outcome.frames)
        name = krita_io.unique_layer_name(
            sel.doc, krita_io.result_layer_name(sel.key_layer.name(), params.backend))
        self._set(message=f"writing {len(frames)} keyframes to '{name}'...")
        try:
            steps = krita_io.write_frames_stepwise(sel.doc, sel.key_layer, name, frames,
                                                   source.width, source.height)
        except Exception as exc:  # noqa: BLE001
            self._set("failed", f"could not write the frames: {exc}")
            return
        self.writing = True

        def advance() -> None:
            try:
                pause = next(steps)
            except StopIteration:
                self.writing = False
                self.result_layer = name
                self.progress = 1.0
                self._set("done", f"added '{name}': {len(outcome.frames)} in-betweens in {elapsed:.1f} s")
                return
            except Exception as exc:  # noqa: BLE001 - Krita raises plain exceptions; show them
                self.writing = False
                self._set("failed", f"could not write the frames: {type(exc).__name__}: {exc}")
                return
            self._defer(pause, advance)

        advance()


def _qt_single_shot(ms: int, fn: Callable[[], None]) -> None:
    from .compat import QTimer

    QTimer.singleShot(ms, fn)


_instance: Controller | None = None


def instance() -> Controller:
    """The plugin's controller (one per Krita process)."""
    global _instance
    if _instance is None:
        _instance = Controller()
    return _instance
