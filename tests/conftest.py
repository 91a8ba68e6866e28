"""Shared fixtures: real engine processes in private state dirs, and small test images."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own state dir, so it never touches (or finds) the user's engine."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("INBETWEEN_STATE_DIR", str(state))
    monkeypatch.setenv("INBETWEEN_MODELS_DIR", str(state / "models"))
    return state


@pytest.fixture
def engine(private_state_dir):
    """A real engine process (`python -m engine serve --device cpu`), stopped after the test."""
    from inbetween_client.launcher import start_engine

    proc = start_engine([sys.executable, "-m", "engine"], private_state_dir / "engine.json",
                        args=["--device", "cpu"], env=dict(os.environ))
    yield proc
    proc.stop()


@pytest.fixture
def client(engine):
    from inbetween_client.client import EngineClient

    c = EngineClient.connect(engine.info, client_name="pytest")
    yield c
    c.close()
