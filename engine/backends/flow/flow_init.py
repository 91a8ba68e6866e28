"""Dense flow between two cel drawings: region matches give the motion, DIS the detail.

For every matched region several motion hypotheses are formed: an affine map from the
regions' moments, a translation of the centroid, translations that align each corner of
the bounding boxes (a part half hidden in one key keeps its visible corner), the mean of
plain DIS flow inside the region, plain DIS per pixel, and no motion. Each is scored by how
well it lays the region's border onto its partner's border (both ways), and the best wins;
the match-based ones must win clearly. This picks the moment-based motion for a flat disc
that DIS cannot see move, and DIS for a large background region whose centroid jumps
because a character hides part of it. Outlines and tiny regions take the motion of the
fill they outline. Then plain DIS is fused back in per pixel where it explains the colours
clearly better and is consistent both ways (fine, non-rigid motion), and every region is
regularised to one robust affine motion so a fill moves as one piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .segmentation import THIN_RADIUS, Segmentation, fill_from_regions

#: Colour distance (Lab) under which an unmatched region's pixel "lands on the same colour".
_COLOR_AGREE = 18.0
#: Width (pixels) of the band along a region's border that scores a motion hypothesis.
BAND_PX = 3.0
#: How much better (fraction of border pixels) a match-based motion must fit than DIS's.
MATCH_MARGIN = 0.1
#: Colour error margin (sum of Lab+alpha differences, local mean) for plain DIS to win a pixel.
FUSE_MARGIN = 3.0


def make_dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> cv2.DISOpticalFlow:
    """DIS instance; one per call keeps the function re-entrant across worker threads."""
    return cv2.DISOpticalFlow_create(preset)


def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate grids (x, y) as float32."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return gx, gy


def backward_warp(img: np.ndarray, flow: np.ndarray, interp: int = cv2.INTER_LINEAR) -> np.ndarray:
    """img sampled at x + flow(x) (replicated border)."""
    gx, gy = grid(*flow.shape[:2])
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], interp,
                     borderMode=cv2.BORDER_REPLICATE)


def _rot(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def moment_affines(sa: Segmentation, sb: Segmentation, partner: np.ndarray) -> np.ndarray:
    """(R, 2, 3) affine per region of `sa` mapping it onto its partner by matching moments.

    The principal axes are rotated onto the partner's with the smaller of the two possible
    rotations (an ellipse's axes have no sign), and scaled per axis; near-round regions get
    an isotropic scale and no rotation since their orientation is noise.
    """
    n = sa.count
    out = np.zeros((n, 2, 3))
    out[:, 0, 0] = out[:, 1, 1] = 1.0
    idx = np.flatnonzero(partner >= 0)
    if len(idx) == 0:
        return out
    j = partner[idx]
    ca, cb = sa.cov[idx], sb.cov[j]
    la, va = np.linalg.eigh(ca)  # ascending eigenvalues
    lb, _ = np.linalg.eigh(cb)
    la, lb = np.maximum(la, 0.25), np.maximum(lb, 0.25)
    tha = np.arctan2(va[:, 1, 1], va[:, 0, 1])  # major axis angle
    vb = np.linalg.eigh(cb)[1]
    thb = np.arctan2(vb[:, 1, 1], vb[:, 0, 1])
    delta = (thb - tha + np.pi / 2) % np.pi - np.pi / 2
    elong_a = 0.5 * np.log(la[:, 1] / la[:, 0])
    elong_b = 0.5 * np.log(lb[:, 1] / lb[:, 0])
    round_ = np.minimum(elong_a, elong_b) < 0.2
    s_major = np.sqrt(lb[:, 1] / la[:, 1])
    s_minor = np.sqrt(lb[:, 0] / la[:, 0])
    iso = np.sqrt(sb.area[j] / sa.area[idx])
    s_major = np.where(round_, iso, s_major)
    s_minor = np.where(round_, iso, s_minor)
    delta = np.where(round_, 0.0, delta)
    s_major, s_minor = np.clip(s_major, 0.5, 2.0), np.clip(s_minor, 0.5, 2.0)
    scale = np.zeros((len(idx), 2, 2))
    scale[:, 0, 0], scale[:, 1, 1] = s_major, s_minor
    lin = _rot(tha + delta) @ scale @ _rot(-tha)
    c_a, c_b = sa.centroid[idx], sb.centroid[j]
    out[idx, :, :2] = lin
    out[idx, :, 2] = c_b - np.einsum("nij,nj->ni", lin, c_a)
    return out


def _affine_flow(labels: np.ndarray, aff: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    m = aff[labels].astype(np.float32)  # H x W x 2 x 3
    fx = m[..., 0, 0] * gx + m[..., 0, 1] * gy + m[..., 0, 2] - gx
    fy = m[..., 1, 0] * gx + m[..., 1, 1] * gy + m[..., 1, 2] - gy
    return np.stack([fx, fy], -1)


def _translation_flow(labels: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return shift[labels].astype(np.float32)


def _agreement(
    flow: np.ndarray, sa: Segmentation, sb: Segmentation, partner: np.ndarray,
    gx: np.ndarray, gy: np.ndarray,
) -> np.ndarray:
    """Per region of `sa`: how well `flow` lays its border onto its partner's border.

    Only pixels near a region's border are scored (the interior of a large region lands
    inside its partner under almost any motion); each must land inside the partner region,
    near its border. Regions without partner must land on the same colour instead.
    """
    h, w = sa.labels.shape
    band_px = max(1.5, BAND_PX * sa.unit)
    band = sa.border_dist <= band_px
    ys, xs = np.nonzero(band)
    lab_a = sa.labels[ys, xs]
    fl = flow[ys, xs]
    tx = np.rint(xs + fl[:, 0]).astype(np.int32)
    ty = np.rint(ys + fl[:, 1]).astype(np.int32)
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    tx, ty = np.clip(tx, 0, w - 1), np.clip(ty, 0, h - 1)
    want = partner[lab_a]
    ok = (sb.labels[ty, tx] == want) & (want >= 0) & (sb.border_dist[ty, tx] <= 2 * band_px)
    un = want < 0
    if un.any():
        d = np.abs(sb.lab[ty[un], tx[un]] - sa.color[lab_a[un]].astype(np.float32))
        ok[un] = d[:, :3].sum(-1) + 0.5 * d[:, 3] < _COLOR_AGREE
    ok &= inside
    hit = np.bincount(lab_a, ok.astype(np.float64), sa.count)
    cnt = np.bincount(lab_a, minlength=sa.count).astype(np.float64)
    frac = hit / np.maximum(cnt, 1.0)
    # and how much of the partner's border gets covered: a part that is partly hidden in
    # one key must line up with the border that both keys show, not spill past it
    covered = np.zeros((h, w), np.uint8)
    covered[ty[ok], tx[ok]] = 1
    covered = cv2.dilate(covered, np.ones((3, 3), np.uint8)).astype(bool)
    band_b = sb.border_dist <= band_px
    lab_b = sb.labels[band_b]
    cov_b = np.bincount(lab_b, covered[band_b].astype(np.float64), sb.count)
    cov_b /= np.maximum(np.bincount(lab_b, minlength=sb.count), 1)
    cov = np.where(partner >= 0, cov_b[np.maximum(partner, 0)], frac)
    return 0.5 * (frac + cov)


@dataclass
class FlowResult:
    flow: np.ndarray  # H x W x 2 float32, a -> b
    chosen: np.ndarray  # (R,) index of the hypothesis chosen per region of a
    score: np.ndarray  # (R,) its agreement


def region_flow(
    sa: Segmentation,
    sb: Segmentation,
    partner: np.ndarray,
    plain: np.ndarray,
) -> FlowResult:
    """Initial dense flow a -> b from region matches, choosing per region the best hypothesis."""
    h, w = sa.labels.shape
    gx, gy = grid(h, w)
    n = sa.count
    labels = sa.labels
    safe = np.maximum(sa.area, 1.0)
    flat = labels.ravel()
    dis_mean = np.stack(
        [np.bincount(flat, plain[..., c].ravel().astype(np.float64), n) / safe for c in (0, 1)], 1
    )
    shift = np.zeros((n, 2))
    has = partner >= 0
    shift[has] = sb.centroid[partner[has]] - sa.centroid[has]
    cands = [
        _affine_flow(labels, moment_affines(sa, sb, partner), gx, gy),
        _translation_flow(labels, shift),
    ]
    # a partly hidden part keeps the corner that stays visible: align each bbox corner
    for cx, cy in ((0, 1), (2, 1), (0, 3), (2, 3)):
        corner = np.zeros((n, 2))
        corner[has, 0] = sb.bbox[partner[has], cx] - sa.bbox[has, cx]
        corner[has, 1] = sb.bbox[partner[has], cy] - sa.bbox[has, cy]
        cands.append(_translation_flow(labels, corner))
    n_match = len(cands)
    cands += [_translation_flow(labels, dis_mean), plain, np.zeros_like(plain)]
    scores = np.stack([_agreement(f, sa, sb, partner, gx, gy) for f in cands], 0)
    # a region without partner has no match-based hypothesis
    scores[:n_match, ~has] = -1.0
    # DIS is trusted where it explains a region about as well (it sees partial occlusion and
    # parallax that region moments cannot); matches must be clearly better to override it
    prior = np.concatenate([MATCH_MARGIN + 1e-3 * np.arange(n_match), [0.0, 1e-3, 2e-3]])
    prior = prior[:, None]
    chosen = np.argmax(scores - prior, axis=0)
    pick = chosen[labels]
    flow = np.zeros((h, w, 2), np.float32)
    for k, f in enumerate(cands):
        m = pick == k
        flow[m] = f[m]
    aff = fit_affines(labels, flow, n, gx, gy)
    flow = _affine_flow(labels, aff, gx, gy)
    flow = _flow_for_lines(sa, aff, flow, gx, gy)
    return FlowResult(flow, chosen, scores[chosen, np.arange(n)])


def fit_affines(labels: np.ndarray, flow: np.ndarray, n: int, gx: np.ndarray,
                gy: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Robust least-squares affine motion per region (R, 2, 3), regularised to a translation.

    Makes every fill move rigidly-ish (cel fills do), removes the speckle a per-pixel
    hypothesis leaves, and gives outlines a motion they can borrow from the fill they bound.
    Reweighting (Cauchy, 2 px) ignores the part of a large region that DIS dragged along
    with a moving character in front of it.
    """
    flat = labels.ravel()
    x, y = gx.ravel().astype(np.float64), gy.ravel().astype(np.float64)
    v = [flow[..., c].ravel().astype(np.float64) for c in (0, 1)]
    wgt = np.ones_like(x)
    out = np.zeros((n, 2, 3))
    for it in range(iterations):
        cnt = np.maximum(np.bincount(flat, wgt, n), 1e-6)
        mx, my = np.bincount(flat, wgt * x, n) / cnt, np.bincount(flat, wgt * y, n) / cnt
        dx, dy = x - mx[flat], y - my[flat]
        sxx = np.bincount(flat, wgt * dx * dx, n)
        syy = np.bincount(flat, wgt * dy * dy, n)
        sxy = np.bincount(flat, wgt * dx * dy, n)
        lam = 1e-2 * cnt + 1.0  # keeps thin or tiny regions close to a translation
        det = (sxx + lam) * (syy + lam) - sxy * sxy
        res2 = np.zeros_like(x)
        for c in (0, 1):
            mv = np.bincount(flat, wgt * v[c], n) / cnt
            bx = np.bincount(flat, wgt * dx * v[c], n)
            by = np.bincount(flat, wgt * dy * v[c], n)
            ax = ((syy + lam) * bx - sxy * by) / det
            ay = ((sxx + lam) * by - sxy * bx) / det
            # target = p + flow = (I + A)(p - m) + m + mean flow
            out[:, c, 0] = ax + (1.0 if c == 0 else 0.0)
            out[:, c, 1] = ay + (1.0 if c == 1 else 0.0)
            out[:, c, 2] = mv + (mx if c == 0 else my) - out[:, c, 0] * mx - out[:, c, 1] * my
            if it + 1 < iterations:
                res2 += (mv[flat] + ax[flat] * dx + ay[flat] * dy - v[c]) ** 2
        if it + 1 < iterations:
            wgt = 1.0 / (1.0 + res2 / 4.0)
    return out


