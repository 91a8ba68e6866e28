"""Protocol v1 framing: how a message is laid out on the socket (standard library only).

A message is an 8-byte prefix, a JSON header and zero or more binary blobs:

    b"IBTW" | uint32 big-endian header length | header (UTF-8 JSON object) | blob 0 | blob 1 | ...

The header names the message (`type`), carries the protocol version (`v`) and lists the byte
length of each blob that follows (`blobs`). Images travel as blobs, never inside JSON, so
a 512x320 RGBA frame costs one memcpy, not a base64 round trip. Every length is checked
against the limits below before anything is allocated; see docs/protocol.md.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from . import PROTOCOL_VERSION
from .errors import ConnectionLost, ProtocolError

MAGIC = b"IBTW"
PREFIX = struct.Struct(">4sI")

#: Hard limits, enforced by both sides before reading a byte of what they describe.
MAX_HEADER_BYTES = 1 << 20
MAX_BLOBS = 1024
MAX_BLOB_BYTES = 80 << 20  # a 4096 x 4096 RGBA image is 64 MiB
MAX_MESSAGE_BYTES = 1 << 30


class FrameError(ProtocolError):
    """The bytes on the wire are not a valid protocol v1 message; the connection must close."""


class MessageTooLarge(FrameError):
    """A well-formed header announcing blobs over the size limits. The blob sizes are valid
    numbers, so a reader can skip exactly `total` bytes and stay in step (the engine does, and
    answers `too_large`); one that does not must close like for any FrameError."""

    def __init__(self, message: str, header: dict[str, Any], sizes: list[int]) -> None:
        super().__init__(message)
        self.header = header
        self.sizes = sizes

    @property
    def total(self) -> int:
        return sum(self.sizes)


@dataclass
class Message:
    """One protocol message: a header dict (with `type`) and its blobs."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    def encode(self) -> list[bytes]:
        """The message as a list of byte chunks, ready for `sendall`/`writelines`."""
        header = dict(self.fields)
        header["type"] = self.type
        header["v"] = PROTOCOL_VERSION
        header["blobs"] = [len(b) for b in self.blobs]
        raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
        if len(raw) > MAX_HEADER_BYTES:
            raise FrameError(f"header of {len(raw)} bytes is over the {MAX_HEADER_BYTES} byte limit")
        if len(self.blobs) > MAX_BLOBS:
            raise FrameError(f"{len(self.blobs)} blobs is over the limit of {MAX_BLOBS}")
        return [PREFIX.pack(MAGIC, len(raw)), raw, *self.blobs]


def parse_prefix(prefix: bytes) -> int:
    """Header length from the 8-byte prefix; raises FrameError on garbage or an oversized length."""
    magic, length = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise FrameError("not a protocol v1 message (bad magic bytes)")
    if length == 0 or length > MAX_HEADER_BYTES:
        raise FrameError(f"declared header length {length} is outside 1..{MAX_HEADER_BYTES}")
    return length


def parse_header(raw: bytes) -> tuple[dict[str, Any], list[int]]:
    """The header dict and the blob sizes it announces, all checked against the limits."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FrameError(f"header is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(header, dict):
        raise FrameError("header must be a JSON object")
    kind = header.get("type")
    if not isinstance(kind, str) or not kind:
        raise FrameError("header has no message type")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or len(sizes) > MAX_BLOBS:
        raise FrameError(f"'blobs' must be a list of at most {MAX_BLOBS} sizes")
    for s in sizes:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise FrameError(f"blob size {s!r} is not a byte count")
    too_big = [s for s in sizes if s > MAX_BLOB_BYTES]
    if too_big:
        raise MessageTooLarge(f"blob size {too_big[0]} is outside 0..{MAX_BLOB_BYTES}", header, sizes)
    total = sum(sizes)
    if total > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"message of {total} bytes is over the {MAX_MESSAGE_BYTES} byte limit",
                              header, sizes)
    return header, sizes


def message_from(header: dict[str, Any], blobs: list[bytes]) -> Message:
    fields = {k: v for k, v in header.items() if k not in ("type", "blobs")}
    return Message(header["type"], fields, blobs)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ConnectionLost("the engine closed the connection")
        got += k
    return bytes(buf)


def read_message(sock: socket.socket) -> Message:
    """Read one message from a blocking socket (the client side)."""
    length = parse_prefix(_recv_exactly(sock, PREFIX.size))
    header, sizes = parse_header(_recv_exactly(sock, length))
    blobs = [_recv_exactly(sock, s) for s in sizes]
    return message_from(header, blobs)


def write_message(sock: socket.socket, msg: Message) -> None:
    """Write one message on a blocking socket; the caller serialises concurrent writers."""
    chunks = msg.encode()
    # small headers are joined with their prefix so that a message costs few syscalls
    sock.sendall(chunks[0] + chunks[1])
    for blob in chunks[2:]:
        sock.sendall(blob)
