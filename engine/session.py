"""One client connection: reading framed messages with limits, and an ordered send queue.

Sends go through a queue drained by one task so that worker threads (via the event loop)
and the session's own replies never interleave bytes of two messages. A client that stops
reading is dropped once too much output waits for it, instead of growing the engine's memory.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

from inbetween_client.protocol import (
    PREFIX,
    FrameError,
    Message,
    MessageTooLarge,
    message_from,
    parse_header,
    parse_prefix,
)

log = logging.getLogger(__name__)

_session_ids = itertools.count(1)

#: Output allowed to wait for a slow client before it is disconnected.
MAX_PENDING_OUTPUT_BYTES = 1 << 30
#: An oversize message up to this size is read and thrown away, so its sender gets a clear
#: `too_large` answer on a connection that stays usable (two 8000x8000 RGBA keys are 512 MiB);
#: beyond it the sender is not worth that much reading and the connection closes (bad_frame).
MAX_DISCARD_BYTES = 4 << 30
_DISCARD_CHUNK = 1 << 20


class TooLarge(Exception):
    """A message over the size limits whose bytes were skipped; answer `too_large` and go on."""

    def __init__(self, message: str, header: dict) -> None:
        super().__init__(message)
        self.message = message
        self.header = header

    @property
    def ref(self):
        ref = self.header.get("ref")
        return ref if isinstance(ref, (str, int)) and not isinstance(ref, bool) else None


@dataclass(eq=False)
class Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    id: str = field(default_factory=lambda: f"c{next(_session_ids)}")
    authenticated: bool = False
    client_name: str = ""
    jobs: set[str] = field(default_factory=set)
    closed: bool = False
    _out: asyncio.Queue = field(default_factory=asyncio.Queue)
    _pending_bytes: int = 0
    _writer_task: asyncio.Task | None = None

    @property
    def peer(self) -> str:
        info = self.writer.get_extra_info("peername")
        return f"{info[0]}:{info[1]}" if info else "?"

    def start(self) -> None:
        self._writer_task = asyncio.get_running_loop().create_task(self._write_loop())

    async def read(self, skip_oversize: bool = True) -> Message:
        """The next message; FrameError if malformed, IncompleteReadError if the client left.

        A message whose blobs are over the limits raises TooLarge after its bytes were read and
        dropped (nothing is kept), so the stream stays in step; with `skip_oversize` False (or
        over MAX_DISCARD_BYTES) it is a FrameError like any other framing violation."""
        length = parse_prefix(await self.reader.readexactly(PREFIX.size))
        try:
            header, sizes = parse_header(await self.reader.readexactly(length))
        except MessageTooLarge as exc:
            if not skip_oversize or exc.total > MAX_DISCARD_BYTES:
                raise
            await self._discard(exc.total)
            raise TooLarge(str(exc), exc.header) from None
        blobs = [await self.reader.readexactly(s) for s in sizes]
        return message_from(header, blobs)

    async def _discard(self, n: int) -> None:
        while n > 0:
            chunk = await self.reader.read(min(n, _DISCARD_CHUNK))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", n)
            n -= len(chunk)

    def send(self, msg: Message) -> None:
        """Queue a message (event-loop thread only). Silently dropped once the session closed."""
        if self.closed:
            return
        try:
            chunks = msg.encode()
        except (FrameError, ValueError, TypeError):
            log.exception("engine tried to send an unencodable %s message", msg.type)
            return
        size = sum(len(c) for c in chunks)
        if self._pending_bytes + size > MAX_PENDING_OUTPUT_BYTES:
            log.warning("client %s does not read its results; disconnecting it", self.id)
            self.abort()
            return
        self._pending_bytes += size
        self._out.put_nowait((chunks, size))

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self._out.get()
                if item is None:
                    break
                chunks, size = item
                self.writer.writelines(chunks)
                await self.writer.drain()
                self._pending_bytes -= size
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001 - the transport may already be gone
                pass

    async def close(self, flush_timeout: float = 5.0) -> None:
        """Send what is queued (bounded wait), then close."""
        if self._writer_task is None:
            self.writer.close()
            return
        if not self.closed:
            self._out.put_nowait(None)
        self.closed = True
        try:
            await asyncio.wait_for(asyncio.shield(self._writer_task), flush_timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self.abort()

    def abort(self) -> None:
        self.closed = True
        transport = self.writer.transport
        if transport is not None:
            transport.abort()
        if self._writer_task is not None:
            self._writer_task.cancel()
