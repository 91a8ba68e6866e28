"""Load: N concurrent clients submitting M jobs each to one engine (flow backend, small frames).

Checks while it measures: every job completes (or is cancelled when asked), every frame goes
to the client that asked for it (frames carry a per-client colour that is checked), nothing
is lost or duplicated, and the queue is fair (per-client completion spread). Reports
throughput and p50/p95 latency (submit -> done).

    python bench/load.py [--clients 8] [--jobs 20] [--cancel-every 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inbetween_client.client import EngineClient  # noqa: E402
from inbetween_client.errors import JobCancelledError  # noqa: E402
from inbetween_client.images import ImageData  # noqa: E402
from inbetween_client.launcher import start_engine  # noqa: E402
from inbetween_client.shot import ShotRequest  # noqa: E402

W, H, INBETWEENS = 96, 64, 3


def client_keys(index: int) -> tuple[ImageData, ImageData, tuple[int, int, int]]:
    """Two flat keys in a colour unique to the client: any frame it gets back must be that colour."""
    color = (40 + 25 * index % 200, 255 - 20 * index % 200, (70 * index) % 256)
    a = np.zeros((H, W, 4), np.uint8)
    a[...] = (*color, 255)
    return ImageData.rgba(a.tobytes(), W, H), ImageData.rgba(a.tobytes(), W, H), color


def run_client(index: int, info, jobs: int, cancel_every: int, out: dict) -> None:
    key_a, key_b, color = client_keys(index)
    latencies, done_at, cancelled, errors = [], [], 0, []
    with EngineClient.connect(info, client_name=f"load-{index}") as c:
        submitted = []
        for j in range(jobs):
            req = ShotRequest.between(key_a, key_b, inbetweens=INBETWEENS)
            job = c.submit(req)
            submitted.append((time.perf_counter(), job, j))
            if cancel_every and j % cancel_every == cancel_every - 1:
                job.cancel()  # while it waits in the queue (or has just started)
        for t0, job, j in submitted:
            try:
                result = job.wait(timeout=300)
            except JobCancelledError:
                cancelled += 1
                continue
            latencies.append(time.perf_counter() - t0)
            done_at.append(time.perf_counter())
            if sorted(result.frames) != list(range(1, INBETWEENS + 1)):
                errors.append(f"job {job.id}: frames {sorted(result.frames)}")
            for f in result.frames.values():
                px = np.frombuffer(f.data, np.uint8).reshape(H, W, 4)
                if tuple(int(v) for v in px[H // 2, W // 2, :3]) != color:
                    errors.append(f"job {job.id}: frame {f.frame} is not this client's colour")
    out[index] = {"latencies": latencies, "done_at": done_at, "cancelled": cancelled, "errors": errors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--cancel-every", type=int, default=7, help="cancel every k-th job (0: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_engine([sys.executable, "-m", "engine"], Path(tmp) / "engine.json",
                            args=["--device", "cpu"])
        results: dict[int, dict] = {}
        try:
            t0 = time.perf_counter()
            threads = [threading.Thread(target=run_client, args=(i, proc.info, args.jobs,
                                                                 args.cancel_every, results))
                       for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            proc.stop()
    expected_cancels = args.clients * (args.jobs // args.cancel_every if args.cancel_every else 0)
    lat = sorted(x * 1000 for r in results.values() for x in r["latencies"])
    completed = len(lat)
    cancelled = sum(r["cancelled"] for r in results.values())
    errors = [e for r in results.values() for e in r["errors"]]
    finish = [max(r["done_at"]) - t0 for r in results.values() if r["done_at"]]
    total = args.clients * args.jobs
    print(f"# load: {args.clients} clients x {args.jobs} jobs, {INBETWEENS} in-betweens at {W}x{H}, flow")
    print(f"| jobs | completed | cancelled | lost | wrong/duplicate frames | throughput jobs/s | "
          f"p50 ms | p95 ms | last client done / first client done |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {total} | {completed} | {cancelled} | {total - completed - cancelled} | {len(errors)} | "
          f"{completed / wall:.1f} | {statistics.median(lat):.0f} | {lat[int(0.95 * (len(lat) - 1))]:.0f} | "
          f"{max(finish) / min(finish):.2f} |")
    for e in errors[:10]:
        print("error:", e)
    if cancelled != expected_cancels:
        print(f"note: {expected_cancels} cancels asked, {cancelled} jobs ended cancelled "
              "(a job that finished before its cancel arrived completes)")
    return 1 if errors or completed + cancelled != total else 0


if __name__ == "__main__":
    raise SystemExit(main())
