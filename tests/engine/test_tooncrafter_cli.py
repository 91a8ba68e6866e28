"""`interpolate --backend tooncrafter` end to end through a real engine, on the tiny fixture checkpoint.

The fixture's weights are random, so the images are garbage; what is checked is the whole
path: loading through the real code, shapes back at the keys' size, keys untouched, sketches
accepted, and a progress bar on a terminal.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.imaging import disc_image, read_png, write_png

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(os.environ.get("TOONCRAFTER_FIXTURE") or REPO.parent / "shared" / "fixtures" / "tooncrafter" / "public")


def test_tooncrafter_from_the_cli_on_the_fixture_checkpoint(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed: the tooncrafter runtime is optional")
    pytest.importorskip("transformers", reason="transformers is not installed")
    if not (FIXTURE / "model.safetensors").is_file():
        pytest.skip(f"ToonCrafter fixture not found at {FIXTURE} (set TOONCRAFTER_FIXTURE)")
    a = write_png(tmp_path / "a.png", disc_image(150, 100, center=(30, 50), transparent=True))
    b = write_png(tmp_path / "b.png", disc_image(150, 100, center=(120, 50), transparent=True))
    s = write_png(tmp_path / "s.png", disc_image(150, 100, center=(75, 30), transparent=True))
    out = tmp_path / "out"
    master, slave = pty.openpty()  # stderr is a terminal, so the progress bar shows
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "engine", "interpolate", str(a), str(b), "--out", str(out),
             "--inbetweens", "4", "--backend", "tooncrafter", "--model-dir", str(FIXTURE),
             "--steps", "3", "--sketch", f"2={s}"],
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
    assert "6 frames (4 in-betweens, tooncrafter)" in proc.stdout
    assert b"tooncrafter [" in terminal and b"100.0%" in terminal
    assert (out / "frame_0000.png").read_bytes() == a.read_bytes()
    assert (out / "frame_0005.png").read_bytes() == b.read_bytes()
    for i in range(1, 5):
        frame = read_png(out / f"frame_{i:04d}.png")
        assert frame.shape == (100, 150, 4)
