"""Context windows for videos longer than the motion modules' window (the long pipeline).

Each denoising step runs the UNet on overlapping windows of frames; a frame's prediction is
the average of the windows that contain it (taken before CFG, as the reference does), and the
motion modules' position encoding starts at 0 in every window.

`uniform_windows` is the reference's schedule at step 0 (`context.uniform`, which pose2vid's
long pipeline uses): windows start every `size - overlap` frames and, with `closed_loop`,
wrap around the end of the clip (the last windows continue with frames 0, 1, ...). That suits
a looping clip; an in-between segment is not one, so the backend uses `clamped_windows` by
default (the same spacing, the last window shifted back to end on the last frame).
"""

from __future__ import annotations

import math


def uniform_windows(frames: int, size: int, stride: int = 1, overlap: int = 4,
                    closed_loop: bool = True) -> list[list[int]]:
    if frames <= size:
        return [list(range(frames))]
    stride = min(stride, int(math.ceil(math.log2(frames / size))) + 1)
    out = []
    for s in range(stride):
        step = 1 << s
        end = frames + (0 if closed_loop else -overlap)
        for j in range(0, end, size * step - overlap):
            out.append([e % frames for e in range(j, j + size * step, step)])
    return out


def clamped_windows(frames: int, size: int, overlap: int = 4) -> list[list[int]]:
    """Windows of `size` consecutive frames, `size - overlap` apart, none past the last frame."""
    if frames <= size:
        return [list(range(frames))]
    hop = max(1, size - overlap)
    starts = list(range(0, frames - size, hop)) + [frames - size]
    return [list(range(s, s + size)) for s in starts]
