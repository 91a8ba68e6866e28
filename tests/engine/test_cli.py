"""The `inbetween-engine` command, run as a user would (subprocesses, real engine)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from inbetween_client.client import EngineClient, Started
from inbetween_client.connection import read_connection_file
from inbetween_client.errors import EngineStoppedError
from inbetween_client.images import ImageData
from inbetween_client.shot import ShotRequest
from tests.imaging import disc_image, png_bytes, read_png, write_png

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ), cwd=REPO)


@pytest.fixture
def keys(tmp_path):
    a = write_png(tmp_path / "a.png", disc_image(160, 96, center=(30, 48), transparent=True))
    b = write_png(tmp_path / "b.png", disc_image(160, 96, center=(130, 48), transparent=True))
    return a, b


def test_interpolate_starts_a_private_engine_and_writes_the_sequence(keys, tmp_path, private_state_dir):
    a, b = keys
    out = tmp_path / "out"
    r = cli("interpolate", str(a), str(b), "--out", str(out), "--inbetweens", "5", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["inbetweens"] == 5 and summary["engine_started"] is True
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame_{i:04d}.png" for i in range(7)]
    assert (out / "frame_0000.png").read_bytes() == a.read_bytes()
    assert (out / "frame_0006.png").read_bytes() == b.read_bytes()
    mid = read_png(out / "frame_0003.png")
    assert mid.shape == (96, 160, 4)
    assert mid[..., 3].max() == 255 and mid[..., 3].min() == 0  # alpha kept, background stays clear
    # the private engine is gone and left no connection file in the user's state dir
    assert not (private_state_dir / "engine.json").exists()


def test_interpolate_uses_the_running_engine_with_times_and_sketch(engine, keys, tmp_path):
    a, b = keys
    sketch = write_png(tmp_path / "s.png", disc_image(160, 96, center=(80, 20), transparent=True))
    out = tmp_path / "out"
    r = cli("interpolate", str(a), str(b), "--out", str(out), "--times", "0.2,0.5,0.8",
            "--sketch", f"2={sketch}", "--timing", "ease-in", "--json",
            "--connection-file", str(engine.connection_file))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["engine_started"] is False
    assert len(list(out.glob("frame_*.png"))) == 5


def test_sample_shot_fourteen_inbetweens_at_512x320(engine, tmp_path):
    out = tmp_path / "out"
    r = cli("interpolate", str(SAMPLE / "key_a.png"), str(SAMPLE / "key_b.png"), "--out", str(out),
            "--inbetweens", "14", "--connection-file", str(engine.connection_file))
    assert r.returncode == 0, r.stderr
    assert "16 frames (14 in-betweens, flow)" in r.stdout
    assert read_png(out / "frame_0007.png").shape == (320, 512, 4)


@pytest.mark.parametrize("make,args,message", [
    (lambda d, a, b: None, ["--inbetweens", "0"], "at least 1"),
    (lambda d, a, b: None, ["--inbetweens", "-3"], "at least 1"),
    (lambda d, a, b: None, ["--times", "0.5,abc"], "numbers separated by commas"),
    (lambda d, a, b: None, ["--times", "0.5,1.2"], "(0, 1)"),
    (lambda d, a, b: None, ["--sketch", "9=x.png", "--inbetweens", "3"], "does not exist"),
    (lambda d, a, b: None, ["--backend", "magic", "--inbetweens", "3"], "unknown backend"),
    (lambda d, a, b: (d / "bad.png").write_bytes(png_bytes(disc_image())[:80]), ["--inbetweens", "3", "--sketch", "1={d}/bad.png"], "corrupt PNG"),
    (lambda d, a, b: write_png(d / "small.png", disc_image(64, 64)), ["--inbetweens", "3", "--sketch", "1={d}/small.png"], "same size"),
])
def test_interpolate_errors_are_clear(engine, keys, tmp_path, make, args, message):
    a, b = keys
    make(tmp_path, a, b)
    args = [x.replace("{d}", str(tmp_path)) for x in args]
    if not any(x in args for x in ("--inbetweens", "--times")):
        args += []
    r = cli("interpolate", str(a), str(b), "--out", str(tmp_path / "o"), *args,
            "--connection-file", str(engine.connection_file))
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_interpolate_missing_and_mismatched_keys(engine, keys, tmp_path):
    a, _ = keys
    r = cli("interpolate", str(a), str(tmp_path / "nope.png"), "--out", str(tmp_path / "o"),
            "--inbetweens", "2")
    assert r.returncode == 2 and "no such file" in r.stderr
    small = write_png(tmp_path / "small.png", disc_image(64, 64))
    r = cli("interpolate", str(a), str(small), "--out", str(tmp_path / "o"), "--inbetweens", "2",
            "--connection-file", str(engine.connection_file))
    assert r.returncode == 1 and "all keys and sketches must have the same size" in r.stderr


def test_over_the_size_limit_is_refused(engine, tmp_path):
    big = np.zeros((4200, 64, 4), np.uint8)
    a = write_png(tmp_path / "a.png", big)
    r = cli("interpolate", str(a), str(a), "--out", str(tmp_path / "o"), "--inbetweens", "1",
            "--connection-file", str(engine.connection_file))
    assert r.returncode == 1 and "over the size limit" in r.stderr


def test_backends_and_status(engine):
    r = cli("backends", "--connection-file", str(engine.connection_file))
    assert r.returncode == 0
    assert "flow" in r.stdout and "available" in r.stdout
    line = next(l for l in r.stdout.splitlines() if "tooncrafter" in l)
    assert "unavailable" in line  # no weights in the test's models dir, or no torch
    r = cli("status", "--connection-file", str(engine.connection_file), "--json")
    status = json.loads(r.stdout)
    assert status["alive"] is True and status["pid"] == engine.popen.pid
    assert status["address"] == engine.info.address


def test_status_without_engine(private_state_dir):
    r = cli("status")
    assert r.returncode == 1 and "no engine is running" in r.stdout


def test_backends_without_engine_explains_why_unavailable(private_state_dir):
    r = cli("backends", "--json")
    data = json.loads(r.stdout)
    names = {b["name"]: b for b in data["backends"]}
    assert names["flow"]["available"] is True
    assert names["tooncrafter"]["available"] is False and names["tooncrafter"]["reason"]


def _start_serve(*extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine", "serve", "--device", "cpu", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ), cwd=REPO)


def _wait_for_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_serve_writes_a_private_connection_file_and_sigterm_cleans_up(private_state_dir):
    proc = _start_serve()
    cf = private_state_dir / "engine.json"
    try:
        _wait_for_file(cf)
        info = read_connection_file(cf)
        assert info.pid == proc.pid and info.host == "127.0.0.1" and info.protocol == 1
        assert stat.S_IMODE(cf.stat().st_mode) == 0o600
        # a second engine refuses to start next to the first
        second = subprocess.run([sys.executable, "-m", "engine", "serve", "--device", "cpu"],
                                capture_output=True, text=True, timeout=60, cwd=REPO)
        assert second.returncode == 1 and "already runs" in second.stderr
        # a running job ends on SIGTERM, and its client is told the engine stopped (not a cancel)
        a = ImageData.png(png_bytes(disc_image(1024, 768)))
        b = ImageData.png(png_bytes(disc_image(1024, 768, center=(900, 300))))
        with EngineClient.connect(info) as c:
            job = c.submit(ShotRequest.between(a, b, inbetweens=300))
            next(e for e in job.events(timeout=60) if isinstance(e, Started))
            proc.send_signal(signal.SIGTERM)
            ends = list(job.events(timeout=60))
            assert ends[-1].code == "shutting_down" and "engine stopped" in ends[-1].message
            assert isinstance(ends[-1].exception(), EngineStoppedError)
        assert proc.wait(30) == 0
        assert not cf.exists()
        log = proc.stdout.read()
        assert "shutting down" in log and "engine stopped" in log
    finally:
        proc.kill()
        proc.wait()


def test_serve_refuses_a_non_loopback_address_without_tls(private_state_dir):
    r = subprocess.run([sys.executable, "-m", "engine", "serve", "--host", "0.0.0.0", "--device", "cpu"],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 1 and "needs TLS" in r.stderr
    assert not (private_state_dir / "engine.json").exists()


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and "protocol 1" in r.stdout
