"""Backends by name. Heavy backends are imported lazily so the engine starts fast without torch."""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass

from ..errors import BackendUnavailable, EngineError
from inbetween_client.errors import ErrorCode
from .base import Availability, Backend, BackendInfo, EngineConfig
from .bundled import explain_missing_runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendEntry:
    name: str
    module: str  # "package.module:ClassName"
    summary: str
    #: "package.module:function(config) -> Availability" that answers without importing the
    #: backend's runtime (torch takes seconds to import): used until the backend is first used.
    probe: str | None = None


#: Every backend the engine knows. `flow` needs nothing but OpenCV and is always available.
BUILTIN_BACKENDS: tuple[BackendEntry, ...] = (
    BackendEntry("flow", "engine.backends.flow.backend:FlowBackend",
                 "cartoon in-betweening on the CPU (learned RIFE flows with its weights, else classical)"),
    BackendEntry("tooncrafter", "engine.backends.tooncrafter.backend:ToonCrafterBackend",
                 "generative cartoon interpolation (ToonCrafter 512; needs its checkpoints)",
                 probe="engine.backends.tooncrafter.probe:availability"),
    BackendEntry("animate_anyone", "engine.backends.animate_anyone.backend:AnimateAnyoneBackend",
                 "pose-guided character in-betweens (Animate Anyone; needs its weights and poses)",
                 probe="engine.backends.animate_anyone.probe:availability"),
)

DEFAULT_BACKEND = "flow"


def builtin_backends() -> tuple[BackendEntry, ...]:
    """The backends of this engine; the fault-injection one only when tests ask for it."""
    from . import faults

    if faults.enabled():
        return BUILTIN_BACKENDS + (
            BackendEntry("faults", "engine.backends.faults:FaultBackend", "fault injection (tests only)"),
        )
    return BUILTIN_BACKENDS


class BackendRegistry:
    """Creates each backend once, on first use, and keeps it (models stay loaded between jobs)."""

    def __init__(self, config: EngineConfig, entries: tuple[BackendEntry, ...] | None = None):
        self.config = config
        self._entries = {e.name: e for e in (entries or builtin_backends())}
        self._instances: dict[str, Backend] = {}
        self._import_errors: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> Backend:
        """The backend instance; raises EngineError(unknown_backend) or BackendUnavailable."""
        if name not in self._entries:
            raise EngineError(
                f"unknown backend {name!r} (known: {', '.join(self._entries)})",
                ErrorCode.UNKNOWN_BACKEND,
            )
        with self._lock:
            if name in self._instances:
                return self._instances[name]
            if name in self._import_errors:
                raise BackendUnavailable(f"{name}: {self._import_errors[name]}")
            entry = self._entries[name]
            mod_name, _, cls_name = entry.module.partition(":")
            try:
                cls = getattr(importlib.import_module(mod_name), cls_name)
            except ImportError as exc:
                reason = explain_missing_runtime(name, f"its runtime is not installed ({exc.name or exc})")
                self._import_errors[name] = reason
                raise BackendUnavailable(f"{name}: {reason}") from exc
            backend = cls(self.config)
            self._instances[name] = backend
            return backend

    def describe(self, name: str) -> tuple[BackendInfo | None, Availability]:
        """Capability and availability of one backend, never raising (for `backends`/`capabilities`)."""
        try:
            backend = self.get(name)
        except EngineError as exc:
            return None, Availability(False, exc.message)
        try:
            return backend.info, backend.availability()
        except Exception as exc:  # a broken backend must not take `capabilities` down with it
            log.exception("availability check of %s failed", name)
            return backend.info, Availability(False, f"availability check failed: {exc}")

    def _probe(self, entry: BackendEntry) -> tuple[Availability, BackendInfo | None] | None:
        """Availability of a backend not imported yet, from its light probe (None: no probe),
        with the capabilities the probe module declares (`INFO`), if it does."""
        if entry.probe is None or entry.name in self._instances or entry.name in self._import_errors:
            return None
        mod_name, _, fn_name = entry.probe.partition(":")
        try:
            module = importlib.import_module(mod_name)
            return getattr(module, fn_name)(self.config), getattr(module, "INFO", None)
        except Exception as exc:  # noqa: BLE001 - a broken probe falls back to the import
            log.warning("probe of %s failed (%s); importing it instead", entry.name, exc)
            return None

    def describe_all(self) -> list[dict]:
        out = []
        for name, entry in self._entries.items():
            probed = self._probe(entry)
            if probed is not None:
                avail, static = probed
                wire = static.to_wire() if static else {"name": name, "description": entry.summary}
                wire.update(available=avail.available, reason=explain_missing_runtime(name, avail.reason))
                out.append(wire)
                continue
            info, avail = self.describe(name)
            wire = info.to_wire() if info else {"name": name, "description": entry.summary}
            wire.update(available=avail.available, reason=avail.reason)
            out.append(wire)
        return out

    def warm_up(self, name: str) -> None:
        """Describe every backend, then let `name` load its model before any job asks (run in
        the background at engine start; failures are logged, the job will report them)."""
        self.describe_all()
        try:
            self.get(name).warm_up()
        except Exception:  # noqa: BLE001 - warming up is an optimisation, never an error
            log.warning("warming up %s failed", name, exc_info=True)

    def loaded(self) -> dict[str, list[str]]:
        """Models in memory per backend, for `status`; a backend that cannot say is left out
        (logged), so one broken backend never takes a client's status request down."""
        out = {}
        for n, b in list(self._instances.items()):
            try:
                models = b.loaded_models()
            except Exception:  # noqa: BLE001
                log.exception("%s could not list its loaded models", n)
                continue
            if models:
                out[n] = models
        return out

    def unload_all(self) -> None:
        for b in self._instances.values():
            try:
                b.unload()
            except Exception:
                log.exception("unloading %s failed", b.info.name)
