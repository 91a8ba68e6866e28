"""Draws the bundled sample shot (resources/sample/): two keys and a middle sketch.

Kept so the sample can be remade or changed; the PNGs are committed so the demo needs nothing.
A round character with an outline and a waving arm jumps across a transparent canvas.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

W, H = 512, 320
LINE = (30, 24, 40, 255)


def character(center: tuple[int, int], arm_angle: float, squash: float = 1.0) -> np.ndarray:
    img = np.zeros((H, W, 4), np.uint8)  # transparent background
    cx, cy = center
    axes = (int(46 / squash**0.5), int(46 * squash))
    # arm behind the body
    a = np.deg2rad(arm_angle)
    hand = (int(cx + 80 * np.cos(a)), int(cy - 80 * np.sin(a)))
    cv2.line(img, (cx, cy), hand, LINE, 14, cv2.LINE_AA)
    cv2.line(img, (cx, cy), hand, (250, 200, 60, 255), 8, cv2.LINE_AA)
    cv2.circle(img, hand, 12, LINE, -1, cv2.LINE_AA)
    cv2.circle(img, hand, 9, (250, 200, 60, 255), -1, cv2.LINE_AA)
    # body, belly, eyes
    cv2.ellipse(img, center, axes, 0, 0, 360, (235, 90, 70, 255), -1, cv2.LINE_AA)
    cv2.ellipse(img, (cx, cy + axes[1] // 3), (axes[0] // 2, axes[1] // 3), 0, 0, 360,
                (250, 225, 190, 255), -1, cv2.LINE_AA)
    cv2.ellipse(img, center, axes, 0, 0, 360, LINE, 4, cv2.LINE_AA)
    for dx in (-14, 14):
        cv2.circle(img, (cx + dx, cy - axes[1] // 3), 7, (255, 255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, (cx + dx + 2, cy - axes[1] // 3), 3, LINE, -1, cv2.LINE_AA)
    return img


def sketch_of(img: np.ndarray) -> np.ndarray:
    """Rough line art of a drawing: dark lines on a transparent background."""
    edges = cv2.Canny(cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY), 40, 120)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    out = np.zeros((H, W, 4), np.uint8)
    out[edges > 0] = (60, 60, 60, 255)
    return out


def save(path: Path, rgba: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    save(out / "key_a.png", character((110, 230), 150))
    save(out / "key_b.png", character((400, 220), 30))
    save(out / "sketch_mid.png", sketch_of(character((255, 110), 90, squash=1.15)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "resources" / "sample")
