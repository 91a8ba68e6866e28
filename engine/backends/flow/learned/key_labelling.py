"""One key's fills matched to bones: which fill is the character's and rides on which bone,
and which is the background's (the rules, and what each is worth, are in the docstring of
`pose_layers.py`, which composes both keys' labels into the frames)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
from scipy import ndimage as ndi

from ..segmentation import MIN_REGION_AREA, Segmentation, segment
from .bone_geometry import carry, distance_to_bone, ends, median_bone_length, mover, sample_points
from .pose_flow import Bone, Joint

#: A fill is the character's when more than half its pixels lie this close to a bone
#: (in the skeleton's median bone length: about a limb's or a head's width).
REACH = 0.7
#: A bone's core (same unit): a part drawn there is in front of that bone's part.
CORE = 0.22
#: Outline pixels (px) this close to a character fill are drawn with it.
LINE_REACH = 6.0
#: A region no deeper than this (px from its border) is a stroke: an outline network runs
#: along several parts, so its pixels go with the nearest fill (or bone), not as one region.
STROKE_RADIUS = 3.5
#: Beyond LINE_REACH, an outline's pixels still join its part for this many more px along
#: the outline (a corner or an end cap, where the outline is thicker than at a side).
OUTLINE_RUN = 4
#: How much better (mean absolute difference, 0-255, over the fill and a ring of `RING` px
#: around it, so its outline counts) one explanation of a fill must be than the other to
#: move it between the character and the background.
MARGIN = 30.0
RING = 3
#: Largest fill (in squared median bone lengths) that may join the character.
GROW_AREA = 3.0
GROW_ROUNDS = 3
#: A fill grows onto the character only when its bone carries it onto the other key this
#: well (mean absolute difference, as `MARGIN`), or when at least `SEEN` of it would show in
#: the other key under the background's motion: more than `SEEN_REACH` reaches from every
#: bone there. (A window pane beside the head that the head covers in the other key: the
#: background looks worse only because the head hides it, and the head carries it onto a
#: wall at 44.)
GROW_FIT = 40.0
#: In line art a white fill fits white anywhere: it grows only when its bone also carries
#: its ink (and its outline's) onto the other key's this well (as `GROW_FIT`, over the
#: pixels where either key has ink).
GROW_FIT_INK = 100.0
SEEN = 0.5
SEEN_REACH = 1.5
#: A fill its nearest bone does not carry onto itself in the other key (a prop held near
#: another limb) goes to the bone that does, when that is clearly better.
RELABEL = True
#: A fill leaves the bone that claims it (the nearest, or its neighbour's) for another only
#: when that one carries it onto the other key clearly better: by `SWITCH_BY` and to at most
#: `SWITCH_RATIO` of the difference. (A white fill of line art fits most bones about as
#: well; a head drawn beside a raised forearm fits its own bone at 12 against the arm's 38.)
SWITCH_BY = 15.0
SWITCH_RATIO = 0.5
#: A fill of a colour key that neither its bone nor the background shows in the other key
#: within this (mean absolute difference, as `MARGIN`) is not known to ride on the bone
#: nearest it: it is left unlabelled, for the props and the loose pieces to find (a hammer's
#: head held beside the face had gone with the head, so no prop was found at the wrist).
#: Not in line art, where a white fill's colour tells no bone apart and the wide fills
#: left out tore the background.
UNEXPLAINED = 60.0
#: A thin fill lighter than ink (Lab L above this, 0-255) is a shaft or a blade, not an
#: outline: it may join the character beside it like a fill.
INK_L = 70.0
#: A pixel darker than this (0-255 mean of RGB) is a stroke, for line art.
STROKE_GREY = 200
#: Mean channel spread (0-255) below which a key is grey: line art.
LINE_ART_SPREAD = 2.0


@dataclass(frozen=True)
class KeyParts:
    """One key's part labels (-1 background, else an index into the bones) and each bone's
    distance field, at the labelling size."""

    labels: np.ndarray
    distances: np.ndarray


def is_line_art(rgb: np.ndarray) -> bool:
    """Grey (no channel apart by more than `LINE_ART_SPREAD` on average) and mostly light."""
    spread = np.abs(rgb[..., 0] - rgb[..., 1]) + np.abs(rgb[..., 1] - rgb[..., 2])
    return bool(spread.mean() < LINE_ART_SPREAD and (rgb.mean(2) >= STROKE_GREY).mean() > 0.5)


def _fill_pixels(seg: Segmentation, r: int, ring: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The pixels (x, y as float32) of fill `r`, and of a ring of `ring` px around it."""
    h, w = seg.labels.shape
    x0, y0, x1, y1 = seg.bbox[r].astype(int)
    x0, y0 = max(0, x0 - ring), max(0, y0 - ring)
    x1, y1 = min(w - 1, x1 + ring), min(h - 1, y1 + ring)
    sub = (seg.labels[y0:y1 + 1, x0:x1 + 1] == r)
    if ring > 0:
        sub = cv2.dilate(sub.astype(np.uint8), np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)).astype(bool)
    ys, xs = np.nonzero(sub)
    return (xs + x0).astype(np.float32), (ys + y0).astype(np.float32)


