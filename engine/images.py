"""Decoding the images clients send and encoding the frames the engine returns.

Sizes are checked from the PNG header *before* decoding, so a tiny file that inflates to
gigabytes (a decompression bomb) is refused without allocating it.
"""

from __future__ import annotations

import cv2
import numpy as np

from inbetween_client.images import png_size

from .errors import ShotError
from .shot import MAX_PIXELS, MAX_SIDE


def _check_size(w: int, h: int, what: str) -> None:
    if w < 1 or h < 1 or w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise ShotError(
            f"{what} is {w}x{h}, over the size limit ({MAX_SIDE} px per side, {MAX_PIXELS} pixels)"
        )


def decode_png(data: bytes, what: str) -> np.ndarray:
    """RGBA uint8 from PNG bytes of any bit depth and colour type."""
    try:
        w, h = png_size(data)
    except ValueError:
        raise ShotError(f"{what}: not a PNG file") from None
    _check_size(w, h, what)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ShotError(f"{what}: corrupt PNG (it could not be decoded)")
    return to_rgba8(img, from_bgr=True)


def to_rgba8(img: np.ndarray, from_bgr: bool = False) -> np.ndarray:
    """Any 8/16-bit grey, grey+alpha, colour or colour+alpha array as RGBA uint8."""
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 + 32767) // 65535
        img = img.astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ShotError(f"unsupported image sample type {img.dtype}")
    if img.ndim == 2:
        img = img[..., None]
    c = img.shape[2]
    if c == 1:
        return np.concatenate([np.repeat(img, 3, axis=2), np.full_like(img, 255)], axis=2)
    if c == 2:
        return np.concatenate([np.repeat(img[..., :1], 3, axis=2), img[..., 1:2]], axis=2)
    if c == 3:
        rgb = img[..., ::-1] if from_bgr else img
        return np.concatenate([rgb, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    if c == 4:
        return np.ascontiguousarray(img[..., [2, 1, 0, 3]] if from_bgr else img)
    raise ShotError(f"unsupported image with {c} channels")


def decode_rgba(data: bytes, width: int, height: int, what: str) -> np.ndarray:
    _check_size(width, height, what)
    if len(data) != width * height * 4:
        raise ShotError(f"{what}: {len(data)} bytes of RGBA do not make a {width}x{height} image")
    return np.frombuffer(data, np.uint8).reshape(height, width, 4).copy()


def encode_png(rgba: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 array
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def decode_rgba_or_png(data: bytes, encoding: str, width: int, height: int, what: str) -> np.ndarray:
    if encoding == "png":
        return decode_png(data, what)
    if encoding == "rgba":
        return decode_rgba(data, width, height, what)
    raise ShotError(f"{what}: unknown image encoding {encoding!r} (use 'png' or 'rgba')")
