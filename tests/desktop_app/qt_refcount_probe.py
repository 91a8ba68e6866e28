"""Does the installed Qt binding leak references to None? (the defect behind issue 15's abort)

PySide6-Essentials 6.12.0 on CPython 3.11 lowers None's reference count by one on every
QPainter call that returns nothing; a painting app then dies with `Fatal Python error:
none_dealloc: deallocating None` after a few minutes. This probe makes N calls of each kind
the timeline and canvas make and prints how None's reference count moved, as JSON:

    python -m tests.desktop_app.qt_refcount_probe [--calls 100000]

    {"pyside6": "6.12.0", "shiboken6": "6.12.0", "python": "3.11.7", "calls": 100000,
     "immortal_none": false, "delta": {"fillRect": -100000, ...}}

A list holding enough extra references to None (never freed; the probe leaves through
`os._exit`) keeps a defective binding alive for the whole measurement, so every version can
be measured to the end instead of aborting.
On Python 3.12+ None is immortal (its count never moves), so the defect cannot be seen or
hurt there: `immortal_none` says so. Used by `test_qt_binding.py` and to choose the pin in
pyproject.toml (see docs/desktop_app.md, "Qt binding pin").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable

# never freed: with a leaking binding, freeing these references would take None's count to
# zero (the abort this probe looks for); `main` leaves through os._exit for the same reason
_KEEP_ALIVE: list = []

KINDS = ("fillRect", "setPen", "drawLine", "drawImage", "setBrush", "drawPolygon")
# more calls the app's paintEvents make, measured too (reported under "extra")
EXTRA = ("drawText", "drawEllipse", "drawRect", "drawPoint", "setOpacity", "setRenderHint",
         "setCompositionMode", "setTransform", "setFont")


def measure(calls: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import PySide6
    import shiboken6
    from PySide6.QtCore import QPointF, QRect, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen, QPolygonF, QTransform

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841 - fonts, pixmaps
    target = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    target.fill(0)
    source = QImage(16, 16, QImage.Format.Format_ARGB32_Premultiplied)
    source.fill(0xFF336699)
    rect, color, pen = QRect(2, 2, 20, 20), QColor(200, 40, 40), QPen(QColor(10, 10, 10), 2)
    transform, font = QTransform(), QFont()
    poly = QPolygonF([QPointF(1, 1), QPointF(30, 4), QPointF(12, 28)])
    p = QPainter(target)
    call: dict[str, Callable[[], object]] = {
        "fillRect": lambda: p.fillRect(rect, color),
        "setPen": lambda: p.setPen(pen),
        "drawLine": lambda: p.drawLine(0, 0, 40, 40),
        "drawImage": lambda: p.drawImage(0, 0, source),
        "setBrush": lambda: p.setBrush(color),
        "drawPolygon": lambda: p.drawPolygon(poly),
        "drawText": lambda: p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "12"),
        "drawEllipse": lambda: p.drawEllipse(QPointF(20, 20), 5, 5),
        "drawRect": lambda: p.drawRect(rect),
        "drawPoint": lambda: p.drawPoint(QPointF(3, 3)),
        "setOpacity": lambda: p.setOpacity(0.5),
        "setRenderHint": lambda: p.setRenderHint(QPainter.RenderHint.Antialiasing),
        "setCompositionMode": lambda: p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver),
        "setTransform": lambda: p.setTransform(transform),
        "setFont": lambda: p.setFont(font),
    }
    _KEEP_ALIVE.extend([None] * (2 * calls * (len(KINDS) + len(EXTRA)) + 100_000))  # so a leaking binding survives the measurement
    delta, extra = {}, {}
    for kinds, out in ((KINDS, delta), (EXTRA, extra)):
        for kind in kinds:
            fn = call[kind]
            fn()  # first call may cache a wrapper or a signature
            before = sys.getrefcount(None)
            for _ in range(calls):
                fn()
            out[kind] = sys.getrefcount(None) - before
    p.end()
    return {
        "pyside6": PySide6.__version__,
        "shiboken6": shiboken6.__version__,
        "python": sys.version.split()[0],
        "calls": calls,
        "immortal_none": sys.version_info >= (3, 12),
        "delta": delta,
        "extra": extra,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000, help="calls of each kind (default 100000)")
    args = ap.parse_args(argv)
    print(json.dumps(measure(args.calls)), flush=True)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
