"""In-betweening of one segment by the flow backend: the orchestration.

For the two keys the expensive work is done once (`PairModel`: segment both, match regions,
dense flows both ways, occlusion order); every in-between is then a cheap splat-and-sample
(`PairModel.frame`). A sketch at some in-between bends the keys' paths so the frame there
takes the sketch's pose in the keys' colours and the frames around it curve through that
pose (see sketch.py).
"""

from __future__ import annotations

import logging
from typing import Callable, Iterator

import cv2
import numpy as np

from .dis_baseline import crossfade
from .flow_init import fuse, make_dis, region_flow, regularize
from .matching import match_regions
from .segmentation import Segmentation, segment
from .splatting import SplatSource, consistency_error, premultiply, synthesize, unpremultiply


#: Forward/backward disagreement (px) under which plain DIS may override the region motion.
PLAIN_CONSISTENT_PX = 2.0
#: Smallest image side from which correspondence is computed at half size.
WORK_HALF_FROM = 256
#: Below this side (pixels) there is nothing to match: keys are cross-faded.
MIN_SIDE = 16

log = logging.getLogger(__name__)


def _gray(seg: Segmentation) -> np.ndarray:
    """Luminance of the composited image as uint8 (DIS input)."""
    return np.clip(seg.lab[..., 0], 0, 255).astype(np.uint8)


def _depth_hint(seg: Segmentation) -> np.ndarray:
    """0-1 per pixel, larger in front: small fills are usually in front of large ones (the
    background is the largest region), a prior that only breaks ties of visibility."""
    area = np.maximum(seg.area, 1.0)
    hint = 1.0 - np.log(area) / np.log(max(float(seg.labels.size), 2.0))
    return hint[seg.labels].astype(np.float32)


def estimate_flows(key_a: np.ndarray, key_b: np.ndarray,
                   check_cancelled: Callable[[], None] = lambda: None, unit: float = 1.0
                   ) -> tuple[np.ndarray, np.ndarray, Segmentation, Segmentation]:
    """Dense flows a -> b and b -> a at the size of the inputs, and both segmentations.

    Region hypotheses (matching) and plain DIS are fused per pixel, regularised per region,
    and fused once more so that DIS keeps the fine non-rigid detail where it is reliable.
    """
    sa, sb = segment(key_a, unit), segment(key_b, unit)
    check_cancelled()
    ga, gb = _gray(sa), _gray(sb)
    dis = make_dis()
    plain_ab = dis.calc(ga, gb, None)
    plain_ba = dis.calc(gb, ga, None)
    check_cancelled()
    p_ab = match_regions(sa, sb)
    p_ba = _inverse(p_ab, sb.count)
    init_ab = region_flow(sa, sb, p_ab, plain_ab).flow
    init_ba = region_flow(sb, sa, p_ba, plain_ba).flow
    check_cancelled()
    ok_ab = consistency_error(plain_ab, plain_ba) < PLAIN_CONSISTENT_PX
    ok_ba = consistency_error(plain_ba, plain_ab) < PLAIN_CONSISTENT_PX
    f_ab = fuse(sa.lab, sb.lab, init_ab, plain_ab, ok_ab)
    f_ba = fuse(sb.lab, sa.lab, init_ba, plain_ba, ok_ba)
    f_ab = fuse(sa.lab, sb.lab, regularize(sa, f_ab), plain_ab, ok_ab)
    f_ba = fuse(sb.lab, sa.lab, regularize(sb, f_ba), plain_ba, ok_ba)
    return f_ab, f_ba, sa, sb


def _work_scale(shape: tuple[int, ...]) -> int:
    """Correspondence is found at half size for frames of 256 px and more: cel regions are
    large, and it makes the per-segment cost four times smaller."""
    return 2 if min(shape[:2]) >= WORK_HALF_FROM else 1


