"""Kill the desktop app at random moments, many times, and report what survived.

    .venv/bin/python bench/kill_app.py --runs 200 [--seed 7] [--chain 25] [--autosave-ms 300]

Each run starts the real app offscreen (tests/reliability/app_driver.py), which opens the
project the previous run left (accepting the autosave it offers), draws strokes, saves after
one stroke in 20 on average and autosaves on its timer; the bench SIGKILLs it after a random
delay and checks with the app's own io that the project loads, is one consistent version
no older than the last save the app reported, and that recovery gives back at least the
last reported autosave. Prints one line per failing run, then totals and how much work a
crash cost (strokes and seconds between the newest recovered stroke and the kill). Exit
status 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chain", type=int, default=25, help="runs on one project before a fresh one")
    ap.add_argument("--autosave-ms", type=int, default=300)
    ap.add_argument("--max-delay", type=float, default=1.5, help="latest kill, seconds after ready")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    args = ap.parse_args(argv)

    from PySide6.QtGui import QGuiApplication

    from tests.reliability.kill_harness import run_many

    app = QGuiApplication.instance() or QGuiApplication(["kill_app"])  # noqa: F841 - QImage decoding
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="kill-app-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()

    def show(r) -> None:
        if (r.index + 1) % 25 == 0:
            print(f"... {r.index + 1} runs, {time.monotonic() - t0:.0f} s", flush=True)

    results = run_many(workdir, args.runs, args.seed, args.chain, args.autosave_ms, args.max_delay, show)
    failed = [r for r in results if r.failures]
    for r in failed:  # after the run, so the clean session closing each chain is included
        print(f"run {r.index} ({r.project}, killed after {r.killed_after_s:.2f} s): FAIL "
              + "; ".join(f[:300] for f in r.failures))
    lost = [r.lost_strokes for r in results]
    lost_s = [r.lost_seconds for r in results]
    print(f"runs: {len(results)}  failed: {len(failed)}  wall: {time.monotonic() - t0:.0f} s  "
          f"autosave every {args.autosave_ms} ms")
    print(f"strokes drawn (logged): {sum(r.new_strokes for r in results)}; "
          f"runs killed before the first stroke: {sum(1 for r in results if r.strokes_drawn == 0)}")
    print(f"work lost per crash: strokes median {statistics.median(lost):.0f} max {max(lost)}; "
          f"seconds median {statistics.median(lost_s):.2f} max {max(lost_s):.2f}")
    print(f"runs where the autosave gave back more than the project file: "
          f"{sum(1 for r in results if r.recovered > r.on_disk)}")
    print(f"orphaned temp files seen right after a kill: {sum(r.temp_files for r in results)} "
          f"(in {sum(1 for r in results if r.temp_files)} runs; removed by the next save)")
    if args.keep is None and not failed:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"work folder kept: {workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
