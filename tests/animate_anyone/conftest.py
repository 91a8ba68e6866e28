"""Shared fixtures of the Animate Anyone tests: the parity fixture folder and a loaded pipeline.

The fixture folder comes from ANIMATE_ANYONE_FIXTURE (default: ../shared/fixtures/animate_anyone/
public next to the repository). Nothing here depends on one fixture's dimensions: they are read
from its config.json and tensors. The model is loaded through the same code as a real models
folder (`model_store.locate` + `loading.load_model`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures" / "animate_anyone"
DEFAULT_FIXTURE = FIXTURES / "public"
KEYS_FULL = FIXTURES / "keys_full.json"


def fixture_dir() -> Path:
    return Path(os.environ.get("ANIMATE_ANYONE_FIXTURE") or DEFAULT_FIXTURE)


def have_fixture() -> bool:
    d = fixture_dir()
    return (d / "config.json").is_file() and (d / "expected.safetensors").is_file()


@pytest.fixture(scope="session")
def torch_mod():
    torch = pytest.importorskip("torch", reason="torch is not installed: the animate_anyone runtime is optional")
    pytest.importorskip("diffusers", reason="diffusers is not installed (animate_anyone's UNets and VAE)")
    pytest.importorskip("transformers", reason="transformers is not installed (animate_anyone's image encoder)")
    pytest.importorskip("PIL", reason="Pillow is not installed (animate_anyone's preprocessing)")
    # two intra-op threads, as the reference ran
    torch.set_num_threads(int(os.environ.get("ANIMATE_ANYONE_TEST_THREADS", "2")))
    return torch


@pytest.fixture(scope="session")
def fixture_path(torch_mod) -> Path:
    if not have_fixture():
        pytest.skip(f"Animate Anyone parity fixture not found at {fixture_dir()} (set ANIMATE_ANYONE_FIXTURE)")
    return fixture_dir()


@pytest.fixture(scope="session")
def fixture_config(fixture_path) -> dict:
    return json.loads((fixture_path / "config.json").read_text())


@pytest.fixture(scope="session")
def tensors(fixture_path, torch_mod):
    from safetensors.torch import load_file

    return load_file(str(fixture_path / "inputs.safetensors")), load_file(str(fixture_path / "expected.safetensors"))


@pytest.fixture(scope="session")
def model(fixture_path, torch_mod):
    torch_mod.use_deterministic_algorithms(True)
    from engine.backends.animate_anyone.loading import load_model
    from engine.backends.animate_anyone.model_store import locate

    return load_model(locate(fixture_path))


@pytest.fixture(scope="session")
def pipeline(model, torch_mod):
    from engine.backends.animate_anyone.pipeline import AnimateAnyonePipeline

    return AnimateAnyonePipeline(model, device="cpu", dtype=torch_mod.float32)
