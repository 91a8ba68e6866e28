"""Kill the desktop app (SIGKILL) at random moments while it draws and saves, then check what
is on disk: the project always loads and is one consistent version, never older than the
last save the app reported, and the autosave (through the app's own recovery) gives back all
strokes up to the last autosave the app reported. Used by test_kill_app.py (30+ runs) and
bench/kill_app.py (hundreds).

Runs are chained: each run opens what the previous killed run left (accepting the offered
autosave, as an animator would), so recovery and saving over a crashed state are exercised
too. Every `chain` runs, a clean run (open, save, close) checks that nothing is left behind
(no temp files, no autosave side file) and a fresh project starts, alternating a project
folder and a single `.ibproj` file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .app_driver import count_strokes

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunResult:
    index: int
    project: str
    killed_after_s: float
    strokes_drawn: int  # as logged (one more may have been drawn, unlogged)
    last_saved: int
    last_autosaved: int
    on_disk: int  # strokes in the project file
    recovered: int  # strokes the app's recovery gives back (project or autosave)
    lost_strokes: int
    lost_seconds: float  # time between the newest recovered stroke and the kill
    temp_files: int  # orphaned .tmp files at the moment of the kill (cleaned by the next save)
    failures: list[str] = field(default_factory=list)
    new_strokes: int = 0  # strokes this run drew (logged)


def _read_log(path: Path) -> list[tuple[float, str, int]]:
    out = []
    try:
        text = path.read_text()
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].isdigit():
            try:
                out.append((float(parts[0]), parts[1], int(parts[2])))
            except ValueError:
                pass
    return out


def _last(log, event: str, default: int = 0) -> int:
    values = [n for _, e, n in log if e == event]
    return values[-1] if values else default


def _env(state_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", INBETWEEN_STATE_DIR=str(state_dir),
               PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def _driver(project: Path, log: Path, autosave_ms: int, seed: int, state_dir: Path,
            *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.app_driver", str(project), str(log),
                             str(autosave_ms), str(seed), *extra],
                            cwd=REPO, env=_env(state_dir), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    if proc.stderr is not None:
        proc.stderr.close()


def _check_disk(project: Path) -> tuple[int, int, list[str]]:
    """(strokes in the project, strokes recovered, failures) using the app's own io."""
    from desktop_app.io import autosave, project as project_io

    failures = []
    try:
        on_disk, ok = count_strokes(project_io.load(project))
        if not ok:
            failures.append(f"project {project.name} mixes two versions")
    except project_io.ProjectError as exc:
        return -1, -1, [f"project does not load: {exc}"]
    recovered = on_disk
    offers = autosave.find_recoverable(project)
    if offers:
        newest = max(offers, key=lambda r: r.saved_at)
        try:
            recovered, ok = count_strokes(autosave.recover(newest))
            if not ok:
                failures.append("autosave mixes two versions")
        except project_io.ProjectError as exc:
            failures.append(f"autosave does not load: {exc}")
    return on_disk, recovered, failures


