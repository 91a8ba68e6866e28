"""Image bytes as the protocol carries them: PNG files or raw RGBA rows (standard library only).

Raw RGBA is the fast path (no encode/decode on either side); PNG is accepted so that clients
can forward files untouched. Only what a stdlib client needs is here: sizes from a PNG header,
channel order swaps for Krita's BGRA, and a plain PNG writer for tools without an image library.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class ImageData:
    """One image for the engine. `encoding` is "png" (width/height read from it) or "rgba"."""

    data: bytes
    encoding: str = "png"
    width: int = 0
    height: int = 0

    @classmethod
    def png(cls, data: bytes) -> "ImageData":
        w, h = png_size(data)
        return cls(data, "png", w, h)

    @classmethod
    def rgba(cls, data: bytes, width: int, height: int) -> "ImageData":
        if len(data) != width * height * 4:
            raise ValueError(f"RGBA data of {len(data)} bytes does not match {width}x{height}")
        return cls(bytes(data), "rgba", width, height)

    @classmethod
    def from_file(cls, path: str) -> "ImageData":
        with open(path, "rb") as f:
            return cls.png(f.read())


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, without decoding; ValueError if it is not a PNG."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def bgra_to_rgba(data: bytes) -> bytes:
    """Swap the first and third channel (Krita's pixel data is BGRA). Slicing keeps it fast."""
    buf = bytearray(data)
    buf[0::4], buf[2::4] = buf[2::4], buf[0::4]
    return bytes(buf)


rgba_to_bgra = bgra_to_rgba


def encode_png(rgba: bytes, width: int, height: int, level: int = 6) -> bytes:
    """An 8-bit RGBA PNG (filter 0 on every row): for clients with no image library."""
    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b"")
