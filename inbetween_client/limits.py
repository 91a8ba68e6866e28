"""The engine's limits, read from its capabilities, so a client knows before it sends.

The engine announces them in `welcome` (and `capabilities`): canvas size, frames per shot and
the framing limits of one message. A client that checks here can tell the user at once, in
words, with the limit and what to do, instead of uploading a quarter of a gigabyte that the
engine must refuse (standard library only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .protocol import MAX_BLOB_BYTES, MAX_BLOBS, MAX_HEADER_BYTES, MAX_MESSAGE_BYTES, Message


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


@dataclass(frozen=True)
class Limits:
    """What one engine accepts. Fields the engine did not announce are None (not checked),
    except the framing limits, which default to this protocol version's."""

    max_side: int | None = None
    max_pixels: int | None = None
    max_frames: int | None = None
    max_blob_bytes: int = MAX_BLOB_BYTES
    max_blobs: int = MAX_BLOBS
    max_header_bytes: int = MAX_HEADER_BYTES
    max_message_bytes: int = MAX_MESSAGE_BYTES

    @classmethod
    def from_capabilities(cls, capabilities: Mapping[str, Any] | None) -> "Limits":
        raw = dict((capabilities or {}).get("limits") or {})

        def num(key: str, default: int | None) -> int | None:
            v = raw.get(key, default)
            return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else default

        return cls(
            max_side=num("max_side", None),
            max_pixels=num("max_pixels", None),
            max_frames=num("max_frames", None),
            max_blob_bytes=num("max_blob_bytes", MAX_BLOB_BYTES) or MAX_BLOB_BYTES,
            max_blobs=num("max_blobs", MAX_BLOBS) or MAX_BLOBS,
            max_header_bytes=num("max_header_bytes", MAX_HEADER_BYTES) or MAX_HEADER_BYTES,
            max_message_bytes=num("max_message_bytes", MAX_MESSAGE_BYTES) or MAX_MESSAGE_BYTES,
        )

    def largest_canvas(self, width: int, height: int) -> tuple[int, int]:
        """The canvas of the same aspect ratio scaled down to fit every limit (RGBA frames)."""
        scale = 1.0
        if self.max_side:
            scale = min(scale, self.max_side / max(width, height))
        if self.max_pixels and width * height > self.max_pixels:
            scale = min(scale, (self.max_pixels / (width * height)) ** 0.5)
        if width * height * 4 > self.max_blob_bytes:
            scale = min(scale, (self.max_blob_bytes / (width * height * 4)) ** 0.5)
        return max(1, int(width * scale)), max(1, int(height * scale))

    def canvas_problem(self, width: int, height: int) -> str | None:
        """Why this engine cannot take a canvas of this size (with the limit and what to do),
        or None when it can."""
        over = []
        if self.max_side and max(width, height) > self.max_side:
            over.append(f"at most {self.max_side} pixels a side")
        if self.max_pixels and width * height > self.max_pixels:
            over.append(f"at most {self.max_pixels:,} pixels in all")
        if width * height * 4 > self.max_blob_bytes:
            over.append(f"images of at most {_mib(self.max_blob_bytes)} ({width}×{height} RGBA is "
                        f"{_mib(width * height * 4)})")
        if not over:
            return None
        w, h = self.largest_canvas(width, height)
        return (f"The canvas is {width}×{height}; the engine accepts {' and '.join(over)}. Drawing, saving "
                f"and export work, but to generate, scale the images down (to {w}×{h} or smaller) "
                "or crop them.")

    def shot_problem(self, width: int, height: int, first: int, last: int) -> str | None:
        """Why a shot from frame `first` to frame `last` (its first and last keys) cannot be
        sent, or None."""
        problem = self.canvas_problem(width, height)
        if problem:
            return problem
        span = last - first + 1
        if self.max_frames and span > self.max_frames:
            return (f"The range spans {span} frames; the engine takes at most {self.max_frames} frames in "
                    "one job. Generate it in parts (select fewer segments) or add keys closer together.")
        return None

    def message_problem(self, msg: Message) -> str | None:
        """Why the engine would refuse this message as too large, or None (checked before sending)."""
        if len(msg.blobs) > self.max_blobs:
            return f"the message has {len(msg.blobs)} images, more than the engine's limit of {self.max_blobs}"
        big = max((len(b) for b in msg.blobs), default=0)
        if big > self.max_blob_bytes:
            return (f"an image of {_mib(big)} is over the engine's limit of {_mib(self.max_blob_bytes)} "
                    "per image; use a smaller canvas")
        total = sum(len(b) for b in msg.blobs)
        if total > self.max_message_bytes:
            return (f"the message is {_mib(total)}, over the engine's limit of {_mib(self.max_message_bytes)}; "
                    "send fewer or smaller images")
        return None
