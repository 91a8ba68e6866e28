"""Split a cel drawing into flat colour regions bounded by lines or colour edges.

Cel art is flat fills separated by dark outlines or by a sharp change of tone (base/shadow).
Dense flow sees nothing inside a fill, so the fills themselves become the units we match
between keys. A pixel is a *boundary* when the colour (or alpha) changes quickly around it;
regions are the 4-connected components of the non-boundary pixels. Outlines form thin
regions of their own; they are flagged `thin` so they are not matched (an outline network is
one long connected shape whose centroid means nothing) and instead move with the fills next
to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Colour change (sum of absolute Sobel responses over channels, 0-255 scale) that makes a boundary.
EDGE_THRESHOLD = 40.0
#: Regions smaller than this (pixels) are too unreliable to match; they follow their neighbours.
MIN_REGION_AREA = 24
#: A region whose deepest pixel is closer than this to its border is a line, not a fill.
THIN_RADIUS = 2.5
#: Area over squared half-width above which a narrow region counts as a line, not a part.
LINE_ELONGATION = 150.0


@dataclass
class Segmentation:
    """Regions of one image. Index 0 of every per-region array is "no region" (boundary pixels)."""

    labels: np.ndarray  # H x W int32, 0 on boundary pixels
    area: np.ndarray  # (R,) pixel count
    centroid: np.ndarray  # (R, 2) x, y
    cov: np.ndarray  # (R, 2, 2) second central moments of the pixel positions
    color: np.ndarray  # (R, 4) mean Lab (L, a, b on 0-255 scales) and alpha
    thin: np.ndarray  # (R,) bool: line-like or tiny region, not matched
    depth_radius: np.ndarray  # (R,) largest distance of a region pixel to the region border
    neighbours: list[set[int]]  # regions touching across a boundary or line
    lab: np.ndarray  # H x W x 4 float32 image (Lab + alpha) the regions were built on
    border_dist: np.ndarray  # H x W float32: distance of each pixel to its region's border
    bbox: np.ndarray  # (R, 4) x0, y0, x1, y1 (inclusive) of each region
    unit: float = 1.0  # size of one drawing pixel in this image's pixels (0.5 at half size)

    @property
    def count(self) -> int:
        return len(self.area)

    def matchable(self) -> np.ndarray:
        """Indices of regions that take part in matching."""
        idx = np.arange(self.count)
        return idx[(idx > 0) & ~self.thin]


def to_lab_alpha(rgba: np.ndarray) -> np.ndarray:
    """Lab of the colour composited on white, plus alpha: what the animator sees, per pixel."""
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    lab = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.concatenate([lab, rgba[..., 3:4].astype(np.float32)], axis=-1)


def boundary_mask(lab: np.ndarray, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """Pixels where colour or alpha changes fast: outlines, anti-aliased edges, tone borders."""
    mag = np.zeros(lab.shape[:2], np.float32)
    for c in range(lab.shape[2]):
        ch = lab[..., c]
        gx = cv2.Sobel(ch, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(ch, cv2.CV_32F, 0, 1, ksize=3)
        # Sobel 3x3 sums to 4x the central difference; divide so thresholds read as levels/pixel
        mag += (np.abs(gx) + np.abs(gy)) * 0.25
    return mag > threshold


def segment(rgba: np.ndarray, unit: float = 1.0) -> Segmentation:
    """Regions, their statistics and their adjacency for one RGBA image.

    `unit` scales the pixel-sized constants when the image is a reduced copy of the drawing.
    """
    lab = to_lab_alpha(rgba)
    h, w = lab.shape[:2]
    inner = (~boundary_mask(lab)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(inner, connectivity=4,
                                                           ltype=cv2.CV_32S)
    flat = labels.ravel()
    area = np.bincount(flat, minlength=n).astype(np.float64)
    area[0] = 0.0
    safe = np.maximum(area, 1.0)
    ys, xs = np.indices((h, w), dtype=np.float64)
    xs, ys = xs.ravel(), ys.ravel()
    sx = np.bincount(flat, xs, n)
    sy = np.bincount(flat, ys, n)
    cx, cy = sx / safe, sy / safe
    dx, dy = xs - cx[flat], ys - cy[flat]
    cov = np.empty((n, 2, 2))
    cov[:, 0, 0] = np.bincount(flat, dx * dx, n) / safe
    cov[:, 1, 1] = np.bincount(flat, dy * dy, n) / safe
    cov[:, 0, 1] = cov[:, 1, 0] = np.bincount(flat, dx * dy, n) / safe
    color = np.stack(
        [np.bincount(flat, lab[..., c].ravel().astype(np.float64), n) / safe for c in range(4)], 1
    )
    dist = cv2.distanceTransform(inner, cv2.DIST_L2, 3)
    radius = np.zeros(n)
    np.maximum.at(radius, flat, dist.ravel().astype(np.float64))
    # a line network is narrow AND long; a narrow but short region (a stick, a thin limb)
    # is a part of its own and is matched like any fill
    long_ = area > LINE_ELONGATION * np.maximum(radius, 0.5) ** 2
    thin = (((radius < THIN_RADIUS * unit) & long_) | (radius < max(unit, 0.75))
            | (area < MIN_REGION_AREA * unit * unit))
    thin[0] = True
    return Segmentation(
        labels=labels,
        area=area,
        centroid=np.stack([cx, cy], 1),
        cov=cov,
        color=color,
        thin=thin,
        depth_radius=radius,
        neighbours=_adjacency(np.where(thin[labels], 0, labels), n,
                              (max(1, round(3 * unit)), max(2, round(7 * unit)))),
        lab=lab,
        border_dist=dist,
        bbox=np.stack([stats[:, 0], stats[:, 1], stats[:, 0] + stats[:, 2] - 1,
                       stats[:, 1] + stats[:, 3] - 1], 1).astype(np.float64),
        unit=unit,
    )


def _adjacency(labels: np.ndarray, n: int, reaches: tuple[int, ...] = (3, 7)) -> list[set[int]]:
    """Pairs of fill regions on opposite sides of a boundary or outline (thin regions are 0)."""
    pairs = []
    steps = [(0, r) for r in reaches] + [(r, 0) for r in reaches] + [(r, r) for r in reaches]
    for dy, dx in steps + [(r, -r) for r in reaches]:
        a, b = _shifted_pair(labels, dy, dx)
        m = (a != b) & (a > 0) & (b > 0)
        pairs.append(np.stack([a[m], b[m]], 1))
    allp = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 2), int)
    nb: list[set[int]] = [set() for _ in range(n)]
    for i, j in allp.tolist():
        nb[i].add(j)
        nb[j].add(i)
    return nb


def _shifted_pair(img: np.ndarray, dy: int, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """Views (img[y, x], img[y + dy, x + dx]) over the pixels where both exist (dy >= 0)."""
    h, w = img.shape[:2]
    x0, x1 = max(0, -dx), w - max(0, dx)
    return img[0 : h - dy, x0:x1], img[dy:h, x0 + dx : x1 + dx]


def fill_from_regions(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Give every invalid pixel the value of its nearest valid pixel (H x W x C float32).

    Used to let outlines and tiny regions move with the fills around them.
    """
    if valid.all() or not valid.any():
        return values
    _, idx = cv2.distanceTransformWithLabels(
        (~valid).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    # labels number the zero (valid) pixels in raster order
    src = np.flatnonzero(valid.ravel())
    flat = values.reshape(-1, values.shape[-1])
    return flat[src[idx.ravel() - 1]].reshape(values.shape)
