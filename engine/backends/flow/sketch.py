"""Sparse sketch guidance: a rough line drawing at an in-between fixes the pose there.

The keys alone give a prediction P of the frame at the sketch's time. The sketch says where
the lines really are. `correction_flow` finds the motion that carries P's outlines onto the
sketch's strokes: DIS between line images (thin dark strokes picked out by a black-hat
filter, blurred so rough strokes attract from a distance), restricted to P's lines near the
sketch (a sketch draws the character, not the background), then regularised to one affine
motion per region of P so each part moves as a piece. A pose change beyond DIS's reach is
first taken up by one shift that lays P's lines onto the sketch's. That correction bends the
keys' pixel paths: it is carried back to each key along the motion and added to the
displacement before splatting, fully at the sketch's time and fading linearly to the keys
(and to neighbouring sketches). So the sketched frame shows the keys' colours in the
sketch's pose, occlusion is handled as for any motion, the frames around it curve through
that pose, and the sketch's grey strokes never reach the output. A bend that stretches a
fill would leave rows of it unreached, filled by the background behind it (transparent
streaks): bent frames are splatted from sub-pixel spots (splatting.splat_backflow).

Tried and dropped (measured worse on the synthetic set): matching the sketch's closed
regions to P's regions. Rough strokes leave gaps, so the sketch's regions leak into each
other and the matches drag parts the wrong way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator

import cv2
import numpy as np

from .flow_init import backward_warp, make_dis, region_flow, regularize
from .matching import match_regions
from .segmentation import segment
from .splatting import unpremultiply

if TYPE_CHECKING:
    from .interpolate import PairModel

#: Side of the square that picks thin dark strokes out of an image (black-hat transform).
_STROKE_KERNEL = 9
#: Blur (sigma, pixels) of line images before DIS: wider basins for rough, offset strokes.
_LINE_SIGMA = 2.0
#: Experiment, off: also match the sketch's closed regions to the prediction's (see above).
USE_REGIONS = False
#: Distance (drawing pixels) from the sketch's strokes within which the prediction may move.
_NEAR_PX = 32
#: Align the prediction's lines with the sketch's by one shift before DIS (large pose changes).
GLOBAL_SHIFT = True
#: Largest such shift (drawing pixels) searched.
_SHIFT_PX = 128
#: Blur (sigma, drawing pixels) of the line images for that search.
_SHIFT_SIGMA = 6.0
#: How much better (normalised correlation) the shift must fit than none.
_SHIFT_MARGIN = 0.15
#: Extra passes of the correction (each re-predicts the sketched frame with it).
REFINE_PASSES = 0


def sketch_darkness(sketch: np.ndarray) -> np.ndarray:
    """Ink amount 0-255 (uint8) of a sketch given as gray, RGB or RGBA (transparent = paper)."""
    s = sketch
    if s.ndim == 2:
        gray = s.astype(np.float32)
    else:
        rgb = s[..., :3].astype(np.float32)
        if s.shape[2] == 4:
            a = s[..., 3:4].astype(np.float32) / 255.0
            rgb = rgb * a + 255.0 * (1.0 - a)
        gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(255.0 - gray, 0, 255).astype(np.uint8)


def stroke_image(darkness: np.ndarray) -> np.ndarray:
    """Thin dark structures only (black-hat): outlines, not dark fills; uint8."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_STROKE_KERNEL, _STROKE_KERNEL))
    # black-hat on the gray image == top-hat on darkness
    return cv2.morphologyEx(darkness, cv2.MORPH_TOPHAT, k)


def _line_input(strokes: np.ndarray) -> np.ndarray:
    f = cv2.GaussianBlur(strokes.astype(np.float32), (0, 0), _LINE_SIGMA)
    m = float(f.max())
    return np.clip(f * (255.0 / max(m, 1.0)), 0, 255).astype(np.uint8)


