"""Poses as part layers: every fill of a key belongs to a bone (or to the background), and an
in-between with a pose takes each of its pixels from the part whose bone brings it there.

A cel character is a stack of flat parts (head, torso, limbs, props held in a hand) that ride
on its bones. Knowing the skeleton of a key and of an in-between, the part of a bone goes where
the bone's similarity (rotation, scale, translation: the bone at t onto the bone in the key)
carries it. Per key:

- **Labels.** The key is split into flat fills (`segmentation.segment`); a fill most of whose
  pixels lie within `REACH` of the skeleton belongs to the bone most of them are nearest,
  unless another bone carries it onto itself in the other key clearly better (a prop held
  near the other hand goes with the hand that holds it; `SWITCH_BY`). A fill the bones
  picked that the background explains clearly better (a patch of wall between an arm and the
  body) leaves, as does one it explains better and well where the other key shows it. Fills beside the character, beyond every bone's reach (an ear, a tail, a
  sword blade, a mop's shaft and head: a thin fill lighter than ink counts, an outline does
  not), join the bone of their neighbour or a bone passing near them that carries them
  clearly better (a head beside a raised forearm), when their bone carries them well or the
  background would show them in the other key (`GROW_FIT`, `SEEN`: a window pane beside the
  head, hidden by the head in the other key, stays the wall's), or the bone of the part
  that covers them in the other key, when the other key shows them there clearly better
  than where the background goes (the background's motion is the network's, away from the character). A
  fill that the other key shows under another bone, which carries it as well, takes that
  bone, so both keys draw it from the same one. Outlines go with the fills they bound;
  strokes of line art near a bone with the bone.
- **Props.** A prop held in a hand whose pole the segmentation cut into specks (a flag, an
  axe, a mop) is found per pixel near each wrist and becomes a bone of its own, from the
  wrist, turned with the forearm and by the extra turn the keys show (`pose_props.py`).
- **Head.** The head's bones and the neck-nose bone carry their parts by the similarity
  fitted to all the face's joints (`with_head_frame`), not by one short bone's.
- **Depth.** A part drawn over another bone's core (the pixels right on that bone) is in
  front of it: counted over both keys, this orders the parts, back to front.

At time t every pixel asks each bone, back to front, whether the key's pixel it would come
from belongs to that bone (a *claim*); the front-most bone that either key claims the pixel
for wins, and the pixel is drawn from the keys that claim it (both: blended by time). The
others are background: the network's flow, from a key whose source pixel is background
(never a piece of the character left behind); where neither key shows background there (what
the character covered in both), the frame is filled from the background around (`hole`).
The background's flow is the network's between the keys' *plates* (`background_plates`: the
character painted over with the wall the other key shows there): run on the keys themselves,
the network drags the wall next to the character along with it (a window tilted with a head,
a fence torn on a pan).

Measured on celanim and its line art with every frame's true skeleton (36 clips, middle frame,
in-process, LPIPS / chamfer): 0.0597 / 7.5 and 0.0700 / 9.5, against 0.0938 / 13.9 and
0.1062 / 18.4 for moving only the pixels near the bones (`pose_flow.py`) and 0.1070 / 17.7 and
0.1175 / 22.2 without poses. Each rule's share on celanim (line art): the background's flow
from the plates 0.0689 -> 0.0601 (0.0851 -> 0.0702; large motion 0.0870 -> 0.0648); a fill
leaving for a background that shows it well 0.0601 -> 0.0597 (0.0702 -> 0.0700); the head's frame
0.0695 -> 0.0689 (0.0859 -> 0.0851: a head's outline single where the eye-nose bones, 17
degrees apart, drew it twice); growing only when carried well or the background is in view
0.0718 -> 0.0695 (0.0867 -> 0.0859); props held in a hand
0.0764 -> 0.0718 (0.0899 -> 0.0867: a flag on a pole drawn once and whole, an axe's head
less ghosted; 0.28 s per pair); thin fills lighter than
ink joining 0.0787 -> 0.0764 (0.0914 -> 0.0899); one bone for a fill in both keys 0.0792 ->
0.0787 (no change); switching to a clearly better-carrying bone, also while growing, 0.0810 ->
0.0792 (0.0920 -> 0.0914); filling the hole from the background only, not by inpainting from
the character's outlines, 0.0836 -> 0.0810 (0.0955 -> 0.0920: the outlines had smudged into
the gap); relabelling by the carrying bone 0.0856 -> 0.0836, the other key's covering part
0.0864 -> 0.0856, growing fills 0.0922 -> 0.0886; outlines as strokes rather than regions
0.0881 -> 0.0861 (and a body's outline no longer goes with an arm); `OUTLINE_RUN` costs 0.0003
and removes the flecks an end cap's outline left at the keys' places. Tried and dropped: a
smaller margin (12: 0.0904; 45 gives the same as 30), a ring of 5 px (0.0890), taking only the
nearer key where both claim and disagree (no change), the nearer key's claims before the
other's (no change), layers only where the network's motion is far from the bones' (0.0875
against 0.0889 then, at the best threshold chosen on the same clips: not kept); while growing,
the best-carrying of all bones rather than of those nearby (line art 0.0914 -> 0.0988: a white
fill fits a far bone as well, and a sword's blade went with a leg); switching without the
`SWITCH_RATIO` test (line art 0.0948); per background fill, the translation (of a masked
search between the keys' backgrounds: a pan's parallax layers) that explains it better than
the network's motion (0.0799 against 0.0797, line art 0.0914 against 0.0918, 0.1 s more: the
pan's timing is the camera's ease, which two keys do not show). For props: a search over the
whole picture, not only the pixels held near a wrist (a pan's fence posts matched: 0.020
and 0.015 worse on two clips), a prop bone in the fill labelling (the pole's 1-px fills cannot join),
turns up to 180 degrees (false props at 110-160), requiring every piece of the prop to reach
the hand (an axe's and a mop's heads lost), boundary pixels loose only beside loose fills
(0.0741), growing the prop by a 2-px ring (no change). For the head: the neck joint in the
fit (0.0696, line art 0.0860), the frame for the bones between face joints only, not the
neck-nose bone most of a head's fills are nearest (0.0698, 0.0860). For growing: only the
fit, without the test of the background in view (0.0697, 0.0861: a ponytail left behind).
For the background: the network's flow smoothed over from beyond the character's reach
(0.0673, but a prop or a tail the labels miss then stays behind: 0.015 worse on two clips,
and line art no better), per pixel the smoothed or the network's flow, whichever makes the
keys agree (0.0679; line art 0.0852), per pixel the pan's translation where it makes the
keys agree better (0.0676, with torn tails and window bars); a residual flow (DIS) between
the two keys' carried parts (0.0695); the hole filled from the nearest background pixel
(0.0705); inside the plates' background flow, the keys' network flow kept for small fills
the labels miss (0.0685).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch
from scipy import ndimage as ndi

from ..segmentation import MIN_REGION_AREA, Segmentation, segment
from .bone_geometry import (carry, distance_to_bone, ends, median_bone_length, mover, sample_points,
                            with_head_frame)
from .pose_flow import Bone, Joint, common_bones
from .pose_props import PropTurn, find_props, label_props, sides

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
SEEN = 0.5
SEEN_REACH = 1.5
#: A fill its nearest bone does not carry onto itself in the other key (a prop held near
#: another limb) goes to the bone that does, when that is clearly better.
RELABEL = True
#: Longest side the labelling works at; larger keys are labelled reduced.
MAX_LABEL_SIDE = 1024
#: Spreads (px) of the background that fills what the character covered in both keys.
HOLE_SIGMAS = (4.0, 16.0, 64.0, 256.0)
#: A fill leaves the bone that claims it (the nearest, or its neighbour's) for another only
#: when that one carries it onto the other key clearly better: by `SWITCH_BY` and to at most
#: `SWITCH_RATIO` of the difference. (A white fill of line art fits most bones about as
#: well; a head drawn beside a raised forearm fits its own bone at 12 against the arm's 38.)
SWITCH_BY = 15.0
SWITCH_RATIO = 0.5
#: A thin fill lighter than ink (Lab L above this, 0-255) is a shaft or a blade, not an
#: outline: it may join the character beside it like a fill.
INK_L = 70.0
#: A pixel darker than this (0-255 mean of RGB) is a stroke, for line art.
STROKE_GREY = 200

@dataclass(frozen=True)
class KeyParts:
    """One key's part labels (-1 background, else an index into the bones) and each bone's
    distance field, at the labelling size."""

    labels: np.ndarray
    distances: np.ndarray


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


def _region_error(seg: Segmentation, r: int, key: np.ndarray, other: np.ndarray,
                  motion: tuple[tuple[Joint, Joint], tuple[Joint, Joint]],
                  shift: tuple[float, float]) -> tuple[float, float]:
    """How well the other key shows fill `r` (and its outline) where the bone carries it,
    and where the background's motion takes it."""
    xs, ys = _fill_pixels(seg, r, RING)
    own = key[ys.astype(int), xs.astype(int)]

    def err(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.abs(sample_points(other, x, y) - own).mean())

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
        self._there = other[..., :3].astype(np.float32)
        self._shift = shift
        self._other_near: np.ndarray | None = None
        for r in np.nonzero(part >= 0)[0]:
            on_bone, on_background = self._errors(int(r), int(part[r]))
            if RELABEL and on_bone > SWITCH_BY:  # a prop near another limb: the bone that carries it
                part[r], (on_bone, on_background) = self._better_bone(int(r), int(part[r]), range(len(bones)))
            if on_background + MARGIN < on_bone:  # a patch of background the bones' reach took in
                part[r] = -1
            elif on_background < min(on_bone, GROW_FIT) and self._background_seen(int(r)) >= SEEN:
                part[r] = -1  # or one the background shows well in the other key, and better
        border = np.zeros(n, bool)
        border[np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))] = True
        shaft = (seg.color[:, 0] > INK_L) & (seg.area >= MIN_REGION_AREA)  # not a speck
        self._may_join = ((~self.stroke_region | shaft) & ~border
                          & (seg.area <= GROW_AREA * self.bone_len ** 2))
        self._may_join[0] = False
        #: Pixels not of the background's wide fills (those touching the edge or larger than
        #: a part): where a prop may be drawn.
        wide = border | (seg.area > GROW_AREA * self.bone_len ** 2)
        wide[0] = False  # boundary pixels: a pole's edges
        self.loose = ~wide[lab]
        for _ in range(GROW_ROUNDS):  # ears, tails, props: fills beside the character
            grown = False
            for r in np.nonzero(self._may_join & (part < 0))[0]:
                beside = [int(part[q]) for q in seg.neighbours[r] if part[q] >= 0]
                if not beside:
                    continue
                b = max(set(beside), key=beside.count)  # or a bone beside it that carries it better
                b, (on_bone, on_background) = self._better_bone(int(r), b, self._near_bones(int(r), self.reach))
                if on_bone + MARGIN < on_background and \
                        (on_bone < GROW_FIT or self._background_seen(int(r)) >= SEEN):
                    part[r], grown = b, True
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
            oh, ow = self._there.shape[:2]
            ys, xs = np.mgrid[:oh, :ow].astype(np.float32)
            self._other_near = np.min([distance_to_bone(xs, ys, *ends(self.other_pose, b))
                                       for b in self.bones], 0)
        xs, ys = _fill_pixels(self.seg, r)
        d = sample_points(self._other_near, xs + self._shift[0], ys + self._shift[1])
        return float((d > SEEN_REACH * self.reach).mean())

    def _near_bones(self, r: int, within: float) -> list[int]:
        """The bones that pass within `within` px of fill `r`."""
        xs, ys = _fill_pixels(self.seg, r)
        least = self.distances[:, ys.astype(int), xs.astype(int)].min(1)
        return [int(c) for c in np.nonzero(least < within)[0]]

    def _errors(self, r: int, b: int) -> tuple[float, float]:
        moving = mover(self.bones[b], (self.pose, self.other_pose))
        return _region_error(self.seg, r, self.rgb, self._there,
                             (ends(self.pose, moving), ends(self.other_pose, moving)), self._shift)

    def parts(self, other_labels: np.ndarray | None = None) -> KeyParts:
        """Per-pixel part labels. `other_labels`, the other key's labels from a first pass,
        lets a fill that part of the character there covers join it (a prop the first pass
        left out in one key only), and a fill take the bone the other key gives it."""
        part = self.fill_parts
        if other_labels is not None:  # a fill the other key's part covers where its bone carries it
            part = part.copy()
            other_labels = other_labels.astype(np.float32)  # once, not per fill and bone
            for r in np.nonzero(self._may_join & (part < 0))[0]:
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
        return KeyParts(self._pixel_labels(part).astype(np.int16), self.distances)

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


