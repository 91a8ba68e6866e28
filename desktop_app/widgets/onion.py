"""Onion skin as on a light table: the neighbouring drawings' lines in a tint (before red,
after green), under the current drawing.

A flat tinted silhouette (every opaque pixel one colour) hides what an animator aligns to:
eyes, inner lines, folds vanish inside the shape. Here a pixel's opacity follows its ink:
dark lines keep their strength, light and mid-tone fills fade to a trace, so the drawing
reads as lines,
as it does through paper on a light table (OpenToonz, Pencil2D and TVPaint show it so).
Empty frames are skipped by default, so the counts mean drawings: on a fresh shot the
middle in-between shows the keys on either side.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QColor, QImage

from .. import theme
from ..model import images
from ..model.shot import LayerKind, ShotDocument

FILL_TRACE = 0.08  # opacity left to a white fill (black lines are 1.0)
INK_GAMMA = 2.2  # mid-tone fills (a red face) fade too; only dark ink stays strong


@dataclass
class OnionSettings:
    enabled: bool = True
    before: int = 2
    after: int = 2
    opacity: float = 0.5  # of the nearest skin; farther ones fade
    before_color: QColor = field(default_factory=lambda: QColor(theme.ONION_BEFORE))
    after_color: QColor = field(default_factory=lambda: QColor(theme.ONION_AFTER))
    keys_only: bool = False  # skin only keys and breakdowns
    skip_empty: bool = True  # count only frames with something drawn or generated


_CACHE: "OrderedDict[tuple, QImage]" = OrderedDict()
_CACHE_SIZE = 64


def light_table(img: QImage, color: QColor) -> QImage:
    """The drawing's lines in `color`: alpha = alpha × (trace + (1 - trace) × ink^gamma), where
    ink is 1 - luminance. Cached by the image's cache key and the colour (playback asks again for
    the same neighbours frame after frame)."""
    key = (img.cacheKey(), color.rgba())
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    w, h = img.width(), img.height()
    rgba = np.frombuffer(images.to_rgba_bytes(img), np.uint8).reshape(h, w, 4)
    lum = (rgba[..., 0] * 0.299 + rgba[..., 1] * 0.587 + rgba[..., 2] * 0.114) / 255.0
    alpha = rgba[..., 3] / 255.0 * (FILL_TRACE + (1.0 - FILL_TRACE) * (1.0 - lum) ** INK_GAMMA)
    out = np.empty((h, w, 4), np.uint8)
    out[..., 0], out[..., 1], out[..., 2] = color.red(), color.green(), color.blue()
    out[..., 3] = np.round(alpha * 255.0).astype(np.uint8)
    skin = images.from_rgba_bytes(out.tobytes(), w, h)
    _CACHE[key] = skin
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return skin


def _drawn(doc: ShotDocument, src: int) -> bool:
    return not (images.is_blank(doc.layer_image(src, LayerKind.DRAWING, follow_holds=False))
                and images.is_blank(doc.layer_image(src, LayerKind.GENERATED, follow_holds=False)))


def neighbours(doc: ShotDocument, index: int, s: OnionSettings) -> tuple[list[int], list[int]]:
    """The frames skinned before and after `index`, nearest first. Holds are skipped (they
    repeat a drawing already skinned), and so are empty frames unless `skip_empty` is off."""
    current_src = doc.source_index(index) if len(doc) else 0
    out: list[list[int]] = []
    for direction, count in ((-1, s.before), (1, s.after)):
        found: list[int] = []
        seen = {current_src}
        i = index + direction
        while 0 <= i < len(doc) and len(found) < count:
            src = doc.source_index(i)
            f = doc.frames[src]
            if src not in seen and (not s.keys_only or f.role.is_anchor) and (not s.skip_empty or _drawn(doc, src)):
                found.append(src)
            seen.add(src)
            i += direction
        out.append(found)
    return out[0], out[1]


def skins(doc: ShotDocument, index: int, s: OnionSettings) -> list[tuple[QImage, float]]:
    """(light-table image, opacity) pairs, farthest first, for the frames around `index`."""
    if not s.enabled or len(doc) == 0:
        return []
    before, after = neighbours(doc, index, s)
    out: list[tuple[QImage, float]] = []
    for found, color in ((before, s.before_color), (after, s.after_color)):
        for n, i in reversed(list(enumerate(found))):
            img = doc.composite(i, (LayerKind.GENERATED, LayerKind.DRAWING))
            if images.is_blank(img):
                continue
            out.append((light_table(img, color), s.opacity * (0.6 ** n)))
    return out
