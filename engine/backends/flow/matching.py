"""Match flat colour regions of one drawing to those of another.

In cel animation a part keeps its fill colour between keys while its position, size and
shape change moderately, and its neighbours stay its neighbours. The cost of pairing two
regions mixes colour, area, shape, position and (in a second pass) agreement of the motion
with the motion of already matched neighbours. A one-to-one assignment (Hungarian) with a
"no partner" option per region handles parts that appear or disappear (occlusion).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .segmentation import Segmentation

#: Cost of leaving a region without a partner; a pair costing more is never chosen.
UNMATCHED_COST = 1.3
_BIG = 1e6


def _shape(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elongation (log ratio of principal axes) and orientation (radians) per region."""
    a, b, c = cov[:, 0, 0], cov[:, 1, 1], cov[:, 0, 1]
    tr = (a + b) / 2.0
    det = np.sqrt(np.maximum(((a - b) / 2.0) ** 2 + c * c, 0.0))
    l1, l2 = tr + det, np.maximum(tr - det, 1e-6)
    return 0.5 * np.log(np.maximum(l1, 1e-6) / l2), 0.5 * np.arctan2(2 * c, a - b)


def pair_costs(
    sa: Segmentation,
    sb: Segmentation,
    ia: np.ndarray,
    ib: np.ndarray,
    use_color: bool = True,
    expected_shift: np.ndarray | None = None,
) -> np.ndarray:
    """Cost matrix (len(ia) x len(ib)) of pairing regions; _BIG where the pair is implausible.

    `expected_shift` (len(ia) x 2) is the displacement the neighbours of each region of `sa`
    suggest; when given, deviating from it costs (the neighbourhood term).
    """
    h, w = sa.labels.shape
    diag = float(np.hypot(h, w))
    area_a, area_b = sa.area[ia][:, None], sb.area[ib][None, :]
    c_area = np.abs(np.log(area_a / area_b))
    ea, _ = _shape(sa.cov[ia])
    eb, _ = _shape(sb.cov[ib])
    c_shape = np.abs(ea[:, None] - eb[None, :])
    d = sb.centroid[ib][None, :, :] - sa.centroid[ia][:, None, :]
    if expected_shift is not None:
        dev = np.hypot(*(d - expected_shift[:, None, :]).transpose(2, 0, 1))
        # scale by region size: a large region's centroid moves more when partly hidden
        size = np.sqrt(np.maximum(area_a, area_b)) + 0.02 * diag
        c_pos = 0.5 * dev / size
    else:
        c_pos = np.hypot(d[..., 0], d[..., 1]) / (0.35 * diag)
    cost = 0.35 * c_area + 0.25 * c_shape + 0.4 * c_pos
    if use_color:
        dc = sa.color[ia][:, None, :] - sb.color[ib][None, :, :]
        c_col = np.sqrt((dc[..., :3] ** 2).sum(-1)) / 12.0 + np.abs(dc[..., 3]) / 64.0
        cost = cost + 0.5 * c_col
        cost[c_col > 2.0] = _BIG  # fills keep their colour between keys
    cost[c_area > np.log(6.0)] = _BIG
    return cost


def _assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one assignment where each row or column may also stay unmatched."""
    n, m = cost.shape
    if n == 0 or m == 0:
        return []
    big = np.full((n + m, m + n), _BIG)
    big[:n, :m] = cost
    big[:n, m:] = np.where(np.eye(n) > 0, UNMATCHED_COST, _BIG)
    big[n:, :m] = np.where(np.eye(m) > 0, UNMATCHED_COST, _BIG)
    big[n:, m:] = 0.0
    rows, cols = linear_sum_assignment(big)
    return [(r, c) for r, c in zip(rows, cols) if r < n and c < m and cost[r, c] < UNMATCHED_COST]


def match_regions(
    sa: Segmentation, sb: Segmentation, use_color: bool = True, passes: int = 2
) -> np.ndarray:
    """Partner in `sb` of every region of `sa` (array of length sa.count, -1 for none).

    The first pass pairs by appearance and rough position; the next ones re-pair with the
    displacement predicted by matched neighbours, which fixes swaps between look-alike parts
    (two hands, two shoes) and keeps a limb with its body.
    """
    ia, ib = sa.matchable(), sb.matchable()
    partner = np.full(sa.count, -1, np.int64)
    if len(ia) == 0 or len(ib) == 0:
        return partner
    # weight by area so large, reliable regions dominate the global motion guess
    expected = None
    for _ in range(max(1, passes)):
        cost = pair_costs(sa, sb, ia, ib, use_color, expected)
        pairs = _assign(cost)
        partner[:] = -1
        for r, c in pairs:
            partner[ia[r]] = ib[c]
        expected = _neighbour_shift(sa, sb, partner, ia)
    return partner


def _neighbour_shift(
    sa: Segmentation, sb: Segmentation, partner: np.ndarray, ia: np.ndarray
) -> np.ndarray:
    """Displacement of each region suggested by its matched neighbours (median), else global."""
    shift = np.zeros((sa.count, 2))
    has = partner >= 0
    shift[has] = sb.centroid[partner[has]] - sa.centroid[has]
    if has.any():
        order = np.argsort(-sa.area[has])
        top = shift[has][order[: max(3, len(order) // 3)]]
        global_shift = np.median(top, axis=0)
    else:
        global_shift = np.zeros(2)
    out = np.empty((len(ia), 2))
    for k, i in enumerate(ia):
        nb = [j for j in sa.neighbours[i] if partner[j] >= 0]
        if partner[i] >= 0:
            nb.append(int(i))
        if nb:
            out[k] = np.median(shift[nb], axis=0)
        else:
            out[k] = global_shift
    return out
