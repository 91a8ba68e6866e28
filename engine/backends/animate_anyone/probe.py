"""Whether the animate_anyone backend can run here, answered without importing torch.

The engine lists backends to every client that connects; importing torch for that would make
the first connection take seconds. The backend's own `availability()` takes over once a job has
loaded it. The reason names what is missing (runtime packages or files) and how to get it.
"""

from __future__ import annotations

import importlib.util

from ..base import Availability, BackendInfo, EngineConfig
from .model_store import Installed, locate

RUNTIME_MODULES = ("torch", "diffusers", "transformers", "safetensors", "PIL")

#: the backend's capabilities (clients see them before the backend is first imported)
INFO = BackendInfo(
    name="animate_anyone",
    description="pose-guided character in-betweens (Animate Anyone, Moore-AnimateAnyone weights): "
                "the key drawing rendered in every in-between's pose",
    needs_gpu=False,
    supports_sketches=False,
    supports_poses=True,
    max_inbetweens_per_segment=None,
    resolution="canvases of any size, fitted into the model's 512x768 (768x512 landscape) and mapped back",
    options=("seed", "steps", "guidance", "reference"),
)


def availability(config: EngineConfig) -> Availability:
    missing = [m for m in RUNTIME_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return Availability(False, f"its runtime is not installed ({', '.join(missing)}); "
                                   "install the project's 'animate_anyone' extra")
    inst = locate(config.models_dir or None)
    return Availability(True) if inst.ok else Availability(False, missing_files_reason(inst))


def missing_files_reason(inst: Installed) -> str:
    return (f"missing in {inst.folder}: {', '.join(inst.missing)} (run `inbetween-engine models download "
            "animate-anyone`, or see docs/animate_anyone.md)")
