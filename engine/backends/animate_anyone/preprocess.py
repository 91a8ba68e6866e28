"""Image preprocessing exactly as Moore-AnimateAnyone's pipelines do it (Pillow resampling).

The model was trained on images resized by Pillow, and the reference resizes with Pillow at
inference; OpenCV's bicubic/Lanczos kernels give different pixels, so these few steps use
Pillow directly (transformers 5's default CLIP processor is the torchvision "fast" one, which
differs too). Two paths exist because the reference's two pipelines differ:

* `long` (pipeline_pose2vid_long.py, what pose2vid.py runs; the backend's path): the CLIP
  image is first squashed to 224 x 224; pose frames are resized with LANCZOS.
* `short` (pipeline_pose2vid.py): CLIP shortest-edge 224 + centre crop; poses bicubic.

The reference drawing for the VAE is LANCZOS-resized to the model frame in both.

Every resize runs as two passes, horizontal then vertical, each rounded to uint8: that is what
Pillow 9.5 (the reference's) does. Newer Pillow picks the pass order itself and starts with the
vertical pass when it shrinks more (e.g. 240x336 -> 224x224), which moves pixels by up to 3-5
levels; a single-axis resize is the same in both.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

CLIP_SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
PATHS = ("long", "short")


def _resize(img: Image.Image, size: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    """Pillow 9.5's separable resize: horizontal pass, uint8 intermediate, vertical pass."""
    w, h = img.size
    if size[0] != w:
        img = img.resize((size[0], h), resample, reducing_gap=None)
    if size[1] != h:
        img = img.resize(size, resample, reducing_gap=None)
    return img


def _pil(rgb: np.ndarray) -> Image.Image:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image, got {rgb.dtype} {rgb.shape}")
    return Image.fromarray(rgb, "RGB")


def clip_crop(rgb: np.ndarray, path: str = "long") -> np.ndarray:
    """(H, W, 3) uint8 -> the 224 x 224 uint8 crop the image encoder sees."""
    img = _pil(rgb)
    if path == "long":
        img = _resize(img, (CLIP_SIZE, CLIP_SIZE), Image.Resampling.BICUBIC)
    # CLIPImageProcessor: shortest edge to 224 (long edge truncated), bicubic, no reducing gap
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(CLIP_SIZE * long / short)
    size = (CLIP_SIZE, new_long) if w <= h else (new_long, CLIP_SIZE)
    img = _resize(img, size, Image.Resampling.BICUBIC)
    w, h = img.size
    top, left = (h - CLIP_SIZE) // 2, (w - CLIP_SIZE) // 2
    return np.asarray(img)[top:top + CLIP_SIZE, left:left + CLIP_SIZE].copy()


def clip_pixels(crop: np.ndarray) -> torch.Tensor:
    """224 x 224 uint8 crop -> (1, 3, 224, 224) float32, normalised as CLIPImageProcessor does
    (rescale in float64, then float32 mean/std)."""
    x = (crop.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(CLIP_MEAN, np.float32)) / np.array(CLIP_STD, np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1).copy())[None]


def model_frame_size(width: int, height: int, factor: int = 8) -> tuple[int, int]:
    """VaeImageProcessor rounds the requested size down to multiples of the VAE factor."""
    return width // factor * factor, height // factor * factor


def resize_reference(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The reference drawing at the model frame (LANCZOS), uint8."""
    w, h = model_frame_size(width, height)
    return np.asarray(_resize(_pil(rgb), (w, h), Image.Resampling.LANCZOS)).copy()


def reference_tensor(resized: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> (1, 3, H, W) in [-1, 1]: 2 * (u8 / 255) - 1 in float32."""
    x = resized.astype(np.float32) / 255
    return torch.from_numpy((2.0 * x - 1.0).transpose(2, 0, 1).copy())[None]


def resize_pose(rgb: np.ndarray, width: int, height: int, path: str = "long") -> np.ndarray:
    """A rendered pose frame at the model frame: LANCZOS (long path) or bicubic (short path)."""
    if path == "long":
        return np.asarray(_resize(_pil(rgb), model_frame_size(width, height), Image.Resampling.LANCZOS)).copy()
    return np.asarray(_resize(_pil(rgb), (width, height), Image.Resampling.BICUBIC)).copy()


def pose_tensor(frames: list[np.ndarray] | np.ndarray) -> torch.Tensor:
    """uint8 (F, H, W, 3) -> (1, 3, F, H, W) float32 in [0, 1] (u8 / 255)."""
    x = np.stack(list(frames)).astype(np.float32) / 255
    return torch.from_numpy(x.transpose(3, 0, 1, 2).copy())[None]
