"""Small preview images of frames, made in worker threads (QImage is safe there; QPixmap is not).

Krita's BGRA bytes are QImage's ARGB32 layout on little-endian machines, so no channel swap is
needed. A 4096x4096 frame is first shrunk with the fast (nearest) filter to four times the
preview size, then smoothly: one short call each, so a worker thread never holds Python's lock
for long and Krita's own scripts keep running.
"""

from __future__ import annotations

from typing import Any

from .compat import QImage, format_argb32, keep_aspect, smooth

PREVIEW_SIZE = 176


def thumbnail(bgra: bytes, width: int, height: int, size: int = PREVIEW_SIZE) -> Any:
    image = QImage(bgra, width, height, width * 4, format_argb32())
    if max(width, height) > 4 * size:
        image = image.scaled(4 * size, 4 * size, keep_aspect())  # nearest: fast
    out = image.scaled(size, size, keep_aspect(), smooth())
    return out.copy()  # owns its pixels (the source bytes may go away)