@dataclass
class LayeredFlows:
    """Backward flows to each key, the share of key A per pixel, the pixels neither key can
    show (to be filled from around) and the background ones (what fills them)."""

    flow_a: torch.Tensor
    flow_b: torch.Tensor
    share_a: torch.Tensor
    hole: np.ndarray
    background: np.ndarray


def _to_flow(sx: np.ndarray, sy: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack((sx - xs, sy - ys)).astype(np.float32))[None]


def _sample_labels(labels: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Labels (float32 already on the hot path: no copy) at the maps (sx, sy), -1 outside."""
    return cv2.remap(labels.astype(np.float32, copy=False), sx, sy, cv2.INTER_NEAREST,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)


@dataclass(frozen=True)
class _PairParts:
    """Both keys' part labels (float32, -1 background) at the keys' size and the parts'
    front scores."""

    labels_a: np.ndarray
    labels_b: np.ndarray
    front: np.ndarray
    #: The bones the labels index: the body's, then one per prop found (`PropTurn`).
    bones: tuple[Bone, ...]
    props: tuple[PropTurn, ...]
    #: The background's motion from key A to key B (far from the character).
    shift: tuple[float, float]


class PoseLayers:
    """Both keys' parts, labelled once per set of bones; `flows(t, ...)` for each posed frame."""

    def __init__(self, key_a: np.ndarray, key_b: np.ndarray, pose_a: Sequence[Joint],
                 pose_b: Sequence[Joint], parents: Sequence[int | None]) -> None:
        self.key_a, self.key_b = key_a, key_b
        # the head's frame fitted to its joints (`with_head_frame`), after the 18 joints
        self.pose_a, self.pose_b = with_head_frame(pose_a, pose_a), with_head_frame(pose_a, pose_b)
        self.parents = parents
        self.h, self.w = key_a.shape[:2]
        self.factor = min(1.0, MAX_LABEL_SIDE / max(self.h, self.w))
        self._parts: dict[tuple[Bone, ...], _PairParts] = {}
        self._plates: dict[tuple[Bone, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._grid: tuple[np.ndarray, np.ndarray] | None = None

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pixel's (x, y) at the keys' size, built once for all the pair's frames."""
        if self._grid is None:
            ys, xs = np.mgrid[:self.h, :self.w].astype(np.float32)
            self._grid = xs, ys
        return self._grid

    def _reduced(self, key: np.ndarray) -> np.ndarray:
        if self.factor == 1.0:
            return key
        size = (max(1, round(self.w * self.factor)), max(1, round(self.h * self.factor)))
        return cv2.resize(key, size, interpolation=cv2.INTER_AREA)

    def _labels(self, bones: tuple[Bone, ...], flow_a: torch.Tensor, flow_b: torch.Tensor,
                pose_t: Sequence[Joint]) -> _PairParts:
        """Full-size labels of both keys and the parts' front scores, for these bones."""
        if bones not in self._parts:
            f = self.factor
            shift = self._background_shift(bones, flow_a, flow_b, pose_t)
            pa = [(q[0] * f, q[1] * f, q[2]) for q in self.pose_a]
            pb = [(q[0] * f, q[1] * f, q[2]) for q in self.pose_b]
            ka, kb = self._reduced(self.key_a), self._reduced(self.key_b)
            sa, sb = (shift[0] * f, shift[1] * f), (-shift[0] * f, -shift[1] * f)
            keys_a = KeyLabelling(ka, pa, kb, pb, bones, sa)
            keys_b = KeyLabelling(kb, pb, ka, pa, bones, sb)
            first_a, first_b = keys_a.parts(), keys_b.parts()
            parts_a, parts_b = keys_a.parts(first_b.labels), keys_b.parts(first_a.labels)
            side_a, side_b = sides(keys_a.rgb, keys_b.rgb, parts_a.labels, parts_b.labels, pa, pb,
                                   keys_a.loose, keys_b.loose, sa)
            props = find_props(side_a, side_b, bones, keys_a.bone_len)
            all_bones = bones + tuple((len(pa) + k, p.wrist) for k, p in enumerate(props))
            if props:  # a prop's pixels: a bone of its own, after the body's
                la, lb = label_props(side_a, side_b, props, bones, sa, keys_a.bone_len)
                parts_a, parts_b = KeyParts(la, parts_a.distances), KeyParts(lb, parts_b.distances)
            front = front_scores((parts_a, parts_b), keys_a.bone_len, len(all_bones))

            def full(labels: np.ndarray) -> np.ndarray:
                if f == 1.0:
                    return labels
                return cv2.resize(labels, (self.w, self.h), interpolation=cv2.INTER_NEAREST)

            # float32 once: every posed frame samples them per bone (`_sample_labels`)
            self._parts[bones] = _PairParts(full(parts_a.labels).astype(np.float32),
                                            full(parts_b.labels).astype(np.float32), front,
                                            all_bones, tuple(props), shift)
        return self._parts[bones]

    def bones_at(self, pose_t: Sequence[Joint]) -> tuple[Bone, ...] | None:
        """The bones the keys and the pose `pose_t` share, None when fewer than two."""
        bones = tuple(common_bones(self.parents, (self.pose_a, self.pose_b,
                                                  with_head_frame(self.pose_a, pose_t))))
        return bones if len(bones) >= 2 else None

    def labelled(self, pose_t: Sequence[Joint]) -> bool:
        """Whether the keys' parts for the bones `pose_t` shares are labelled already."""
        bones = self.bones_at(pose_t)
        return bones is None or bones in self._parts

    def label(self, pose_t: Sequence[Joint], flow_a: torch.Tensor, flow_b: torch.Tensor) -> None:
        """Labels the keys' parts for the bones `pose_t` shares, with the network's flows
        between the keys at that frame (they give the background's motion)."""
        bones = self.bones_at(pose_t)
        if bones is not None:
            self._labels(bones, flow_a, flow_b, with_head_frame(self.pose_a, pose_t))

    def plates(self, pose_t: Sequence[Joint]) -> tuple[np.ndarray, np.ndarray] | None:
        """Both keys with the character taken out (`background_plates`), for the bones
        `pose_t` shares, once labelled (`label`); None when there are no layers. At the
        labelling size: a larger canvas's plates only feed the network, which works reduced
        too (and painting a 2560x1600 plate took 2.6 s)."""
        bones = self.bones_at(pose_t)
        if bones is None or bones not in self._parts:
            return None
        if bones not in self._plates:
            pair = self._parts[bones]
            f = self.factor
            key_a, key_b = self._reduced(self.key_a), self._reduced(self.key_b)
            h, w = key_a.shape[:2]
            if f == 1.0:
                labels_a, labels_b, grid = pair.labels_a, pair.labels_b, self.grid()
            else:
                labels_a, labels_b = (cv2.resize(la, (w, h), interpolation=cv2.INTER_NEAREST)
                                      for la in (pair.labels_a, pair.labels_b))
                ys, xs = np.mgrid[:h, :w].astype(np.float32)
                grid = xs, ys
            shift = (pair.shift[0] * f, pair.shift[1] * f)
            self._plates[bones] = background_plates(key_a, key_b, labels_a, labels_b, shift, grid)
        return self._plates[bones]

    def _background_shift(self, bones: Sequence[Bone], flow_a: torch.Tensor,
                          flow_b: torch.Tensor, pose_t: Sequence[Joint]) -> tuple[float, float]:
        """The network's motion from key A to key B far from the character (a camera pan)."""
        step = max(1, round(1.0 / self.factor))
        ys, xs = np.mgrid[:self.h:step, :self.w:step].astype(np.float32)
        near = np.min([distance_to_bone(xs, ys, *ends(pose_t, b)) for b in bones], 0)
        far = near > 3.0 * median_bone_length(pose_t, bones)
        if far.sum() < 100:
            return 0.0, 0.0
        motion = (flow_b - flow_a)[0, :, ::step, ::step].numpy()
        return float(np.median(motion[0][far])), float(np.median(motion[1][far]))

    def flows(self, t: float, pose_t: Sequence[Joint], flow_a: torch.Tensor,
              flow_b: torch.Tensor, mask: torch.Tensor) -> LayeredFlows | None:
        """The frame at t posed `pose_t`, given the network's flows and mask there; None when
        the poses share fewer than two bones."""
        pose_t = with_head_frame(self.pose_a, pose_t)
        bones = tuple(common_bones(self.parents, (self.pose_a, self.pose_b, pose_t)))
        if len(bones) < 2:
            return None
        pair = self._labels(bones, flow_a, flow_b, pose_t)
        labels_a, labels_b, front = pair.labels_a, pair.labels_b, pair.front
        pose_a, pose_b = list(self.pose_a), list(self.pose_b)
        if pair.props:  # each prop's bone: the wrist and a tip turned with the forearm and beyond
            bones = pair.bones
            pose_a += [p.tip(self.pose_a, 0.0) for p in pair.props]
            pose_b += [p.tip(self.pose_b, p.turn) for p in pair.props]
            pose_t = list(pose_t) + [p.tip(pose_t, p.turn * t) for p in pair.props]
        h, w = self.h, self.w
        xs, ys = self.grid()
        net_a, net_b = flow_a[0].numpy(), flow_b[0].numpy()
        src_a = [xs + net_a[0], ys + net_a[1]]
        src_b = [xs + net_b[0], ys + net_b[1]]
        from_a = np.zeros((h, w), bool)
        from_b = np.zeros((h, w), bool)
        part = np.zeros((h, w), bool)
        for i in np.argsort(front, kind="stable"):  # back to front: the front part wins
            bone = bones[i]
            moving = mover(bone, (pose_t, pose_a, pose_b))
            ax, ay = carry(xs, ys, ends(pose_t, moving), ends(pose_a, moving))
            bx, by = carry(xs, ys, ends(pose_t, moving), ends(pose_b, moving))
            ca = _sample_labels(labels_a, ax, ay) == i
            cb = _sample_labels(labels_b, bx, by) == i
            claim = ca | cb
            from_a = np.where(claim, ca, from_a)
            from_b = np.where(claim, cb, from_b)
            part |= claim
            for src, (sx, sy) in ((src_a, (ax, ay)), (src_b, (bx, by))):
                src[0] = np.where(claim, sx, src[0])
                src[1] = np.where(claim, sy, src[1])
        # background: from a key whose source pixel under the network's flow is background
        bg_a = _sample_labels(labels_a, xs + net_a[0], ys + net_a[1]) < 0
        bg_b = _sample_labels(labels_b, xs + net_b[0], ys + net_b[1]) < 0
        m = mask[0, 0].numpy()
        share = np.where(bg_a & bg_b, m, np.where(bg_a, 1.0, np.where(bg_b, 0.0, m)))
        share = np.where(part, np.where(from_a & from_b, 1.0 - t, from_a.astype(np.float32)), share)
        hole = ~part & ~bg_a & ~bg_b
        return LayeredFlows(_to_flow(*src_a, xs, ys), _to_flow(*src_b, xs, ys),
                            torch.from_numpy(share.astype(np.float32))[None, None], hole,
                            ~part & ~hole)


def background_plates(key_a: np.ndarray, key_b: np.ndarray, labels_a: np.ndarray,
                      labels_b: np.ndarray, shift: tuple[float, float],
                      grid: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Both keys (RGBA uint8) with the character's parts (labels >= 0) painted over by the
    background: from the other key where the background's motion (`shift`, A to B) shows
    it there, else from the background around. The network, run on these, sees the
    background's own motion, which it otherwise drags along with the character."""
    xs, ys = grid
    out = []
    for key, other, own, theirs, sign in ((key_a, key_b, labels_a, labels_b, 1.0),
                                          (key_b, key_a, labels_b, labels_a, -1.0)):
        mx, my = xs + sign * shift[0], ys + sign * shift[1]
        seen = _sample_labels(theirs, mx, my) < 0
        character = own >= 0
        plate = key.copy()
        shown = character & seen
        if shown.any():
            moved = cv2.remap(other, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            plate[shown] = moved[shown]
        out.append(fill_holes(plate, character & ~seen, ~character))
    return out[0], out[1]


def fill_holes(rgba: np.ndarray, hole: np.ndarray, background: np.ndarray) -> np.ndarray:
    """`rgba` (uint8) with the `hole` pixels painted from the `background` pixels around them
    (a normalized blur, widening until every hole pixel has some): never from the character,
    whose dark outlines would smudge into the gap."""
    if not hole.any():
        return rgba
    out = rgba.astype(np.float32)
    weight = (background & ~hole).astype(np.float32)
    todo = hole.copy()
    for sigma in HOLE_SIGMAS:
        den = cv2.GaussianBlur(weight, (0, 0), sigma)
        num = np.dstack([cv2.GaussianBlur(out[..., c] * weight, (0, 0), sigma) for c in range(4)])
        ok = todo & (den > 1e-3)
        out[ok] = num[ok] / den[ok][:, None]
        todo &= ~ok
        if not todo.any():
            break
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
