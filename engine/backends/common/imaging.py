"""Image plumbing shared by the generative backends (numpy/OpenCV only): letterboxing keys of
any size into a model's frame, alpha on transparent keys, coarse latent previews.

Why difference matting for alpha: the models work in RGB and were trained on opaque frames
(ToonCrafter on flat cartoon frames on light backgrounds). Keys drawn on transparent layers are
composited on a known background colour before generation; afterwards, pixels that stay at that colour become transparent and
partial differences give partial alpha (with the colour un-premultiplied).

The matte colour is white unless the keys themselves paint near-white areas (eyes, highlights,
a white shirt): those would come out transparent, so the keys are then composited on the first
of a few chroma-key colours that the drawing does not use (a green screen, chosen per segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BACKGROUND = np.array([255.0, 255.0, 255.0], dtype=np.float32)
# in order of preference: white (the model's usual background), then colours cartoons rarely paint
MATTE_COLOURS = tuple(np.array(c, dtype=np.float32) for c in
                      [(255, 255, 255), (0, 255, 0), (255, 0, 255), (0, 0, 255), (0, 255, 255)])
MATTE_HARD = 64.0  # max-channel distance from the matte colour above which a pixel is opaque


@dataclass(frozen=True)
class Letterbox:
    """Where a (h, w) image sits inside the model's (H, W) frame."""

    src_h: int
    src_w: int
    dst_h: int
    dst_w: int
    x0: int
    y0: int
    w: int
    h: int

    @classmethod
    def fit(cls, src_h: int, src_w: int, dst_h: int, dst_w: int) -> "Letterbox":
        scale = min(dst_w / src_w, dst_h / src_h)
        w = max(1, min(dst_w, round(src_w * scale)))
        h = max(1, min(dst_h, round(src_h * scale)))
        return cls(src_h, src_w, dst_h, dst_w, (dst_w - w) // 2, (dst_h - h) // 2, w, h)

    def _resize(self, img: np.ndarray, w: int, h: int, down: bool) -> np.ndarray:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if down else cv2.INTER_CUBIC)

    def forward(self, img: np.ndarray, fill: float | np.ndarray) -> np.ndarray:
        """(src_h, src_w, C) float32 -> (dst_h, dst_w, C), padded with `fill`."""
        c = img.shape[2]
        out = np.empty((self.dst_h, self.dst_w, c), dtype=np.float32)
        out[:] = fill
        down = self.w < self.src_w
        r = self._resize(img, self.w, self.h, down)
        out[self.y0:self.y0 + self.h, self.x0:self.x0 + self.w] = r.reshape(self.h, self.w, c)
        return out

    def backward(self, img: np.ndarray) -> np.ndarray:
        """(dst_h, dst_w, C) -> the content region resized back to (src_h, src_w, C)."""
        crop = img[self.y0:self.y0 + self.h, self.x0:self.x0 + self.w]
        r = self._resize(np.ascontiguousarray(crop), self.src_w, self.src_h, self.src_w < self.w)
        return r.reshape(self.src_h, self.src_w, img.shape[2])


def composite_rgb(rgba: np.ndarray, background: np.ndarray = BACKGROUND) -> np.ndarray:
    """RGBA uint8 -> RGB float32 in [0, 255] over the background colour."""
    rgb = rgba[..., :3].astype(np.float32)
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return rgb * a + background * (1.0 - a)


def has_transparency(*images: np.ndarray) -> bool:
    return any(bool((img[..., 3] < 255).any()) for img in images)