def _down(img: np.ndarray, s: int) -> np.ndarray:
    if s == 1:
        return img
    h, w = img.shape[:2]
    return cv2.resize(img, (w // s, h // s), interpolation=cv2.INTER_AREA)


class PairModel:
    """Everything about two drawings that does not depend on the time of the in-between.

    Flows (`f_ab`, `f_ba`) are kept at the work size (`scale` times smaller than the keys,
    in work pixels); frames come out at the keys' size.
    """

    def __init__(self, key_a: np.ndarray, key_b: np.ndarray,
                 check_cancelled: Callable[[], None] = lambda: None) -> None:
        self.key_a, self.key_b = key_a, key_b
        self.scale = s = _work_scale(key_a.shape)
        self.f_ab, self.f_ba, sa, sb = estimate_flows(_down(key_a, s), _down(key_b, s),
                                                      check_cancelled, 1.0 / s)
        check_cancelled()
        err_a = consistency_error(self.f_ab, self.f_ba) * s
        err_b = consistency_error(self.f_ba, self.f_ab) * s
        self.src_a = SplatSource.build(premultiply(key_a), self.f_ab, err_a, _depth_hint(sa), s)
        self.src_b = SplatSource.build(premultiply(key_b), self.f_ba, err_b, _depth_hint(sb), s)

    def to_work(self, img: np.ndarray) -> np.ndarray:
        """An image of the keys' size reduced to the work size."""
        return _down(img, self.scale)

    def frame_premultiplied(self, t: float, extra_a: np.ndarray | None = None,
                            extra_b: np.ndarray | None = None) -> np.ndarray:
        """The frame at t; `extra_*` bend the keys' paths (see splatting.synthesize)."""
        return synthesize(self.src_a, self.src_b, t, extra_a, extra_b)

    def frame(self, t: float) -> np.ndarray:
        return unpremultiply(self.frame_premultiplied(t))


def _inverse(partner: np.ndarray, n_b: int) -> np.ndarray:
    inv = np.full(n_b, -1, np.int64)
    idx = np.flatnonzero(partner >= 0)
    inv[partner[idx]] = idx
    return inv


def _usable(key: np.ndarray) -> bool:
    """A key with something drawn on it: not fully transparent and not one flat colour."""
    if key[..., 3].max() == 0:
        return False
    return bool(np.ptp(key.reshape(-1, 4), axis=0).max() > 0)


def _dissolve(key_a: np.ndarray, key_b: np.ndarray, times: list[float],
              check_cancelled: Callable[[], None]) -> Iterator[np.ndarray]:
    for t in times:
        check_cancelled()
        yield crossfade(key_a, key_b, t)


def interpolate_segment(
    key_a: np.ndarray,
    key_b: np.ndarray,
    times: list[float],
    sketches: dict[int, np.ndarray],
    check_cancelled: Callable[[], None],
) -> Iterator[np.ndarray]:
    """Yield one RGBA frame per time, in order. `sketches` maps a position in `times` to a sketch.

    `check_cancelled` raises when the job was cancelled; it is called between frames and
    between the expensive stages. Blank, transparent or tiny keys fall back to a cross-fade,
    and so does any failure of the method itself (the default backend must always deliver;
    the failure is logged), but never a cancellation.
    """
    from .sketch import plan_with_sketches  # local: keeps the import graph one-directional

    key_a = np.ascontiguousarray(key_a, dtype=np.uint8)
    key_b = np.ascontiguousarray(key_b, dtype=np.uint8)
    times = list(times)
    if (min(key_a.shape[:2]) < MIN_SIDE or not _usable(key_a) or not _usable(key_b)):
        yield from _dissolve(key_a, key_b, times, check_cancelled)
        return
    cancelled = False

    def check() -> None:
        nonlocal cancelled
        try:
            check_cancelled()
        except BaseException:
            cancelled = True
            raise

    frames = plan_with_sketches(key_a, key_b, times, sketches, check)
    done = 0
    while done < len(times):
        try:
            frame = next(frames)
        except StopIteration:
            break
        except Exception:
            if cancelled:
                raise
            log.exception("flow in-betweening failed; cross-fading the rest of the segment")
            yield from _dissolve(key_a, key_b, times[done:], check_cancelled)
            return
        done += 1
        yield frame
