"""What a frozen build of the suite (PyInstaller, `scripts/build.sh`) says about a backend
whose runtime it lacks.

A "lite" bundle ships the tooncrafter backend's code but not torch. From source, "its
runtime is not installed" is enough (the fix is a pip extra); in a downloaded app there is
no pip, so the reason says that this build has no generative runtime and how to get one.
"""

from __future__ import annotations

import sys

NOT_INSTALLED = "its runtime is not installed"
#: backends whose runtime (torch...) only a full build bundles
GENERATIVE = ("tooncrafter", "animate_anyone")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def explain_missing_runtime(backend: str, reason: str) -> str:
    """`reason` unchanged, unless this is a frozen build and the backend's runtime is missing."""
    if not is_frozen() or backend not in GENERATIVE:
        return reason
    if not reason or not reason.startswith(NOT_INSTALLED):
        return reason
    return (f"this build of the app has no generative runtime (it is a lite build, without torch), "
            f"so {backend} cannot run in its bundled engine. To get one: install the pip package "
            f"with its GPU extra (`pip install \"inbetween-suite[tooncrafter]\"` with a CUDA build "
            f"of torch) and run `inbetween-engine serve` from it before starting the app (the app "
            f"uses an engine that is already running), or point the app at an engine running "
            f"elsewhere (`inbetween-studio --engine-command ...`, or a GPU engine on your studio's "
            f"network); a full build of the app bundles torch.")