def _sketch_rgba(strokes: np.ndarray) -> np.ndarray:
    """The sketch as a black-on-white RGBA drawing, strokes thickened to close small gaps."""
    ink = (strokes > 40).astype(np.uint8)
    ink = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    gray = np.where(ink > 0, 0, 255).astype(np.uint8)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def correction_flow(pred_rgba: np.ndarray, sketch: np.ndarray, unit: float = 1.0
                    ) -> np.ndarray:
    """Forward flow h on the prediction's grid: a pixel y of the prediction belongs at
    y + h(y) in the sketched pose. Zero when either image has no strokes. `unit` is the
    size of a drawing pixel in these images' pixels (0.5 when they are reduced copies).

    A sketch draws only what it is about (usually the character, not the background), so
    only the prediction's lines near the sketch's strokes take part, and the correction
    fades to zero away from them.
    """
    shape = pred_rgba.shape[:2] + (2,)
    s_strokes = stroke_image(sketch_darkness(sketch))
    if s_strokes.max() < 40:
        return np.zeros(shape, np.float32)
    reach = max(3, int(round(_NEAR_PX * unit)))
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    near = cv2.dilate((s_strokes > 40).astype(np.uint8), ker)
    p_all = stroke_image(sketch_darkness(pred_rgba))
    # a pose change larger than DIS's reach: first the shift that best lays the prediction's
    # lines onto the sketch's, then DIS for what is left
    dx, dy = _global_shift(p_all, s_strokes, unit) if GLOBAL_SHIFT else (0, 0)
    to_s = np.float32([[1, 0, dx], [0, 1, dy]])  # prediction -> sketch
    wh = (shape[1], shape[0])
    near_p = cv2.warpAffine(near, to_s, wh, flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    p_strokes = p_all * near_p
    if p_strokes.max() < 40:
        return np.zeros(shape, np.float32)
    ls, lp = _line_input(s_strokes), _line_input(p_strokes)
    lp = cv2.warpAffine(lp, to_s, wh, flags=cv2.INTER_NEAREST)
    dis = make_dis()
    h = dis.calc(lp, ls, None)
    if dx or dy:
        h = backward_warp(h, np.broadcast_to(np.float32([dx, dy]), shape).copy())
        h += np.float32([dx, dy])
    seg_p = segment(pred_rgba, unit)
    if USE_REGIONS:
        seg_s = segment(_sketch_rgba(s_strokes), unit)
        partner = match_regions(seg_p, seg_s, use_color=False)
        # only parts the sketch draws: inside the strokes' reach, and not the paper around
        inside = np.bincount(seg_p.labels.ravel(), near_p.ravel().astype(np.float64),
                             seg_p.count) / np.maximum(seg_p.area, 1.0)
        paper = int(np.argmax(seg_s.area))
        drop = (inside < 0.9) | (partner == paper) | (seg_p.area >= seg_p.area.max())
        partner[drop] = -1
        h = region_flow(seg_p, seg_s, partner, h).flow
    # each part of the prediction moves as one piece; nothing moves far from the sketch
    h = regularize(seg_p, h)
    fade = cv2.GaussianBlur(near_p.astype(np.float32), (0, 0), reach / 2.0)
    return h * np.minimum(fade * 2.0, 1.0)[..., None]


def _global_shift(p_strokes: np.ndarray, s_strokes: np.ndarray, unit: float
                  ) -> tuple[int, int]:
    """Integer shift d (work pixels) with the prediction's lines at y near the sketch's at
    y + d: the sketch's strokes (their bounding box) are searched for in the prediction's
    blurred line image. (0, 0) unless the shift fits clearly better than none."""
    hh, ww = s_strokes.shape
    ys, xs = np.nonzero(s_strokes > 40)
    if len(xs) == 0:
        return 0, 0
    sig = _SHIFT_SIGMA * unit
    pad = int(round(3 * sig))
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, ww)
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, hh)
    m = int(round(_SHIFT_PX * unit))
    ps = cv2.GaussianBlur(p_strokes.astype(np.float32), (0, 0), sig)
    ss = cv2.GaussianBlur(s_strokes.astype(np.float32), (0, 0), sig)
    tpl = ss[y0:y1, x0:x1]
    if float(tpl.std()) < 1e-3 or float(ps.max()) < 1e-3:
        return 0, 0
    big = cv2.copyMakeBorder(ps, m, m, m, m, cv2.BORDER_CONSTANT, value=0.0)
    area = big[y0:y1 + 2 * m, x0:x1 + 2 * m]
    res = cv2.matchTemplate(area, tpl, cv2.TM_CCORR_NORMED)
    _, best, _, loc = cv2.minMaxLoc(res)
    none = float(res[m, m])
    # the sketch's content sits in the prediction at offset (loc - m): d = -(loc - m)
    dx, dy = m - loc[0], m - loc[1]
    # within DIS's reach the line flow does better on its own (a sketch's strokes carry
    # their own small offset, which a global shift would copy onto the whole frame)
    if best < none + _SHIFT_MARGIN or np.hypot(dx, dy) < _NEAR_PX * unit:
        return 0, 0
    return dx, dy


