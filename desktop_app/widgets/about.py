"""Help > About: the suite's version (one number for the app, the engine and the Krita plugin),
the engine protocol, and how this copy was installed."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QMessageBox, QWidget

from inbetween_client import PROTOCOL_VERSION, __version__


def about_text() -> str:
    how = "bundled app" if getattr(sys, "frozen", False) else f"Python {sys.version.split()[0]}"
    return (f"<h3>inbetween-studio {__version__}</h3>"
            "<p>In-betweening for 2D animators: draw the keys (and sketches of a few in-betweens), "
            "get the frames in between.</p>"
            f"<p>Suite version {__version__} &middot; engine protocol {PROTOCOL_VERSION} &middot; {how}</p>")


def show_about(parent: QWidget | None = None) -> None:
    QMessageBox.about(parent, "About inbetween-studio", about_text())
