"""Whether the tooncrafter backend can run here, answered without importing torch.

The engine lists backends to every client that connects; importing torch for that would
make the first connection take seconds. The backend's own `availability()` takes over
once a job has loaded it.
"""

from __future__ import annotations

import importlib.util

from ..base import Availability, BackendInfo, EngineConfig
from .model_store import locate

RUNTIME_MODULES = ("torch", "transformers", "safetensors")

#: the backend's capabilities (clients see them before the backend is first imported)
INFO = BackendInfo(
    name="tooncrafter",
    description="generative cartoon interpolation (ToonCrafter 512), sketch-guided in-betweens",
    needs_gpu=False,
    supports_sketches=True,
    max_inbetweens_per_segment=None,
    resolution="keys of any size, letterboxed into the model's 512x320 and mapped back",
    options=("seed", "steps", "guidance", "sketch_strength"),
)


def availability(config: EngineConfig) -> Availability:
    missing = [m for m in RUNTIME_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return Availability(False, f"its runtime is not installed ({', '.join(missing)}); "
                                   "install the project's 'tooncrafter' extra")
    inst = locate(config.models_dir or None)
    if not inst.ok:
        return Availability(False, f"no checkpoint in {inst.folder} (run `inbetween-engine models "
                                   "download tooncrafter` or put model.ckpt there)")
    return Availability(True)
