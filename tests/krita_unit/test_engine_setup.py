"""The one-click set-up: pip progress, a clear message without Python, and a real install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from inbetween_krita import engine_locator, engine_setup

REPO = Path(__file__).resolve().parents[2]


def test_pip_output_becomes_progress():
    p = engine_setup.PipProgress()
    fractions = []
    for line in ["Processing /tmp/x/engine_src", "  Installing build dependencies: started",
                 "Collecting numpy>=1.24", "  Downloading numpy-2.1.whl (16.3 MB)", "Collecting scipy",
                 "Installing collected packages: numpy, scipy", "Successfully installed numpy scipy",
                 "some noise"]:
        if p.feed(line):
            fractions.append(p.fraction)
    assert fractions == sorted(fractions) and len(fractions) == 7
    assert fractions[-1] == p.hi and fractions[0] > p.lo


def test_no_python_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(engine_setup.PYTHON_ENV, raising=False)
    with pytest.raises(engine_setup.SetupError, match="python3-venv.*python.org"):
        engine_setup.find_python()


def test_a_failing_install_leaves_nothing_that_looks_usable(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text("not toml [")
    setup = engine_setup.EngineSetup(source=src, root=tmp_path / "root", python=[sys.executable])
    reports = []
    with pytest.raises(engine_setup.SetupError, match="failed"):
        setup.run(lambda f, s: reports.append((f, s)))
    assert not (tmp_path / "root" / "venv").exists()
    assert engine_locator.managed_engine(tmp_path / "root") is None
    assert (tmp_path / "root" / "setup.log").read_text()
    assert reports and reports[0][0] < 0.05


def test_repository_source_is_used_in_a_checkout():
    assert engine_setup.engine_source() == REPO


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_the_zip_s_engine_installs_from_pypi_and_serves_a_job(tmp_path):
    """For real: the engine source from the built zip, a fresh venv, pip from PyPI, a job."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from build_krita_plugin import build
    finally:
        sys.path.pop(0)
    with zipfile.ZipFile(build(tmp_path / "dist")) as zf:
        zf.extractall(tmp_path / "plugin")
    source = tmp_path / "plugin" / "inbetween_krita" / "engine_src"
    setup = engine_setup.EngineSetup(source=source, root=tmp_path / "managed")
    reports = []
    found = setup.run(lambda f, s: reports.append((round(f, 3), s)))
    assert found.kind == "managed" and Path(found.command[0]).is_file()
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) > 5
    assert engine_locator.managed_engine(tmp_path / "managed") == found
    # the installed engine is the engine alone, and it does a job
    venv_py = engine_setup.venv_python(tmp_path / "managed" / "venv")
    out = subprocess.run([str(venv_py), "-c", "import engine, inbetween_client, numpy, cv2, scipy; "
                          "import importlib.util as u; print(u.find_spec('desktop_app') is None)"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
    shutil.copy(REPO / "resources" / "sample" / "key_a.png", tmp_path / "a.png")
    shutil.copy(REPO / "resources" / "sample" / "key_b.png", tmp_path / "b.png")
    job = subprocess.run([found.command[0], "interpolate", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                          "--out", str(tmp_path / "out"), "--inbetweens", "2"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert job.returncode == 0, job.stdout + job.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:4] == [
        "frame_0000.png", "frame_0001.png", "frame_0002.png", "frame_0003.png"]
