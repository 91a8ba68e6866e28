"""The models folder and hub downloads, shared by the generative backends' stores.

No torch here: the `models` CLI and the backends' availability probes use this in an engine
that may not have the runtime installed. Large weights are never fetched implicitly: only
`inbetween-engine models download NAME` calls `fetch`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def default_models_dir() -> Path:
    """The engine's models dir (engine.paths), with a local fallback if that module is absent."""
    try:
        from engine.paths import default_models_dir as engine_default  # type: ignore

        return Path(engine_default())
    except ImportError:
        env = os.environ.get("INBETWEEN_MODELS_DIR")
        if env:
            return Path(env)
        try:
            from platformdirs import user_data_dir

            return Path(user_data_dir("inbetween")) / "models"
        except ImportError:
            return Path.home() / ".local" / "share" / "inbetween" / "models"


def first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    """The first of `names` that is a file in `folder` (names in order of preference)."""
    for n in names:
        p = folder / n
        if p.is_file():
            return p
    return None


def fetch(repo: str, name: str, dst: Path, cache_dir: str | Path | None) -> Path:
    """One file of a hub repository (from huggingface_hub's cache when offline) placed at `dst`
    by hard link, else copy; written under a temporary name and renamed, so a broken transfer
    never leaves a truncated weights file where the loader looks."""
    from huggingface_hub import hf_hub_download

    dst.parent.mkdir(parents=True, exist_ok=True)
    src = Path(hf_hub_download(repo, name, cache_dir=str(cache_dir) if cache_dir else None))
    if not dst.exists():
        tmp = dst.with_suffix(dst.suffix + ".part")
        try:
            os.link(src.resolve(), tmp)
        except OSError:
            shutil.copyfile(src.resolve(), tmp)
        os.replace(tmp, dst)
    return dst
