"""`interpolate --backend animate_anyone --poses` end to end through a real engine, on the tiny
fixture: the issue's "done when" command. The fixture's weights are random, so the images are
garbage; what is checked is the whole path: loading through the real code, poses from the file
(key poses only: the in-betweens' poses are interpolated), frames at the keys' size, keys
untouched, a progress bar on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import pytest

from tests.imaging import disc_image, read_png, write_png

from .conftest import REPO, fixture_dir, have_fixture


def _skeleton(dx: float) -> list[list[float]]:
    pts = [(60, 20), (60, 35), (50, 35), (45, 50), (40, 65), (70, 35), (75, 50), (80, 62), (55, 65), (55, 80),
           (55, 95), (65, 65), (65, 80), (65, 95), (57, 17), (63, 17)]
    return [[x + dx, y, 1.0] for x, y in pts] + [[-1, -1, 0], [-1, -1, 0]]


def test_interpolate_with_poses_on_the_fixture(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed: the animate_anyone runtime is optional")
    pytest.importorskip("diffusers", reason="diffusers is not installed")
    pytest.importorskip("transformers", reason="transformers is not installed")
    if not have_fixture():
        pytest.skip(f"Animate Anyone fixture not found at {fixture_dir()} (set ANIMATE_ANYONE_FIXTURE)")
    a = write_png(tmp_path / "a.png", disc_image(150, 100, center=(40, 50), transparent=True))
    b = write_png(tmp_path / "b.png", disc_image(150, 100, center=(110, 50), transparent=True))
    poses = tmp_path / "poses.json"
    poses.write_text(json.dumps({"format": "openpose-coco18", "size": [150, 100], "frames": [
        {"t": 0.0, "frame": 0, "keypoints": _skeleton(0)}, {"t": 1.0, "frame": 8, "keypoints": _skeleton(30)}]}))
    out = tmp_path / "out"
    master, slave = pty.openpty()  # stderr is a terminal, so the progress bar shows
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "engine", "interpolate", str(a), str(b), "--out", str(out),
             "--inbetweens", "7", "--backend", "animate_anyone", "--model-dir", str(fixture_dir()),
             "--poses", str(poses)],
            stdout=subprocess.PIPE, stderr=slave, text=True, timeout=600, cwd=REPO,
        )
        os.close(slave)
        terminal = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0, terminal.decode(errors="replace")[-3000:]
    assert "9 frames (7 in-betweens, animate_anyone)" in proc.stdout
    assert "poses: 2 (2 on keys" in proc.stdout and "does not use them" not in proc.stdout
    assert b"animate_anyone [" in terminal and b"100.0%" in terminal
    assert (out / "frame_0000.png").read_bytes() == a.read_bytes()
    assert (out / "frame_0008.png").read_bytes() == b.read_bytes()
    for i in range(1, 8):
        assert read_png(out / f"frame_{i:04d}.png").shape == (100, 150, 4)
