"""The engine's socket server: authentication, message dispatch, jobs and shutdown.

The event loop does only I/O and bookkeeping; decoding images and preparing plans run in a
thread pool and backends run in one worker thread per device, so one client's big upload
or long job never stalls another client's messages.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import secrets
import signal
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inbetween_client import PROTOCOL_VERSION, __version__
from inbetween_client.connection import ConnectionInfo, remove_connection_file, write_connection_file
from inbetween_client.errors import ErrorCode
from inbetween_client.protocol import (
    MAX_BLOB_BYTES,
    MAX_BLOBS,
    MAX_HEADER_BYTES,
    MAX_MESSAGE_BYTES,
    FrameError,
    Message,
)

from .backends.base import EngineConfig, FrameOut
from .backends.registry import BackendRegistry
from .errors import EngineError
from .images import encode_png
from .jobs import FairQueue, Job, new_job_id
from .request import shot_from_wire
from .session import Session, TooLarge
from .shot import MAX_FRAMES, MAX_PIXELS, MAX_SIDE
from .worker import Worker

log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
MAX_QUEUED_JOBS_PER_CLIENT = 32
SHUTDOWN_GRACE_S = 10.0
#: `render_poses`: poses per request and bytes per reply (clients split bigger batches)
MAX_RENDER_POSES = 256
MAX_RENDER_REPLY_BYTES = 256 << 20
RENDER_ENCODINGS = ("rgb", "png")


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 0
    device: str = "cpu"
    models_dir: str = ""
    connection_file: Path | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    tls_cert: str | None = None
    tls_key: str | None = None
    max_queued_per_client: int = MAX_QUEUED_JOBS_PER_CLIENT


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EngineServer:
    def __init__(self, config: ServerConfig, registry: BackendRegistry | None = None) -> None:
        if not is_loopback(config.host) and not (config.tls_cert and config.tls_key):
            raise EngineError(
                f"refusing to listen on {config.host}: a non-loopback address needs TLS "
                "(--tls-cert and --tls-key); the token alone would travel in clear"
            )
        self.config = config
        self.registry = registry or BackendRegistry(
            EngineConfig(device=config.device, models_dir=config.models_dir)
        )
        self.sessions: dict[str, Session] = {}
        self.jobs: dict[str, Job] = {}
        self.queues: dict[str, FairQueue] = {"cpu": FairQueue()}
        if config.device != "cpu":
            self.queues[config.device] = FairQueue()
        self.workers: dict[str, Worker] = {}
        self.started = time.time()
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = asyncio.Event()
        self.address: tuple[str, int] = (config.host, config.port)

    # -------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        tls = None
        if self.config.tls_cert:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        self._server = await asyncio.start_server(
            self._handle, self.config.host, self.config.port, ssl=tls, limit=1 << 16
        )
        sock = self._server.sockets[0]
        self.address = sock.getsockname()[:2]
        for name, q in self.queues.items():
            w = Worker(name, q, self)
            w.start()
            self.workers[name] = w
        if self.config.connection_file is not None:
            write_connection_file(self.connection_info, self.config.connection_file)
        # import and probe the backends in the background, so the first client is welcomed fast;
        # the default backend then loads its model, so the first job does not pay for it
        self._loop.run_in_executor(None, self.registry.warm_up, "flow")
        log.info("engine %s listening on %s:%s (device %s, protocol %d)",
                 __version__, *self.address, self.config.device, PROTOCOL_VERSION)

    @property
    def connection_info(self) -> ConnectionInfo:
        return ConnectionInfo(self.address[0], self.address[1], self.config.token, os.getpid(),
                              PROTOCOL_VERSION, __version__)

    def install_signal_handlers(self) -> None:
        assert self._loop is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, lambda *_: self._loop.call_soon_threadsafe(self.request_stop))

    def request_stop(self) -> None:
        """Ask the server to shut down (event-loop thread)."""
        self._stop.set()

    async def run_until_stopped(self) -> None:
        await self._stop.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        log.info("shutting down: cancelling %d job(s)", len(self.jobs))
        if self._server is not None:
            self._server.close()
        for q in self.queues.values():
            for job in q.remove(lambda j: True):
                self._finish_job(job, ErrorCode.SHUTTING_DOWN,
                                 "the engine stopped before the job could start")
            q.close()
        for job in list(self.jobs.values()):
            job.cancel("the engine stopped while the job was running", ErrorCode.SHUTTING_DOWN)
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + SHUTDOWN_GRACE_S
        for w in self.workers.values():
            await loop.run_in_executor(None, w.join, max(0.0, deadline - time.monotonic()))
        await asyncio.sleep(0)  # let the workers' last reports reach the sessions
        await asyncio.gather(*(s.close(2.0) for s in list(self.sessions.values())),
                             return_exceptions=True)
        if self.config.connection_file is not None:
            remove_connection_file(self.config.connection_file, os.getpid())
        self.registry.unload_all()
        log.info("engine stopped")

    # -------------------------------------------------- connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(reader, writer)
        session.start()
        self.sessions[session.id] = session
        log.info("client %s connected from %s", session.id, session.peer)
        reason = "disconnected"
        try:
            # before the hello nobody is worth reading a huge message for: that is a bad frame
            msg = await asyncio.wait_for(session.read(skip_oversize=False), AUTH_TIMEOUT_S)
            if not await self._authenticate(session, msg):
                reason = "refused"
                return
            while not session.closed:
                try:
                    msg = await session.read()
                except TooLarge as exc:
                    log.warning("client %s sent a %s message over the limits (%s): skipped",
                                session.id, str(exc.header.get("type", "?"))[:40], exc.message)
                    self._error(session, ErrorCode.TOO_LARGE,
                                f"the {str(exc.header.get('type', 'message'))[:40]} message is too large: "
                                f"{exc.message}; the engine accepts images of at most {MAX_BLOB_BYTES} bytes "
                                f"(see the limits in its capabilities)", ref=exc.ref)
                    continue
                if not await self._dispatch(session, msg):
                    reason = "closed after a bad message"
                    return
        except asyncio.TimeoutError:
            self._error(session, ErrorCode.AUTH_REQUIRED, f"no hello within {AUTH_TIMEOUT_S:.0f} s")
            reason = "auth timeout"
        except FrameError as exc:
            self._error(session, ErrorCode.BAD_FRAME, str(exc))
            reason = f"bad frame: {exc}"
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            reason = "disconnected"
        except asyncio.CancelledError:
            reason = "engine stopping"
        finally:
            self._drop_session(session, reason)
            await session.close()

    def _drop_session(self, session: Session, reason: str) -> None:
        self.sessions.pop(session.id, None)
        mine = set(session.jobs)
        for q in self.queues.values():
            for job in q.remove(lambda j: j.id in mine):
                job.state = "cancelled"
                self.jobs.pop(job.id, None)
        for job_id in mine:
            job = self.jobs.get(job_id)
            if job is not None:
                job.cancel(f"job cancelled: its client {reason}")
        if mine:
            log.info("client %s %s: cancelled %d job(s)", session.id, reason, len(mine))
            self._broadcast_positions()
        else:
            log.info("client %s %s", session.id, reason)

    async def _authenticate(self, session: Session, msg: Message) -> bool:
        if msg.type != "hello":
            self._error(session, ErrorCode.AUTH_REQUIRED,
                        f"the first message must be hello with the token, got {msg.type!r}")
            return False
        token = msg.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), self.config.token.encode("utf-8")
        ):
            log.warning("client %s from %s: wrong token", session.id, session.peer)
            self._error(session, ErrorCode.AUTH_FAILED, "wrong or missing token")
            return False
        proto = msg.get("protocol")
        if proto != PROTOCOL_VERSION:
            self._error(session, ErrorCode.PROTOCOL_MISMATCH,
                        f"this engine speaks protocol {PROTOCOL_VERSION}, the client {proto!r}; "
                        "update the older of the two")
            return False
        session.authenticated = True
        session.client_name = str(msg.get("client", ""))[:100]
        # probing backends may import heavy runtimes (torch) the first time: not on the loop
        capabilities = await asyncio.get_running_loop().run_in_executor(None, self.capabilities)
        session.send(Message("welcome", {
            "protocol": PROTOCOL_VERSION,
            "engine_version": __version__,
            "pid": os.getpid(),
            "session": session.id,
            "capabilities": capabilities,
        }))
        log.info("client %s authenticated (%s)", session.id, session.client_name or "unnamed")
        return True

    def capabilities(self) -> dict[str, Any]:
        return {
            "backends": self.registry.describe_all(),
            "devices": list(self.queues),
            "device": self.config.device,
            "limits": {
                "max_side": MAX_SIDE,
                "max_pixels": MAX_PIXELS,
                "max_frames": MAX_FRAMES,
                "max_header_bytes": MAX_HEADER_BYTES,
                "max_blobs": MAX_BLOBS,
                "max_blob_bytes": MAX_BLOB_BYTES,
                "max_message_bytes": MAX_MESSAGE_BYTES,
                "max_queued_jobs_per_client": self.config.max_queued_per_client,
            },
            "encodings": ["rgba", "png"],
            # additive (protocol v1): engines without it close the connection on render_poses
            "render_poses": {"max_poses": MAX_RENDER_POSES, "max_reply_bytes": MAX_RENDER_REPLY_BYTES,
                             "encodings": list(RENDER_ENCODINGS), "style": "dwpose"},
        }

    def _error(self, session: Session, code: str, message: str, **extra: Any) -> None:
        session.send(Message("error", {"code": code, "message": message, **extra}))

    # -------------------------------------------------- messages

    async def _dispatch(self, session: Session, msg: Message) -> bool:
        """Handle one message; False closes the connection (protocol violations)."""
        ref = msg.get("ref")
        if msg.get("v") != PROTOCOL_VERSION:
            self._error(session, ErrorCode.PROTOCOL_MISMATCH,
                        f"message of protocol {msg.get('v')!r}; this engine speaks {PROTOCOL_VERSION}")
            return False
        if ref is not None and not isinstance(ref, (str, int)):
            self._error(session, ErrorCode.BAD_MESSAGE, "'ref' must be a string or an integer")
            return False
        if msg.type == "submit":
            await self._submit(session, msg)
        elif msg.type == "cancel":
            self._cancel(session, msg)
        elif msg.type == "status":
            session.send(Message("status", {"ref": ref, **self.status()}))
        elif msg.type == "capabilities":
            caps = await asyncio.get_running_loop().run_in_executor(None, self.capabilities)
            session.send(Message("capabilities", {"ref": ref, **caps}))
        elif msg.type == "ping":
            session.send(Message("pong", {"ref": ref}))
        elif msg.type == "render_poses":
            await self._render_poses(session, msg)
        elif msg.type == "shutdown":
            log.info("client %s asked the engine to shut down", session.id)
            session.send(Message("bye", {"ref": ref}))
            self.request_stop()
        elif msg.type == "hello":
            self._error(session, ErrorCode.BAD_MESSAGE, "already authenticated", ref=ref)
        else:
            self._error(session, ErrorCode.BAD_MESSAGE, f"unknown message type {msg.type[:40]!r}", ref=ref)
            return False
        return True

    async def _submit(self, session: Session, msg: Message) -> None:
        ref = msg.get("ref")
        if sum(1 for j in session.jobs if j in self.jobs) >= self.config.max_queued_per_client:
            self._error(session, ErrorCode.QUEUE_FULL,
                        f"this client already has {self.config.max_queued_per_client} unfinished jobs",
                        ref=ref)
            return
        if self._stop.is_set():
            self._error(session, ErrorCode.SHUTTING_DOWN, "the engine is shutting down", ref=ref)
            return
        loop = asyncio.get_running_loop()
        try:
            backend, plan, output = await loop.run_in_executor(None, self._prepare, msg)
        except EngineError as exc:
            self._error(session, exc.code, exc.message, ref=ref)
            return
        except Exception as exc:  # noqa: BLE001 - a bug in prepare must not kill the session
            log.exception("preparing a job failed")
            self._error(session, ErrorCode.INTERNAL, f"could not prepare the job: {exc}", ref=ref)
            return
        if session.closed:
            return
        job = Job(new_job_id(), session.id, backend, plan, output)
        self.jobs[job.id] = job
        session.jobs.add(job.id)
        queue = self.queues.get(self.config.device if backend.worker == "device" else "cpu",
                                self.queues["cpu"])
        queue.put(job)
        order = queue.order()
        position = order.index(job) if job in order else 0
        session.send(Message("accepted", {"ref": ref, "job": job.id, "position": position,
                                          "frames": plan.frame_count}))
        log.info("job %s from %s: %s, %d frame(s), position %d",
                 job.id, session.id, backend.info.name, plan.frame_count, position)

    def _prepare(self, msg: Message):
        shot, output = shot_from_wire(msg.get("shot"), msg.blobs)
        # each backend's prepare() refuses what it cannot run (it alone knows, e.g., that a
        # job's own model_dir makes an otherwise unavailable backend usable)
        backend = self.registry.get(shot.backend)
        return backend, backend.prepare(shot), output

    async def _render_poses(self, session: Session, msg: Message) -> None:
        """Pose images exactly as the pose-guided models see them (engine/poses/render.py),
        for clients that must not draw them themselves (the app and the plugin have no OpenCV).
        A bad request gets `bad_message` naming the pose and the joint; the connection stays."""
        ref = msg.get("ref")
        try:
            fields, blobs = await asyncio.get_running_loop().run_in_executor(None, render_poses_reply, msg)
        except ValueError as exc:
            self._error(session, ErrorCode.BAD_MESSAGE, f"render_poses: {exc}", ref=ref)
            return
        except Exception as exc:  # noqa: BLE001 - a renderer fault must not kill the session
            log.exception("render_poses failed")
            self._error(session, ErrorCode.INTERNAL, f"render_poses failed: {exc}", ref=ref)
            return
        session.send(Message("poses_rendered", {"ref": ref, **fields}, blobs))

    def _cancel(self, session: Session, msg: Message) -> None:
        job_id = msg.get("job")
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None or job.id not in session.jobs:
            self._error(session, ErrorCode.UNKNOWN_JOB, f"no job {job_id!r} of this client",
                        ref=msg.get("ref"), job=job_id)
            return
        removed = []
        for q in self.queues.values():
            removed += q.remove(lambda j: j.id == job.id)
        job.cancel()
        if removed:
            self._finish_job(job, ErrorCode.CANCELLED, "job cancelled")
            self._broadcast_positions()

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "address": f"{self.address[0]}:{self.address[1]}",
            "engine_version": __version__,
            "protocol": PROTOCOL_VERSION,
            "device": self.config.device,
            "uptime_s": round(time.time() - self.started, 1),
            "clients": len(self.sessions),
            "running": [w.current.describe() for w in self.workers.values() if w.current],
            "queue": [dict(j.describe(), position=i)
                      for q in self.queues.values() for i, j in enumerate(q.order())],
            "loaded_models": self.registry.loaded(),
            "python": sys.version.split()[0],
        }

    # -------------------------------------------------- reports from workers (worker threads)

    def _to_loop(self, fn, *args) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def _send_job(self, job: Job, msg: Message) -> None:
        session = self.sessions.get(job.client)
        if session is not None:
            session.send(msg)

    def job_started(self, job: Job) -> None:
        self._to_loop(self._send_job, job, Message("started", {"job": job.id}))
        self._to_loop(self._broadcast_positions)

    def job_progress(self, job: Job, fraction: float, stage: str, eta_s: float | None) -> None:
        fields: dict[str, Any] = {"job": job.id, "fraction": round(fraction, 4), "stage": stage}
        if eta_s is not None:
            fields["eta_s"] = round(eta_s, 2)
        self._to_loop(self._send_job, job, Message("progress", fields))

    def job_frame(self, job: Job, out: FrameOut) -> None:
        if out.preview and not job.output.previews:
            return
        h, w = out.rgba.shape[:2]
        data = encode_png(out.rgba) if job.output.encoding == "png" else out.rgba.tobytes()
        msg = Message("frame", {"job": job.id, "frame": out.frame, "width": w, "height": h,
                                "encoding": job.output.encoding, "preview": out.preview}, [data])
        self._to_loop(self._send_job, job, msg)

    def job_done(self, job: Job, frames: list[int], stats: dict) -> None:
        holds = {str(k): v for k, v in job.plan.shot.held_frames().items()}
        stats = {k: round(v, 4) if isinstance(v, float) else v for k, v in stats.items()}
        if job.plan.shot.poses:  # what the engine made of the shot's poses, for clients to show
            stats["poses"] = pose_stats(job.plan.shot, job.backend.info, job.ctx.poses_ignored)
        msg = Message("done", {"job": job.id, "frames": frames, "holds": holds, "stats": stats})
        self._to_loop(self._send_job, job, msg)
        self._to_loop(self._forget, job)

    def job_failed(self, job: Job, code: str, message: str) -> None:
        self._to_loop(self._finish_job, job, code, message)

    # -------------------------------------------------- bookkeeping (event-loop thread)

    def _finish_job(self, job: Job, code: str, message: str) -> None:
        self._send_job(job, Message("error", {"job": job.id, "code": code, "message": message}))
        self._forget(job)

    def _forget(self, job: Job) -> None:
        self.jobs.pop(job.id, None)
        session = self.sessions.get(job.client)
        if session is not None:
            session.jobs.discard(job.id)

    def _broadcast_positions(self) -> None:
        for q in self.queues.values():
            for i, job in enumerate(q.order()):
                self._send_job(job, Message("queued", {"job": job.id, "position": i}))


# ---------------------------------------------------------------- poses


def pose_stats(shot, info, ignored: str | None = None) -> dict[str, Any]:
    """`done.stats.poses`: how many poses came, which in-betweens got one (by the one
    interpolation rule, `Segment.inbetween_poses`), whether the backend used them (and why
    not, when a backend that supports poses says it could not follow them on this job)."""
    posed = [ib.frame for seg in shot.segments()
             for ib, pose in zip(seg.inbetweens, seg.inbetween_poses()) if pose is not None]
    out = {"given": sum(len(t.poses) for t in shot.poses.values()), "inbetweens_posed": posed,
           "used": bool(info.supports_poses) and ignored is None, "backend": info.name}
    if info.supports_poses and ignored is not None:
        out["why_not"] = ignored
    return out


def _positive_int(v: Any, what: str, hi: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= hi:
        raise ValueError(f"{what} must be an integer in 1..{hi}, got {v!r}")
    return v


def render_poses_reply(msg: Message) -> tuple[dict[str, Any], list[bytes]]:
    """`render_poses` {width, height, size?, encoding?, poses: [{keypoints, ..., label?}]}:
    one RGB image (raw rows or PNG) per pose, as `render_pose` draws it. Runs off the loop."""
    from inbetween_client.poses import Pose, PoseError

    w = _positive_int(msg.get("width"), "width", MAX_SIDE)
    h = _positive_int(msg.get("height"), "height", MAX_SIDE)
    size = msg.get("size") or [w, h]
    if not isinstance(size, list) or len(size) != 2:
        raise ValueError(f"size must be [width, height], got {size!r}")
    out_w, out_h = (_positive_int(v, "size", MAX_SIDE) for v in size)
    if out_w * out_h > MAX_PIXELS or w * h > MAX_PIXELS:
        raise ValueError(f"images over {MAX_PIXELS} pixels are not rendered")
    encoding = msg.get("encoding", "rgb")
    if encoding not in RENDER_ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(RENDER_ENCODINGS)}, got {encoding!r}")
    raw = msg.get("poses")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_RENDER_POSES:
        raise ValueError(f"'poses' must be a list of 1..{MAX_RENDER_POSES} poses")
    if out_w * out_h * 3 * len(raw) > MAX_RENDER_REPLY_BYTES and encoding == "rgb":
        raise ValueError(f"{len(raw)} images of {out_w}x{out_h} are over the {MAX_RENDER_REPLY_BYTES} byte "
                         "reply limit: ask for fewer at a time")
    poses = []
    for i, entry in enumerate(raw):
        label = entry.get("label") if isinstance(entry, dict) else None
        what = f"pose {i}" + (f" ({str(label)[:80]})" if isinstance(label, str) and label else "")
        try:
            pose = Pose.from_json(entry, what)
            pose.check_canvas(w, h, what)
        except PoseError as exc:
            raise ValueError(str(exc)) from None
        poses.append(pose)
    from .poses.render import render_pose

    import cv2  # the engine's own dependency, for PNG

    blobs = []
    for pose in poses:
        rgb = render_pose(pose, w, h, (out_w, out_h))
        if encoding == "png":
            ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
                raise EngineError("PNG encoding failed")
            blobs.append(buf.tobytes())
        else:
            blobs.append(rgb.tobytes())
    if sum(len(b) for b in blobs) > MAX_RENDER_REPLY_BYTES:
        raise ValueError("the images are over the reply limit: ask for fewer at a time")
    return {"width": out_w, "height": out_h, "encoding": encoding, "count": len(blobs)}, blobs