class SketchPlan:
    """Sketch corrections of one segment, turned into path bends for any time."""

    def __init__(self, model: "PairModel", anchors: list[tuple[float, np.ndarray]]) -> None:
        self.model = model
        self.anchors = anchors
        # each correction lives on the predicted frame's grid at its time; carry it back to
        # the keys' grids along the motion (where each key pixel is at that time)
        self.on_a = [backward_warp(h, tk * model.f_ab) for tk, h in anchors]
        self.on_b = [backward_warp(h, (1.0 - tk) * model.f_ba) for tk, h in anchors]

    def bends(self, t: float) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(extra displacement of key a's pixels, of key b's pixels) at time t."""
        ea = eb = None
        for wgt, ha, hb in zip(_weights([tk for tk, _ in self.anchors], t), self.on_a,
                               self.on_b):
            if wgt <= 0.0:
                continue
            ea = ha * wgt if ea is None else ea + ha * wgt
            eb = hb * wgt if eb is None else eb + hb * wgt
        return ea, eb


def plan_with_sketches(
    key_a: np.ndarray,
    key_b: np.ndarray,
    times: list[float],
    sketches: dict[int, np.ndarray],
    check_cancelled: Callable[[], None],
) -> Iterator[np.ndarray]:
    """Frames for `times`, bent through the pose of every sketch given (see module doc)."""
    from .interpolate import PairModel  # interpolate imports this module lazily

    model = PairModel(key_a, key_b, check_cancelled)
    anchors: list[tuple[float, np.ndarray]] = []
    for pos in sorted(sketches):
        if not 0 <= pos < len(times):
            continue
        sk = np.asarray(sketches[pos])
        if sk.ndim not in (2, 3) or sk.shape[:2] != key_a.shape[:2]:
            continue
        check_cancelled()
        t = times[pos]
        sk_work, unit = model.to_work(sk), 1.0 / model.scale
        h = correction_flow(model.to_work(model.frame(t)), sk_work, unit)
        for _ in range(REFINE_PASSES):
            # predict again with the correction so far; what is left is smaller and closer
            check_cancelled()
            bent = SketchPlan(model, [(t, h)]).bends(t)
            pred = model.to_work(unpremultiply(model.frame_premultiplied(t, *bent)))
            h2 = correction_flow(pred, sk_work, unit)
            h = h + backward_warp(h2, h)
        anchors.append((t, h))
    plan = SketchPlan(model, anchors)
    for t in times:
        check_cancelled()
        ea, eb = plan.bends(t)
        yield unpremultiply(model.frame_premultiplied(t, ea, eb))


def _weights(anchor_times: list[float], t: float) -> list[float]:
    """How much each sketch bends the frame at t: 1 at its own time, falling linearly to 0
    at the keys and at the neighbouring sketches (a sketch pulls only the frames around it)."""
    ts = [0.0] + anchor_times + [1.0]
    out = []
    for i, tk in enumerate(anchor_times):
        lo, hi = ts[i], ts[i + 2]
        if t <= tk:
            wgt = (t - lo) / max(tk - lo, 1e-6)
        else:
            wgt = (hi - t) / max(hi - tk, 1e-6)
        out.append(float(np.clip(wgt, 0.0, 1.0)))
    return out