def _shown_error(other: np.ndarray, xs: np.ndarray, ys: np.ndarray, own: np.ndarray,
                 own_ink: np.ndarray | None = None) -> float:
    """Mean absolute RGB difference between `own` and the other key at (xs, ys); with
    `own_ink`, over the points where either has ink only (line art)."""
    there = sample_points(other, xs, ys)
    diff = np.abs(there - own)
    if own_ink is not None:
        ink = own_ink | (there.mean(1) < STROKE_GREY)
        if ink.any():
            return float(diff[ink].mean())
    return float(diff.mean())


def _region_error(seg: Segmentation, r: int, key: np.ndarray, other: np.ndarray,
                  motion: tuple[tuple[Joint, Joint], tuple[Joint, Joint]],
                  shift: tuple[float, float], ink_only: bool = False) -> tuple[float, float]:
    """How well the other key shows fill `r` (and its outline) where the bone carries it,
    and where the background's motion takes it. `ink_only` (line art): over the pixels
    where either key has ink only, since white lands on white anywhere (a window pane
    carried onto the white of a head fits it as well as the head does)."""
    xs, ys = _fill_pixels(seg, r, RING)
    own = key[ys.astype(int), xs.astype(int)]
    own_ink = own.mean(1) < STROKE_GREY

    def err(x: np.ndarray, y: np.ndarray) -> float:
        return _shown_error(other, x, y, own, own_ink if ink_only else None)

    bx, by = carry(xs, ys, *motion)
    return err(bx, by), err(xs + shift[0], ys + shift[1])


def _covering_part(seg: Segmentation, r: int, other_labels: np.ndarray,
                   pose: Sequence[Joint], other_pose: Sequence[Joint], bones: Sequence[Bone]
                   ) -> int | None:
    """The bone whose part, in the other key, covers most of fill `r` where that bone carries
    it (more than half), if any."""
    xs, ys = _fill_pixels(seg, r)
    labels = other_labels.astype(np.float32, copy=False)
    best, share = None, 0.5
    for b, bone in enumerate(bones):
        moving = mover(bone, (pose, other_pose))
        cx, cy = carry(xs, ys, ends(pose, moving), ends(other_pose, moving))
        covered = float((sample_points(labels, cx, cy, cv2.INTER_NEAREST, -1.0) == b).mean())
        if covered > share:
            best, share = b, covered
    return best


