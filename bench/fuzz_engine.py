"""Fuzzing campaign against a live engine: many malformed or adversarial messages, then a real job.

Message kinds (seeded, reproducible): random bytes, lying length prefixes, invalid or
non-object JSON, deeply nested and near-limit JSON, wrong field types, wrong protocol
versions, huge declared blob sizes, messages before authentication, hello twice, unknown
types, cancels of jobs that do not exist, and submits with random shot contents. Messages
that the engine answers without closing the connection are sent on a reused authenticated
connection; the others each get a fresh connection.

Afterwards the engine must still serve a normal job correctly, and its resident memory must
not have grown by more than --max-growth-mib (measured from /proc after a warm-up).

    python bench/fuzz_engine.py [--count 100000] [--threads 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inbetween_client.client import EngineClient  # noqa: E402
from inbetween_client.images import ImageData  # noqa: E402
from inbetween_client.launcher import start_engine  # noqa: E402
from inbetween_client.protocol import MAGIC, PREFIX  # noqa: E402
from inbetween_client.shot import ShotRequest  # noqa: E402

TYPES = ["hello", "submit", "cancel", "status", "ping", "capabilities", "welcome", "frame", "done",
         "", "x" * 300, "\u0000", "submit\n"]


def frame(header: object, blobs: list[bytes] = ()) -> bytes:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return PREFIX.pack(MAGIC, len(raw)) + raw + b"".join(blobs)


def random_json(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**70), rng.randrange(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-300, 3.14])
    if kind == 4:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(12)))
    if kind in (5, 6):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["width", "height", "keys", "frame", "blob", "encoding", "timing", "times",
                        "start", "curve", "backend", "options", "seed", "exposure", "fps", "job",
                        "token", "protocol", "sketches", "output"]): random_json(rng, depth + 1)
            for _ in range(rng.randrange(5))}


def random_shot(rng: random.Random) -> dict:
    shot = {"width": rng.choice([1, 64, 0, -5, 10**9, "64"]), "height": rng.choice([1, 48, 0, 10**9]),
            "keys": [{"frame": rng.choice([0, 1, 5, -1, "a"]), "blob": rng.choice([0, 1, 9, None]),
                      "encoding": rng.choice(["png", "rgba", "jpeg", 7]),
                      "width": rng.choice([64, 10**6]), "height": rng.choice([48, -1])}
                     for _ in range(rng.randrange(4))],
            "timing": random_json(rng), "options": random_json(rng),
            "backend": rng.choice(["flow", "tooncrafter", "nope", 3])}
    if rng.random() < 0.5:
        shot[rng.choice(list(shot))] = random_json(rng)
    return shot


def closing_payload(rng: random.Random, token: str) -> tuple[str, bytes, bool]:
    """(kind, bytes, authenticate first) for messages after which the engine closes."""
    k = rng.randrange(11)
    if k == 0:
        return "random bytes", rng.randbytes(rng.randrange(1, 512)), rng.random() < 0.5
    if k == 1:
        return "lying length", struct.pack(">4sI", MAGIC, rng.choice([0, 2**32 - 1, 2**21, rng.randrange(1, 2**32)])) + rng.randbytes(rng.randrange(64)), rng.random() < 0.5
    if k == 2:
        return "invalid json", frame(rng.randbytes(rng.randrange(1, 200))), True
    if k == 3:
        return "non-object json", frame(json.dumps(random_json(rng) if rng.random() < .5 else [1]).encode()), True
    if k == 4:
        n = rng.randrange(1000, 200000)
        return "deep json", frame(b"[" * n + b"]" * n), True
    if k == 5:
        return "near-limit json", frame({"type": "ping", "v": 1, "blobs": [], "pad": "a" * rng.randrange(500000, 1040000)}), True
    if k == 6:
        return "huge blob sizes", frame({"type": "submit", "v": 1, "blobs": [rng.choice([2**40, 2**27, -1, "9"])]}), True
    if k == 7:
        return "before auth", frame({"type": rng.choice(TYPES), "v": 1, "blobs": []}), False
    if k == 8:
        return "bad hello", frame({"type": "hello", "v": rng.choice([1, 2, None]), "blobs": [],
                                   "token": rng.choice([None, 5, "x", token[:-1], token + "x", [token]]),
                                   "protocol": rng.choice([1, 0, 2, "1", None])}), False
    if k == 9:
        return "wrong version", frame({"type": "ping", "v": rng.choice([0, 2, "1", None, 1.0001]), "blobs": []}), True
    return "unknown type", frame({"type": rng.choice(TYPES[6:]) + str(rng.randrange(99)), "v": 1, "blobs": []}), True


def open_payload(rng: random.Random) -> tuple[str, bytes]:
    """Messages the engine answers with an error but keeps the connection (bad requests)."""
    k = rng.randrange(4)
    if k == 0:
        blobs = [rng.randbytes(rng.randrange(64)) for _ in range(rng.randrange(3))]
        return "random submit", frame({"type": "submit", "v": 1, "ref": rng.randrange(9999),
                                       "blobs": [len(b) for b in blobs], "shot": random_shot(rng)}, blobs)
    if k == 1:
        return "cancel unknown", frame({"type": "cancel", "v": 1, "blobs": [], "job": random_json(rng)})
    if k == 2:
        return "hello twice", frame({"type": "hello", "v": 1, "blobs": [], "token": "x", "protocol": 1})
    return "valid request, odd fields", frame({"type": rng.choice(["ping", "status", "capabilities"]),
                                               "v": 1, "blobs": [], "ref": rng.choice(["a", 1, 2**40]),
                                               "extra": random_json(rng)})


def hello(token: str) -> bytes:
    return frame({"type": "hello", "v": 1, "blobs": [], "token": token, "protocol": 1})


def drain(sock: socket.socket) -> None:
    try:
        sock.settimeout(10)
        while sock.recv(1 << 16):
            pass
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass


def worker(info, seed: int, count: int, stats: Counter, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    persistent = socket.create_connection((info.host, info.port))
    persistent.sendall(hello(info.token))
    persistent.settimeout(10)
    sent_open = 0
    local = Counter()
    for i in range(count):
        if rng.random() < 0.5:
            kind, data = open_payload(rng)
            try:
                persistent.sendall(data)
                sent_open += 1
            except OSError:
                persistent = socket.create_connection((info.host, info.port))
                persistent.sendall(hello(info.token) + data)
            if sent_open % 200 == 0:  # read what piled up so the engine never blocks on us
                persistent.setblocking(False)
                try:
                    while persistent.recv(1 << 20):
                        pass
                except (BlockingIOError, OSError):
                    pass
                persistent.setblocking(True)
                persistent.settimeout(10)
        else:
            kind, data, auth = closing_payload(rng, info.token)
            with socket.create_connection((info.host, info.port), timeout=10) as s:
                try:
                    s.sendall((hello(info.token) if auth else b"") + data)
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                drain(s)
        local[kind] += 1
    persistent.close()
    with lock:
        stats.update(local)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def normal_job_ok(info) -> bool:
    import numpy as np

    a = np.zeros((64, 96, 4), np.uint8)
    a[...] = (200, 40, 40, 255)
    with EngineClient.connect(info) as c:
        req = ShotRequest.between(ImageData.rgba(a.tobytes(), 96, 64), ImageData.rgba(a.tobytes(), 96, 64),
                                  inbetweens=5)
        result = c.interpolate(req, timeout=60)
        return sorted(result.frames) == [1, 2, 3, 4, 5] and all(
            f.data == a.tobytes() for f in result.frames.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-growth-mib", type=float, default=64.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_engine([sys.executable, "-m", "engine"], Path(tmp) / "engine.json", args=["--device", "cpu"])
        try:
            info = proc.info
            # warm-up: one normal job and a short burst, so caches and pools are in place
            assert normal_job_ok(info)
            worker(info, args.seed + 1000, 500, Counter(), threading.Lock())
            rss0 = rss_kib(proc.popen.pid)
            stats: Counter = Counter()
            lock = threading.Lock()
            per = args.count // args.threads
            t0 = time.perf_counter()
            threads = [threading.Thread(target=worker, args=(info, args.seed + i, per, stats, lock))
                       for i in range(args.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            alive = proc.popen.poll() is None
            ok = alive and normal_job_ok(info)
            rss1 = rss_kib(proc.popen.pid) if alive else 0
        finally:
            proc.stop()
    growth = (rss1 - rss0) / 1024
    total = sum(stats.values())
    print(f"# fuzz: {total} messages in {wall:.0f} s ({total / wall:.0f}/s), seed {args.seed}")
    print("| kind | count |\n|---|---|")
    for kind, n in sorted(stats.items()):
        print(f"| {kind} | {n} |")
    print(f"\nengine alive: {alive}; normal job afterwards correct: {ok}; "
          f"RSS {rss0 / 1024:.0f} -> {rss1 / 1024:.0f} MiB (growth {growth:.1f} MiB, bound {args.max_growth_mib})")
    return 0 if ok and growth <= args.max_growth_mib else 1


if __name__ == "__main__":
    raise SystemExit(main())
