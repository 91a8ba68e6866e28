"""Where the Animate Anyone files live, which are installed, and how to fetch them.

No torch here: the `models` CLI and the backend's availability probe use this module in an
engine that may not have the runtime installed.

Layout of a models folder (`--model-dir DIR` points at the folder holding the files, or at a
parent with an `animate_anyone/` subfolder; the parity fixture has exactly this layout):

    denoising_unet.pth | .safetensors | _fp16.safetensors      (Moore-AnimateAnyone, patrolli/AnimateAnyone)
    reference_unet.*, pose_guider.*, motion_module.*            (same choices of format)
    vae/config.json + diffusion_pytorch_model.{safetensors,fp16.safetensors,bin}   (stabilityai/sd-vae-ft-mse)
    image_encoder/config.json + {model.safetensors, model.fp16.safetensors, pytorch_model.bin}
                                                                (lambdalabs/sd-image-variations-diffusers)
    unet_base/config.json     (optional: SD 1.5's unet/config.json; its published values are built in)
    config.json               (optional: a non-default architecture, the parity fixture's vocabulary)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..common.model_store import default_models_dir, fetch, first_file

SUBDIR = "animate_anyone"
NETWORKS = ("denoising_unet", "reference_unet", "pose_guider", "motion_module")
VAE_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
               "diffusion_pytorch_model.bin")
IMAGE_ENCODER_WEIGHTS = ("model.safetensors", "model.fp16.safetensors", "pytorch_model.bin")

#: (hub repository, file in the repository, place in the models folder)
HUB_FILES = tuple(("patrolli/AnimateAnyone", f"{n}.pth", f"{n}.pth") for n in NETWORKS) + (
    ("stabilityai/sd-vae-ft-mse", "config.json", "vae/config.json"),
    ("stabilityai/sd-vae-ft-mse", "diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.bin"),
    ("lambdalabs/sd-image-variations-diffusers", "image_encoder/config.json", "image_encoder/config.json"),
    ("lambdalabs/sd-image-variations-diffusers", "image_encoder/pytorch_model.bin",
     "image_encoder/pytorch_model.bin"),
)
#: optional: the config is built in, fetched only so the folder shows what it is
OPTIONAL_HUB_FILES = (("stable-diffusion-v1-5/stable-diffusion-v1-5", "unet/config.json", "unet_base/config.json"),)
DOWNLOAD_SIZE = "~9 GB"


def network_names(name: str) -> tuple[str, ...]:
    """File names one network may have, in order of preference (safetensors repacks first)."""
    return (f"{name}.safetensors", f"{name}_fp16.safetensors", f"{name}.fp16.safetensors", f"{name}.pth")


@dataclass(frozen=True)
class Installed:
    folder: Path
    networks: dict[str, Path | None] = field(default_factory=dict)
    vae: Path | None = None  # the weights file inside vae/
    image_encoder: Path | None = None
    unet_config: Path | None = None
    config: Path | None = None

    @property
    def missing(self) -> list[str]:
        """What is missing for a job, as paths relative to the folder (empty: ready)."""
        out = [f"{n}.pth" for n in NETWORKS if self.networks.get(n) is None]
        if self.vae is None:
            out.append("vae/ (config.json + diffusion_pytorch_model.*)")
        if self.image_encoder is None:
            out.append("image_encoder/ (config.json + model.safetensors or pytorch_model.bin)")
        return out

    @property
    def ok(self) -> bool:
        return not self.missing


def _scan(folder: Path) -> Installed:
    networks = {n: first_file(folder, network_names(n)) for n in NETWORKS}
    vae = first_file(folder / "vae", VAE_WEIGHTS) if (folder / "vae" / "config.json").is_file() else None
    enc_dir = folder / "image_encoder"
    enc = first_file(enc_dir, IMAGE_ENCODER_WEIGHTS) if (enc_dir / "config.json").is_file() else None
    unet_cfg = folder / "unet_base" / "config.json"
    cfg = folder / "config.json"
    return Installed(folder, networks, vae, enc, unet_cfg if unet_cfg.is_file() else None,
                     cfg if cfg.is_file() else None)


def locate(models_dir: str | Path | None) -> Installed:
    """The files in `models_dir` or in its `animate_anyone/` subfolder (whichever has more)."""
    base = Path(models_dir) if models_dir else default_models_dir()
    candidates = [_scan(base), _scan(base / SUBDIR)]
    complete = [c for c in candidates if c.ok]
    if complete:
        return complete[0]
    best = min(candidates, key=lambda c: len(c.missing))
    if len(best.missing) == len(candidates[1].missing):
        return candidates[1]  # nothing anywhere: point at the subfolder the download fills
    return best


def download(models_dir: str | Path | None, cache_dir: str | Path | None = None) -> list[Path]:
    """Fetch the official files with huggingface_hub (or from its cache when offline) into
    `<models_dir>/animate_anyone/` (hard link, else copy)."""
    target = (Path(models_dir) if models_dir else default_models_dir()) / SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    out = [fetch(repo, name, target / dst, cache_dir) for repo, name, dst in HUB_FILES]
    for repo, name, dst in OPTIONAL_HUB_FILES:
        try:
            out.append(fetch(repo, name, target / dst, cache_dir))
        except Exception:  # noqa: BLE001 - optional: the SD 1.5 UNet config is built in
            pass
    return out
