"""A blocking, thread-safe client of the engine (standard library only).

One background thread reads the socket and sorts messages: replies to requests go to the
waiting caller, job events go to that job's queue. So a GUI can poll (`Job.poll`), a script
can iterate (`Job.events`) or block (`Job.wait` with callbacks), and several jobs of one
client run at once without stepping on each other.
"""

from __future__ import annotations

import itertools
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, Union

from . import PROTOCOL_VERSION, __version__
from .connection import ConnectionInfo, read_connection_file
from .errors import (
    ClientError,
    ConnectionLost,
    EngineNotRunning,
    EngineStoppedError,
    ErrorCode,
    JobCancelledError,
    ProtocolError,
    RemoteError,
    TooLargeError,
)
from .limits import Limits
from .poses import Pose
from .protocol import MAX_HEADER_BYTES, Message, read_message, write_message
from .shot import ShotRequest

# ---------------------------------------------------------------- events of a job


@dataclass(frozen=True)
class Queued:
    position: int  # jobs ahead of this one (0: next to run)


@dataclass(frozen=True)
class Started:
    pass


@dataclass(frozen=True)
class Progress:
    fraction: float
    stage: str = ""
    eta_s: float | None = None


@dataclass(frozen=True)
class Frame:
    """A generated frame. `data` is raw RGBA rows or a PNG file, as `encoding` says."""

    frame: int
    width: int
    height: int
    encoding: str
    data: bytes
    preview: bool = False


@dataclass(frozen=True)
class Done:
    frames: list[int]
    holds: dict[int, int]
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    code: str
    message: str

    def exception(self, job: str | None = None) -> RemoteError:
        cls = {
            ErrorCode.CANCELLED: JobCancelledError,
            ErrorCode.SHUTTING_DOWN: EngineStoppedError,
            ErrorCode.TOO_LARGE: TooLargeError,
        }.get(self.code, RemoteError)
        return cls(self.code, self.message, job)


@dataclass(frozen=True)
class PoseImage:
    """A pose drawn by the engine as the pose-guided models see it: RGB, black background.
    `data` is raw rows (`rgb`, width * height * 3 bytes) or a PNG file (`png`)."""

    width: int
    height: int
    encoding: str
    data: bytes


class NotSupportedError(ClientError):
    """The engine does not offer this request (it predates it): update the engine."""


#: pose JSON per render_poses request, well under the 1 MiB header limit
_RENDER_HEADER_BUDGET = MAX_HEADER_BYTES // 2


# typing.Union, not `|`: Krita builds may embed a Python older than 3.10
Event = Union[Queued, Started, Progress, Frame, Done, Failed]


@dataclass
class JobResult:
    frames: dict[int, Frame]
    holds: dict[int, int]
    stats: dict[str, Any]


class _Lost:
    """Sentinel put in every queue when the connection dies."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


# ---------------------------------------------------------------- jobs


class Job:
    """A submitted job. Its events arrive in order: Queued*, Started, (Progress|Frame)*, Done|Failed."""

    def __init__(self, client: "EngineClient", job_id: str, position: int) -> None:
        self.client = client
        self.id = job_id
        self.position = position
        self._events: queue.Queue[Event | _Lost] = queue.Queue()
        self.finished = False
        self._frames: dict[int, Frame] = {}  # final frames seen so far, whoever consumed them
        self._end: Done | Failed | None = None

    def _push(self, ev: Event | _Lost) -> None:
        self._events.put(ev)

    def _next(self, timeout: float | None) -> Event:
        try:
            ev = self._events.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no news of job {self.id} for {timeout} s") from None
        if isinstance(ev, _Lost):
            self._events.put(ev)  # every later call sees the loss too
            raise ConnectionLost(ev.reason)
        if isinstance(ev, Frame) and not ev.preview:
            self._frames[ev.frame] = ev
        elif isinstance(ev, (Done, Failed)):
            self.finished = True
            self._end = ev
        return ev

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Iterate the job's events until it is done or failed (both are yielded)."""
        while not self.finished:
            yield self._next(timeout)

    def poll(self) -> list[Event]:
        """Events that arrived so far, without blocking (for GUI timers)."""
        out: list[Event] = []
        while not self.finished:
            try:
                out.append(self._next(timeout=0))
            except TimeoutError:
                break
        return out

    def wait(
        self,
        on_progress: Callable[[Progress], None] | None = None,
        on_frame: Callable[[Frame], None] | None = None,
        timeout: float | None = None,
    ) -> JobResult:
        """Block until the job is done; raise RemoteError / JobCancelledError if it fails.

        `timeout` bounds the silence between two events, not the whole job.
        """
        for ev in self.events(timeout):
            if isinstance(ev, Progress) and on_progress:
                on_progress(ev)
            elif isinstance(ev, Frame) and on_frame:
                on_frame(ev)
        if isinstance(self._end, Failed):
            raise self._end.exception(self.id)
        assert isinstance(self._end, Done)
        return JobResult(dict(self._frames), self._end.holds, self._end.stats)

    def cancel(self) -> None:
        """Ask the engine to cancel; the job then ends with Failed(code="cancelled")."""
        if not self.finished:
            self.client._send(Message("cancel", {"job": self.id}))


