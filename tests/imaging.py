"""Small test images drawn with OpenCV, and PNG helpers."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def disc_image(w: int = 128, h: int = 96, center=(32, 48), radius=14, color=(220, 60, 60),
               transparent: bool = False) -> np.ndarray:
    img = np.zeros((h, w, 4), np.uint8)
    if not transparent:
        img[...] = (255, 255, 255, 255)
    cv2.circle(img, center, radius, (*color, 255), -1)
    cv2.circle(img, center, radius, (20, 20, 20, 255), 2)
    return img


def png_bytes(rgba: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    assert ok
    return buf.tobytes()


def write_png(path: Path, rgba: np.ndarray) -> Path:
    path.write_bytes(png_bytes(rgba))
    return path


def read_png(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None, f"{path} is not a readable PNG"
    return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
