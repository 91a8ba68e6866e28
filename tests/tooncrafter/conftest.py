"""Shared fixtures of the ToonCrafter tests: the parity fixture folder and a loaded pipeline.

The fixture folder comes from TOONCRAFTER_FIXTURE (default: ../shared/fixtures/tooncrafter/public
next to the repository). Nothing here depends on one fixture's dimensions: they are read from
its config.json and tensors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURE = REPO.parent / "shared" / "fixtures" / "tooncrafter" / "public"
KEYS_FULL = REPO.parent / "shared" / "fixtures" / "tooncrafter" / "keys_full.json"


def fixture_dir() -> Path:
    return Path(os.environ.get("TOONCRAFTER_FIXTURE") or DEFAULT_FIXTURE)


@pytest.fixture(scope="session")
def torch_mod():
    torch = pytest.importorskip("torch", reason="torch is not installed: the tooncrafter runtime is optional")
    pytest.importorskip("transformers", reason="transformers is not installed (CLIP towers of tooncrafter)")
    # two intra-op threads, as the reference ran (one thread passes as well, with the same margins)
    torch.set_num_threads(int(os.environ.get("TOONCRAFTER_TEST_THREADS", "2")))
    return torch


@pytest.fixture(scope="session")
def fixture_path(torch_mod) -> Path:
    d = fixture_dir()
    if not (d / "config.json").is_file() or not (d / "model.safetensors").is_file():
        pytest.skip(f"ToonCrafter parity fixture not found at {d} (set TOONCRAFTER_FIXTURE)")
    return d


@pytest.fixture(scope="session")
def fixture_config(fixture_path) -> dict:
    return json.loads((fixture_path / "config.json").read_text())


@pytest.fixture(scope="session")
def tensors(fixture_path, torch_mod):
    from safetensors.torch import load_file

    return load_file(str(fixture_path / "inputs.safetensors")), load_file(str(fixture_path / "expected.safetensors"))


@pytest.fixture(scope="session")
def pipeline(fixture_path, torch_mod):
    torch_mod.use_deterministic_algorithms(True)
    from engine.backends.tooncrafter.config import ToonCrafterConfig
    from engine.backends.tooncrafter.loading import load_model, load_sketch_encoder
    from engine.backends.tooncrafter.pipeline import ToonCrafterPipeline

    cfg = ToonCrafterConfig.from_json_file(fixture_path / "config.json")
    model = load_model(fixture_path / "model.safetensors", cfg)
    sketch = None
    if (fixture_path / "sketch_encoder.safetensors").is_file():
        sketch = load_sketch_encoder(fixture_path / "sketch_encoder.safetensors", cfg)
    return ToonCrafterPipeline(model, sketch, device="cpu", dtype=torch_mod.float32)