def run_many(workdir: Path, runs: int, seed: int = 0, chain: int = 10, autosave_ms: int = 300,
             max_delay_s: float = 1.5, on_result=None) -> list[RunResult]:
    """`runs` killed runs in `workdir`; returns one RunResult per run (failures listed in it)."""
    rng = random.Random(seed)
    state = workdir / "state"
    results: list[RunResult] = []
    project = workdir / "p0"
    expect_ready: int | None = None  # what the app must reopen: what recovery gave back last run
    for index in range(runs):
        if index % chain == 0:
            if index:
                results[-1].failures += _finish_chain(project, workdir, state, autosave_ms)
            project = workdir / (f"shot{index}" + (".ibproj" if (index // chain) % 2 else ""))
            expect_ready = None
        log = workdir / f"run{index}.log"
        proc = _driver(project, log, autosave_ms, rng.randrange(1 << 30), state)
        start = time.monotonic()
        failures: list[str] = []
        try:
            if rng.random() < 0.15:  # sometimes while it starts, opens and recovers
                delay = rng.uniform(0.0, 1.5)
                time.sleep(delay)
            else:
                while not any(e == "ready" for _, e, _ in _read_log(log)):
                    if proc.poll() is not None:
                        failures.append(f"driver exited with {proc.returncode} before ready: "
                                        f"{proc.stderr.read().decode(errors='replace')[-800:]}")
                        break
                    if time.monotonic() - start > 120:
                        failures.append("driver not ready after 120 s")
                        break
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, max_delay_s))
            if proc.poll() is not None and not failures:
                failures.append(f"driver exited with {proc.returncode}: "
                                f"{proc.stderr.read().decode(errors='replace')[-800:]}")
        finally:
            killed_at = time.time()
            _kill(proc)
        killed_after = time.monotonic() - start
        entries = _read_log(log)
        prev_ready = _last(entries, "ready", -1)
        if prev_ready >= 0 and expect_ready is not None and prev_ready != expect_ready:
            failures.append(f"the app reopened {prev_ready} strokes; the files held {expect_ready}")
        temps = sum(1 for p in project.parent.rglob(".*.tmp")) if project.exists() else 0
        if not project.exists():
            # killed before the first save of a new project: nothing to check, nothing lost
            results.append(RunResult(index, project.name, killed_after, 0, 0, 0, 0, 0, 0, 0.0, temps,
                                     failures))
            expect_ready = None
            if on_result:
                on_result(results[-1])
            continue
        on_disk, recovered, disk_failures = _check_disk(project)
        failures += disk_failures
        base = prev_ready if prev_ready >= 0 else (expect_ready or 0)  # strokes it started with
        drawn = _last(entries, "stroke", base)
        saved = _last(entries, "saved", 0)
        autosaved = _last(entries, "autosaved", 0)
        if expect_ready is not None and 0 <= recovered < expect_ready:
            failures.append(f"work lost by a session that crashed while starting: {expect_ready} "
                            f"strokes were recoverable, now {recovered}")
        if on_disk >= 0:
            if on_disk < saved:
                failures.append(f"a reported save is missing: project has {on_disk} strokes, saved {saved}")
            if on_disk > drawn + 1:
                failures.append(f"project has {on_disk} strokes but only {drawn} were drawn")
            if recovered < max(saved, autosaved if autosaved >= saved else 0):
                failures.append(f"recovery gives {recovered} strokes, the app had reported {saved} saved "
                                f"and {autosaved} autosaved")
        stroke_times = {n: t for t, e, n in entries if e == "stroke"}
        newest = stroke_times.get(recovered)
        lost_s = max(0.0, killed_at - newest) if newest is not None and drawn > recovered else 0.0
        results.append(RunResult(index, project.name, killed_after, drawn, saved, autosaved, on_disk,
                                 recovered, max(0, drawn - recovered), lost_s, temps, failures,
                                 max(0, drawn - base)))
        if on_result:
            on_result(results[-1])
        expect_ready = recovered
    if results:
        results[-1].failures += _finish_chain(project, workdir, state, autosave_ms)
    return results


def _finish_chain(project: Path, workdir: Path, state: Path, autosave_ms: int) -> list[str]:
    """A clean session on what the chain left: it opens (recovering), saves, closes; then
    nothing may be left but the project itself."""
    if not project.exists():
        return []
    expected = _check_disk(project)[1]
    log = workdir / f"finish-{project.name}.log"
    proc = _driver(project, log, autosave_ms, 0, state, "--finish")
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        _kill(proc)
        return [f"clean session on {project.name} hung"]
    failures = []
    if proc.returncode != 0:
        failures.append(f"clean session on {project.name} failed ({proc.returncode}): "
                        f"{err.decode(errors='replace')[-800:]}")
    ready = _last(_read_log(log), "ready", -1)
    if ready != expected:
        failures.append(f"the app recovered {ready} strokes, the files hold {expected}")
    from desktop_app.io import autosave, project as project_io

    on_disk, ok = count_strokes(project_io.load(project))
    if on_disk != expected or not ok:
        failures.append(f"after a clean save {project.name} has {on_disk} strokes, expected {expected}")
    left = [p.name for p in project.parent.rglob("*") if p.name.endswith(".tmp")]
    if left:
        failures.append(f"temp files left after a clean save: {left[:5]}")
    if autosave.find_recoverable(project) or autosave.side_file(project).exists():
        failures.append("an autosave side file survived a clean close")
    return failures
