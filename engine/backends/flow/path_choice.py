"""Which path of the flow backend a job takes: learned (RIFE 4.0 flows) or classical.

Torch-free on purpose: the choice is made from cheap facts (the job's `learned` option,
whether the weights file exists, whether torch is installed) so the classical path never
imports torch, and a user is told in one line what to do to get the learned path.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ...paths import default_models_dir

#: The shot option (an extra) that turns the learned path off for a job.
LEARNED_OPTION = "learned"
#: The shot option (an extra) for the fast preview: posed frames from the network's flows
#: moved near the bones (skinning) instead of the keys' part layers, at about RIFE's speed.
PREVIEW_OPTION = "preview"
#: What the user runs to get the learned path; shown in `flow_hint`.
HOW_TO = "install the flow-learned extra and run: inbetween-engine models download rife"
#: <models>/rife/flownet.pkl (same as learned/weights.py, which imports torch).
WEIGHTS_SUBPATH = ("rife", "flownet.pkl")


@dataclass(frozen=True)
class PathChoice:
    """The decision for one job, before any weights are read."""

    learned: bool
    weights: Path
    #: Why the classical path runs, when it runs for lack of torch or weights (shown to the
    #: user with HOW_TO); None when the learned path runs or the job asked for classical.
    missing: str | None = None


def models_dir(option_model_dir: str | None, config_models_dir: str) -> Path:
    """The job's models folder: its own option, else the engine's, else the per-user default."""
    return Path(option_model_dir or config_models_dir or default_models_dir())


def torch_installed() -> bool:
    """Whether torch can be found, without importing it (that takes seconds)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def choose(option_model_dir: str | None, config_models_dir: str, learned: bool = True) -> PathChoice:
    weights = models_dir(option_model_dir, config_models_dir).joinpath(*WEIGHTS_SUBPATH)
    if not learned:
        return PathChoice(False, weights)
    if not torch_installed():
        return PathChoice(False, weights, "torch is not installed")
    if not weights.is_file():
        return PathChoice(False, weights, f"no RIFE weights at {weights}")
    return PathChoice(True, weights)


def hint(missing: str) -> str:
    """The one line the user sees when the classical path ran for lack of something."""
    return f"flow ran its classical path ({missing}); for the learned path, {HOW_TO}"
