"""Error codes shared by the engine and every client (standard library only)."""

from __future__ import annotations


class ErrorCode:
    """Stable error codes carried by `error` messages; the text next to them is for humans."""

    BAD_FRAME = "bad_frame"  # framing violated: garbage, oversized, truncated, invalid JSON
    TOO_LARGE = "too_large"  # a well-framed message over the size limits; its bytes were skipped
    BAD_MESSAGE = "bad_message"  # well-framed but not a valid message (unknown type, wrong fields)
    AUTH_FAILED = "auth_failed"
    AUTH_REQUIRED = "auth_required"
    PROTOCOL_MISMATCH = "protocol_mismatch"
    BAD_SHOT = "bad_shot"  # the shot request is invalid (sizes, indices, images)
    UNKNOWN_BACKEND = "unknown_backend"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    BACKEND_FAILED = "backend_failed"
    OUT_OF_MEMORY = "out_of_memory"
    QUEUE_FULL = "queue_full"
    UNKNOWN_JOB = "unknown_job"
    CANCELLED = "cancelled"
    SHUTTING_DOWN = "shutting_down"
    INTERNAL = "internal"


class ClientError(Exception):
    """Base class of everything the client library raises."""


class EngineNotRunning(ClientError):
    """No engine answers at the address of the connection file (or there is no such file)."""


class ConnectionLost(ClientError):
    """The engine closed the connection or died while the client was waiting."""


class ProtocolError(ClientError):
    """The peer sent something that is not protocol v1."""


class RemoteError(ClientError):
    """The engine answered with an `error` message."""

    def __init__(self, code: str, message: str, job: str | None = None) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message
        self.job = job


class JobCancelledError(RemoteError):
    """The job ended because it was cancelled by its client."""


class EngineStoppedError(RemoteError):
    """The job ended because the engine stopped (SIGTERM, Ctrl+C, a `shutdown` request).

    Not a user cancel: the work is lost with the engine, and a client should offer to restart
    the engine and submit the job again.
    """


class TooLargeError(RemoteError):
    """A message over the engine's size limits (an image over `max_blob_bytes`, too many
    images...). The client raises it before sending, from the limits in the engine's
    capabilities; an engine that receives such a message anyway skips its bytes and answers
    `too_large`, and the connection stays usable."""
