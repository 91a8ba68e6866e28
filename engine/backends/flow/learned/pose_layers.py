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
  than where the background goes (the background's motion is the network's, away from the character); in
  line art, where white fits white anywhere, the bone must also carry the fill's ink. A
  fill that the other key shows under another bone, which carries it as well, takes that
  bone, so both keys draw it from the same one. Outlines go with the fills they bound;
  strokes of line art near a bone with the bone.
- **Props.** A prop held in a hand whose pole the segmentation cut into specks (a flag, an
  axe, a mop) is found per pixel near each wrist and becomes a bone of its own, from the
  wrist, turned with the forearm and by the extra turn the keys show (`pose_props.py`).
- **Loose pieces.** A part beside the character that no bone carries, which swings on its
  own (a tail, a ponytail), is found where the keys' free pixels move, matched into the
  other key turned and shifted about the bone it hangs from, and becomes a bone of its own
  too, its own turn and shift taken by time (`pose_pieces.py`). A fill that a bone took
  without showing it in the other key (a tail grown onto a thigh whose motion does not
  carry it) may be taken by a piece too, when the pieces found without it are not enough.
- **Head.** The head's bones and the neck-nose bone carry their parts by the similarity
  fitted to all the face's joints (`with_head_frame`), not by one short bone's.
- **Depth.** A part drawn over another bone's core (the pixels right on that bone) is in
  front of it: counted over both keys, this orders the parts, back to front.

At time t every pixel asks each bone, back to front, whether the key's pixel it would come
from belongs to that bone (a *claim*); the front-most bone that either key claims the pixel
for wins. Each part is drawn by one key (`_drawn_from_a`: the nearer in time, at the middle
the one that shows more of it): the other key's claims count only where that key's view of
the part is covered by another part. (Two keys seldom draw a part the same shape; blended,
both outlines showed: a head's outline doubled, a skirt drawn twice.) The others are
background, except in a gap between parts narrower than `CRACK_RADIUS` twice (a
joint opening as its bones turn apart): that is drawn from the nearest part's pixel, shifted,
where the key shows the character there. The rest is background: the network's flow, from a key whose source pixel is background
(never a piece of the character left behind); where neither key shows background there (what
the character covered in both), the frame is filled from the background around (`hole`).
The background's flow is the network's between the keys' *plates* (`background_plates`: the
character painted over with the wall the other key shows there): run on the keys themselves,
the network drags the wall next to the character along with it (a window tilted with a head,
a fence torn on a pan).

