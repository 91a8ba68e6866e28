"""Quality and speed benchmark of the `flow` backend against cross-fade and bidirectional DIS.

Usage:
    python bench/quality.py ../shared/bench/celanim [--cases a,b,c] [--clips N] [--json out.json]
    python bench/quality.py ../shared/bench/real      (AniDoc clips: frame i+1 from i and i+2)

Cases on the synthetic set (keys are frames 0 and 8 of each 9-frame clip):
  (a) the middle frame (4) from the two keys;
  (b) all 7 in-betweens;
  (c) all 7 in-betweens with the sketch of frame 4 given, scored on the other frames and on
      the sketched frame separately (the baselines take no sketch: same frames as in (b)).
Times come from the clip's timing chart (`timing.s_root`), as an animator's chart would give
them (`--timing linear` uses k/8). Ground truth is read only to score, never by a method.
Metrics: PSNR and SSIM (RGB over white) and truncated line chamfer distance (per mille of the image
diagonal, lower is better). LPIPS is not measured: the `lpips` package needs torchvision's
AlexNet weights, which cannot be downloaded here.
Speed: ms per in-between of `flow` at the data's size (512x320 for celanim), one OpenCV thread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.metrics import chamfer, psnr, ssim  # noqa: E402
from engine.backends.flow.dis_baseline import DisInterpolator, crossfade  # noqa: E402
from engine.backends.flow.interpolate import interpolate_segment  # noqa: E402

METHODS = ("flow", "dis", "crossfade")


def load_rgba(path: Path) -> np.ndarray:
    """Any PNG as RGBA uint8 (gray and RGB get an opaque alpha)."""
    im = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if im is None:
        raise FileNotFoundError(path)
    if im.ndim == 2:
        im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
    if im.shape[2] == 3:
        im = np.dstack([im, np.full(im.shape[:2], 255, np.uint8)])
    return cv2.cvtColor(im, cv2.COLOR_BGRA2RGBA)


def _never() -> None:
    return None


def run_flow(a: np.ndarray, b: np.ndarray, times: list[float],
             sketches: dict[int, np.ndarray] | None = None) -> tuple[list[np.ndarray], float]:
    """Frames from the flow backend and the wall time (s) it took."""
    t0 = time.perf_counter()
    frames = list(interpolate_segment(a, b, times, sketches or {}, _never))
    return frames, time.perf_counter() - t0


def run_dis(a: np.ndarray, b: np.ndarray, times: list[float]) -> list[np.ndarray]:
    interp = DisInterpolator(a, b)
    return [interp.frame(t) for t in times]


def run_crossfade(a: np.ndarray, b: np.ndarray, times: list[float]) -> list[np.ndarray]:
    return [crossfade(a, b, t) for t in times]


def score(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, float]:
    return psnr(pred, gt), ssim(pred, gt), 1000.0 * chamfer(pred, gt)


Scores = dict[tuple[str, str, str], list[tuple[float, float, float]]]  # (case, bucket, method)


def bench_celanim(root: Path, cases: str, max_clips: int, timing: str,
                  log: Callable[[str], None]) -> tuple[Scores, dict[str, list[float]]]:
    scores: Scores = defaultdict(list)
    ms: dict[str, list[float]] = defaultdict(list)
    clips = sorted(p for p in root.glob("clip_*") if (p / "meta.json").exists())
    if max_clips:
        # keep the bucket balance when only some clips are run
        by_bucket: dict[str, list[Path]] = defaultdict(list)
        for c in clips:
            by_bucket[json.loads((c / "meta.json").read_text())["bucket"]].append(c)
        clips = sorted(sum((v[:max_clips] for v in by_bucket.values()), []))
    for clip in clips:
        meta = json.loads((clip / "meta.json").read_text())
        bucket = meta["bucket"]
        frames = [load_rgba(clip / f"frame_{k}.png") for k in range(9)]
        a, b = frames[0], frames[8]
        if timing == "chart":
            times = [float(meta["timing"]["s_root"][k]) for k in range(1, 8)]
        else:
            times = [k / 8.0 for k in range(1, 8)]
        gts = frames[1:8]
        if "a" in cases:
            out, dt = run_flow(a, b, [times[3]])
            ms["a"].append(1000.0 * dt)
            preds = {"flow": out[0], "dis": run_dis(a, b, [times[3]])[0],
                     "crossfade": run_crossfade(a, b, [times[3]])[0]}
            for m, p in preds.items():
                scores[("a", bucket, m)].append(score(p, gts[3]))
        if "b" in cases or "c" in cases:
            out, dt = run_flow(a, b, times)
            ms["b"].append(1000.0 * dt / len(times))
            base = {"flow": out, "dis": run_dis(a, b, times),
                    "crossfade": run_crossfade(a, b, times)}
            if "b" in cases:
                for m, ps in base.items():
                    for p, g in zip(ps, gts):
                        scores[("b", bucket, m)].append(score(p, g))
            if "c" in cases:
                sketch = load_rgba(clip / "sketch_4.png")
                sk_out, dt = run_flow(a, b, times, {3: sketch})
                ms["c"].append(1000.0 * dt / len(times))
                c_methods = dict(base, **{"flow+sketch": sk_out})
                for m, ps in c_methods.items():
                    for k, (p, g) in enumerate(zip(ps, gts)):
                        case = "c-sketched" if k == 3 else "c-other"
                        scores[(case, bucket, m)].append(score(p, g))
        log(f"{clip.name} {bucket} done")
    return scores, ms


def bench_real(root: Path, log: Callable[[str], None]) -> tuple[Scores, dict[str, list[float]]]:
    """AniDoc clips: every frame i+1 from frames i and i+2 (pairs of identical keys skipped)."""
    scores: Scores = defaultdict(list)
    ms: dict[str, list[float]] = defaultdict(list)
    for sample in sorted((root / "anidoc").glob("sample*")):
        files = sorted(sample.glob("frame_*.png"))
        frames = [load_rgba(f) for f in files]
        for i in range(len(frames) - 2):
            a, g, b = frames[i], frames[i + 1], frames[i + 2]
            if np.array_equal(a, b):
                continue
            out, dt = run_flow(a, b, [0.5])
            ms["a"].append(1000.0 * dt)
            preds = {"flow": out[0], "dis": run_dis(a, b, [0.5])[0],
                     "crossfade": run_crossfade(a, b, [0.5])[0]}
            for m, p in preds.items():
                scores[("a", sample.name, m)].append(score(p, g))
        log(f"{sample.name} done")
    return scores, ms


CASE_TITLES = {
    "a": "(a) middle frame from the two keys",
    "b": "(b) all 7 in-betweens",
    "c-other": "(c) middle sketch given: the 6 frames without sketch",
    "c-sketched": "(c) middle sketch given: the sketched frame",
}


def table(scores: Scores) -> str:
    """Markdown: per case and bucket, each method's means and its ratios to both baselines."""
    lines: list[str] = []
    cases = [c for c in CASE_TITLES if any(k[0] == c for k in scores)]
    for case in cases:
        lines += ["", f"### {CASE_TITLES[case]}", "",
                  "| bucket | method | n | PSNR | SSIM | chamfer (‰ diag) "
                  "| SSIM / DIS | chamfer / DIS | SSIM / xfade | chamfer / xfade |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        buckets = sorted({k[1] for k in scores if k[0] == case},
                         key=lambda b: ({"small": 0, "medium": 1, "large": 2}.get(b, 3), b))
        for bucket in buckets:
            mean = {m: np.mean(v, axis=0) for (c, bk, m), v in scores.items()
                    if c == case and bk == bucket}
            order = [m for m in ("flow+sketch", "flow", "dis", "crossfade") if m in mean]
            for m in order:
                p, s, ch = mean[m]
                n = len(scores[(case, bucket, m)])
                d, x = mean["dis"], mean["crossfade"]
                lines.append(
                    f"| {bucket} | {m} | {n} | {p:.2f} | {s:.4f} | {ch:.2f} "
                    f"| {s / d[1]:.3f} | {ch / d[2]:.3f} | {s / x[1]:.3f} | {ch / x[2]:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("data", type=Path, help="celanim folder or real-frames folder")
    ap.add_argument("--cases", default="abc", help="subset of 'abc' (celanim only)")
    ap.add_argument("--clips", type=int, default=0, help="at most N clips per bucket (0: all)")
    ap.add_argument("--timing", choices=("chart", "linear"), default="chart")
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (speed is quoted at 1)")
    ap.add_argument("--json", type=Path, help="also write raw means here")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    cv2.setNumThreads(args.threads)
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    if (args.data / "anidoc").is_dir():
        scores, ms = bench_real(args.data, log)
        title = f"real anime frames ({args.data})"
    else:
        scores, ms = bench_celanim(args.data, args.cases, args.clips, args.timing, log)
        title = f"celanim ({args.data}), times from the {args.timing} timing"
    print(f"## flow backend benchmark: {title}")
    print(table(scores))
    print("\n### speed of `flow` (cv2.setNumThreads(%d))\n" % args.threads)
    print("| case | median ms per in-between | mean | n segments |")
    print("|---|---|---|---|")
    for case, v in ms.items():
        what = {"a": "1 in-between per segment", "b": "7 in-betweens per segment",
                "c": "7 in-betweens + 1 sketch"}[case]
        print(f"| {what} | {np.median(v):.0f} | {np.mean(v):.0f} | {len(v)} |")
    if args.json:
        raw = {" / ".join(k): np.mean(v, axis=0).tolist() for k, v in scores.items()}
        args.json.write_text(json.dumps({"scores": raw, "ms": ms}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
