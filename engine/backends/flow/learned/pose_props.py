"""Props held in a hand: the pixels near a wrist that no bone took, moved as one rigid piece
that turns with the forearm (and a little more or less: the wrist turns it too).

The part layers (`pose_layers.py`) give a fill to a bone when the bone carries it onto its
colour in the other key. A prop defeats that twice: its pole is a few pixels wide, so the
segmentation cuts it into specks too small to join anything, and it reaches far beyond
the hand, where a few degrees of the wrist's own turn put it off its place in the other
key. So props are found per pixel instead:

- **Turn.** Per wrist, the pixels held there (moving between the keys, not of a wide
  background fill, taken by no bone, in one piece reaching the hand) are turned about the
  wrist with the forearm plus each extra turn in `PROP_TURNS`; the extra turn within
  `PROP_MAX_TURN` that shows most of them on their colour in the other key (both ways,
  within `PROP_SLACK` px) is the prop's, when it stands out from the others (`PROP_GAIN`,
  `PROP_PEAK`).
- **Pixels.** Of the held pixels, those the prop's motion shows in the other key clearly
  better than the background's (`PROP_MARGIN`, compared over small patches) are the prop's.

At an in-between the prop is a bone from the wrist, turned with the forearm there and by
the extra turn times t: it takes part in the layers like any other bone.

Measured on celanim and its line art with every frame's true skeleton (36 clips, middle
frame, in-process): see the docstring of `pose_layers.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..segmentation import MIN_REGION_AREA
from .bone_geometry import carry, ends, sample_points
from .pose_flow import Bone, Joint

#: A bone in one pose and in another (what `carry` takes).
Motion = tuple[tuple[Joint, Joint], tuple[Joint, Joint]]

#: Wrists and their elbows (OpenPose body order): a prop is held at a wrist.
HANDS = ((4, 3), (7, 6))
#: A prop's pixels lie this close to its wrist (median bone lengths): a mop, a flag on a pole.
PROP_REACH = 5.0
#: ...and reach this close to it: a piece that does not come near the hand is not held.
PROP_GRIP = 1.5
#: Turns (degrees) beyond the forearm's scored for a prop, from key A to key B: the wide
#: range gives the typical score a peak must stand out from...
PROP_TURNS = np.arange(-60, 61, 3)
#: ...and a prop's turn is a peak no further than this from the forearm's: a wrist turns a
#: held prop this far at most. (Chosen over the whole range, a fence post, a tail or a tree
#: by the hand that a turn of 36-60 degrees showed on its colour made false props, or hid
#: true ones: the peak ran off the range. Held props turn within 7 degrees of the forearm
#: on celanim; 24 keeps a wrist's 20.)
PROP_MAX_TURN = 24
#: A pixel the turn carries onto one of the same colour (mean absolute RGB difference).
PROP_MATCH = 30.0
#: A pixel whose colour changes by more than this between the keys (at the background's
#: motion) moves: a prop's pixels do.
PROP_MOVES = 40.0
#: The best turn must carry at least this many more pixels (squared median bone lengths)
#: than the median turn does, and `PROP_PEAK` times as many.
PROP_GAIN = 0.2
PROP_PEAK = 3.0
#: How far (px) from where the prop's motion takes a pixel the other key may show it.
PROP_SLACK = 2.0
#: How much better (mean absolute difference, 0-255) the prop's motion must show a pixel
#: than the background's (as much as the part layers ask of a fill).
PROP_MARGIN = 30.0
#: Share of a held piece the prop's motion must show for any of it to be the prop's.
PROP_SHARE = 0.25
#: Length (px) of a prop's bone: any; it only turns and moves, it never stretches.
PROP_LENGTH = 50.0


@dataclass(frozen=True)
class PropTurn:
    """A prop held at `wrist`: it turns with the forearm and by `turn` (radians) more from
    key A to key B (a flag swung up by the wrist while the forearm turns less)."""

    wrist: int
    elbow: int
    turn: float

    def tip(self, pose: Sequence[Joint], extra: float) -> Joint:
        """The end of the prop's bone in `pose`, turned `extra` beyond the forearm."""
        w, e = pose[self.wrist], pose[self.elbow]
        angle = float(np.arctan2(w[1] - e[1], w[0] - e[0])) + extra
        return (w[0] + PROP_LENGTH * np.cos(angle), w[1] + PROP_LENGTH * np.sin(angle), 1.0)

    def motion(self, frm: Sequence[Joint], to: Sequence[Joint], turn_frm: float,
               turn_to: float) -> Motion:
        """The prop's bone in pose `frm` and in pose `to` (for `carry`)."""
        return ((tuple(frm[self.wrist][:2]), tuple(self.tip(frm, turn_frm)[:2])),
                (tuple(to[self.wrist][:2]), tuple(self.tip(to, turn_to)[:2])))


