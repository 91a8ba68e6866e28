"""How close interpolated poses come to the true in-between poses of the celanim clips.

Every celanim clip has the rig's true skeleton on every frame (`poses.json`) and its timing
chart (`meta.json` `timing.s_root`: the interpolation parameter of each frame). For each clip
the in-between poses are interpolated from the posed frames only (the keys, or the keys and
the middle frame) with `inbetween_client.pose_interpolation` and compared with the truth, joint
by joint, in pixels:

- method `arc` (the shipped rule: bones rotate about their parents) vs `linear` (chords);
- columns: mean / p95 / max joint error, the middle frame's mean (keys only), and `shape`: the
  error once both skeletons' necks are moved onto each other (how well the limbs move, apart
  from the root's path, which two keys cannot reveal);
- times `frames` (t = k/8, the times in poses.json and what the eval bench passes with
  `--times`) vs `chart` (t = s_root[k], the times an animator's timing chart gives the engine).

    .venv/bin/python bench/pose_interpolation.py [--data ../shared/bench/celanim] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inbetween_client.pose_interpolation import METHODS, pose_at  # noqa: E402
from inbetween_client.poses import PoseTrack, TimedPose  # noqa: E402

POSED_SETS = {"keys": (0, -1), "keys+mid": (0, "mid", -1)}


def clip_errors(clip: Path, times: str, posed: str, method: str) -> dict:
    track = PoseTrack.read(clip / "poses.json")
    meta = json.loads((clip / "meta.json").read_text())
    n = len(track.poses) - 1
    ts = [k / n for k in range(n + 1)] if times == "frames" else list(meta["timing"]["s_root"])
    truth = [p.pose for p in track.poses]
    posed_idx = sorted({n // 2 if i == "mid" else (i % (n + 1)) for i in POSED_SETS[posed]})
    given = [TimedPose(ts[k], truth[k], k) for k in posed_idx]
    errs, mid_errs, shape, lost = [], [], [], 0
    for k in range(n + 1):
        if k in posed_idx:
            continue
        pred = pose_at(given, ts[k], method)
        for j, (tp, pp) in enumerate(zip(truth[k].body, pred.body)):
            if tp[2] <= 0:
                continue
            if pp[2] <= 0:
                lost += 1
                continue
            e = math.dist(tp[:2], pp[:2])
            errs.append(e)
            tn, pn = truth[k].body[1], pred.body[1]  # the skeleton's shape: both necks moved to 0
            shape.append(math.dist((tp[0] - tn[0], tp[1] - tn[1]), (pp[0] - pn[0], pp[1] - pn[1])))
            if k == n // 2:
                mid_errs.append(e)
    return {"bucket": meta.get("bucket", "?"), "errs": errs, "mid": mid_errs, "shape": shape, "lost": lost}


def summarize(rows: list[dict]) -> dict:
    errs = [e for r in rows for e in r["errs"]]
    mid = [e for r in rows for e in r["mid"]]
    errs_sorted = sorted(errs)
    return {
        "mean_px": statistics.fmean(errs),
        "p95_px": errs_sorted[int(0.95 * (len(errs_sorted) - 1))],
        "max_px": errs_sorted[-1],
        "mid_mean_px": statistics.fmean(mid) if mid else float("nan"),
        "shape_mean_px": statistics.fmean(e for r in rows for e in r["shape"]),
        "lost_joints": sum(r["lost"] for r in rows),
        "samples": len(errs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench" / "celanim")
    ap.add_argument("--json", type=Path, help="write every summary here")
    ap.add_argument("--buckets", action="store_true", help="also one row per motion bucket")
    args = ap.parse_args(argv)
    clips = sorted(p for p in args.data.glob("clip_*") if (p / "poses.json").is_file())
    if not clips:
        print(f"no clips with poses.json under {args.data}", file=sys.stderr)
        return 1
    results = []
    print(f"{len(clips)} clips from {args.data}; error of the interpolated body joints "
          "against the true in-between poses (px)\n")
    print("| posed | times | method | bucket | mean | p95 | max | middle frame mean | shape mean | lost joints |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for posed in POSED_SETS:
        for times in ("frames", "chart"):
            for method in METHODS:
                rows = [clip_errors(c, times, posed, method) for c in clips]
                for bucket in (("small", "medium", "large", "all") if args.buckets else ("all",)):
                    sel = [r for r in rows if bucket in ("all", r["bucket"])]
                    if not sel:
                        continue
                    s = summarize(sel)
                    results.append(dict(posed=posed, times=times, method=method, bucket=bucket, **s))
                    print(f"| {posed} | {times} | {method} | {bucket} | {s['mean_px']:.2f} | "
                          f"{s['p95_px']:.2f} | {s['max_px']:.2f} | {s['mid_mean_px']:.2f} | {s['shape_mean_px']:.2f} | "
                          f"{s['lost_joints']} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
