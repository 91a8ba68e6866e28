"""Protocol overhead of an engine round trip: 14 in-betweens at 512x320 RGBA.

Overhead = (client-side time from submit to the last event) - (time spent inside the
backend, reported by the engine). It covers framing, socket transfer of the keys and the
14 result frames, decoding, queueing and the client's reader thread. Target: < 50 ms.

    python bench/roundtrip.py [--repeats 20] [--backend flow]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inbetween_client.client import EngineClient  # noqa: E402
from inbetween_client.images import ImageData  # noqa: E402
from inbetween_client.launcher import start_engine  # noqa: E402
from inbetween_client.shot import ShotRequest  # noqa: E402

SAMPLE = REPO / "resources" / "sample"


def _load_rgba(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)


def measure(client: EngineClient, request: ShotRequest, repeats: int) -> dict[str, list[float]]:
    rt, backend, overhead = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = client.submit(request).wait(timeout=120)
        elapsed = time.perf_counter() - t0
        assert len(result.frames) == 14
        rt.append(elapsed * 1000)
        backend.append(result.stats["backend_s"] * 1000)
        overhead.append(rt[-1] - backend[-1])
    return {"round trip": rt, "backend": backend, "overhead": overhead}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--backend", default="flow")
    args = ap.parse_args()

    a_png, b_png = (SAMPLE / "key_a.png").read_bytes(), (SAMPLE / "key_b.png").read_bytes()
    a, b = _load_rgba(SAMPLE / "key_a.png"), _load_rgba(SAMPLE / "key_b.png")
    cases = {
        "rgba in, rgba out": ShotRequest.between(ImageData.rgba(a.tobytes(), 512, 320),
                                                 ImageData.rgba(b.tobytes(), 512, 320),
                                                 inbetweens=14, backend=args.backend),
        "png in, rgba out": ShotRequest.between(ImageData.png(a_png), ImageData.png(b_png),
                                                inbetweens=14, backend=args.backend),
        "png in, png out": ShotRequest.between(ImageData.png(a_png), ImageData.png(b_png),
                                               inbetweens=14, backend=args.backend, encoding="png"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_engine([sys.executable, "-m", "engine"], Path(tmp) / "engine.json",
                            args=["--device", "cpu"])
        try:
            with EngineClient.connect(proc.info, client_name="bench-roundtrip") as client:
                pings = [client.ping() * 1000 for _ in range(50)]
                client.submit(cases["rgba in, rgba out"]).wait()  # warm-up: imports, caches
                print(f"# engine round trip, 14 in-betweens at 512x320 RGBA, backend {args.backend}, "
                      f"{args.repeats} repeats")
                print(f"ping (empty message round trip): median {statistics.median(pings):.2f} ms\n")
                print("| case | round trip median ms | backend median ms | overhead median ms | overhead p95 ms |")
                print("|---|---|---|---|---|")
                for name, req in cases.items():
                    r = measure(client, req, args.repeats)
                    print(f"| {name} | {statistics.median(r['round trip']):.1f} | "
                          f"{statistics.median(r['backend']):.1f} | {statistics.median(r['overhead']):.1f} | "
                          f"{pct(r['overhead'], 0.95):.1f} |")
        finally:
            proc.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
