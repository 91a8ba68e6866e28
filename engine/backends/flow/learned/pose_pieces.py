"""Loose pieces: a part beside the character that no bone carries (a tail, a ponytail, a
scarf swinging on its own), moved as one rigid piece found by matching it into the other key.

The part layers (`pose_layers.py`) give a fill to a bone when the bone's motion shows it on
its colour in the other key. A tail swings about the hips by itself, so no bone does: it
stays background, its colours go into the background's plates, and the network's flow of
the wall drags it along, torn, with a copy left at each key's place. So, after the bones
and the props have their pixels:

- **Pieces.** In each key, the pixels no part took that move (the other key does not show
  them where the background goes; in line art, judged on the fill's ink and its outline's,
  since white shows on white anywhere), not of a wide background fill, in one piece that
  touches the character, of a part's size (`PIECE_AREA`).
- **Match.** Each piece is turned (`PIECE_TURNS`, beyond the turn of the bone it hangs
  from: a part it touches or a bone passing near) and shifted (within `PIECE_SEARCH` of
  where that bone carries it) onto the other key's pixels no part took, coarse to fine (a
  sample of its pixels on a coarse grid of turns and shifts, the best few refined). The
  best placement is the piece's when it shows the piece well (`PIECE_MATCH`), clearly
  better than the background's motion does (`PIECE_MARGIN`), and clearly better than any
  placement far from it (`PIECE_DISTINCT`: a round blob fits at every turn, a skirting
  board all along itself). The other key's pixels it lands on, of its colours, and the
  fills they mostly cover join the same piece, outlines included in both keys (and on along
  them for `OUTLINE_RUN` px, round a corner): both keys draw it, and neither leaves a ring
  or a corner of it in the background's plates.
- **Weak fills.** A fill that grew onto a bone whose motion does not show it in the other
  key (`KeyLabelling.weak`: a tail beside a thigh, taken because the background would show
  it there) is the bone's for the first search; a second search lets the pieces take such
  fills, in the key they are in and where they land in the other, so a tail one key grew
  onto a thigh and the other left loose is found whole; a third frees the fills within a
  bone's reach that the bone does not show either (`KeyLabelling.weak_reach`: a tail
  hanging right beside a thigh, a sword along a forearm). Each search keeps what the ones
  before found, so a piece that the fills beside it would spoil (a tail's tip, where the
  tail itself bends; a tail grown past a part's size with the fills next to it) is kept.
- **In-betweens.** The piece rides on its bone, and its own turn and shift beyond the
  bone's are taken by time: a bone of its own, as a prop's.

Measured on celanim and its line art with every frame's true skeleton (36 clips, middle
frame, in-process): see the docstring of `pose_layers.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .bone_geometry import ends, mover, similarity
from .pose_flow import Bone, Joint
from .key_labelling import LINE_REACH, OUTLINE_RUN, STROKE_GREY, KeyLabelling
from .pose_props import PropSide

#: A piece's area (squared median bone lengths): smaller is a speck, larger a background's.
PIECE_AREA = (0.25, 3.0)
#: A piece touches the character: its pixels come this close (px) to a part's.
PIECE_TOUCH = 8.0
#: Turns (degrees) beyond its bone's tried for a piece, from one key to the other.
PIECE_TURNS = np.arange(-90, 91, 6)
#: How far (median bone lengths) from where its bone carries it a piece may land.
PIECE_SEARCH = 1.5
#: Points of a piece compared in the search (the best placement is then checked on all).
PIECE_SAMPLES = 300
#: The best placement shows the piece this well (mean absolute RGB difference, 0-255)...
PIECE_MATCH = 30.0
#: ...and this much better than the background's motion does.
PIECE_MARGIN = 20.0
#: The coarse search (fewer points and shifts) may see a placement this much worse than
#: `PIECE_MATCH`: beyond it none is refined.
PIECE_COARSE_SLACK = 15.0
#: A fill moves when the other key shows it this badly (mean absolute RGB difference)
#: where the background's motion takes it (in line art, over its and its outline's ink).
PIECE_MOVES = 25.0
#: Outline pixels (px) around a piece's fills go with it in the search (all within
#: `LINE_REACH` go with it in its labels).
PIECE_OUTLINE = 3
#: Its best placement must fit this much better (as `PIECE_MATCH`) than any placement turned
#: more than `PIECE_APART` degrees from it (a round blob, a tree's crown, fits at every turn)...
PIECE_DISTINCT = 8.0
PIECE_APART = 30.0
#: ...or shifted more than this (median bone lengths): a long strip fits all along itself.
PIECE_APART_SHIFT = 0.5
#: The cost of a piece's pixel that lands on another part or off the picture (a tail
#: partly behind the body in the other key).
PIECE_HIDDEN = 45.0
#: Length (px) of a piece's bone in the key it was found in (any length gives the same
#: similarity).
PIECE_LENGTH = 50.0


@dataclass(frozen=True)
class PieceMotion:
    """A piece of one key (`from_a`: key A's, else key B's) that hangs from `bone`: seen
    from the bone's motion between the keys, it turns and shifts by the similarity
    z -> `centre` + `shift` + `turn` (z - `centre`) (complex pixel coordinates, in the key
    it was found in, before the bone's motion)."""

    bone: Bone
    centre: complex
    shift: complex
    turn: complex
    from_a: bool

    def joints(self, pose_from: Sequence[Joint], pose_at: Sequence[Joint], s: float
               ) -> tuple[Joint, Joint]:
        """The piece's bone (start, end) at share `s` of its own motion, carried by its bone
        from `pose_from` (the key it was found in) to `pose_at`."""
        turn = abs(self.turn) ** s * np.exp(1j * s * np.angle(self.turn))
        start = self.centre + s * self.shift
        r, b = similarity(ends(pose_from, self.bone), ends(pose_at, self.bone))
        ends_ = [r * z + b for z in (start, start + turn * PIECE_LENGTH)]
        return ((float(ends_[0].real), float(ends_[0].imag), 1.0),
                (float(ends_[1].real), float(ends_[1].imag), 1.0))


def _pieces(keys: KeyLabelling, side: PropSide, labels: np.ndarray, alpha: np.ndarray | None
            ) -> list[np.ndarray]:
    """The key's loose pieces (masks) touching the character: fills no part took, mostly
    moving, that may join the character (`KeyLabelling`), joined with their neighbours of the
    same kind, with the outline pixels around them."""
    seg, bone_len = keys.seg, keys.bone_len
    lab = seg.labels
    n = len(seg.area)
    flat = lab.ravel()
    free = labels < 0
    area = np.maximum(seg.area, 1.0)
    free_share = np.bincount(flat, free.ravel().astype(np.float64), n) / area
    cand = keys.may_join & (free_share > 0.5)
    if alpha is not None:
        cand &= np.bincount(flat, alpha.ravel().astype(np.float64), n) / area > 127
    cand[0] = False
    for r in np.nonzero(cand)[0]:  # moving: the other key does not show it at the background's motion
        cand[r] = keys.background_error(int(r), keys.line_art) > PIECE_MOVES
    body = (~free).astype(np.uint8)
    if not body.any() or not cand.any():
        return []
    near_body = cv2.distanceTransform(1 - body, cv2.DIST_L2, 3) <= PIECE_TOUCH
    edge = free & side.moving & (keys.stroke_region[lab] | (lab == 0))
    k = 2 * PIECE_OUTLINE + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    lo, hi = PIECE_AREA[0] * bone_len ** 2, PIECE_AREA[1] * bone_len ** 2
    seen = np.zeros(n, bool)
    out = []
    for r0 in np.nonzero(cand)[0]:
        if seen[r0]:
            continue
        group, todo = [], [int(r0)]
        seen[r0] = True
        while todo:
            r = todo.pop()
            group.append(r)
            for q in seg.neighbours[r]:
                if cand[q] and not seen[q]:
                    seen[q] = True
                    todo.append(int(q))
        inner = np.isin(lab, group) & free
        mask = inner | (edge & (cv2.dilate(inner.astype(np.uint8), disk) > 0))
        if lo <= mask.sum() <= hi and (mask & near_body).any():
            out.append(mask)
    return out


def _hangers(mask: np.ndarray, labels: np.ndarray, keys: KeyLabelling) -> list[int]:
    """The parts the piece touches (within `PIECE_TOUCH`) and the bones passing within a
    bone's length of it: what it may hang from (a tail from the hips, behind the hand)."""
    k = int(2 * PIECE_TOUCH + 1)
    ring = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    nb = len(keys.bones)
    near = labels[ring & (labels >= 0) & (labels < nb)]
    out = set(np.unique(near).tolist())
    ys, xs = np.nonzero(mask)
    least = keys.distances[:, ys, xs].min(1)
    out |= set(np.nonzero(least < keys.bone_len)[0].tolist())
    return sorted(int(b) for b in out)


class _Landing:
    """The other key as the search sees it: its colours where no part took the pixel, else
    hidden (`PIECE_HIDDEN`), one table row per pixel and a last row for off the picture."""

    def __init__(self, rgb: np.ndarray, free: np.ndarray) -> None:
        self.h, self.w = free.shape
        table = np.zeros((self.h * self.w + 1, 4), np.float32)
        table[:-1, :3] = rgb.reshape(-1, 3)
        table[:-1, 3] = ~free.ravel()
        table[-1, 3] = 1.0
        self.table = table

    def cost(self, own: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Per point: the colour difference (mean absolute RGB, 0-255) to the pixel it lands
        on, or `PIECE_HIDDEN` where that is another part's or off the picture."""
        xi, yi = np.rint(px).astype(np.int32), np.rint(py).astype(np.int32)
        idx = yi * self.w + xi
        idx[(xi < 0) | (xi >= self.w) | (yi < 0) | (yi >= self.h)] = self.h * self.w
        got = self.table[idx]
        diff = np.abs(got[..., :3] - own).mean(-1)
        return np.where(got[..., 3] > 0, np.float32(PIECE_HIDDEN), diff)

    def search(self, zs: np.ndarray, own: np.ndarray, base: complex, turns: np.ndarray,
               shifts: np.ndarray) -> np.ndarray:
        """Mean cost (turns x shifts) of the points `zs` (relative to the piece's centre)
        turned by each of `turns` and placed at `base` + each of `shifts`."""
        pts = base + shifts[None, :, None] + (turns[:, None] * zs[None, :])[:, None, :]
        return self.cost(own, pts.real, pts.imag).mean(-1)


def _match(mask: np.ndarray, rgb: np.ndarray, there: _Landing, r: complex, b: complex,
           bone_len: float) -> tuple[float, complex, complex, float] | None:
    """The best placement of the piece in the other key, coarse to fine: (cost, shift, turn,
    distinct), the piece's centre c going to r c + b + shift and its pixels turned by `turn`
    about it. `distinct`: how much worse the best placement far from it fits (`PIECE_APART`,
    `PIECE_APART_SHIFT`). None for an empty piece."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    z = xs + 1j * ys
    c = z.mean()
    rng = np.random.default_rng(0)
    pick = rng.choice(len(z), min(PIECE_SAMPLES, len(z)), replace=False)
    zs, own = z[pick] - c, rgb[ys[pick], xs[pick]]
    base = r * c + b  # where the bone carries the centre
    unit = r / abs(r)
    reach = PIECE_SEARCH * bone_len
    coarse = max(2.0, bone_len / 5.0)
    offs = np.arange(-reach, reach + 1e-6, coarse)
    shifts = (offs[None, :] + 1j * offs[:, None]).ravel()
    degs = PIECE_TURNS[::2]
    few = PIECE_SAMPLES // 3  # the coarse pass ranks placements: fewer points do
    cost = there.search(zs[:few], own[:few], base, unit * np.exp(1j * np.deg2rad(degs)), shifts)
    # refine the few best coarse placements: finer turns and shifts
    fine = max(1.0, bone_len / 15.0)
    around = np.arange(-coarse, coarse + 1e-6, fine)
    local = (around[None, :] + 1j * around[:, None]).ravel()
    step = float(PIECE_TURNS[1] - PIECE_TURNS[0])

    def refined(flat: np.ndarray) -> tuple[float, complex, complex]:
        out = (np.inf, 0j, 1 + 0j)
        for i in flat:
            ti, si = np.unravel_index(int(i), cost.shape)
            turns = unit * np.exp(1j * np.deg2rad(degs[ti] + np.arange(-step, step + 1e-6, step / 2)))
            cand = shifts[si] + local
            got = there.search(zs, own, base, turns, cand)
            tj, sj = np.unravel_index(int(got.argmin()), got.shape)
            if got[tj, sj] < out[0]:
                out = (float(got[tj, sj]), cand[sj], turns[tj])
        return out

    order = np.argsort(cost, axis=None)
    if cost.min() > PIECE_MATCH + PIECE_COARSE_SLACK:  # no placement near: none can do
        return float(cost.min()), 0j, complex(unit), 0.0
    best = refined(order[:3])
    if best[0] > PIECE_MATCH:
        return best[0], complex(best[1]), complex(best[2]), 0.0
    # the best placement far from it (turned or shifted), refined alike: a round blob fits
    # at any turn, a long strip (a skirting board) anywhere along itself
    turn_of, shift_of = np.unravel_index(order, cost.shape)
    far = ((np.abs(degs[turn_of] - degs[turn_of[0]]) > PIECE_APART)
           | (np.abs(shifts[shift_of] - shifts[shift_of[0]]) > PIECE_APART_SHIFT * bone_len))
    distinct = refined(order[far][:3])[0] - best[0] if far.any() else 0.0
    _, shift, turn = best
    full = float(there.search(z - c, rgb[ys, xs], base, np.array([turn]), np.array([shift]))[0, 0])
    return full, complex(shift), complex(turn), distinct


def _near(points: tuple[np.ndarray, np.ndarray], z: complex, radius: float) -> bool:
    """Whether any of `points` (ys, xs) lies within `radius` of `z`."""
    ys, xs = points
    return bool(len(xs)) and bool((np.hypot(xs - z.real, ys - z.imag) <= radius).any())


def _with_outline(mask: np.ndarray, free: np.ndarray, alpha: np.ndarray | None,
                  ink: np.ndarray) -> np.ndarray:
    """`mask` and the free pixels within `LINE_REACH` of it (its outline, anti-aliased edge
    and all, as a part's fills take theirs), and on along its free `ink` for `OUTLINE_RUN` px
    (a corner's outline reaches farther): left out, the plates keep a ring of it, and a
    corner of it stays behind at the key's place."""
    near = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 3) <= LINE_REACH
    out = mask | (near & free)
    along = ink & free & ~out
    cross = np.ones((3, 3), np.uint8)
    for _ in range(OUTLINE_RUN):
        take = along & (cv2.dilate(out.astype(np.uint8), cross) > 0)
        if not take.any():
            break
        out |= take
        along &= ~take
    return out & (alpha > 0) if alpha is not None else out


def _whole_fills(take: np.ndarray, fills: np.ndarray, free: np.ndarray) -> np.ndarray:
    """`take` with every fill (`fills`: a segmentation's labels) it covers most of, whole
    (its free pixels): a piece turned a little off still takes all of its own fills."""
    n = int(fills.max()) + 1
    flat = fills.ravel()
    share = np.bincount(flat, take.ravel().astype(np.float64), n) / np.maximum(
        np.bincount(flat, free.ravel().astype(np.float64), n), 1.0)
    share[0] = 0.0
    return take | ((share > 0.5)[fills] & free)


@dataclass(frozen=True)
class _Search:
    """One search for the pieces of one key (`from_a`: key A's): with the weak pixels of
    both keys free (none in the first search), and the pixels this search frees beyond the
    one before (None in the first)."""

    from_a: bool
    weak_here: np.ndarray
    weak_there: np.ndarray
    new_here: np.ndarray | None
    new_there: np.ndarray | None


def _searches(keys_a: KeyLabelling, keys_b: KeyLabelling, la: np.ndarray, lb: np.ndarray,
              n_body: int) -> list[_Search]:
    """Each key's searches, in order: first as the keys' labels have them; then with the
    weak fills free (`KeyLabelling.weak`: a tail that one key grew onto a thigh); then with
    the weak fills within a bone's reach free too (`KeyLabelling.weak_reach`: a tail hanging
    beside a thigh, a sword along a forearm). Each keeps what the ones before found, so a
    piece that the weak fills beside it would spoil (a tail's tip whose tail bends; a tail
    that, with the weak fills near it, grows beyond a part's size) is kept. A search that
    frees nothing new is left out."""
    body_a, body_b = (la >= 0) & (la < n_body), (lb >= 0) & (lb < n_body)
    none = np.zeros(la.shape, bool)
    levels = [(none, none)]
    for fills in (lambda k: k.weak, lambda k: k.weak | k.weak_reach):
        wa, wb = keys_a.pixels_of(fills(keys_a)) & body_a, keys_b.pixels_of(fills(keys_b)) & body_b
        if (wa & ~levels[-1][0]).any() or (wb & ~levels[-1][1]).any():
            levels.append((wa, wb))
    out = []
    for k, (wa, wb) in enumerate(levels):
        new_a, new_b = (wa & ~levels[k - 1][0], wb & ~levels[k - 1][1]) if k else (None, None)
        out += [_Search(True, wa, wb, new_a, new_b), _Search(False, wb, wa, new_b, new_a)]
    return out


def find_pieces(keys_a: KeyLabelling, keys_b: KeyLabelling, a: PropSide, b: PropSide,
                labels_a: np.ndarray, labels_b: np.ndarray, first_label: int
                ) -> tuple[np.ndarray, np.ndarray, list[PieceMotion]]:
    """Both keys' labels (the parts' and the props') with each loose piece labelled
    `first_label + k`, and the pieces (at the labelling size). `a`, `b` are the keys as the
    props saw them."""
    la, lb = labels_a.copy(), labels_b.copy()
    side_a, side_b = a, b  # (`b` is a bone's offset below)
    found: list[PieceMotion] = []
    bones, bone_len = keys_a.bones, keys_a.bone_len
    xs, ys = keys_a.grid  # both keys' pixels
    n_body = len(bones)

    def free_of(lab: np.ndarray, weak: np.ndarray) -> np.ndarray:
        """Pixels no part took, or a weak fill's that no piece took yet."""
        return (lab < 0) | (weak & (lab < n_body))

    for search in _searches(keys_a, keys_b, la, lb, n_body):
        from_a, weak_here, weak_there = search.from_a, search.weak_here, search.weak_there
        keys, other_keys, side, other, lab_here, lab_there = \
            (keys_a, keys_b, side_a, side_b, la, lb) if from_a else (keys_b, keys_a, side_b, side_a, lb, la)
        alpha, other_alpha, sh = keys.alpha, other_keys.alpha, keys.shift
        here, there, p_here, p_there = side.rgb, other.rgb, side.pose, other.pose
        landing = _Landing(there, free_of(lab_there, weak_there))
        # the other key's pixels this search frees: a piece searched before as it is now is
        # searched again only where it may land on them
        freed = None if search.new_there is None else np.nonzero(search.new_there)
        for mask in _pieces(keys, side, np.where(free_of(lab_here, weak_here), -1, lab_here), alpha):
            if not free_of(lab_here[mask], weak_here[mask]).all():
                continue  # taken by a piece found from the other key
            again = freed is not None and not search.new_here[mask].any()
            if again:
                my, mx = np.nonzero(mask)
                centre = complex(mx.mean(), my.mean())
                within = PIECE_SEARCH * bone_len + float(np.abs(mx + 1j * my - centre).max())
            best = None
            for hang in _hangers(mask, lab_here, keys):
                bone = mover(bones[hang], (p_here, p_there))
                r, b = similarity(ends(p_here, bone), ends(p_there, bone))
                if again and not _near(freed, r * centre + b, within):
                    continue  # nothing freed where it can land: as searched before
                got = _match(mask, here, landing, r, b, bone_len)
                if got is not None and (best is None or got[0] < best[0][0]):
                    best = (got, bone, r, b, hang)
            if best is None:
                continue
            (cost, shift_, turn, distinct), bone, r, b, hang = best
            py, px = np.nonzero(mask)
            own = here[py, px]
            # where the background's motion takes it, the other key's parts hide it: that
            # counts as a poor showing (a tree's crown behind a tail there is no piece)
            on_background = float(landing.cost(own, px + sh[0], py + sh[1]).mean())
            if cost > PIECE_MATCH or cost + PIECE_MARGIN > on_background or distinct < PIECE_DISTINCT:
                continue
            k = first_label + len(found)
            # the other key's free pixels the piece lands on, of its colours
            c = (px + 1j * py).mean()
            base = r * c + b + shift_
            inv = 1.0 / turn
            zq = (xs + 1j * ys) - base
            src = c + inv * zq
            sx, sy = src.real.astype(np.float32), src.imag.astype(np.float32)
            inside = cv2.remap(mask.astype(np.uint8), sx, sy, cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
            col = cv2.remap(here, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            free_there = free_of(lab_there, weak_there)
            take = inside & free_there & (np.abs(col - there).mean(2) < PIECE_MATCH + 10)
            take = _whole_fills(take, other_keys.seg.labels, free_there)
            lab_here[_with_outline(mask, free_of(lab_here, weak_here), alpha, here.mean(2) < STROKE_GREY)] = k
            lab_there[_with_outline(take, free_there, other_alpha, there.mean(2) < STROKE_GREY)] = k
            landing = _Landing(there, free_of(lab_there, weak_there))
            # the piece's own motion beyond its bone's, in the key's frame: the bone's motion
            # z -> r z + b sends the piece to turn (z - c) + base; relative to the bone that
            # is z -> c + shift_rel + (turn / r) (z - c)
            rel_turn = turn / r
            rel_shift = (base - b) / r - c
            found.append(PieceMotion(bone, complex(c), complex(rel_shift), complex(rel_turn), from_a))
    return la, lb, found
