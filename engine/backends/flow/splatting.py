"""Occlusion-aware synthesis of the frame at time t from two keys and their flows.

Each key's flow is forward-splatted to time t: a pixel x of key A lands at x + t * f_ab(x).
Where several pixels land on one spot the one in front wins; "in front" is read from the
flows (a pixel whose forward and backward flows agree is visible in both keys; one whose
flows disagree is hidden in the other key, i.e. behind something), with a weak prior that
smaller regions lie in front of larger ones (the background is the largest). The splatted
field is the flow from the new frame back to the key; the full-size key is then sampled
through it (backward warp), so outlines are resampled, never smeared, and the splatting
itself can run at the reduced work size. Spots no pixel of a key reaches (disocclusions)
take the other key only.

The two warped keys are blended with weights = nearness in time x how surely the warped
pixel is seen in both keys, so a part that only one key shows does not come back as a
half-transparent ghost from the other. Colours are premultiplied by alpha while warping,
so characters on transparent layers carry their alpha with them and keep clean edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .flow_init import backward_warp, grid
from .segmentation import fill_from_regions

#: Forward/backward disagreement (pixels) at which a pixel counts as hidden in the other key.
OCCLUSION_PX = 3.0
#: Weight kept by a warped pixel that is hidden in the other key (relative to 1 + floor).
VIS_FLOOR = 1.0
#: Splat each pixel from four spots a quarter pixel around it when a sketch bends the paths,
#: so a fill the bend stretches stays closed (see splat_backflow).
SUPERSAMPLE_BENT = True
#: Share of reached pixels around an unreached one above which it is a stretch hole, not a
#: disocclusion (a 1-2 pixel gap between rows of a region that grows, e.g. towards a sketch).
STRETCH_HOLE_DENSITY = 0.45
#: ... and whose reached neighbours move alike (spread of their flows, work pixels).
STRETCH_HOLE_SPREAD_PX = 2.0


def consistency_error(f_ab: np.ndarray, f_ba: np.ndarray) -> np.ndarray:
    """|f_ab(x) + f_ba(x + f_ab(x))| per pixel of a: ~0 where x is visible in both keys."""
    back = backward_warp(f_ba, f_ab)
    return np.hypot(*(f_ab + back).transpose(2, 0, 1))


@dataclass
class SplatSource:
    """One key prepared for splatting.

    The image is kept at full size; flow, priority and visibility live at the (possibly
    reduced, by `scale`) size the correspondence was computed at. Splatting at that size
    and sampling the full-size key through the result keeps outlines full-resolution while
    the per-pixel sort costs a quarter.
    """

    image: np.ndarray  # H x W x 4 float32, premultiplied RGBA (full size)
    flow: np.ndarray  # h x w x 2 float32 to the other key, in work pixels
    priority: np.ndarray  # h x w int64 in [0, 1023]: larger is in front
    visible: np.ndarray  # h x w float32 in [0, 1]: 1 where the pixel is seen in both keys
    scale: int = 1  # full size / work size

    @classmethod
    def build(cls, image: np.ndarray, flow: np.ndarray, err: np.ndarray,
              depth_hint: np.ndarray | None = None, scale: int = 1) -> "SplatSource":
        """`err` is the consistency error; `depth_hint` (0-1, larger in front) breaks ties."""
        vis = 1.0 - np.clip(err / (2.0 * OCCLUSION_PX), 0.0, 1.0)
        p = 0.85 * vis
        if depth_hint is not None:
            p = p + 0.15 * np.clip(depth_hint, 0.0, 1.0)
        return cls(image, flow, np.rint(p * 1023).astype(np.int64), vis.astype(np.float32),
                   scale)


def splat_backflow(src: SplatSource, disp: np.ndarray, supersample: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Flow from the new frame back to this key, when each key pixel x moves to x + disp(x).

    Works at the source's work size. Returns (flow h x w x 2, reached h x w bool). Ties are
    resolved by priority then by source index, so the result is deterministic.
    """
    h, w = src.flow.shape[:2]
    gx, gy = grid(h, w)
    prio = src.priority.ravel()
    disps = [disp.reshape(-1, 2)]
    tx, ty = gx + disp[..., 0], gy + disp[..., 1]
    if supersample and 4 * h * w < (1 << 24):  # the sort key holds source indices in 24 bits
        # a region that a bend stretches leaves gaps between its splatted rows that pixels
        # behind it (the background) fill: splat each pixel from four spots a quarter pixel
        # around its centre (a stretch up to 2x stays closed; an unstretched pixel still
        # lands on its own target only)
        sx, sy, ds = [], [], []
        for ox, oy in ((-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)):
            d = cv2.remap(disp, gx + ox, gy + oy, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
            # across a motion boundary the interpolated motion is a mix of two parts' and
            # would drop a stray pixel half way: there the spot moves with its own pixel
            mixed = np.abs(d - disp).max(axis=2) > 1.0
            d[mixed] = disp[mixed]
            sx.append((gx + ox + d[..., 0]).ravel())
            sy.append((gy + oy + d[..., 1]).ravel())
            ds.append(d.reshape(-1, 2))
        tx, ty, disps = np.concatenate(sx), np.concatenate(sy), ds
        prio = np.tile(prio, 4)
    disp_all = np.concatenate(disps) if len(disps) > 1 else disps[0]
    # floor(x + 0.5), not rint: rint rounds halves to even, so at t = 0.5 every other pixel
    # of a region moving an odd number of pixels lands on its neighbour's spot (a checkerboard
    # of holes); rounding halves one way keeps a translation one-to-one
    tx = np.floor(tx.ravel() + 0.5).astype(np.int64)
    ty = np.floor(ty.ravel() + 0.5).astype(np.int64)
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    srcidx = np.flatnonzero(inside)
    tgt = ty[inside] * w + tx[inside]
    key = (tgt << 34) | (prio[inside] << 24) | srcidx
    key.sort()
    tgt_sorted = key >> 34
    last = np.ones(len(key), bool)
    last[:-1] = tgt_sorted[1:] != tgt_sorted[:-1]
    win = key[last]
    win_tgt = win >> 34
    win_src = win & ((1 << 24) - 1)
    back = np.zeros((h * w, 2), np.float32)
    back[win_tgt] = -disp_all[win_src]
    reached = np.zeros(h * w, bool)
    reached[win_tgt] = True
    back = back.reshape(h, w, 2)
    reached = reached.reshape(h, w)
    back, reached = _fill_stretch_holes(back, reached)
    back = fill_from_regions(back, reached)
    return back, reached


def _fill_stretch_holes(back: np.ndarray, reached: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close the gaps a stretching region leaves between its splatted rows or columns.

    Forward splatting writes one target per source pixel, so a region that grows leaves
    unreached lines inside itself; without this they show as transparent streaks. Their
    back flow is the average of the reached neighbours' (normalised box filter); large
    unreached areas (real disocclusions) are left to the caller.
    """
    m = reached.astype(np.float32)
    den = cv2.blur(m, (5, 5))
    holes = ~reached & (den > STRETCH_HOLE_DENSITY)
    if not holes.any():
        return back, reached
    safe = np.maximum(den, 1e-6)[..., None]
    mean = cv2.blur(back * m[..., None], (5, 5)) / safe
    mean_sq = cv2.blur(back * back * m[..., None], (5, 5)) / safe
    spread = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0).sum(axis=2))
    # neighbours that disagree are a motion boundary (a real disocclusion): leave it alone
    holes &= spread < STRETCH_HOLE_SPREAD_PX
    back = back.copy()
    back[holes] = mean[holes]
    return back, reached | holes


def _to_full(src: SplatSource, back: np.ndarray, weight: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Back flow and weight map from work size to the image's size (nearest: a pixel between
    two parts follows one of them, never a mix of both motions)."""
    if src.scale == 1:
        return back, weight
    h, w = src.image.shape[:2]
    back = cv2.resize(back, (w, h), interpolation=cv2.INTER_NEAREST) * float(src.scale)
    weight = cv2.resize(weight, (w, h), interpolation=cv2.INTER_LINEAR)
    return back, weight


def _side(src: SplatSource, disp: np.ndarray, time_weight: float, supersample: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """One key warped to the new frame (full size) and its blending weight."""
    back, reached = splat_backflow(src, disp, supersample)
    # how surely each warped pixel is seen in both keys (a pixel hidden in the other key,
    # or left behind by a wrong motion, counts less)
    vis = cv2.blur(backward_warp(src.visible, back, cv2.INTER_NEAREST), (3, 3))
    weight = (time_weight * reached) * (VIS_FLOOR + vis)
    back, weight = _to_full(src, back, weight.astype(np.float32))
    return backward_warp(src.image, back), weight


def synthesize(a: SplatSource, b: SplatSource, t: float,
               extra_a: np.ndarray | None = None,
               extra_b: np.ndarray | None = None) -> np.ndarray:
    """Premultiplied RGBA float32 frame at time t (0 = key a, 1 = key b).

    `extra_a` / `extra_b` (work size, on each key's grid) bend the keys' pixel paths (a
    sketch's correction); they are added to the displacement before splatting, so occlusion
    is handled as for any motion and the keys are resampled only once.
    """
    disp_a = t * a.flow if extra_a is None else t * a.flow + extra_a
    disp_b = (1.0 - t) * b.flow if extra_b is None else (1.0 - t) * b.flow + extra_b
    wa_img, wa = _side(a, disp_a, 1.0 - t, SUPERSAMPLE_BENT and extra_a is not None)
    wb_img, wb = _side(b, disp_b, t, SUPERSAMPLE_BENT and extra_b is not None)
    total = wa + wb
    none = total < 1e-4
    # spots neither key reaches (rare): plain cross-fade of what the filled flows sample
    wa = np.where(none, 1.0 - t, wa)
    total = np.where(none, 1.0, total)
    fa = (wa / total)[..., None]
    return wb_img + fa * (wa_img - wb_img)


def premultiply(rgba: np.ndarray) -> np.ndarray:
    f = rgba.astype(np.float32)
    f[..., :3] *= f[..., 3:4] / 255.0
    return f


def unpremultiply(f: np.ndarray) -> np.ndarray:
    """Back to straight-alpha uint8; fully transparent pixels get white RGB (paper)."""
    a = f[..., 3]
    if a.min() >= 254.5:  # opaque frame: nothing to divide
        return np.clip(f + 0.5, 0, 255).astype(np.uint8)
    inv = np.where(a > 0.5, 255.0 / np.maximum(a, 1e-3), 0.0).astype(np.float32)
    out = np.empty(f.shape, np.float32)
    out[..., :3] = f[..., :3] * inv[..., None]
    out[..., :3][a <= 0.5] = 255.0
    out[..., 3] = a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
