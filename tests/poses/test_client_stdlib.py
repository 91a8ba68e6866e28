"""The client's pose and timing modules run with the standard library alone (the Krita plugin has no numpy)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

CODE = """
import sys
for name in ("numpy", "cv2", "PySide6", "torch"):
    sys.modules[name] = None  # any import of these now fails
from inbetween_client.poses import PoseTrack
from inbetween_client.pose_interpolation import pose_at
from inbetween_client.timing import segment_times
track = PoseTrack.from_json([{"t": 0.0, "keypoints": [[10, 10, 1]] * 18},
                             {"t": 1.0, "keypoints": [[20, 10, 1]] * 18}])
print(pose_at(track, segment_times(0, 2)[0][1]).body[0])
"""


def test_pose_modules_need_nothing_but_the_standard_library():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(15.0, 10.0, 1.0)"
