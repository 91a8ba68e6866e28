"""Running a real Krita under Xvfb with the plugin (from its zip) and a test driver plugin.

`run_session` builds the zip, imports it the way Tools > Scripts > Import Python Plugin from
File does (Krita's own importer module), installs the driver (driver_plugin.py + scenarios.py)
into a throw-away profile (HOME and XDG folders in a temp dir), starts
`xvfb-run -a krita --nosplash` and waits for the driver's report.

Robustness on a busy machine: xvfb-run sometimes fails to start, so a launch that never reaches
Krita's main window is retried; every launch has a hard time limit; Krita, Xvfb and their
children run in their own process group, which is always killed at the end. The limits are
generous on purpose: they were measured on a shared 2-core machine under load (see
docs/krita.md) and are there to end a hung run, not to judge speed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO / "scripts"))
from build_krita_plugin import build  # noqa: E402
from install_krita_plugin import enable_in_kritarc, install  # noqa: E402

sys.path.pop(0)

KRITA_IMPORTER = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")
START_TIMEOUT_S = 150  # Krita's main window must appear within this (else: retry)
ATTEMPTS = 3
DRIVER = "inbetween_e2e_driver"
SCENARIO_MODULES = ("scenarios.py", "pose_scenarios.py")


def out_root() -> Path:
    return Path(os.environ.get("INBETWEEN_KRITA_E2E_OUT", REPO / "dist" / "krita-e2e"))


@dataclass
class Session:
    name: str
    out: Path
    report: dict = field(default_factory=dict)
    outcomes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    log_tail: str = ""
    driver_log: str = ""
    env: dict = field(default_factory=dict)  # the profile's environment: a later session may reuse it

    def scenario(self, name: str) -> dict:
        return self.report.get("scenarios", {}).get(name, {})

    def explain(self) -> str:
        return (f"Krita runs: {self.outcomes}\ndriver log:\n{self.driver_log[-6000:]}\n"
                f"Krita log:\n{self.log_tail}")


def make_profile(root: Path, settings: dict, env_extra: dict[str, str] | None = None,
                 path: str | None = None) -> dict[str, str]:
    """A private Krita profile with the plugin (through Krita's importer) and the driver enabled."""
    env = dict(os.environ)
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "runtime")):
        p = root / sub
        p.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(p)
    pykrita = root / "data" / "krita" / "pykrita"
    kritarc = root / "config" / "kritarc"
    zip_path = build(root / "dist")
    if KRITA_IMPORTER.exists():  # what Tools > Scripts > Import Python Plugin from File runs
        pykrita.parent.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([sys.executable, str(KRITA_IMPORTER), str(zip_path), str(pykrita.parent)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and "Imported plugin" in out.stdout, out.stdout + out.stderr
        enable_in_kritarc(kritarc, "inbetween_krita")
    else:
        install(zip_path, pykrita, kritarc)
    assert (pykrita / "inbetween_krita" / "vendor" / "inbetween_client").is_dir()
    driver = pykrita / DRIVER
    driver.mkdir()
    shutil.copy(HERE / "driver_plugin.py", driver / "__init__.py")
    for module in SCENARIO_MODULES:
        shutil.copy(HERE / module, driver / module)
    (pykrita / f"{DRIVER}.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\n"
        f"X-KDE-Library={DRIVER}\nX-Python-2-Compatible=false\nName=In-between e2e driver\n")
    enable_in_kritarc(kritarc, DRIVER)
    settings_file = root / "inbetween-krita.json"
    settings_file.write_text(json.dumps(settings))
    env["INBETWEEN_KRITA_SETTINGS"] = str(settings_file)
    env.pop("PYTHONPATH", None)  # Krita's Python must find the plugin's own vendored client
    env.pop("PYTHONHOME", None)
    env.setdefault("LANG", "C.UTF-8")
    if path is not None:
        env["PATH"] = path
    env.update(env_extra or {})
    return env


def kill_group(proc: subprocess.Popen) -> None:
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


def _launch(env: dict[str, str], out: Path, log_path: Path, run_timeout_s: float) -> str:
    """One launch: "done", "no-start" (retry), "crashed" or "timeout"."""
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
                if elapsed > run_timeout_s:
                    return "timeout"
        finally:
            kill_group(proc)


def run_session(name: str, profile_root: Path, scenarios: list[str], spec: dict, settings: dict,
                run_timeout_s: float, env_extra: dict[str, str] | None = None,
                path: str | None = None, reuse: "Session | None" = None) -> Session:
    """One Krita launch in a new profile, or (`reuse`) again in an earlier session's profile:
    its settings, documents and the plugin's state folder as that session left them."""
    out = out_root() / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(reuse.env) if reuse is not None else make_profile(profile_root, settings, env_extra, path)
    spec_path = profile_root / "spec.json"
    spec_path.write_text(json.dumps(dict(spec, out_dir=str(out), scenarios=scenarios)))
    env["INBETWEEN_E2E_SPEC"] = str(spec_path)
    session = Session(name, out, env=dict(env))
    log_path = out / "krita.log"
    t0 = time.monotonic()
    for _attempt in range(ATTEMPTS):
        for stale in ("started", "report.json"):
            (out / stale).unlink(missing_ok=True)
        outcome = _launch(env, out, log_path, run_timeout_s)
        session.outcomes.append(outcome)
        if outcome != "no-start":
            break
    session.wall_s = round(time.monotonic() - t0, 1)
    session.log_tail = log_path.read_text("utf-8", "replace")[-4000:] if log_path.exists() else ""
    driver_log = out / "driver.log"
    session.driver_log = driver_log.read_text("utf-8") if driver_log.exists() else ""
    if (out / "report.json").exists():
        session.report = json.loads((out / "report.json").read_text("utf-8"))
    return session
