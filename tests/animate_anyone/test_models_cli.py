"""`inbetween-engine models download animate-anyone` against a local hub-cache layout, offline:
every file lands where `locate` looks, from the repositories Moore-AnimateAnyone uses."""

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


def _hub_cache(root, files):
    for repo, name, _ in files:
        snap = root / f"models--{repo.replace('/', '--')}"
        (snap / "snapshots" / SHA / name).parent.mkdir(parents=True, exist_ok=True)
        (snap / "snapshots" / SHA / name).write_bytes(f"{repo}/{name}".encode())
        (snap / "refs").mkdir(exist_ok=True)
        (snap / "refs" / "main").write_text(SHA)


def test_offline_download_from_the_hub_cache(tmp_path):
    from engine.backends.animate_anyone.model_store import HUB_FILES, OPTIONAL_HUB_FILES, SUBDIR, locate

    hub = tmp_path / "hub"
    _hub_cache(hub, HUB_FILES)  # the optional SD 1.5 UNet config is absent: not an error
    models = tmp_path / "models"
    r = _cli("--model-dir", str(models))
    assert r.returncode == 0 and "animate_anyone:" in r.stdout and "models download animate-anyone" in r.stdout
    r = _cli("download", "animate-anyone", "--model-dir", str(models), "--cache-dir", str(hub),
             env_extra={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    for repo, name, dst in HUB_FILES:
        assert (models / SUBDIR / dst).read_bytes() == f"{repo}/{name}".encode()
    assert not (models / SUBDIR / OPTIONAL_HUB_FILES[0][2]).exists()
    inst = locate(models)
    assert inst.ok and inst.networks["denoising_unet"].name == "denoising_unet.pth"
    r = _cli("list", "--model-dir", str(models))
    assert r.returncode == 0 and str(models / SUBDIR / "motion_module.pth") in r.stdout


def test_offline_download_without_cache_fails_cleanly(tmp_path):
    r = _cli("download", "animate-anyone", "--model-dir", str(tmp_path / "m"), "--cache-dir", str(tmp_path / "none"),
             env_extra={"HF_HUB_OFFLINE": "1"})
    assert r.returncode != 0 and "download failed" in r.stderr