# ---------------------------------------------------------------- client


class EngineClient:
    """A connection to a running engine, authenticated. Use `connect()` to make one."""

    def __init__(self, sock: socket.socket, info: ConnectionInfo, welcome: Message) -> None:
        self._sock = sock
        self.info = info
        self.welcome = welcome.fields
        self.capabilities: dict[str, Any] = welcome.get("capabilities", {})
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._refs = itertools.count(1)
        self._replies: dict[str, queue.Queue[Message | _Lost]] = {}
        self._jobs: dict[str, Job] = {}
        self._closed = False
        self._lost: str | None = None
        self._reader = threading.Thread(target=self._read_loop, name="engine-client-reader", daemon=True)
        self._reader.start()

    # -------------------------------------------------- connecting

    @classmethod
    def connect(
        cls,
        info: ConnectionInfo | None = None,
        timeout: float = 10.0,
        client_name: str = "inbetween-client",
    ) -> "EngineClient":
        """Connect and authenticate, from `info` or the connection file. Raises EngineNotRunning."""
        info = info or read_connection_file()
        if info is None:
            raise EngineNotRunning("no engine connection file: the engine is not running")
        try:
            sock = socket.create_connection((info.host, info.port), timeout=timeout)
        except OSError as exc:
            raise EngineNotRunning(f"no engine answers at {info.address} ({exc.strerror or exc})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            write_message(sock, Message("hello", {
                "token": info.token, "protocol": PROTOCOL_VERSION,
                "client": client_name, "client_version": __version__,
            }))
            reply = read_message(sock)
        except (OSError, ConnectionLost) as exc:
            sock.close()
            raise EngineNotRunning(f"the engine at {info.address} did not answer: {exc}") from None
        except ProtocolError:
            sock.close()
            raise
        if reply.type == "error":
            sock.close()
            raise RemoteError(reply.get("code", ErrorCode.INTERNAL), reply.get("message", "refused"))
        if reply.type != "welcome":
            sock.close()
            raise ProtocolError(f"expected welcome, got {reply.type!r}")
        sock.settimeout(None)
        return cls(sock, info, reply)

    def close(self) -> None:
        """Close the connection; the engine cancels this client's unfinished jobs."""
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._reader.join(timeout=5)

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._lost is None and not self._closed

    # -------------------------------------------------- requests

    @property
    def limits(self) -> Limits:
        """What this engine accepts (canvas, frames, message sizes), from its capabilities."""
        return Limits.from_capabilities(self.capabilities)

    def submit(self, request: ShotRequest, timeout: float = 60.0) -> Job:
        """Send the shot; returns once the engine accepted it (or raises RemoteError).

        A shot whose images are over the engine's message limits raises TooLargeError
        before a byte is sent."""
        msg = request.to_message()
        problem = self.limits.message_problem(msg)
        if problem:
            raise TooLargeError(ErrorCode.TOO_LARGE, f"cannot send the shot: {problem}")
        reply = self._request(msg, timeout)
        return reply.fields["_job"]

    def interpolate(self, request: ShotRequest, **wait_kwargs: Any) -> JobResult:
        """Submit and wait: the simplest blocking API."""
        return self.submit(request).wait(**wait_kwargs)

    @property
    def renders_poses(self) -> bool:
        """Whether the engine answers `render_poses` (it says so in its capabilities)."""
        return isinstance(self.capabilities.get("render_poses"), dict)

    def render_poses(
        self,
        width: int,
        height: int,
        poses: Sequence[Pose],
        size: tuple[int, int] | None = None,
        encoding: str = "rgb",
        labels: Sequence[str] | None = None,
        timeout: float = 120.0,
    ) -> list[PoseImage]:
        """The pose images of `poses` (pixels of a width x height canvas) at `size` (default
        the canvas), drawn by the engine's DWPose renderer; one per pose, in order.

        Split into as many requests as the engine's advertised limits need. `labels` (one per
        pose, e.g. "frame 5") name the poses in the engine's error messages. Raises
        NotSupportedError before sending anything to an engine without `render_poses` (such
        an engine would close the connection on an unknown request), RemoteError
        (`bad_message`) for a pose it refuses."""
        info = self.capabilities.get("render_poses")
        if not isinstance(info, dict):
            raise NotSupportedError("this engine cannot draw pose images (it predates render_poses): "
                                    "update the engine")
        if labels is not None and len(labels) != len(poses):
            raise ValueError(f"{len(labels)} labels for {len(poses)} poses")
        out_w, out_h = size if size is not None else (width, height)
        max_poses = int(info.get("max_poses") or 1)
        per_reply = int(info.get("max_reply_bytes") or 0) // max(1, out_w * out_h * 3)
        per = max(1, min(max_poses, per_reply or 1))
        entries = []
        for i, pose in enumerate(poses):
            entry = pose.to_json()
            if labels is not None:
                entry["label"] = str(labels[i])
            entries.append(entry)
        images: list[PoseImage] = []
        chunk: list[dict[str, Any]] = []
        chunk_bytes = 0
        for entry in entries + [None]:  # type: ignore[list-item]
            size_of = len(json.dumps(entry)) if entry is not None else 0
            if chunk and (entry is None or len(chunk) >= per or chunk_bytes + size_of > _RENDER_HEADER_BUDGET):
                images += self._render_chunk(width, height, out_w, out_h, encoding, chunk, timeout)
                chunk, chunk_bytes = [], 0
            if entry is not None:
                chunk.append(entry)
                chunk_bytes += size_of
        return images

    def _render_chunk(self, width: int, height: int, out_w: int, out_h: int, encoding: str,
                      entries: list[dict[str, Any]], timeout: float) -> list[PoseImage]:
        reply = self._request(Message("render_poses", {
            "width": width, "height": height, "size": [out_w, out_h], "encoding": encoding, "poses": entries,
        }), timeout)
        w, h = int(reply.get("width", out_w)), int(reply.get("height", out_h))
        if len(reply.blobs) != len(entries):
            raise ProtocolError(f"asked for {len(entries)} pose images, the engine sent {len(reply.blobs)}")
        if encoding == "rgb" and any(len(b) != w * h * 3 for b in reply.blobs):
            raise ProtocolError(f"a pose image is not {w}x{h} RGB")
        return [PoseImage(w, h, reply.get("encoding", encoding), b) for b in reply.blobs]

    def status(self, timeout: float = 10.0) -> dict[str, Any]:
        return self._request(Message("status"), timeout).fields

    def ping(self, timeout: float = 10.0) -> float:
        t0 = time.perf_counter()
        self._request(Message("ping"), timeout)
        return time.perf_counter() - t0

    def shutdown(self) -> None:
        """Ask the engine to stop (running jobs are cancelled)."""
        self._send(Message("shutdown"))

    # -------------------------------------------------- plumbing

    def _send(self, msg: Message) -> None:
        if self._lost is not None:
            raise ConnectionLost(self._lost)
        try:
            with self._send_lock:
                write_message(self._sock, msg)
        except OSError as exc:
            raise ConnectionLost(f"cannot send to the engine: {exc}") from None

    def _request(self, msg: Message, timeout: float) -> Message:
        ref = f"r{next(self._refs)}"
        msg.fields["ref"] = ref
        box: queue.Queue[Message | _Lost] = queue.Queue()
        with self._lock:
            self._replies[ref] = box
        try:
            self._send(msg)
            try:
                reply = box.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"the engine did not answer {msg.type!r} within {timeout} s") from None
        finally:
            with self._lock:
                self._replies.pop(ref, None)
        if isinstance(reply, _Lost):
            raise ConnectionLost(reply.reason)
        if reply.type == "error":
            raise Failed(reply.get("code", ErrorCode.INTERNAL), reply.get("message", "")).exception()
        return reply

    def _read_loop(self) -> None:
        reason = "connection closed"
        try:
            while True:
                self._dispatch(read_message(self._sock))
        except ConnectionLost as exc:
            reason = str(exc)
        except (OSError, ProtocolError) as exc:
            reason = f"connection to the engine lost: {exc}"
        if self._closed:
            reason = "the client closed the connection"
        self._lost = reason
        lost = _Lost(reason)
        with self._lock:
            for box in self._replies.values():
                box.put(lost)
            for job in self._jobs.values():
                job._push(lost)

    def _dispatch(self, msg: Message) -> None:
        ref = msg.get("ref")
        if msg.type == "accepted":
            job = Job(self, msg.get("job"), msg.get("position", 0))
            with self._lock:
                self._jobs[job.id] = job
            job._push(Queued(job.position))
            msg.fields["_job"] = job  # handed to submit() even if the job finishes at once
        if ref is not None:
            with self._lock:
                box = self._replies.get(ref)
            if box is not None:
                box.put(msg)
            return
        with self._lock:
            job = self._jobs.get(msg.get("job"))
        if job is None:
            return  # events of a job this client no longer tracks
        ev = _event_from(msg)
        if ev is not None:
            job._push(ev)
            if isinstance(ev, (Done, Failed)):
                with self._lock:
                    self._jobs.pop(job.id, None)


def _event_from(msg: Message) -> Event | None:
    t = msg.type
    if t == "queued":
        return Queued(int(msg.get("position", 0)))
    if t == "started":
        return Started()
    if t == "progress":
        return Progress(float(msg.get("fraction", 0.0)), msg.get("stage", ""), msg.get("eta_s"))
    if t == "frame":
        return Frame(
            frame=int(msg.get("frame")),
            width=int(msg.get("width")),
            height=int(msg.get("height")),
            encoding=msg.get("encoding", "rgba"),
            data=msg.blobs[0] if msg.blobs else b"",
            preview=bool(msg.get("preview", False)),
        )
    if t == "done":
        holds = {int(k): int(v) for k, v in (msg.get("holds") or {}).items()}
        return Done([int(f) for f in msg.get("frames", [])], holds, msg.get("stats", {}))
    if t == "error":
        return Failed(msg.get("code", ErrorCode.INTERNAL), msg.get("message", ""))
    return None
