"""The layering the README promises, enforced with import-linter (contracts in pyproject.toml):
the engine and the client library never import Qt; the app, the Krita plugin and the client
library never import torch, diffusers or OpenCV; the client library needs only the standard
library. The second test proves the contracts bite, on a small tree that breaks each one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _lint_imports() -> list[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    return [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]


def _run(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(cwd), str(REPO)]), COLUMNS="250")
    return subprocess.run([*_lint_imports(), "--config", str(config), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_repository_keeps_every_layering_contract():
    proc = _run(REPO, REPO / "pyproject.toml")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "3 kept, 0 broken" in proc.stdout


def test_the_contracts_catch_a_tree_that_breaks_them(tmp_path):
    for package, body in {
        "engine": "import PySide6.QtCore\n",
        "inbetween_client": "import numpy\nimport os\n",
        "desktop_app": "from . import view\n",
        "desktop_app/view": "import cv2\n",
        # a regular package: a namespace portion here would lose to the editable install's finder,
        # which maps `krita_plugin` to the repository's own copy
        "krita_plugin": "",
        "krita_plugin/inbetween_krita": "import torch\n",
    }.items():
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text(body)
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    config.pop("contracts")
    lines = ["[importlinter]", "root_packages =\n    " + "\n    ".join(config["root_packages"]),
             "include_external_packages = True",
             "contract_types =\n    " + "\n    ".join(config["contract_types"])]
    for i, c in enumerate(tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
                          ["contracts"]):
        lines.append(f"\n[importlinter:contract:{i}]")
        for key, value in c.items():
            if key == "optional_imports":
                continue  # those modules do not exist in the small tree
            lines.append(f"{key} =\n    " + "\n    ".join(value) if isinstance(value, list) else f"{key} = {value}")
    ini = tmp_path / ".importlinter"
    ini.write_text("\n".join(lines) + "\n")
    proc = _run(tmp_path, ini)
    out = " ".join(proc.stdout.split())  # import-linter wraps lines to the terminal's width
    assert proc.returncode != 0 and "0 kept, 3 broken" in out, out[-3000:]
    broken = out.split("Broken contracts", 1)[-1]
    for expected in ("engine", "PySide6", "desktop_app.view", "cv2", "krita_plugin.inbetween_krita", "torch",
                     "inbetween_client imports numpy"):
        assert expected in broken, (expected, broken[-3000:])
    assert "imports os" not in out
