"""Build the lite bundle in a clean temporary directory and use it like a user would.

The sources are copied out of the checkout (no .venv, build/, dist/ or caches), the copy is
built with `scripts/build.sh --dist` and deleted before anything runs, and the executables run
from yet another folder with a clean environment: a data file or module missing from
build.spec shows up here rather than on an animator's machine.

Slow (a PyInstaller build: minutes): marked `packaging`; skip with `-m "not packaging"`.
The lite build environment is reused between runs (build/venv-lite, or $INBETWEEN_LITE_VENV).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import inbetween_client

pytestmark = [pytest.mark.packaging, pytest.mark.slow, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "out", "tests", "bench", "__pycache__",
                                 "*.pyc", "*.egg-info", ".pytest_cache", ".hypothesis")
EXE = ".exe" if sys.platform == "win32" else ""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if sys.platform != "linux":
        pytest.skip("the bundle test drives scripts/build.sh (bash) on Linux")
    root = tmp_path_factory.mktemp("packaging")
    src, dist = root / "src", root / "dist"
    shutil.copytree(REPO, src, ignore=IGNORED)
    env = _clean_env()
    env.setdefault("INBETWEEN_LITE_VENV", str(REPO / "build" / "venv-lite"))
    proc = subprocess.run(["bash", str(src / "scripts" / "build.sh"), "--dist", str(dist)], cwd=src, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1700)
    print(proc.stdout[-3000:])  # size and build time, for the CI log
    assert proc.returncode == 0, proc.stdout[-6000:]
    shutil.rmtree(src)  # nothing may resolve to the sources from now on
    app = dist / "inbetween-studio"
    assert (app / f"inbetween-engine{EXE}").is_file() and (app / f"inbetween-studio{EXE}").is_file()
    assert (dist / "inbetween_krita-krita-plugin.zip").is_file()
    return app


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


def _sample(app: Path, name: str) -> Path:
    [path] = list(app.rglob(f"resources/sample/{name}"))  # the sample shot ships in the bundle
    return path


def _run(cmd: list, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_both_executables_show_the_suite_version(bundle, tmp_path):
    want = f"{inbetween_client.__version__} (protocol {inbetween_client.PROTOCOL_VERSION})"
    for exe in ("inbetween-engine", "inbetween-studio"):
        out = _run([bundle / f"{exe}{EXE}", "--version"], tmp_path, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"{exe} {want}"


def test_bundled_engine_interpolates_the_sample_shot(bundle, tmp_path):
    from PIL import Image  # the test environment has pillow (studio extra)

    key_a, key_b, sketch = (_sample(bundle, n) for n in ("key_a.png", "key_b.png", "sketch_mid.png"))
    out_dir = tmp_path / "frames"
    proc = _run([bundle / f"inbetween-engine{EXE}", "interpolate", key_a, key_b, "--out", out_dir,
                 "--inbetweens", "5", "--sketch", f"3={sketch}", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    frames = sorted(out_dir.glob("frame_*.png"))
    assert [f.name for f in frames] == [f"frame_{i:04d}.png" for i in range(7)]
    assert frames[0].read_bytes() == key_a.read_bytes() and frames[-1].read_bytes() == key_b.read_bytes()
    size = Image.open(key_a).size
    for f in frames[1:-1]:
        img = Image.open(f)
        assert img.size == size and img.mode == "RGBA"
        assert img.tobytes() not in (Image.open(key_a).convert("RGBA").tobytes(),
                                     Image.open(key_b).convert("RGBA").tobytes())


def test_lite_bundle_says_it_has_no_generative_runtime(bundle, tmp_path):
    proc = _run([bundle / f"inbetween-engine{EXE}", "backends"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.startswith("  ")}
    assert "unavailable" not in lines["flow"], proc.stdout
    assert "no generative runtime" in lines["tooncrafter"] and "inbetween-suite[tooncrafter]" in lines["tooncrafter"]
    assert not list(bundle.rglob("torch")), "a lite bundle must not contain torch"


def test_bundled_studio_starts_its_engine_and_quits_cleanly(bundle, tmp_path, private_state_dir):
    conn = private_state_dir / "engine.json"
    studio = subprocess.Popen([str(bundle / f"inbetween-studio{EXE}")], cwd=tmp_path,
                              env=_clean_env(QT_QPA_PLATFORM="offscreen"), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    engine_pid = None
    try:
        deadline = time.monotonic() + 60
        while engine_pid is None and time.monotonic() < deadline and studio.poll() is None:
            try:
                engine_pid = json.loads(conn.read_text())["pid"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        assert studio.poll() is None, f"the studio exited early:\n{studio.communicate()[0]}"
        assert engine_pid is not None, "the studio did not start its engine within 60 s"
        exe = Path(os.readlink(f"/proc/{engine_pid}/exe"))
        assert exe == (bundle / "inbetween-engine").resolve(), f"the engine runs {exe}, not the bundled one"
        time.sleep(2)  # a few seconds of running
        assert studio.poll() is None
        studio.send_signal(signal.SIGTERM)  # "quit", as a session logout asks
        output = studio.communicate(timeout=60)[0]
        assert studio.returncode == 0, output
        assert "Traceback" not in output, output
        deadline = time.monotonic() + 20
        while _alive(engine_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(engine_pid), "the studio left its engine running"
    finally:
        if studio.poll() is None:
            os.killpg(studio.pid, signal.SIGKILL)
            studio.wait(10)
        if engine_pid is not None and _alive(engine_pid):
            os.kill(engine_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