Measured on celanim and its line art with every frame's true skeleton (36 clips, middle frame,
in-process, LPIPS / chamfer): 0.0526 / 6.4 and 0.0616 / 7.3, against 0.0938 / 13.9 and
0.1062 / 18.4 for moving only the pixels near the bones (`pose_flow.py`) and 0.1070 / 17.7 and
0.1175 / 22.2 without poses. Each rule's share on celanim (line art): one key drawing each
part (`_drawn_from_a`) 0.0558 / 6.80 -> 0.0527 / 6.39 (0.0651 / 8.24 -> 0.0629 / 7.64; stray%
3.62 -> 2.93, lost% 2.01 -> 2.28; no clip more than 0.0015 worse; this and the weak fills'
searches below, with the keys' poses only: 0.0947 -> 0.0916, line art 0.0970 -> 0.0940);
the weak fills free for a second search of the loose pieces (`pose_pieces.py`) 0.0568 /
6.97 -> 0.0558 / 6.80 (0.0662 / 8.59 -> 0.0651 / 8.24; clip_015 0.129 -> 0.111 and
clip_014 0.094 -> 0.077, line art clip_031 0.197 -> 0.159: a tail found whole; no clip
worse; freeing in one search with the others, clip_003's tail tip, a piece of its own, was
lost: 0.037 -> 0.045), then a third search with the weak fills within a bone's reach free
too 0.0527 / 6.39 -> 0.0526 / 6.36 (0.0629 / 7.64 -> 0.0616 / 7.30; line art clip_030 0.055
-> 0.031 and clip_035 0.134 -> 0.117: a sword along a forearm found, clip_018 0.022 ->
0.013; clip_015 0.0025 worse; freed in the second search instead, clip_031's line-art tail,
with the fills beside it, grew past a part's size and was lost: 0.158 -> 0.195); tried and
dropped: in line art, a piece's ink points (half the points) landing at their distance
from the other key's ink instead of on its colour (0.0630: clip_035 0.012 better, but a
tree's crown became a piece on clip_015, 0.023 worse, and clip_019 0.013 worse); a piece's
ring of free pixels limited to outlines and colour edges (no change); the joints' gaps
drawn from the parts beside them
(`CRACK_RADIUS`) 0.0572 / 6.95 -> 0.0568 / 6.97 (0.0663 / 8.54 -> 0.0662 / 8.59; clip_022 and
clip_023 0.002 better, no clip 0.002 worse; radius 5 the same; without the test that the key
shows the character there 0.0565, but a window's bars in line art were drawn over: clip_029
0.005 worse); in line art, a loose
piece's fills moving by their ink (`background_error` over the fill's and its outline's ink)
0.0668 / 8.6 -> 0.0663 / 8.5 (clip_003 0.070 -> 0.050, clip_016 0.096 -> 0.079: a tail
found; clip_022 0.035 -> 0.049: one turned too far), with its outline taken on round the
corners (`OUTLINE_RUN`; no change on the sets, a corner of a tail's outline had stayed
behind in a test); in colour keys, a fill
that neither its bone nor the background shows in the other key left to the props and the
loose pieces (`UNEXPLAINED`) 0.0581 / 7.2 -> 0.0572 / 7.0 (clip_009 0.102 -> 0.078, clip_035
0.140 -> 0.128: a hammer's head and a sword had gone with the head and a leg; clip_028 0.133
-> 0.139; in line art too: 0.0717, its wide white fills left out tore the background);
a prop's turn within 24 degrees of the forearm's (`PROP_MAX_TURN`) 0.0583 / 7.3 -> 0.0581 /
7.2 (clip_033 0.113 -> 0.107: a false prop at 39 degrees had drawn the hammer twice; within
15: 0.0577, but a wrist's 20 lost); tried and dropped: a loose piece's uniqueness
(`PIECE_DISTINCT`) measured on its edges only, where a flat fill's placement shows (+0.0013,
line art +0.0020: a tail lost, a leg's patch turned as a piece); in line art, a fill
growing onto the character only when its bone carries its ink too (`GROW_FIT_INK`; colour
keys unchanged) 0.0697 / 9.4 -> 0.0668 / 8.6 (clip_015 0.236 -> 0.169, clip_031 0.226 ->
0.197: windows and a bench had gone with the head and a leg; the errors over ink pixels
for every labelling decision instead: 0.0688, small and medium motion worse); loose pieces 0.0597 /
7.5 -> 0.0583 / 7.3 (0.0700 / 9.5 -> 0.0697 / 9.4; a tail swinging on its own moved whole:
clip_016 0.105 -> 0.077, clip_031 0.143 -> 0.133; line art's white tail interiors match
anywhere, clip_029 0.051 -> 0.062; 0.4-0.6 s per pair), of which their outlines in both
keys' labels 0.0593 -> 0.0582 (a ring was left in the plates) and the uniqueness test on
shifts as well as turns 0.0592 -> 0.0583 (a skirting board had gone with a shin: clip_020
0.025 -> 0.046); a coarser first search (a quarter bone, 75 points) 0.0587; the background's flow
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
from typing import Callable, Sequence

import cv2
import numpy as np
import torch

from .background import background_plates
from .bone_geometry import (carry, distance_to_bone, ends, median_bone_length, mover, sample_labels,
                            sample_points, with_head_frame)
from .key_labelling import KeyLabelling, KeyParts, front_scores
from .pose_flow import Bone, Joint, common_bones
from .pose_pieces import PieceMotion, find_pieces
from .pose_props import PropTurn, find_props, label_props, sides

#: Longest side the labelling works at; larger keys are labelled reduced.
MAX_LABEL_SIDE = 1024


#: Gaps narrower than twice this (px) between the parts at t (a joint opening as two bones
#: turn apart) are drawn from the nearest part's pixel, shifted, where the key shows the
#: character there, not from the background.
CRACK_RADIUS = 3

#: A part is drawn from one key at t, the nearer in time, unless that key shows less than
#: this share of the part's pixels that the other shows (it is mostly hidden there).
DRAWN_SHARE = 0.5


def _close_cracks(part: np.ndarray, from_a: np.ndarray, from_b: np.ndarray, src_a: list,
                  src_b: list, xs: np.ndarray, ys: np.ndarray, labels_a: np.ndarray,
                  labels_b: np.ndarray) -> None:
    """Fill the narrow gaps of `part` in place: each gap pixel takes its nearest part
    pixel's keys and sources, moved by the offset between the two."""
    size = 2 * CRACK_RADIUS + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(part.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)
    crack = closed & ~part
    if not crack.any():
        return
    _, near = cv2.distanceTransformWithLabels((~part).astype(np.uint8), cv2.DIST_L2, 3,
                                              labelType=cv2.DIST_LABEL_PIXEL)
    py, px = np.nonzero(part)  # the label of each part pixel, to its place
    lut_y, lut_x = np.zeros(len(py) + 1, np.int64), np.zeros(len(py) + 1, np.int64)
    seeds = near[py, px]
    lut_y[seeds], lut_x[seeds] = py, px
    cy, cx = np.nonzero(crack)
    qy, qx = lut_y[near[cy, cx]], lut_x[near[cy, cx]]
    dx, dy = xs[cy, cx] - xs[qy, qx], ys[cy, cx] - ys[qy, qx]
    ax, ay = src_a[0][qy, qx] + dx, src_a[1][qy, qx] + dy
    bx, by = src_b[0][qy, qx] + dx, src_b[1][qy, qx] + dy
    # only where the key shows the character there (the neighbouring part at the joint):
    # where it shows background, the gap is the background's
    on_a = from_a[qy, qx] & (_labels_at(labels_a, ax, ay) >= 0)
    on_b = from_b[qy, qx] & (_labels_at(labels_b, bx, by) >= 0)
    keep = on_a | on_b
    cy, cx = cy[keep], cx[keep]
    for src, (sx, sy) in ((src_a, (ax, ay)), (src_b, (bx, by))):
        src[0][cy, cx] = sx[keep]
        src[1][cy, cx] = sy[keep]
    from_a[cy, cx] = on_a[keep]
    from_b[cy, cx] = on_b[keep]
    part[cy, cx] = True


def _areas(labels: np.ndarray, count: int) -> np.ndarray:
    """Pixels per part."""
    return np.bincount(labels[labels >= 0].astype(np.int64), minlength=count)[:count]


def _drawn_from_a(t: float, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    """Per part: whether key A draws it at t (else key B), from the parts' areas in each key:
    the key nearer in time, unless it shows less than `DRAWN_SHARE` of what the other shows
    of the part; at the middle, the key that shows more of it (the other has it partly
    covered)."""
    if t < 0.5:
        return area_a >= DRAWN_SHARE * area_b
    if t > 0.5:
        return area_b < DRAWN_SHARE * area_a
    return area_a >= area_b


def _labels_at(labels: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    return sample_points(labels, sx, sy, cv2.INTER_NEAREST, outside=-1.0)


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
    #: The loose pieces (`pose_pieces.py`), at the keys' size, with a bone each after the props'.
    pieces: tuple[PieceMotion, ...]
    #: Both keys with the character painted over (`background_plates`), at the labelling size.
    plates: tuple[np.ndarray, np.ndarray]
    #: Pixels per part in each key (which key draws a part: `_drawn_from_a`).
    areas: tuple[np.ndarray, np.ndarray]


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
            la, lb, pieces = find_pieces(keys_a, keys_b, side_a, side_b, parts_a.labels, parts_b.labels,
                                         len(all_bones))
            if pieces:  # a loose piece's pixels: a bone of its own, after the props'
                parts_a, parts_b = KeyParts(la, parts_a.distances), KeyParts(lb, parts_b.distances)
                first = len(pa) + len(props)
                all_bones += tuple((first + 2 * k + 1, first + 2 * k) for k in range(len(pieces)))
                pieces = [PieceMotion(p.bone, p.centre / f, p.shift / f, p.turn, p.from_a) for p in pieces]
            front = front_scores((parts_a, parts_b), keys_a.bone_len, len(all_bones))
            plates = background_plates(ka, kb, parts_a.labels.astype(np.float32),
                                       parts_b.labels.astype(np.float32), sa, keys_a.grid)

            def full(labels: np.ndarray) -> np.ndarray:
                if f == 1.0:
                    return labels
                return cv2.resize(labels, (self.w, self.h), interpolation=cv2.INTER_NEAREST)

            # float32 once: every posed frame samples them per bone (`sample_labels`)
            labels_a, labels_b = full(parts_a.labels).astype(np.float32), full(parts_b.labels).astype(np.float32)
            areas = (_areas(labels_a, len(all_bones)), _areas(labels_b, len(all_bones)))
            self._parts[bones] = _PairParts(labels_a, labels_b, front, all_bones, tuple(props),
                                            tuple(pieces), plates, areas)
        return self._parts[bones]

    def _bones(self, pose_t: Sequence[Joint]) -> tuple[Bone, ...] | None:
        """The bones the keys and `pose_t` (with its head frame) share; None when fewer than two."""
        bones = tuple(common_bones(self.parents, (self.pose_a, self.pose_b, pose_t)))
        return bones if len(bones) >= 2 else None

    def plates(self, pose_t: Sequence[Joint],
               key_flows: Callable[[], tuple[torch.Tensor, torch.Tensor]]
               ) -> tuple[np.ndarray, np.ndarray] | None:
        """Both keys with the character taken out (`background_plates`) for the frame posed
        `pose_t`, at the labelling size (they only feed the network, which works reduced
        too); None when the poses share fewer than two bones. The keys are labelled first if
        these bones have no labels yet, with the network's flows between the keys at that
        frame (`key_flows`, called only then: they give the background's motion)."""
        pose_t = with_head_frame(self.pose_a, pose_t)
        bones = self._bones(pose_t)
        if bones is None:
            return None
        if bones not in self._parts:
            flow_a, flow_b = key_flows()
            self._labels(bones, flow_a, flow_b, pose_t)
        return self._parts[bones].plates

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
        """The frame at t posed `pose_t`; None when the poses share fewer than two bones.
        `flow_a`, `flow_b` and `mask` are the network's at t, between the background plates
        (`plates`) or the keys: they move the background, and label the keys when `plates`
        has not yet (the background's motion far from the character)."""
        pose_t = with_head_frame(self.pose_a, pose_t)
        bones = self._bones(pose_t)
        if bones is None:
            return None
        pair = self._labels(bones, flow_a, flow_b, pose_t)
        labels_a, labels_b, front = pair.labels_a, pair.labels_b, pair.front
        pose_a, pose_b = list(self.pose_a), list(self.pose_b)
        bones = pair.bones  # the body's, the props', the pieces'
        if pair.props:  # each prop's bone: the wrist and a tip turned with the forearm and beyond
            pose_a += [p.tip(self.pose_a, 0.0) for p in pair.props]
            pose_b += [p.tip(self.pose_b, p.turn) for p in pair.props]
            pose_t = list(pose_t) + [p.tip(pose_t, p.turn * t) for p in pair.props]
        if pair.pieces:  # each loose piece's bone: carried by its bone, and its own motion by time
            pose_t = list(pose_t)
            for piece in pair.pieces:
                found = self.pose_a if piece.from_a else self.pose_b
                pose_a += piece.joints(found, self.pose_a, 0.0 if piece.from_a else 1.0)
                pose_b += piece.joints(found, self.pose_b, 1.0 if piece.from_a else 0.0)
                pose_t += piece.joints(found, pose_t, t if piece.from_a else 1.0 - t)
        h, w = self.h, self.w
        xs, ys = self.grid()
        net_a, net_b = flow_a[0].numpy(), flow_b[0].numpy()
        src_a = [xs + net_a[0], ys + net_a[1]]
        src_b = [xs + net_b[0], ys + net_b[1]]
        from_a = np.zeros((h, w), bool)
        from_b = np.zeros((h, w), bool)
        part = np.zeros((h, w), bool)
        drawn_from_a = _drawn_from_a(t, *pair.areas)
        for i in np.argsort(front, kind="stable"):  # back to front: the front part wins
            bone = bones[i]
            moving = mover(bone, (pose_t, pose_a, pose_b))
            ax, ay = carry(xs, ys, ends(pose_t, moving), ends(pose_a, moving))
            bx, by = carry(xs, ys, ends(pose_t, moving), ends(pose_b, moving))
            at_a, at_b = sample_labels(labels_a, ax, ay), sample_labels(labels_b, bx, by)
            ca, cb = at_a == i, at_b == i
            # one key draws the part; the other only where that key's view of it is covered
            # by another part (else both outlines show: a doubled head, a skirt drawn twice)
            if drawn_from_a[i]:
                cb &= ~ca & (at_a >= 0)
            else:
                ca &= ~cb & (at_b >= 0)
            claim = ca | cb
            from_a = np.where(claim, ca, from_a)
            from_b = np.where(claim, cb, from_b)
            part |= claim
            for src, (sx, sy) in ((src_a, (ax, ay)), (src_b, (bx, by))):
                src[0] = np.where(claim, sx, src[0])
                src[1] = np.where(claim, sy, src[1])
        _close_cracks(part, from_a, from_b, src_a, src_b, xs, ys, labels_a, labels_b)
        # background: from a key whose source pixel under the network's flow is background
        bg_a = sample_labels(labels_a, xs + net_a[0], ys + net_a[1]) < 0
        bg_b = sample_labels(labels_b, xs + net_b[0], ys + net_b[1]) < 0
        m = mask[0, 0].numpy()
        share = np.where(bg_a & bg_b, m, np.where(bg_a, 1.0, np.where(bg_b, 0.0, m)))
        share = np.where(part, np.where(from_a & from_b, 1.0 - t, from_a.astype(np.float32)), share)
        hole = ~part & ~bg_a & ~bg_b
        return LayeredFlows(_to_flow(*src_a, xs, ys), _to_flow(*src_b, xs, ys),
                            torch.from_numpy(share.astype(np.float32))[None, None], hole,
                            ~part & ~hole)
