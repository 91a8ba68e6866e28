"""The plugin in a real Krita under Xvfb, against a real engine process (flow backend).

Builds the zip, installs it (and a test driver plugin, driver_plugin.py) into a throw-away Krita
profile, starts `xvfb-run -a krita --nosplash`, and checks the dumped result: a new layer right
above the keys with a keyframe at every frame of the span, keys byte-identical to the source,
in-betweens drawn (not blank) and moving from the first key towards the last.

Robustness: xvfb-run sometimes fails to start, so a launch that never reaches Krita's main
window is retried; every attempt has a hard time limit; Krita, Xvfb and their children run in
their own process group, which is always killed at the end.
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

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "scripts"))
from build_krita_plugin import build  # noqa: E402
from install_krita_plugin import enable_in_kritarc, install  # noqa: E402

sys.path.pop(0)

pytestmark = [pytest.mark.krita, pytest.mark.timeout(1500)]

W, H, R = 128, 96, 18
SPEC = {
    "width": W, "height": H, "radius": R, "end": 4,
    "keys": {"0": [32, 48], "4": [96, 48]},
    "sketches": {"2": [64, 44]},
    "screenshot_frame": 2,
    "job_timeout_s": 120,
}
KRITA_IMPORTER = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")
START_TIMEOUT_S = 90  # Krita's main window must appear within this (else: retry)
RUN_TIMEOUT_S = 240  # hard limit of one Krita run
ATTEMPTS = 3


def _out_dir() -> Path:
    return Path(os.environ.get("INBETWEEN_KRITA_E2E_OUT", REPO / "dist" / "krita-e2e"))


def _make_profile(root: Path) -> dict[str, str]:
    """A private Krita profile (HOME and XDG folders) with the plugin and the driver enabled."""
    env = dict(os.environ)
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime")):
        path = root / sub
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(path)
    pykrita = root / "data" / "krita" / "pykrita"
    kritarc = root / "config" / "kritarc"
    zip_path = build()
    if KRITA_IMPORTER.exists():  # what Tools > Scripts > Import Python Plugin from File runs
        pykrita.parent.mkdir(parents=True, exist_ok=True)  # Krita's resource folder
        out = subprocess.run([sys.executable, str(KRITA_IMPORTER), str(zip_path), str(pykrita.parent)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "Imported plugin" in out.stdout, out.stdout + out.stderr
        enable_in_kritarc(kritarc, "inbetween_krita")
    else:
        install(zip_path, pykrita, kritarc)
    assert (pykrita / "inbetween_krita" / "vendor" / "inbetween_client").is_dir()
    driver = pykrita / "inbetween_e2e_driver"
    driver.mkdir()
    shutil.copy(HERE / "driver_plugin.py", driver / "__init__.py")
    (pykrita / "inbetween_e2e_driver.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\n"
        "X-KDE-Library=inbetween_e2e_driver\nX-Python-2-Compatible=false\nName=In-between e2e driver\n")
    enable_in_kritarc(kritarc, "inbetween_e2e_driver")
    settings = root / "inbetween-krita.json"
    settings.write_text(json.dumps({"backend": "flow", "start_engine": False, "timing": "linear"}))
    env["INBETWEEN_KRITA_SETTINGS"] = str(settings)
    env.pop("PYTHONPATH", None)  # Krita's Python must find the plugin's own vendored client
    env.pop("PYTHONHOME", None)
    env.setdefault("LANG", "C.UTF-8")
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    """End Krita, Xvfb and everything they started (their own process group), politely then not."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; make sure no straggler of its group survives
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def _run_krita(env: dict[str, str], out: Path, log_path: Path) -> str:
    """One launch: "done", "no-start" (retry) or "timeout"."""
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "krita", "--nosplash"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            t0 = time.monotonic()
            while True:
                time.sleep(0.25)
                elapsed = time.monotonic() - t0
                if (out / "report.json").exists():
                    return "done"
                started = (out / "started").exists()
                if proc.poll() is not None:
                    return "crashed" if started else "no-start"
                if not started and elapsed > START_TIMEOUT_S:
                    return "no-start"
                if elapsed > RUN_TIMEOUT_S:
                    return "timeout"
        finally:
            _kill_group(proc)


def _bgra(path: Path) -> bytes:
    data = path.read_bytes()
    assert len(data) == W * H * 4, f"{path.name}: {len(data)} bytes"
    return data


