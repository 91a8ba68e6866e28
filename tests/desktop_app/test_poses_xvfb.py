"""The pose tools in a real window under Xvfb, driven with xdotool (`pose_session`): keys pressed
and joints dragged through the X server, as an animator's hands would (the offscreen platform
once hid a crash a real session found in minutes). Slow (an engine starts, a segment is
generated); INBETWEEN_POSE_SESSION_OUT keeps the screenshots and result.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.xsession import XServer, ensure_tools

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900),
              pytest.mark.skipif(sys.platform != "linux", reason="Xvfb")]


def test_pose_tools_in_a_real_window_driven_with_xdotool(tmp_path, private_state_dir):
    ensure_tools()
    out = Path(os.environ.get("INBETWEEN_POSE_SESSION_OUT", tmp_path / "session"))
    x = XServer("1600x1000x24")
    try:
        env = dict(x.env, INBETWEEN_STATE_DIR=str(private_state_dir), PYTHONPATH=str(REPO), PYTHONFAULTHANDLER="1")
        proc = subprocess.run([sys.executable, "-m", "tests.desktop_app.pose_session", "--out", str(out)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=800)
        log = proc.stdout[-4000:] + proc.stderr[-4000:]
        checks = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else []
        failed = [c for c in checks if not c["ok"]]
        assert proc.returncode == 0 and checks and not failed, f"{failed}\n{log}"
        assert "Fatal Python error" not in log and "Traceback" not in log, log
        names = {c["check"] for c in checks}
        assert {"a real mouse drag moves the joint (one undo step)", "dragging the ghost makes frame 5 a pose key",
                "a right-click hides the joint", "the engine says it gave the in-betweens their poses"} <= names
        assert (out / "studio-poses.png").stat().st_size > 10_000
    finally:
        x.close()
        if "INBETWEEN_POSE_SESSION_OUT" not in os.environ:
            shutil.rmtree(out, ignore_errors=True)
