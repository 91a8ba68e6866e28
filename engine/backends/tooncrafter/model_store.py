"""Where the ToonCrafter files live, which are installed, and how to fetch them.

No torch here: the `models` CLI and the backend's availability check use this module in an
engine that may not have the runtime installed.

Layout of a models folder (`--model-dir DIR` points at the folder holding the files, or at a
parent that has a `tooncrafter/` subfolder):

    model.ckpt | model.safetensors | model_fp16.safetensors | *.safetensors repack
    sketch_encoder.ckpt | sketch_encoder.safetensors | sketch_encoder_fp16.safetensors (optional)
    config.json (optional: a non-default architecture in the official vocabulary)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..common.model_store import default_models_dir, fetch, first_file  # noqa: F401  (re-exported)

HF_REPO = "Doubiiu/ToonCrafter"
HF_FILES = ("model.ckpt", "sketch_encoder.ckpt")
#: the OpenCLIP ViT-H-14 BPE vocabulary, only needed for non-empty text prompts
TOKENIZER_REPO = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")
SUBDIR = "tooncrafter"

MODEL_NAMES = ("model.safetensors", "model_fp16.safetensors", "model.fp16.safetensors",
               "tooncrafter_512_interp-fp16.safetensors", "model.ckpt")
SKETCH_NAMES = ("sketch_encoder.safetensors", "sketch_encoder_fp16.safetensors",
                "sketch_encoder.fp16.safetensors", "sketch_encoder.ckpt")


@dataclass(frozen=True)
class Installed:
    folder: Path
    model: Path | None
    sketch_encoder: Path | None
    config: Path | None
    tokenizer: Path | None = None

    @property
    def ok(self) -> bool:
        return self.model is not None


def locate(models_dir: str | Path | None) -> Installed:
    """Find the checkpoint files in `models_dir` or in its `tooncrafter/` subfolder."""
    base = Path(models_dir) if models_dir else default_models_dir()
    for folder in (base, base / SUBDIR):
        model = first_file(folder, MODEL_NAMES)
        if model is not None:
            cfg = folder / "config.json"
            tok = folder / "tokenizer"
            return Installed(folder, model, first_file(folder, SKETCH_NAMES), cfg if cfg.is_file() else None,
                             tok if (tok / "vocab.json").is_file() else None)
    folder = base / SUBDIR if (base / SUBDIR).is_dir() else base
    return Installed(folder, None, first_file(folder, SKETCH_NAMES), None)


def download(models_dir: str | Path | None, cache_dir: str | Path | None = None,
             files: tuple[str, ...] = HF_FILES, tokenizer: bool = True) -> list[Path]:
    """Fetch the official files with huggingface_hub (or take them from its cache when offline)
    and place them in `<models_dir>/tooncrafter/` (hard link, else copy). The tokenizer files
    are optional: a failure to get them is not an error (prompts then must stay empty)."""
    target = (Path(models_dir) if models_dir else default_models_dir()) / SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    out = [fetch(HF_REPO, name, target / name, cache_dir) for name in files]
    if tokenizer:
        try:
            for name in TOKENIZER_FILES:
                out.append(fetch(TOKENIZER_REPO, name, target / "tokenizer" / name, cache_dir))
        except Exception:  # noqa: BLE001 - optional extra; prompts stay empty without it
            pass
    return out
