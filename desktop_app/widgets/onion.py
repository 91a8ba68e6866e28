"""Onion skin: neighbouring drawings tinted (before red, after green) under the current one."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QColor, QImage

from .. import theme
from ..model import images
from ..model.shot import LayerKind, ShotDocument


@dataclass
class OnionSettings:
    enabled: bool = True
    before: int = 2
    after: int = 2
    opacity: float = 0.35  # of the nearest skin; farther ones fade
    before_color: QColor = field(default_factory=lambda: QColor(theme.ONION_BEFORE))
    after_color: QColor = field(default_factory=lambda: QColor(theme.ONION_AFTER))
    keys_only: bool = False  # skin only keys and breakdowns


def skins(doc: ShotDocument, index: int, s: OnionSettings) -> list[tuple[QImage, float]]:
    """(tinted image, opacity) pairs, farthest first, for the frames around `index`.

    Holds are skipped (they repeat a drawing already skinned), so the counts mean drawings.
    """
    if not s.enabled or len(doc) == 0:
        return []
    out: list[tuple[QImage, float]] = []
    current_src = doc.source_index(index)
    for direction, count, color in ((-1, s.before, s.before_color), (1, s.after, s.after_color)):
        found: list[int] = []
        i = index + direction
        seen = {current_src}
        while 0 <= i < len(doc) and len(found) < count:
            src = doc.source_index(i)
            f = doc.frames[src]
            if src not in seen and (not s.keys_only or f.role.is_anchor):
                seen.add(src)
                found.append(i)
            i += direction
        for n, i in reversed(list(enumerate(found))):
            img = doc.composite(i, (LayerKind.GENERATED, LayerKind.DRAWING))
            if images.is_blank(img):
                continue
            out.append((images.tinted(img, color), s.opacity * (0.6 ** n)))
    return out