def _alpha_stats(data: bytes) -> tuple[int, float]:
    """(number of visible pixels, x of their centroid)."""
    alpha = data[3::4]
    count = 0
    sx = 0
    for i, a in enumerate(alpha):
        if a > 127:
            count += 1
            sx += i % W
    return count, (sx / count if count else float("nan"))


def test_generate_in_real_krita(krita_installed, engine, tmp_path):
    t_start = time.monotonic()
    out = _out_dir()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = _make_profile(tmp_path / "profile")
    spec = dict(SPEC, out_dir=str(out), probe_undo=bool(os.environ.get("INBETWEEN_KRITA_E2E_PROBE_UNDO")))
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env["INBETWEEN_E2E_SPEC"] = str(tmp_path / "spec.json")
    assert env["INBETWEEN_STATE_DIR"] == str(engine.connection_file.parent)

    log_path = out / "krita.log"
    outcomes = []
    for _attempt in range(ATTEMPTS):
        for stale in ("started", "report.json"):
            (out / stale).unlink(missing_ok=True)
        outcome = _run_krita(env, out, log_path)
        outcomes.append(outcome)
        if outcome != "no-start":
            break
    log_tail = log_path.read_text("utf-8", "replace")[-4000:] if log_path.exists() else ""
    driver_log = (out / "driver.log").read_text("utf-8") if (out / "driver.log").exists() else ""
    assert outcomes[-1] == "done", f"Krita runs: {outcomes}\ndriver log:\n{driver_log}\nKrita log:\n{log_tail}"
    report = json.loads((out / "report.json").read_text("utf-8"))
    assert report.get("ok"), f"{report}\n{driver_log}\n{log_tail}"
    assert report.get("docker_found"), "the In-between docker was not created"
    assert report["docker_message"].startswith("added 'keys in-betweens (flow)'"), report["docker_message"]
    assert report["docker_progress"] == 1.0

    ctl = report["controller"]
    assert ctl["state"] == "done", ctl
    assert ctl["vendored_client"] is True  # the zip's own copy of the client library was used
    assert report["source_keyframes"] == [0, 4]
    # Krita turns a layer's static content into a keyframe at 0 when its first keyframe is added
    # later; that one sits on a key and is ignored by the plugin
    assert 2 in report["sketch_keyframes"]
    layer = ctl["result_layer"]
    assert layer == "keys in-betweens (flow)"
    assert report["result_directly_above_keys"] is True
    assert report["result_keyframes"] == [0, 1, 2, 3, 4], report

    _, xs2 = _alpha_stats(_bgra(out / "sketch_2.bgra"))
    assert abs(xs2 - SPEC["sketches"]["2"][0]) < 2, f"the test's sketch is not where it was drawn: {xs2}"
    for t in (0, 4):  # keys copied untouched
        assert _bgra(out / f"result_{t}.bgra") == _bgra(out / f"key_{t}.bgra"), f"key {t} changed"
    key_count, x0 = _alpha_stats(_bgra(out / "key_0.bgra"))
    _, x4 = _alpha_stats(_bgra(out / "key_4.bgra"))
    xs = []
    for t in (1, 2, 3):
        data = _bgra(out / f"result_{t}.bgra")
        count, x = _alpha_stats(data)
        assert count > key_count // 3, f"frame {t} is (nearly) blank: {count} visible pixels"
        assert data != _bgra(out / "key_0.bgra") and data != _bgra(out / "key_4.bgra")
        xs.append(x)
    assert x0 < xs[0] < xs[1] < xs[2] < x4, f"centroids do not move from key to key: {x0}, {xs}, {x4}"

    shot = report.get("screenshot")
    assert shot and Path(shot).stat().st_size > 0
    elapsed = time.monotonic() - t_start
    summary = {"run_s": round(elapsed, 1), "krita_runs": outcomes, "generate_and_write_s": report["generate_s"],
               "driver_s": report["driver_s"], "screenshot": shot}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if "undo_probe" in report:
        print(f"\nkeyframes of the result layer after each Edit > Undo: {report['undo_probe']}")
    print(f"\nreal-Krita e2e: {elapsed:.1f} s in all (Krita runs: {outcomes}; generate+write "
          f"{report['generate_s']:.2f} s; driver {report['driver_s']:.1f} s)\nscreenshot: {shot}")