@dataclass(frozen=True)
class PropSide:
    """One key as the props see it (at the labelling size)."""

    rgb: np.ndarray  # H x W x 3 float32
    labels: np.ndarray  # H x W: the part layers' labels, -1 background
    pose: Sequence[Joint]
    loose: np.ndarray  # H x W bool: not of a wide background fill
    moving: np.ndarray  # H x W bool: the other key does not show it where the background goes


def sides(rgb_a: np.ndarray, rgb_b: np.ndarray, labels_a: np.ndarray, labels_b: np.ndarray,
          pose_a: Sequence[Joint], pose_b: Sequence[Joint], loose_a: np.ndarray,
          loose_b: np.ndarray, shift: tuple[float, float]) -> tuple[PropSide, PropSide]:
    """Both keys' sides; `shift` is the background's motion from key A to key B."""
    return (PropSide(rgb_a, labels_a, pose_a, loose_a, _moving(rgb_a, rgb_b, shift)),
            PropSide(rgb_b, labels_b, pose_b, loose_b, _moving(rgb_b, rgb_a, (-shift[0], -shift[1]))))


def _moving(here: np.ndarray, there: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    h, w = here.shape[:2]
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    moved = sample_points(there, (xs + shift[0]).ravel(), (ys + shift[1]).ravel()).reshape(here.shape)
    return np.abs(here - moved).mean(2) > PROP_MOVES


def _slack_error(there: np.ndarray, own: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Per point, the least difference (mean absolute RGB) between `own` and the other key
    within `PROP_SLACK` px of (px, py): the skeletons' joints are a few pixels off."""
    least = None
    for dy in (-PROP_SLACK, 0.0, PROP_SLACK):
        for dx in (-PROP_SLACK, 0.0, PROP_SLACK):
            e = np.abs(sample_points(there, px + dx, py + dy) - own).mean(-1)
            least = e if least is None else np.minimum(least, e)
    return least


def _held(mask: np.ndarray, wrist: Sequence[float], bone_len: float) -> np.ndarray:
    """The pieces of `mask` that reach the hand and are not specks: a prop is held, a fence
    post that a pan moves is not."""
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(mask.shape, bool)
    ys, xs = np.nonzero(comp)
    least = np.full(n, np.inf)
    np.minimum.at(least, comp[ys, xs], np.hypot(xs - wrist[0], ys - wrist[1]))
    keep = (least < PROP_GRIP * bone_len) & (stats[:, cv2.CC_STAT_AREA] >= 4 * MIN_REGION_AREA)
    keep[0] = False
    return keep[comp]


def _window(side: PropSide, wrist: int, bone_len: float) -> tuple[slice, slice] | None:
    """The part of the key within `PROP_REACH` of the wrist."""
    h, w = side.labels.shape
    r = PROP_REACH * bone_len
    x, y = side.pose[wrist][:2]
    x0, y0, x1, y1 = max(0, int(x - r)), max(0, int(y - r)), min(w, int(x + r) + 1), min(h, int(y + r) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1)


def _held_pixels(side: PropSide, wrist: int, bone_len: float
                 ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray, np.ndarray] | None:
    """The window near the wrist, its pixel grid (x, y) and the pixels held there."""
    win = _window(side, wrist, bone_len)
    if win is None:
        return None
    ys, xs = np.mgrid[win].astype(np.float32)
    x, y = side.pose[wrist][:2]
    cand = (side.moving[win] & side.loose[win] & (side.labels[win] < 0)
            & (np.hypot(xs - x, ys - y) < PROP_REACH * bone_len))
    return win, xs, ys, _held(cand, (x - win[1].start, y - win[0].start), bone_len)


def _turn_score(here: PropSide, there: PropSide, prop: PropTurn, from_a: bool, forearm: int,
                bone_len: float) -> np.ndarray:
    """Per extra turn, how many of the pixels held at the wrist it shows in the other key,
    each pixel counting by how few turns show it (white between a line art prop's strokes
    lands on white at most turns: it tells none of them apart)."""
    held = _held_pixels(here, prop.wrist, bone_len)
    if held is None or not held[3].any():
        return np.zeros(len(PROP_TURNS))
    win, xs, ys, mask = held
    px, py = xs[mask], ys[mask]
    own = here.rgb[win][mask]
    other = there.labels.astype(np.float32)
    shown = np.zeros((len(PROP_TURNS), len(px)), bool)
    for i, turn in enumerate(np.deg2rad(PROP_TURNS)):
        motion = prop.motion(here.pose, there.pose, 0.0 if from_a else turn, turn if from_a else 0.0)
        bx, by = carry(px, py, *motion)
        free = np.isin(sample_points(other, bx, by, cv2.INTER_NEAREST, -1.0), (-1.0, float(forearm)))
        shown[i] = (_slack_error(there.rgb, own, bx, by) < PROP_MATCH) & free
    return shown.astype(np.float64) @ (1.0 - shown.mean(0))


def find_props(a: PropSide, b: PropSide, bones: Sequence[Bone], bone_len: float) -> list[PropTurn]:
    """The props held at the wrists, with their extra turns."""
    out = []
    for wrist, elbow in HANDS:
        if (wrist, elbow) not in bones:
            continue
        forearm = list(bones).index((wrist, elbow))  # the hand over the prop's grip
        prop = PropTurn(wrist, elbow, 0.0)
        score = (_turn_score(a, b, prop, True, forearm, bone_len)
                 + _turn_score(b, a, prop, False, forearm, bone_len))
        near = np.nonzero(np.abs(PROP_TURNS) <= PROP_MAX_TURN)[0]
        best = int(near[score[near].argmax()])
        typical = float(np.median(score))
        inside = near[0] < best < near[-1]  # a peak, not a slope running off the range
        if inside and score[best] - typical > PROP_GAIN * bone_len ** 2 and score[best] > PROP_PEAK * typical:
            out.append(PropTurn(wrist, elbow, float(np.deg2rad(PROP_TURNS[best]))))
    return out


def _prop_pixels(here: PropSide, there: PropSide, motion: Motion, forearm_motion: Motion,
                 wrist: int, forearm: int, shift: tuple[float, float], bone_len: float) -> np.ndarray:
    """The held pixels that the prop's motion shows in the other key clearly better than
    the background's, compared over 3 x 3 patches (a pole a few pixels wide), and beside
    them those of the forearm's that it shows clearly better than the forearm's motion."""
    out = np.zeros(here.labels.shape, bool)
    held = _held_pixels(here, wrist, bone_len)
    if held is None or not held[3].any():
        return out
    win, xs, ys, mask = held
    own = here.rgb[win].reshape(-1, 3)

    def error(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return cv2.blur(_slack_error(there.rgb, own, px, py).reshape(xs.shape), (3, 3))

    cx, cy = carry(xs.ravel(), ys.ravel(), *motion)
    on_prop = error(cx, cy)
    on_background = error((xs + shift[0]).ravel(), (ys + shift[1]).ravel())
    free = np.isin(sample_points(there.labels.astype(np.float32), cx, cy, cv2.INTER_NEAREST, -1.0),
                   (-1.0, float(forearm))).reshape(xs.shape)
    take = mask & free & (on_prop + PROP_MARGIN < on_background) & (on_prop < PROP_MATCH)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(take.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_REGION_AREA  # not a speck
    keep[0] = False
    take = keep[comp]
    # of a held piece, mostly the prop or none of it (a pan's fence posts, joined to the
    # hand by outlines, match a turned prop here and there)
    n, piece = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    share = np.bincount(piece.ravel(), take.ravel(), n) / np.maximum(np.bincount(piece.ravel(), None, n), 1)
    take &= (share >= PROP_SHARE)[piece]
    if take.any():  # and the pole's start by the hand, which the forearm took but carries amiss
        fx, fy = carry(xs.ravel(), ys.ravel(), *forearm_motion)
        on_forearm = error(fx, fy)
        start = ((here.labels[win] == forearm) & free & (on_prop + PROP_MARGIN < on_forearm)
                 & (on_prop < PROP_MATCH))
        n, piece = cv2.connectedComponents((start | take).astype(np.uint8), connectivity=8)
        take |= start & np.isin(piece, np.unique(piece[take]))
    out[win] = take
    return out


def label_props(a: PropSide, b: PropSide, props: Sequence[PropTurn], bones: Sequence[Bone],
                shift: tuple[float, float], bone_len: float) -> tuple[np.ndarray, np.ndarray]:
    """Both keys' labels with each prop's pixels labelled after the bones (`len(bones) + k`)."""
    la, lb = a.labels.copy(), b.labels.copy()
    for k, prop in enumerate(props):
        bone = (prop.wrist, prop.elbow)
        forearm = list(bones).index(bone)
        ma = _prop_pixels(a, b, prop.motion(a.pose, b.pose, 0.0, prop.turn),
                          (ends(a.pose, bone), ends(b.pose, bone)), prop.wrist, forearm, shift, bone_len)
        mb = _prop_pixels(b, a, prop.motion(b.pose, a.pose, prop.turn, 0.0),
                          (ends(b.pose, bone), ends(a.pose, bone)), prop.wrist, forearm,
                          (-shift[0], -shift[1]), bone_len)
        la[ma], lb[mb] = len(bones) + k, len(bones) + k
    return la, lb
