"""The plugin zip (built by the script, with the vendored client) and the install script."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import inbetween_client
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import build_krita_plugin  # noqa: E402
import install_krita_plugin  # noqa: E402

sys.path.pop(0)

PLUGIN = REPO / "krita_plugin" / "inbetween_krita"


def test_zip_layout_and_versions(tmp_path):
    path = build_krita_plugin.build(tmp_path)
    assert path.name == "inbetween_krita-krita-plugin.zip"
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        info = json.loads(zf.read("inbetween_krita/build_info.json"))
        desktop = zf.read("inbetween_krita.desktop").decode()
    assert "inbetween_krita/__init__.py" in names
    assert "inbetween_krita/vendor/inbetween_client/client.py" in names
    # the engine's source, for the docker's one-click set-up
    src = "inbetween_krita/engine_src/"
    assert {src + "pyproject.toml", src + "engine/__init__.py", src + "engine/cli/serve.py",
            src + "inbetween_client/client.py"} <= set(names)
    assert not [n for n in names if n.startswith(src) and n.split("/")[2] not in ("",
                "pyproject.toml", "engine", "inbetween_client")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert info == {"name": "inbetween_krita", "version": inbetween_client.__version__,
                    "protocol": inbetween_client.PROTOCOL_VERSION}
    assert "X-KDE-Library=inbetween_krita" in desktop and "ServiceTypes=Krita/PythonPlugin" in desktop
    assert build_krita_plugin.build(tmp_path).read_bytes() == path.read_bytes()  # reproducible


def test_installed_plugin_uses_its_vendored_client(tmp_path):
    pykrita = tmp_path / "pykrita"
    kritarc = tmp_path / "kritarc"
    kritarc.write_text("[General]\nfoo=1\n\n[python]\nenable_other=true\nenable_inbetween_krita=false\n")
    install_krita_plugin.install(build_krita_plugin.build(tmp_path / "dist"), pykrita, kritarc)
    install_krita_plugin.install(build_krita_plugin.build(tmp_path / "dist"), pykrita, kritarc)  # again
    text = kritarc.read_text()
    assert text.count("enable_inbetween_krita=true") == 1 and "enable_inbetween_krita=false" not in text
    assert "foo=1" in text and "enable_other=true" in text
    assert (pykrita / "inbetween_krita.desktop").exists()
    # in a fresh Python that cannot see the repo's client, the plugin finds its own copy
    code = ("import sys; sys.path[:0] = [sys.argv[1]]; import inbetween_krita.client_lib as c; "
            "assert c.VENDORED, c.PACKAGE_NAME; print(c.CLIENT_VERSION, c.PROTOCOL_VERSION)")
    out = subprocess.run([sys.executable, "-S", "-c", code, str(pykrita)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [inbetween_client.__version__, str(inbetween_client.PROTOCOL_VERSION)]


KRITA_IMPORTER = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")


def test_zip_has_the_folder_entries_krita_s_importer_looks_for(tmp_path):
    with zipfile.ZipFile(build_krita_plugin.build(tmp_path)) as zf:
        names = zf.namelist()
    assert "inbetween_krita/" in names and "inbetween_krita/vendor/inbetween_client/" in names


@pytest.mark.skipif(not KRITA_IMPORTER.exists(), reason="Krita's plugin importer is not installed")
def test_krita_s_own_importer_accepts_the_zip(tmp_path):
    """Tools > Scripts > Import Python Plugin from File runs this module's PluginImporter."""
    zip_path = build_krita_plugin.build(tmp_path / "dist")
    res = tmp_path / "resources"
    res.mkdir()
    out = subprocess.run([sys.executable, str(KRITA_IMPORTER), str(zip_path), str(res)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Imported plugin: In-between" in out.stdout
    assert (res / "pykrita" / "inbetween_krita.desktop").exists()
    assert (res / "pykrita" / "inbetween_krita" / "vendor" / "inbetween_client" / "client.py").exists()


def test_kritarc_without_python_group(tmp_path):
    rc = tmp_path / "kritarc"
    install_krita_plugin.enable_in_kritarc(rc, "inbetween_krita")
    assert rc.read_text() == "[python]\nenable_inbetween_krita=true\n"


def test_plugin_imports_only_stdlib_qt_and_krita():
    allowed_third_party = {"krita", "PyQt5", "PyQt6"}
    for path in PLUGIN.rglob("*.py"):
        if "vendor" in path.parts:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                mods = [(node.module or "").split(".")[0]]
            else:
                continue
            for mod in mods:
                ok = mod in sys.stdlib_module_names or mod in allowed_third_party or mod == "__future__"
                assert ok, f"{path.name} imports {mod}"
                assert not mod.startswith("PyQt") or path.name == "compat.py", \
                    f"{path.name} imports {mod}: import Qt through compat"
