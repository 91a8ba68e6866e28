"""The app's link to the engine: connect (or start) in the background, run one job at a time,
and turn client events into Qt signals.

The client library is blocking and thread-safe; here nothing blocks the GUI thread:
connecting (which may start the engine, seconds) and status queries run on short-lived
threads and report back through queued signals, and job events are drained by
`Job.poll()` from a QTimer. If the engine dies, the job fails with code "connection_lost"
and the link says so; the document is never touched here. `restart()` then starts the
engine again the way `start()` last did (same command, connection file and arguments), so
the app can offer "Restart engine and retry" without knowing how the engine was found.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage

from inbetween_client.client import Done, EngineClient, Failed, Frame, Job, Progress, Queued, Started
from inbetween_client.errors import ClientError, ConnectionLost
from inbetween_client.launcher import EngineProcess, connect_or_start
from inbetween_client.limits import Limits
from inbetween_client.shot import ShotRequest

from .model import images

CONNECTION_LOST = "connection_lost"


@dataclass
class JobOutcome:
    frames: dict[int, QImage] = field(default_factory=dict)
    holds: dict[int, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def _decode(ev: Frame) -> QImage:
    if ev.encoding == "rgba":
        return images.from_rgba_bytes(ev.data, ev.width, ev.height)
    return images.from_png_bytes(ev.data)


class EngineLink(QObject):
    stateChanged = Signal(str)  # one line for the status bar
    connectedChanged = Signal(bool)
    capabilitiesChanged = Signal(dict)
    jobStarted = Signal()
    progress = Signal(float, str)
    frameArrived = Signal(int, QImage, bool)  # frame, image, preview
    jobFinished = Signal(object)  # JobOutcome
    jobFailed = Signal(str, str)  # code, message
    _connectDone = Signal(object, object, str)
    _statusDone = Signal(object, str)

    def __init__(self, parent: QObject | None = None, poll_ms: int = 30, status_ms: int = 2000) -> None:
        super().__init__(parent)
        self.client: EngineClient | None = None
        self.process: EngineProcess | None = None
        self.job: Job | None = None
        self.error = ""
        self.state = "Engine: not connected"
        self.last_status: dict[str, Any] = {}
        self._outcome = JobOutcome()
        self._connecting = False
        # how `start()` was last called, so `restart()` brings back the same engine
        self._start_params: tuple[Sequence[str] | None, Path | None, tuple[str, ...]] = (None, None, ())
        self._status_busy = False
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._drain)
        self._status = QTimer(self)
        self._status.setInterval(status_ms)
        self._status.timeout.connect(self.refresh_status)
        # worker threads report through these; queued explicitly so the slots run on the GUI thread
        self._connectDone.connect(self._on_connected, Qt.ConnectionType.QueuedConnection)
        self._statusDone.connect(self._on_status, Qt.ConnectionType.QueuedConnection)

    # -------------------------------------------------------------- connection

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def busy(self) -> bool:
        return self.job is not None

    @property
    def limits(self) -> Limits | None:
        """The connected engine's limits (canvas, frames, message sizes); None when not connected."""
        return Limits.from_capabilities(self.client.capabilities) if self.client is not None else None

    def backends(self) -> list[dict[str, Any]]:
        return list(self.client.capabilities.get("backends", [])) if self.client else []

    def start(self, command: Sequence[str] | None = None, connection_file: Path | None = None,
              args: Sequence[str] = (), replace: EngineProcess | None = None) -> None:
        """Find the running engine or start one, on a background thread.

        An engine started here is tied to this app (`serve --parent-pid`): it stops by itself
        once the app is gone, even if the app is killed. `replace`: an engine of ours that is
        stopping (or must stop) first, so the new one does not race it for the connection file.
        """
        if self._connecting:
            return
        self._start_params = (list(command) if command else None, connection_file, tuple(args))
        self._connecting = True
        self._set_state("Engine: restarting…" if replace is not None else "Engine: connecting…")

        def work() -> None:
            try:
                if replace is not None:
                    replace.stop()  # waits for an engine winding down; forces one that hangs
                client, proc = connect_or_start(command, connection_file, args,
                                                client_name="inbetween-studio", tie_to_caller=True)
                self._connectDone.emit(client, proc, "")
            except Exception as exc:  # noqa: BLE001 - any failure is reported, the app goes on
                self._connectDone.emit(None, None, str(exc) or type(exc).__name__)

        threading.Thread(target=work, name="engine-connect", daemon=True).start()

    @property
    def connecting(self) -> bool:
        return self._connecting

    def restart(self) -> None:
        """Drop the connection, stop the engine we started if it still runs (it may be winding
        down after a SIGTERM), then connect or start again with the parameters of the last
        `start()`; `connectedChanged(True)` says when it is up."""
        if self._connecting:
            return
        self._disconnect()
        old, self.process = self.process, None
        command, connection_file, args = self._start_params
        self.start(command, connection_file, args, replace=old)

    def attach(self, client: EngineClient, process: EngineProcess | None = None) -> None:
        """Use an already connected client (tests, embedding)."""
        self._on_connected(client, process, "")

    def _on_connected(self, client: EngineClient | None, proc: EngineProcess | None, error: str) -> None:
        self._connecting = False
        if client is None:
            self.error = error
            first = error.strip().splitlines()[0] if error.strip() else "unknown error"
            self._set_state(f"Engine unavailable: {first} — drawing and export still work")
            self.connectedChanged.emit(False)
            return
        self.client, self.error = client, ""
        if proc is not None or self.process is None or self.process.popen.poll() is not None:
            self.process = proc  # keep a live engine we started even if this time we found it running
        self.capabilitiesChanged.emit(dict(client.capabilities))
        self.connectedChanged.emit(True)
        self._set_state(self._describe({}))
        self._status.start()
        self.refresh_status()

    def refresh_status(self) -> None:
        client = self.client
        if client is None or self._status_busy:
            return
        if not client.connected:
            self._on_status(None, "the connection to the engine was lost")
            return
        self._status_busy = True

        def work() -> None:
            try:
                self._statusDone.emit(client.status(timeout=3.0), "")
            except ConnectionLost as exc:
                self._statusDone.emit(None, str(exc))
            except (ClientError, TimeoutError, OSError) as exc:
                self._statusDone.emit({}, str(exc))

        threading.Thread(target=work, name="engine-status", daemon=True).start()

    def _on_status(self, status: dict | None, error: str) -> None:
        self._status_busy = False
        if status is None:
            self._status.stop()
            self.client = None
            self.error = error
            self._set_state(f"Engine stopped ({error}) — drawing and export still work")
            self.connectedChanged.emit(False)
            return
        if status:
            self.last_status = status
        self._set_state(self._describe(status))

    def owns_idle_engine(self) -> bool:
        """True if this app started the engine and no other client (Krita...) uses it."""
        return self.process is not None and int(self.last_status.get("clients", 1)) <= 1

    def _describe(self, status: dict) -> str:
        caps = self.client.capabilities if self.client else {}
        avail = [b["name"] for b in caps.get("backends", []) if b.get("available")]
        device = status.get("device") or caps.get("device", "?")
        queue = len(status.get("queue", []))
        running = len(status.get("running", []))
        return (f"Engine: {', '.join(avail) or 'no backend'} · {device} · "
                f"running {running} · queue {queue}")

    def _set_state(self, text: str) -> None:
        if text != self.state:
            self.state = text
            self.stateChanged.emit(text)

    # -------------------------------------------------------------- jobs

    def submit(self, request: ShotRequest) -> None:
        """Send a shot; events then arrive as signals. Raises ClientError if it is refused."""
        if self.client is None or not self.client.connected:
            raise ConnectionLost(self.error or "the engine is not connected")
        if self.job is not None:
            raise ClientError("a generate job is already running")
        self.job = self.client.submit(request, timeout=30.0)
        self._outcome = JobOutcome()
        self._poll.start()
        self.jobStarted.emit()

    def cancel(self) -> None:
        if self.job is not None:
            try:
                self.job.cancel()
            except ClientError:
                pass

    def _drain(self) -> None:
        job = self.job
        if job is None:
            self._poll.stop()
            return
        try:
            events = job.poll()
        except ConnectionLost as exc:
            self._end_job()
            self.refresh_status()
            self.jobFailed.emit(CONNECTION_LOST, f"The engine stopped while generating ({exc}).")
            return
        for ev in events:
            if isinstance(ev, Queued):
                self.progress.emit(0.0, f"queued ({ev.position} ahead)")
            elif isinstance(ev, Started):
                self.progress.emit(0.0, "started")
            elif isinstance(ev, Progress):
                self.progress.emit(float(ev.fraction), ev.stage or "generating")
            elif isinstance(ev, Frame):
                img = _decode(ev)
                if not ev.preview:
                    self._outcome.frames[ev.frame] = img
                self.frameArrived.emit(ev.frame, img, ev.preview)
            elif isinstance(ev, Done):
                self._outcome.holds = dict(ev.holds)
                self._outcome.stats = dict(ev.stats)
                outcome = self._outcome
                self._end_job()
                self.jobFinished.emit(outcome)
                return
            elif isinstance(ev, Failed):
                self._end_job()
                self.jobFailed.emit(ev.code, ev.message)
                return

    def _disconnect(self) -> None:
        self._status.stop()
        self._poll.stop()
        self.job = None
        if self.client is not None:
            self.client.close()
            self.client = None

    def _end_job(self) -> None:
        self.job = None
        self._poll.stop()

    # -------------------------------------------------------------- shutdown

    def close(self, stop_engine: bool = False) -> None:
        """Disconnect (the engine cancels our jobs); stop the engine if we started it and asked."""
        self._disconnect()
        if stop_engine and self.process is not None:
            self.process.stop()
            self.process = None
