"""One large-motion clip of the shared synthetic set: the method beats plain DIS there.

Skips when the shared data (`../shared/bench/celanim` next to the repository) is absent.
The full comparison is `bench/quality.py`; this only guards against regressions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "celanim"


def _large_clip() -> Path | None:
    if not DATA.is_dir():
        return None
    for clip in sorted(DATA.glob("clip_*")):
        meta = clip / "meta.json"
        if meta.exists() and json.loads(meta.read_text())["bucket"] == "large":
            return clip
    return None


@pytest.mark.skipif(_large_clip() is None,
                    reason=f"shared benchmark data not found at {DATA} (large-motion clip)")
def test_beats_dis_on_a_large_motion_clip() -> None:
    from bench.metrics import chamfer, ssim
    from bench.quality import load_rgba
    from engine.backends.flow.dis_baseline import DisInterpolator
    from engine.backends.flow.interpolate import interpolate_segment

    clip = _large_clip()
    assert clip is not None
    meta = json.loads((clip / "meta.json").read_text())
    a, b = load_rgba(clip / "frame_0.png"), load_rgba(clip / "frame_8.png")
    gt = load_rgba(clip / "frame_4.png")
    t = float(meta["timing"]["s_root"][4])
    (ours,) = list(interpolate_segment(a, b, [t], {}, lambda: None))
    dis = DisInterpolator(a, b).frame(t)
    assert chamfer(ours, gt) < 0.8 * chamfer(dis, gt)
    assert ssim(ours, gt) > ssim(dis, gt) - 0.005
    assert np.isfinite(ours).all()