def _flow_for_lines(sa: Segmentation, aff: np.ndarray, flow: np.ndarray, gx: np.ndarray,
                    gy: np.ndarray, reach: float = 10.0,
                    owned: np.ndarray | None = None) -> np.ndarray:
    """Motion of outline and boundary pixels: that of the smallest fill within `reach` px.

    An outline belongs to the shape it outlines, which is in front of, and smaller than, the
    shape around it (the background is the largest region); giving lines the motion of the
    larger neighbour would leave them behind as streaks.
    """
    # only real fills own lines: a short fragment of an outline's dark core is a region too,
    # and moves like the rest of the line
    owners = ~sa.thin & (sa.depth_radius >= THIN_RADIUS * sa.unit)
    thin_px = ~owners[sa.labels]
    order = np.argsort(np.where(owners, sa.area, np.inf), kind="stable")
    rank = np.empty(sa.count, np.float32)
    rank[order] = np.arange(sa.count, dtype=np.float32)
    big = np.float32(sa.count + 1)
    rank[~owners] = big
    rank_img = rank[sa.labels]
    # + 3: the Sobel boundary band and the dilation below are in work pixels at any scale
    k = 2 * round(reach * sa.unit + (3 if sa.unit < 1.0 else 0)) + 1
    owner_rank = cv2.erode(rank_img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    edge = thin_px
    if sa.unit < 1.0:
        # on a reduced image an outline's outer anti-aliasing falls into the pixels next to
        # it: hand those to the outlined shape too, or they stay behind as a faint halo
        edge = cv2.dilate(thin_px.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    has_owner = edge & (owner_rank < big)
    owner = order[np.minimum(owner_rank, sa.count - 1).astype(np.int64)]
    out = flow.copy()
    own = _affine_flow(owner, aff, gx, gy)
    out[has_owner] = own[has_owner]
    out = fill_from_regions(out, ~thin_px | has_owner)
    if owned is not None:
        owned[...] = has_owner
    return out


def regularize(sa: Segmentation, flow: np.ndarray,
               owned: np.ndarray | None = None) -> np.ndarray:
    """Per-region robust affine fit of a dense flow, outlines moved with their fill.

    Applied to the fused flow, it removes the pixel-level fragments that a per-pixel choice
    between hypotheses leaves (a fill is drawn as one piece, it should move as one).
    `owned` (bool H x W), when given, receives the outline pixels that took a fill's motion.
    """
    h, w = sa.labels.shape
    gx, gy = grid(h, w)
    aff = fit_affines(sa.labels, flow, sa.count, gx, gy)
    out = _affine_flow(sa.labels, aff, gx, gy)
    return _flow_for_lines(sa, aff, out, gx, gy, owned=owned)


def warp_error(img_a: np.ndarray, img_b: np.ndarray, flow: np.ndarray, k: int = 7) -> np.ndarray:
    """Local mean colour error |a(x) - b(x + flow(x))| (float32 H x W)."""
    wb = backward_warp(img_b, flow)
    e = np.abs(img_a - wb)
    e = e.sum(-1) if e.ndim == 3 else e
    return cv2.blur(e, (k, k))


def fuse(img_a: np.ndarray, img_b: np.ndarray, region: np.ndarray, plain: np.ndarray,
         plain_ok: np.ndarray, margin: float = FUSE_MARGIN) -> np.ndarray:
    """Per pixel, the region-based flow unless plain DIS explains the colours clearly better.

    Where there is texture or small motion DIS is precise and wins; on flat fills both
    explain the colours equally and the region motion (which DIS cannot see) is kept.
    `plain_ok` marks pixels where plain DIS is consistent forward and backward: elsewhere
    (areas hidden in the other key) a good colour fit means nothing, the flat background
    fits anywhere, and the region motion is kept.
    """
    ea = warp_error(img_a, img_b, region)
    ep = warp_error(img_a, img_b, plain)
    use_plain = ((ep < ea - margin) & plain_ok).astype(np.uint8)
    use_plain = cv2.medianBlur(use_plain, 5).astype(bool)
    return np.where(use_plain[..., None], plain, region)
