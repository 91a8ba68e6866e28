"""Errors that cross the socket carry a stable code so clients can react without parsing text."""

from __future__ import annotations

from inbetween_client.errors import ErrorCode


class EngineError(Exception):
    """An error that is reported to the client as an `error` message (code + human message)."""

    code: str = ErrorCode.INTERNAL

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ShotError(EngineError):
    """The shot request is invalid: the message names the offending key, sketch or field."""

    code = ErrorCode.BAD_SHOT


class BackendUnavailable(EngineError):
    """The backend exists but cannot run here (no weights, no GPU, missing runtime)."""

    code = ErrorCode.BACKEND_UNAVAILABLE


class JobCancelled(EngineError):
    """Raised inside a backend when its job's cancel flag is set; never an error for the user."""

    code = ErrorCode.CANCELLED

    def __init__(self, message: str = "job cancelled") -> None:
        super().__init__(message)


class BackendFailed(EngineError):
    """The backend raised while running a job; the engine lives on."""

    code = ErrorCode.BACKEND_FAILED


class OutOfMemory(EngineError):
    """The backend ran out of (GPU) memory; the model was unloaded so the next job can retry."""

    code = ErrorCode.OUT_OF_MEMORY
