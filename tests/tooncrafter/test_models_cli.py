"""`inbetween-engine models` (list / download) against a local hub-cache layout, offline."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO

SHA = "0123456789abcdef0123456789abcdef01234567"


def _cli(*args, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "engine", "models", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_models_list_and_offline_download(tmp_path):
    repo = tmp_path / "hub" / "models--Doubiiu--ToonCrafter"
    (repo / "snapshots" / SHA).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SHA)
    for name in ("model.ckpt", "sketch_encoder.ckpt"):
        (repo / "snapshots" / SHA / name).write_bytes(b"weights")
    models = tmp_path / "models"
    r = _cli("--model-dir", str(models))
    assert r.returncode == 0 and "not installed" in r.stdout and "models download tooncrafter" in r.stdout
    r = _cli("download", "tooncrafter", "--model-dir", str(models), "--cache-dir", str(tmp_path / "hub"),
             env_extra={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert (models / "tooncrafter" / "model.ckpt").read_bytes() == b"weights"
    r = _cli("list", "--model-dir", str(models))
    assert r.returncode == 0 and str(models / "tooncrafter" / "model.ckpt") in r.stdout


def test_offline_download_without_cache_fails_cleanly(tmp_path):
    r = _cli("download", "tooncrafter", "--model-dir", str(tmp_path / "m"), "--cache-dir", str(tmp_path / "none"),
             env_extra={"HF_HUB_OFFLINE": "1"})
    assert r.returncode != 0 and "download failed" in r.stderr