def choose_matte_colour(keys: list[np.ndarray], max_fraction: float = 5e-4,
                        sample: int = 1 << 18) -> np.ndarray:
    """The first of MATTE_COLOURS that (almost) no opaque key pixel is close to.

    "Close" is the distance at which `recover_alpha` starts to make a pixel transparent, so the
    chosen colour is one the drawing's own paint cannot be mistaken for. If every candidate is
    used, the least used one wins. Pixels are subsampled on large keys (the answer only needs
    proportions)."""
    opaque = [k[..., :3][k[..., 3] >= 128] for k in keys]
    colours = np.concatenate(opaque).astype(np.float32) if opaque else np.zeros((0, 3), np.float32)
    if len(colours) > sample:
        colours = colours[:: len(colours) // sample + 1]
    if len(colours) == 0:
        return MATTE_COLOURS[0]
    used = [float((np.abs(colours - c).max(axis=1) < MATTE_HARD).mean()) for c in MATTE_COLOURS]
    for colour, fraction in zip(MATTE_COLOURS, used):
        if fraction <= max_fraction:
            return colour
    return MATTE_COLOURS[int(np.argmin(used))]


def to_model_tensor_layout(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) [0, 255] -> (3, H, W) in [-1, 1] (the reference's (u8/255 - 0.5) * 2)."""
    return ((rgb / 255.0 - 0.5) * 2.0).transpose(2, 0, 1).astype(np.float32)


def from_model_output(frame: np.ndarray) -> np.ndarray:
    """(3, H, W) about [-1, 1] -> (H, W, 3) float32 in [0, 255]."""
    x = np.clip((frame.transpose(1, 2, 0) + 1.0) / 2.0, 0.0, 1.0)
    return x * 255.0


def recover_alpha(rgb: np.ndarray, background: np.ndarray = BACKGROUND,
                  soft: float = 24.0, hard: float = MATTE_HARD) -> np.ndarray:
    """Difference matting against the known background -> RGBA uint8.

    Distance (max over channels) below `soft` is transparent, above `hard` opaque, linear in
    between; colour is un-premultiplied so edges do not keep a halo of the background."""
    dist = np.abs(rgb - background).max(axis=2)
    a = np.clip((dist - soft) / (hard - soft), 0.0, 1.0)[..., None]
    safe = np.maximum(a, 1e-3)
    color = np.clip((rgb - background * (1.0 - a)) / safe, 0.0, 255.0)
    color = np.where(a > 0, color, 0.0)
    out = np.concatenate([color, a * 255.0], axis=2)
    return np.round(out).astype(np.uint8)


class LatentPreview:
    """A linear map from the model's latents to RGB, fitted per segment on the two keys' own
    latents (which the conditioning computes anyway): previews of the sampler's current guess
    of the clean latent without a VAE decode. Coarse (1/8 resolution, colours only), cheap, and
    calibrated to this model and these drawings rather than to constants from elsewhere."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights  # (C + 1, 3): latent channels and a bias -> RGB in [0, 255]

    @classmethod
    def fit(cls, latents: np.ndarray, images: np.ndarray, ridge: float = 1e-3) -> "LatentPreview":
        """latents: (N, C, h, w); images: (N, H, W, 3) in [0, 255], the frames they encode."""
        n, c, h, w = latents.shape
        small = np.stack([cv2.resize(np.ascontiguousarray(im, dtype=np.float32), (w, h),
                                     interpolation=cv2.INTER_AREA) for im in images])
        x = latents.transpose(0, 2, 3, 1).reshape(-1, c).astype(np.float64)
        x = np.concatenate([x, np.ones((len(x), 1))], axis=1)
        y = small.reshape(-1, 3).astype(np.float64)
        # ridge-regularised least squares: flat keys (one colour) must not give wild weights
        gram = x.T @ x + ridge * len(x) * np.eye(c + 1)
        return cls(np.linalg.solve(gram, x.T @ y).astype(np.float32))

    def render(self, latents: np.ndarray, height: int, width: int) -> np.ndarray:
        """(T, C, h, w) -> (T, height, width, 3) float32 in [0, 255]."""
        t, c, h, w = latents.shape
        flat = latents.transpose(0, 2, 3, 1).reshape(-1, c).astype(np.float32)
        rgb = np.clip(flat @ self.weights[:c] + self.weights[c], 0.0, 255.0).reshape(t, h, w, 3)
        return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_LINEAR) for f in rgb])
