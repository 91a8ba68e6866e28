"""Image metrics for the in-betweening benchmark: PSNR, SSIM, line-art chamfer distance.

All metrics compare what the animator sees: RGBA is composited over white first.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Luminance (0-255) under which a pixel counts as line art.
LINE_LUMA = 90


def composite_white(rgba: np.ndarray) -> np.ndarray:
    """RGB float32 (0-255) of an RGBA image over white; RGB images pass through."""
    if rgba.shape[2] == 3:
        return rgba.astype(np.float32)
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = float(np.mean((composite_white(x) - composite_white(y)) ** 2))
    return 99.0 if mse < 1e-10 else 10.0 * np.log10(255.0**2 / mse)


def ssim(x: np.ndarray, y: np.ndarray) -> float:
    """Mean SSIM over RGB channels (Gaussian window 11, sigma 1.5, as Wang et al.)."""
    a, b = composite_white(x), composite_white(y)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)
    mu_a, mu_b = blur(a), blur(b)
    saa = blur(a * a) - mu_a**2
    sbb = blur(b * b) - mu_b**2
    sab = blur(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (saa + sbb + c2))
    return float(m[5:-5, 5:-5].mean())


def line_mask(rgba: np.ndarray) -> np.ndarray:
    """Dark pixels: the outlines (and the darkest fills, equally for every method)."""
    rgb = np.clip(composite_white(rgba), 0, 255).astype(np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) < LINE_LUMA


#: Distances are truncated at this fraction of the diagonal (truncated chamfer).
CHAMFER_CAP = 0.05


def chamfer(x: np.ndarray, y: np.ndarray) -> float:
    """Symmetric truncated chamfer distance between line pixels of x and y, over the diagonal.

    Mean distance from each line pixel of one image to the nearest line pixel of the other,
    averaged both ways. Ghosts (doubled lines) and misplaced lines both raise it. Distances
    are capped at 5 % of the diagonal, and an image without any line pixel (e.g. ghosted
    lines blended to grey) scores the cap, so one such frame cannot dominate a mean.
    """
    lx, ly = line_mask(x), line_mask(y)
    h, w = lx.shape
    diag = float(np.hypot(h, w))
    cap = CHAMFER_CAP * diag
    if not lx.any() and not ly.any():
        return 0.0
    if not lx.any() or not ly.any():
        return CHAMFER_CAP
    dx = np.minimum(cv2.distanceTransform((~lx).astype(np.uint8), cv2.DIST_L2, 3), cap)
    dy = np.minimum(cv2.distanceTransform((~ly).astype(np.uint8), cv2.DIST_L2, 3), cap)
    return 0.5 * (float(dy[lx].mean()) + float(dx[ly].mean())) / diag
