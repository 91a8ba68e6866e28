"""Per-user folders of the engine (platformdirs): state (connection file, logs) and models."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from inbetween_client.connection import APP_NAME, default_connection_file, state_dir

MODELS_DIR_ENV = "INBETWEEN_MODELS_DIR"


def default_models_dir() -> Path:
    """Where the user puts model weights; the engine never downloads into it by itself."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


__all__ = ["default_connection_file", "default_models_dir", "state_dir", "MODELS_DIR_ENV"]
