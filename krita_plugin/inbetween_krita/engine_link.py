"""The plugin's link to the engine: find it, start it, set it up, and notice when it goes away.

Nothing here blocks Krita: connecting (the engine's first answer can take seconds while it
looks at its backends), starting an engine and the one-click set-up run in threads, and one
repeating timer picks up their results. The same timer keeps the state live: a connection
that drops (an idle engine killed, or stopped) is noticed within a second, and while no
engine is connected it looks for a newly started one (its connection file) every few seconds.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

from . import client_lib as cl
from . import engine_locator, engine_setup

CLIENT_NAME = "krita"
TICK_MS = 100
HEALTH_EVERY = 10  # ticks: a lost connection is noticed within a second
LOOK_EVERY = 40  # ticks: while disconnected, look for an engine someone else started


class EngineLink:
    """States: "disconnected", "connecting", "connected", "setting-up"."""

    def __init__(self, settings: Any, timer_factory: Callable, notify: Callable[[], None]) -> None:
        self.settings = settings
        self.notify = notify
        self.client: cl.EngineClient | None = None
        self.engine_process: cl.EngineProcess | None = None
        self.state = "disconnected"
        self.message = "not connected to the engine"
        self.setup_progress: tuple[float, str] | None = None  # while setting up
        self.setup_error: str | None = None
        self._thread: threading.Thread | None = None
        self._result: tuple[cl.EngineClient | None, str | None] | None = None
        self._setup: engine_setup.EngineSetup | None = None
        self._waiters: list[Callable[[bool], None]] = []
        self._ticks = 0
        self._timer = timer_factory(self._tick)
        self._timer.start(TICK_MS)

    # ------------------------------------------------------------ state

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def backends(self) -> list[dict[str, Any]]:
        if not self.connected:
            return []
        return list(self.client.capabilities.get("backends", []))  # type: ignore[union-attr]

    def backend_info(self, name: str) -> dict[str, Any] | None:
        return next((b for b in self.backends() if b.get("name") == name), None)

    def candidate(self) -> engine_locator.EngineCandidate | None:
        return engine_locator.best(self.settings.engine_command, self.settings.app_bundle)

    def describe(self) -> str:
        """One line for the docker's engine row."""
        if self.state == "setting-up" and self.setup_progress:
            return f"Setting up the engine: {self.setup_progress[1]}"
        if self.connected:
            info = self.client.info  # type: ignore[union-attr]
            names = ", ".join(str(b.get("name")) for b in self.backends() if b.get("available", True))
            device = self.client.capabilities.get("device", "")  # type: ignore[union-attr]
            return f"Engine: connected ({info.version or '?'} at {info.address}; {device}; {names})"
        return f"Engine: {self.message}"

    def _set(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.state = state
        if message is not None:
            self.message = message
        self.notify()

    # ------------------------------------------------------------ connecting

    def when_connected(self, fn: Callable[[bool], None]) -> None:
        """Call `fn(True)` once connected (at once if already), `fn(False)` if that fails."""
        if self.connected:
            fn(True)
            return
        self._waiters.append(fn)
        if not self.busy:
            self.connect()

    def connect(self, start: bool | None = None, quiet: bool = False) -> bool:
        """Connect in a thread, starting an engine (the best candidate) if none answers and
        `start` (default: the "start it when not running" setting). True if already connected."""
        if self.connected:
            return True
        if self.busy:
            return False
        start = self.settings.start_engine if start is None else start
        installed = self.candidate()
        found = installed if start else None
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
        self._result = None

        def run() -> None:
            client, error = None, None
            try:
                try:
                    client = cl.EngineClient.connect(timeout=30.0, client_name=CLIENT_NAME)
                except cl.EngineNotRunning as exc:
                    if installed is None:
                        error = ("none is running or installed here. Press Set up engine (one click, "
                                 "from PyPI) or Use app... (a downloaded In-between Studio).")
                    elif found is None:
                        error = f"not running ({exc}). Press Start engine ({installed.where})."
                    else:
                        try:
                            self.engine_process = cl.start_engine(list(found.command), cl.default_connection_file(),
                                                                  env=env)
                        except cl.ClientError as exc2:
                            error = f"could not start {found.where} ({' '.join(found.command)}): {exc2}"
                        else:
                            client = cl.EngineClient.connect(self.engine_process.info, timeout=30.0,
                                                             client_name=CLIENT_NAME)
            except cl.RemoteError as exc:
                error = f"the engine refused the connection: {exc.message}"
            except Exception as exc:  # noqa: BLE001 - shown to the user, never raised into Qt
                error = f"could not connect: {type(exc).__name__}: {exc}"
            self._result = (client, error)

        self._thread = threading.Thread(target=run, name="inbetween-engine-connect", daemon=True)
        self._thread.start()
        if not quiet:
            what = f"starting {found.where}..." if found else "connecting..."
            self._set("connecting", what)
        return False

    def disconnect(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None
        self._set("disconnected", "disconnected")

    def lost(self, why: str) -> None:
        """The running job found the engine gone: forget the client and say so."""
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001
                pass
        self.client = None
        if self.engine_process is not None and self.engine_process.popen.poll() is not None:
            self.engine_process.stop(timeout=1.0)  # ours and dead: remove its log
            self.engine_process = None
        self._set("disconnected", why)

    def _connect_done(self) -> None:
        assert self._result is not None
        client, error = self._result
        self._thread, self._result = None, None
        waiters, self._waiters = self._waiters, []
        if client is None:
            self._set("disconnected", error or "could not connect")
        else:
            self.client = client
            self._set("connected", "connected")
        for fn in waiters:
            fn(client is not None)

    # ------------------------------------------------------------ set-up

    def start_setup(self) -> bool:
        """Install the engine into the plugin's private environment (thread), then start it."""
        if self.busy or self.connected:
            return False
        self._setup = engine_setup.EngineSetup()
        self.setup_error = None
        self.setup_progress = (0.0, "starting...")
        setup = self._setup

        def run() -> None:
            def report(fraction: float, stage: str) -> None:
                self.setup_progress = (fraction, stage)

            try:
                setup.run(report)
                self._result = (None, None)
            except engine_setup.SetupError as exc:
                self._result = (None, str(exc))

        self._thread = threading.Thread(target=run, name="inbetween-engine-setup", daemon=True)
        self._thread.start()
        self._set("setting-up", "setting up the engine...")
        return True

    def cancel_setup(self) -> None:
        if self._setup is not None:
            self._setup.cancel()

    def _setup_done(self) -> None:
        assert self._result is not None
        _, error = self._result
        self._thread, self._result, self._setup = None, None, None
        self.setup_progress = None
        if error:
            self.setup_error = error
            self._set("disconnected", f"the set-up did not finish: {error}")
            return
        self._set("disconnected", "the engine is installed; starting it...")
        self.connect(start=True)

    # ------------------------------------------------------------ the timer

    def _tick(self) -> None:
        self._ticks += 1
        if self._thread is not None:
            if self.state == "setting-up":
                if self._result is not None and not self._thread.is_alive():
                    self._setup_done()
                elif self._ticks % 3 == 0:
                    self.notify()  # progress
            elif not self._thread.is_alive() and self._result is not None:
                self._connect_done()
            return
        if self._ticks % HEALTH_EVERY == 0 and self.client is not None and not self.client.connected:
            self.client = None
            self._set("disconnected", "the engine stopped (the connection closed); it is started again "
                                      "when you generate, or press Start engine.")
        elif self._ticks % LOOK_EVERY == 0 and self.client is None and self.state != "setting-up":
            info = cl.read_connection_file()
            if info is not None and cl.pid_alive(info.pid):
                self.connect(start=False, quiet=True)

    def shutdown(self) -> None:
        """Krita is closing: drop the connection and stop an engine this plugin started."""
        self._timer.stop()
        self.cancel_setup()
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001
                pass
            self.client = None
        if self.engine_process is not None:
            self.engine_process.stop(timeout=5.0)
            self.engine_process = None
