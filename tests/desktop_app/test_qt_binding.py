"""The installed Qt binding must not leak references to None (issue 15, defect 1).

PySide6-Essentials 6.12.0 lowers None's reference count by one on every QPainter call that
returns nothing, and the app aborts (`none_dealloc`) a few minutes into a session. This test
fails on such a binding: it runs the probe in a child process (a leaking binding cannot take
pytest down with it) and wants None's count flat over 100,000 calls of each kind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .qt_refcount_probe import EXTRA, KINDS

REPO = Path(__file__).resolve().parents[2]


def test_none_refcount_stays_flat_over_100000_painter_calls_of_each_kind():
    proc = subprocess.run([sys.executable, "-m", "tests.desktop_app.qt_refcount_probe", "--calls", "100000"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result["delta"]) == set(KINDS) and set(result["extra"]) == set(EXTRA)
    leaks = {k: v for k, v in {**result["delta"], **result["extra"]}.items() if abs(v) > 100}
    assert not leaks, (f"PySide6 {result['pyside6']} / shiboken6 {result['shiboken6']} on Python "
                       f"{result['python']} changes None's reference count per 100,000 calls: {leaks}; "
                       "this binding aborts the app (none_dealloc). Pin a version the probe finds clean.")


def test_the_pinned_binding_is_the_one_installed():
    """pyproject pins the measured versions; an environment that drifted is caught here."""
    import re
    from importlib.metadata import version

    text = (REPO / "pyproject.toml").read_text("utf-8")
    pins = dict(re.findall(r'"(PySide6-Essentials|shiboken6)==([0-9.]+)"', text))
    assert set(pins) == {"PySide6-Essentials", "shiboken6"}, "the studio extra must pin both exactly"
    assert version("PySide6-Essentials") == pins["PySide6-Essentials"]
    assert version("shiboken6") == pins["shiboken6"]