class KeyLabelling:
    """One key's fills matched to bones, kept after the first pass: the second pass (with
    the other key's labels) only adds the fills the other key's parts cover, and redoes the
    per-pixel outline labels, instead of segmenting and matching the key again."""

    def __init__(self, key: np.ndarray, pose: Sequence[Joint], other: np.ndarray,
                 other_pose: Sequence[Joint], bones: Sequence[Bone],
                 shift: tuple[float, float]) -> None:
        """`key` is RGBA uint8 at the labelling size (poses in its pixels); `other` is the
        other key and `shift` the background's motion from this key to it. A key larger than
        `MAX_LABEL_SIDE` comes reduced; its pixel sizes are taken as a drawing's of that size."""
        self.key, self.pose, self.other_pose, self.bones = key, pose, other_pose, bones
        h, w = key.shape[:2]
        ys, xs = np.mgrid[:h, :w].astype(np.float32)
        self.grid = xs, ys  # both keys' pixels (they are the same size)
        self.distances = np.stack([distance_to_bone(xs, ys, *ends(pose, b)) for b in bones])
        self.nearest, self.near = self.distances.argmin(0), self.distances.min(0)
        self.bone_len = median_bone_length(pose, bones)
        self.reach = REACH * self.bone_len
        self.seg = seg = segment(key)
        lab = seg.labels
        n = int(lab.max()) + 1
        flat = lab.ravel()
        close = (self.near < self.reach).ravel().astype(np.float64)
        inreach = np.bincount(flat, close, n) / np.maximum(seg.area, 1.0)
        votes = np.zeros((n, len(bones)))
        np.add.at(votes, (flat, self.nearest.ravel()), close)
        part = np.full(n, -1, np.int64)
        self.stroke_region = seg.thin | (seg.depth_radius < STROKE_RADIUS)
        chosen = (inreach > 0.5) & ~self.stroke_region
        chosen[0] = False
        if key.shape[2] == 4:
            chosen &= np.bincount(flat, key[..., 3].ravel().astype(np.float64), n) / np.maximum(seg.area, 1.0) > 127
        part[chosen] = votes[chosen].argmax(1)
        self.rgb = key[..., :3].astype(np.float32)  # float once, for every fill's errors
        #: Grey strokes on a light ground: fills are matched on their ink (`_region_error`).
        self.line_art = is_line_art(self.rgb)
        self._there = other[..., :3].astype(np.float32)
        #: The background's motion from this key to the other.
        self.shift = shift
        #: The key's alpha, None for an opaque key.
        self.alpha = key[..., 3] if key.shape[2] == 4 else None
        self._other_near: np.ndarray | None = None
        weak_reach = np.zeros(n, bool)
        for r in np.nonzero(part >= 0)[0]:
            on_bone, on_background = self._errors(int(r), int(part[r]))
            if RELABEL and on_bone > SWITCH_BY:  # a prop near another limb: the bone that carries it
                part[r], (on_bone, on_background) = self._better_bone(int(r), int(part[r]), range(len(bones)))
            if on_background + MARGIN < on_bone:  # a patch of background the bones' reach took in
                part[r] = -1
            elif on_background < min(on_bone, GROW_FIT) and self._background_seen(int(r)) >= SEEN:
                part[r] = -1  # or one the background shows well in the other key, and better
            elif not self.line_art and min(on_bone, on_background) > UNEXPLAINED:
                part[r] = -1  # shown by neither: left to the props and loose pieces
            elif on_bone >= GROW_FIT:
                weak_reach[r] = True
        border = np.zeros(n, bool)
        border[np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))] = True
        shaft = (seg.color[:, 0] > INK_L) & (seg.area >= MIN_REGION_AREA)  # not a speck
        self.may_join = ((~self.stroke_region | shaft) & ~border
                         & (seg.area <= GROW_AREA * self.bone_len ** 2))
        self.may_join[0] = False
        #: Pixels not of the background's wide fills (those touching the edge or larger than
        #: a part): where a prop may be drawn.
        wide = border | (seg.area > GROW_AREA * self.bone_len ** 2)
        wide[0] = False  # boundary pixels: a pole's edges
        self.loose = ~wide[lab]
        #: Fills that joined a bone its motion does not show well in the other key (grown on
        #: because the background would show them there): the loose pieces may take them.
        self.weak = np.zeros(n, bool)
        #: Fills within a bone's reach whose bone does not show them well in the other key
        #: either (a tail hanging beside a thigh, a sword along a forearm).
        self.weak_reach = weak_reach
        #: The fills' bones and the pixel labels `parts` gave last (`pixels_of`).
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        for _ in range(GROW_ROUNDS):  # ears, tails, props: fills beside the character
            grown = False
            for r in np.nonzero(self.may_join & (part < 0))[0]:
                beside = [int(part[q]) for q in seg.neighbours[r] if part[q] >= 0]
                if not beside:
                    continue
                b = max(set(beside), key=beside.count)  # or a bone beside it that carries it better
                b, (on_bone, on_background) = self._better_bone(int(r), b, self._near_bones(int(r), self.reach))
                if on_bone + MARGIN < on_background and \
                        (on_bone < GROW_FIT or self._background_seen(int(r)) >= SEEN) and \
                        (not self.line_art or self._errors(int(r), b, True)[0] < GROW_FIT_INK):
                    part[r], grown = b, True
                    self.weak[r] = on_bone >= GROW_FIT
            if not grown:
                break
        self.fill_parts = part

    def _better_bone(self, r: int, b: int, others: Sequence[int]) -> tuple[int, tuple[float, float]]:
        """Bone `b`, or the one of `others` that carries fill `r` clearly better (see
        `SWITCH_BY`), with its errors (on the bone, on the background)."""
        errs = {c: self._errors(r, c) for c in {b, *others}}
        best = min(errs, key=lambda c: errs[c][0])
        if errs[best][0] + SWITCH_BY < errs[b][0] and errs[best][0] < SWITCH_RATIO * errs[b][0]:
            b = best
        return b, errs[b]

    def _background_seen(self, r: int) -> float:
        """The share of fill `r` that the background's motion takes where the other key can
        show background (far from its bones), so that the background's error means something."""
        if self._other_near is None:  # once per key, only when a fill needs it
            self._other_near = np.min([distance_to_bone(*self.grid, *ends(self.other_pose, b))
                                       for b in self.bones], 0)
        xs, ys = _fill_pixels(self.seg, r)
        d = sample_points(self._other_near, xs + self.shift[0], ys + self.shift[1])
        return float((d > SEEN_REACH * self.reach).mean())

    def background_error(self, r: int, ink_only: bool = False) -> float:
        """How badly the other key shows fill `r` where the background's motion takes it;
        `ink_only`: fill `r` and its outline, over the pixels where either key has ink."""
        xs, ys = _fill_pixels(self.seg, r, RING if ink_only else 0)
        own = self.rgb[ys.astype(int), xs.astype(int)]
        return _shown_error(self._there, xs + self.shift[0], ys + self.shift[1], own,
                            own.mean(1) < STROKE_GREY if ink_only else None)

    def _near_bones(self, r: int, within: float) -> list[int]:
        """The bones that pass within `within` px of fill `r`."""
        xs, ys = _fill_pixels(self.seg, r)
        least = self.distances[:, ys.astype(int), xs.astype(int)].min(1)
        return [int(c) for c in np.nonzero(least < within)[0]]

    def _errors(self, r: int, b: int, ink_only: bool = False) -> tuple[float, float]:
        moving = mover(self.bones[b], (self.pose, self.other_pose))
        return _region_error(self.seg, r, self.rgb, self._there,
                             (ends(self.pose, moving), ends(self.other_pose, moving)), self.shift,
                             ink_only)

    def parts(self, other_labels: np.ndarray | None = None) -> KeyParts:
        """Per-pixel part labels. `other_labels`, the other key's labels from a first pass,
        lets a fill that part of the character there covers join it (a prop the first pass
        left out in one key only), and a fill take the bone the other key gives it."""
        part = self.fill_parts
        if other_labels is not None:  # a fill the other key's part covers where its bone carries it
            part = part.copy()
            other_labels = other_labels.astype(np.float32)  # once, not per fill and bone
            for r in np.nonzero(self.may_join & (part < 0))[0]:
                b = _covering_part(self.seg, int(r), other_labels, self.pose, self.other_pose, self.bones)
                if b is not None:
                    on_bone, on_background = self._errors(int(r), b)
                    if on_bone + MARGIN < on_background:
                        part[r] = b
            # a fill the other key shows under another bone, which carries it there as well:
            # that bone (else each key draws the fill with its own bone: twice, apart)
            for r in np.nonzero((part >= 0) & ~self.stroke_region)[0]:
                c = _covering_part(self.seg, int(r), other_labels, self.pose, self.other_pose, self.bones)
                if c is not None and c != part[r] and \
                        self._errors(int(r), c)[0] <= self._errors(int(r), int(part[r]))[0]:
                    part[r] = c
        labels = self._pixel_labels(part)
        self._last = part, labels
        return KeyParts(labels.astype(np.int16), self.distances)

    def pixels_of(self, fills: np.ndarray) -> np.ndarray:
        """The pixels the last `parts` labelled from `fills` (per fill, e.g. `weak`): their
        own and the outline pixels that went with them."""
        if self._last is None:
            raise RuntimeError("pixels_of before parts")
        part, labels = self._last
        fills = fills & (part >= 0)
        if not fills.any():
            return np.zeros(labels.shape, bool)
        return labels != self._pixel_labels(np.where(fills, -1, part))

    def _pixel_labels(self, part: np.ndarray) -> np.ndarray:
        """Fills' labels per pixel, with outlines and colour edges going with the fill they
        bound, and line art's strokes near a bone with the bone."""
        key, lab = self.key, self.seg.labels
        stroke_region = self.stroke_region
        labels = part[lab]
        body = labels >= 0
        if body.any():
            d, (iy, ix) = ndi.distance_transform_edt(~body, return_indices=True)
            edge = ~(part >= 0)[lab] & (d <= LINE_REACH)
            if key.shape[2] == 4:
                edge &= key[..., 3] > 0
            labels = np.where(edge, labels[iy, ix], labels)
            if OUTLINE_RUN > 0:  # and on along the outline they are drawn with, around corners
                along = stroke_region[lab] & (labels < 0)
                if key.shape[2] == 4:
                    along &= key[..., 3] > 0
                cross = np.ones((3, 3), np.uint8)
                for _ in range(OUTLINE_RUN):
                    spread = cv2.dilate((labels + 1).astype(np.uint8), cross).astype(np.int64) - 1
                    take = along & (spread >= 0)
                    if not take.any():
                        break
                    labels = np.where(take, spread, labels)
                    along &= ~take
        stroke = key[..., :3].mean(2) < STROKE_GREY
        if key.shape[2] == 4:
            stroke &= key[..., 3] > 127
        lonely = (labels < 0) & stroke & (self.near < self.reach) & stroke_region[lab]
        return np.where(lonely, self.nearest, labels)


def front_scores(parts: Sequence[KeyParts], bone_len: float, count: int) -> np.ndarray:
    """Per bone: how much its part lies over other bones' cores, less how much others lie
    over its own (higher is nearer the viewer)."""
    over = np.zeros((count, count))
    for kp in parts:
        for c in range(len(kp.distances)):  # a prop's bone has no core
            drawn = kp.labels[(kp.distances[c] < CORE * bone_len) & (kp.labels >= 0)]
            seen = np.bincount(drawn, minlength=count)[:count].astype(np.float64)
            seen[c] = 0.0
            over[:, c] += seen
    return (over - over.T).sum(1)
