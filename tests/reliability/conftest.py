"""Reliability tests run the desktop app offscreen; re-use the desktop app's helpers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.desktop_app.conftest import SAMPLE, disc, small_doc, window  # noqa: E402,F401
