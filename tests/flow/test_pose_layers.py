"""Part layers from poses (`pose_layers.py`), on their own: the network's flows are given as
zero (a network that saw no motion at all), so everything that moves here is moved by the
layers. No weights needed."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from engine.backends.flow.learned.bone_geometry import HEAD_FRAME, carry, ends, mover, with_head_frame
from engine.backends.flow.learned.ifnet import backward_warp
from engine.backends.flow.learned.pose_flow import common_bones
from engine.backends.flow.learned.background import background_plates, fill_holes
from engine.backends.flow.learned.pose_layers import PoseLayers
from engine.backends.flow.learned.synthesis import premultiplied, unpremultiply_u8
from inbetween_client.poses import BODY_JOINTS, BODY_PARENTS
from tests.flow.conftest import H, OUTLINE, W, bar, canvas, centroid, color_mask, disc

ARM, BODY, STICK, BOX = (220, 60, 50), (60, 90, 220), (150, 90, 30), (40, 170, 60)
SHOULDER = (200.0, 160.0)
ARM_LEN, ARM_W = 90.0, 22.0
STICK_LEN, STICK_W = 70.0, 14.0


def _j(name: str) -> int:
    return BODY_JOINTS.index(name)


def _unit(angle_deg: float) -> tuple[float, float]:
    a = math.radians(angle_deg)
    return math.cos(a), math.sin(a)


def _along(angle_deg: float, dist: float, side: float = 0.0, s: float = 1.0) -> tuple[float, float]:
    """The point `dist` px from the shoulder along the arm, `side` px to its left (x `s`)."""
    ux, uy = _unit(angle_deg)
    return ((SHOULDER[0] + ux * dist - uy * side) * s, (SHOULDER[1] + uy * dist + ux * side) * s)


def _drawing(angle_deg: float, box: tuple[float, float] | None = None, s: float = 1.0) -> np.ndarray:
    """A body, an arm from its shoulder at `angle_deg`, a stick held in the hand carrying on
    beyond it (longer than the reach of the arm's bones), and, optionally, a static box;
    everything scaled by `s` on a canvas `s` times the tests' size."""
    img = canvas()
    if s != 1.0:
        img = np.ascontiguousarray(np.broadcast_to(img[:1, :1], (round(H * s), round(W * s), 4)))
    if box is not None:
        bar(img, (box[0] * s, box[1] * s), 40 * s, 40 * s, 0.0, BOX)
    disc(img, ((SHOULDER[0] - 40) * s, SHOULDER[1] * s), round(45 * s), BODY)
    bar(img, _along(angle_deg, ARM_LEN + STICK_LEN / 2, s=s), STICK_LEN * s, STICK_W * s, angle_deg, STICK)
    bar(img, _along(angle_deg, ARM_LEN / 2, s=s), ARM_LEN * s, ARM_W * s, angle_deg, ARM)
    return img


def _pose(angle_deg: float, s: float = 1.0) -> list[list[float]]:
    pts = [[-1.0, -1.0, 0.0] for _ in BODY_JOINTS]
    pts[_j("neck")] = [(SHOULDER[0] - 40) * s, (SHOULDER[1] - 40) * s, 1.0]
    pts[_j("r_hip")] = [(SHOULDER[0] - 40) * s, (SHOULDER[1] + 40) * s, 1.0]
    pts[_j("r_shoulder")] = [SHOULDER[0] * s, SHOULDER[1] * s, 1.0]
    for name, r in (("r_elbow", 0.5), ("r_wrist", 1.0)):
        x, y = _along(angle_deg, ARM_LEN * r, s=s)
        pts[_j(name)] = [x, y, 1.0]
    return pts


def _layered(a: np.ndarray, b: np.ndarray, pose_a, pose_b, pose_t, t: float) -> np.ndarray:
    """The frame at t as the learned path composes it, with zero network flows."""
    h, w = a.shape[:2]
    layers = PoseLayers(a, b, pose_a, pose_b, BODY_PARENTS)
    zero = torch.zeros(1, 2, h, w)
    got = layers.flows(t, pose_t, zero, zero, torch.full((1, 1, h, w), 1.0 - t))
    assert got is not None
    wa = backward_warp(premultiplied(a), got.flow_a)
    wb = backward_warp(premultiplied(b), got.flow_b)
    return fill_holes(unpremultiply_u8(wa * got.share_a + wb * (1.0 - got.share_a)), got.hole,
                      got.background)


def _direction(mask: np.ndarray, s: float = 1.0) -> float:
    x, y = centroid(mask)
    return math.degrees(math.atan2(y - SHOULDER[1] * s, x - SHOULDER[0] * s))


def test_the_arm_and_the_stick_it_holds_swing_on_the_bone_whole():
    """-40 and 40 degree keys, the pose at 0: the arm and the stick (beyond the bones' reach:
    it joins the arm because the other key shows it where the arm's bone carries it) are drawn
    once, whole, at 0 degrees; nothing is left at the keys' places."""
    # (the stick's thin outline, resampled at 40 degrees, comes out lighter: more fill colour)
    _assert_swings_whole(_drawing, (ARM, STICK), least=0.85, astray=0.03)


def _assert_swings_whole(drawing, colors, least: float, astray: float) -> None:
    """Keys `drawing(-40)` and `drawing(40)`, the pose at 0: each of `colors` is drawn once
    at 0 degrees, and no ink is left at the keys' places."""
    a, b = drawing(-40.0), drawing(40.0)
    out = _layered(a, b, _pose(-40.0), _pose(40.0), _pose(0.0), 0.5)
    want = drawing(0.0)
    for color in colors:
        _assert_once_on_the_line(out, want, color, least, astray)
    _assert_no_ink_left(out, want)


def _assert_once_on_the_line(out: np.ndarray, want: np.ndarray, color: tuple[int, int, int],
                             least: float, astray: float) -> None:
    """`color`'s part is drawn at 0 degrees, about whole (`least` of its area to 1.3 times
    it), with at most `astray` of it away from where the truth draws it."""
    got, truth = color_mask(out, color), color_mask(want, color)
    assert abs(_direction(got)) < 3.0, (color, _direction(got))
    assert least * truth.sum() < got.sum() < 1.3 * truth.sum(), (color, got.sum(), truth.sum())
    near = cv2.dilate(truth.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (got & ~near).sum() < astray * truth.sum(), (color, (got & ~near).sum())


def _assert_no_ink_left(out: np.ndarray, want: np.ndarray) -> None:
    """Nothing left at the keys' places: no ink, faint or not, far from the truth's."""
    ink = lambda img: img[..., :3].astype(int).sum(-1) < 3 * 200  # noqa: E731
    drawn = cv2.dilate(ink(want).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert (ink(out) & ~drawn).sum() < 20, (ink(out) & ~drawn).sum()


MOP_HEAD, SHAFT_LEN, SHAFT_W = (60, 200, 120), 80.0, 10.0


def _mop_drawing(angle_deg: float) -> np.ndarray:
    """The body and the arm, holding a mop: a thin shaft (a line of colour, not of ink) out
    beyond the bones' reach, and the mop's head at its end."""
    img = canvas()
    disc(img, (SHOULDER[0] - 40, SHOULDER[1]), 45, BODY)
    bar(img, _along(angle_deg, ARM_LEN + SHAFT_LEN / 2), SHAFT_LEN, SHAFT_W, angle_deg, STICK)
    disc(img, _along(angle_deg, ARM_LEN + SHAFT_LEN + 10), 14, MOP_HEAD)
    bar(img, _along(angle_deg, ARM_LEN / 2), ARM_LEN, ARM_W, angle_deg, ARM)
    return img


def test_a_thin_shaft_and_the_mop_head_at_its_end_swing_with_the_hand():
    """A shaft a few pixels wide is a stroke of colour: it joins the arm like a fill (an
    outline network would not), and the head beyond it joins through it; at the middle pose
    both are drawn once, on the arm's line, and nothing is left at the keys' places."""
    _assert_swings_whole(_mop_drawing, (STICK, MOP_HEAD), least=0.7, astray=0.05)


FLAG, POLE = (60, 190, 70), (150, 95, 40)
POLE_LEN = 80.0


def _flag_drawing(arm_deg: float, pole_deg: float) -> np.ndarray:
    """The body and the arm, the hand holding a flag: a pole 3 px of colour inside its
    outline (the segmentation cuts it into specks) reaching far beyond the bones, turned
    `pole_deg` (the wrist turns it beyond the forearm), and the flag at its end."""
    img = canvas()
    disc(img, (SHOULDER[0] - 40, SHOULDER[1]), 45, BODY)
    hand = _along(arm_deg, ARM_LEN)
    ux, uy = _unit(pole_deg)
    end = (hand[0] + ux * POLE_LEN, hand[1] + uy * POLE_LEN)
    bar(img, (end[0] + ux * 14 - uy * 12, end[1] + uy * 14 + ux * 12), 28, 24, pole_deg, FLAG)
    ends = (tuple(round(v) for v in hand), tuple(round(v) for v in end))
    cv2.line(img, *ends, OUTLINE + (255,), 6, cv2.LINE_AA)
    cv2.line(img, *ends, POLE + (255,), 3, cv2.LINE_AA)
    bar(img, _along(arm_deg, ARM_LEN / 2), ARM_LEN, ARM_W, arm_deg, ARM)
    return img


def test_a_flag_on_a_thin_pole_turns_with_the_wrist_and_is_drawn_once_whole():
    """The forearm turns 60 degrees between the keys and the pole it holds 80 (the wrist
    turns it 20 more): at the middle pose the pole turns with the forearm and by half the
    extra, and the flag at its end is drawn once, whole, where it belongs; nothing is left
    at the keys' places."""
    a, b = _flag_drawing(-30.0, -30.0), _flag_drawing(30.0, 50.0)
    out = _layered(a, b, _pose(-30.0), _pose(30.0), _pose(0.0), 0.5)
    want = _flag_drawing(0.0, 10.0)
    got, truth = color_mask(out, FLAG), color_mask(want, FLAG)
    assert 0.7 * truth.sum() < got.sum() < 1.3 * truth.sum(), (got.sum(), truth.sum())
    assert np.hypot(*np.subtract(centroid(got), centroid(truth))) < 4.0, (centroid(got), centroid(truth))
    pole, pole_truth = color_mask(out, POLE), color_mask(want, POLE)
    near = cv2.dilate(pole_truth.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (pole & near).sum() > 0.6 * pole_truth.sum(), ((pole & near).sum(), pole_truth.sum())
    assert (pole & ~near).sum() < 0.1 * pole_truth.sum(), (pole & ~near).sum()
    _assert_no_ink_left(out, want)


def test_a_box_beside_the_stick_in_one_key_stays_where_it_is():
    """A static box touching the stick in key B is background (the other key shows it in place,
    not where the arm's bone would carry it): it is not dragged along with the stick, which
    swings to the middle pose."""
    box = _along(40.0, ARM_LEN + 0.6 * STICK_LEN, side=-(STICK_W / 2 + 3 + 20))
    a, b = _drawing(-40.0, box), _drawing(40.0, box)
    out = _layered(a, b, _pose(-40.0), _pose(40.0), _pose(0.0), 0.5)
    truth = color_mask(a, BOX)
    got = color_mask(out, BOX)
    assert (got & truth).sum() > 0.9 * truth.sum() and (got & ~truth).sum() < 0.05 * truth.sum()
    # while the stick beside it did swing (the network's flows are zero: the layers moved it)
    assert abs(_direction(color_mask(out, STICK))) < 3.0


def test_the_arm_stays_in_front_of_the_body_it_crosses():
    """The arm is drawn over the body in both keys; at the middle pose (swung across the body)
    its colour, not the body's, is on the arm's bone."""
    a, b = _drawing(150.0), _drawing(210.0)
    out = _layered(a, b, _pose(150.0), _pose(210.0), _pose(180.0), 0.5)
    on_bone = [(round(x), round(y)) for x, y in (_along(180.0, d) for d in (20.0, 40.0, 60.0, 80.0))]
    arm = color_mask(out, ARM)
    assert all(arm[y, x] for x, y in on_bone), [bool(arm[y, x]) for x, y in on_bone]


def test_a_large_canvas_is_labelled_reduced_and_still_follows_the_bones():
    s = 5.0  # 2560 x 1600
    a, b = _drawing(-40.0, s=s), _drawing(40.0, s=s)
    out = _layered(a, b, _pose(-40.0, s), _pose(40.0, s), _pose(0.0, s), 0.5)
    assert out.shape == a.shape
    for color in (ARM, STICK):
        got, truth = color_mask(out, color), color_mask(_drawing(0.0, s=s), color)
        assert abs(_direction(got, s)) < 3.0
        assert 0.85 * truth.sum() < got.sum() < 1.15 * truth.sum()


def test_a_large_canvas_gets_its_background_plates_at_the_networks_size():
    """2560 x 1600 keys: the plates the network sees are painted at 1024 x 640 (what it
    works at), with the body, the arm and the stick gone from them."""
    s = 5.0
    a, b = _drawing(-40.0, s=s), _drawing(40.0, s=s)
    layers = PoseLayers(a, b, _pose(-40.0, s), _pose(40.0, s), BODY_PARENTS)
    zero = torch.zeros(1, 2, *a.shape[:2])
    calls: list[int] = []

    def key_flows():
        calls.append(1)
        return zero, zero

    plates = layers.plates(_pose(0.0, s), key_flows)
    assert plates is not None and layers.plates(_pose(10.0, s), key_flows) is plates
    assert len(calls) == 1  # the keys' network flows only for the labelling, once per pair
    for plate in plates:
        assert plate.shape == (640, 1024, 4)
        for color in (ARM, STICK, BODY):
            assert color_mask(plate, color).sum() < 50, (color, color_mask(plate, color).sum())


def test_poses_sharing_fewer_than_two_bones_give_no_layers():
    a = _drawing(0.0)
    only_neck = [[-1.0, -1.0, 0.0] for _ in BODY_JOINTS]
    only_neck[_j("neck")] = [100.0, 100.0, 1.0]
    assert common_bones(BODY_PARENTS, [_pose(0.0), only_neck]) == []
    layers = PoseLayers(a, a, _pose(0.0), _pose(0.0), BODY_PARENTS)
    zero = torch.zeros(1, 2, H, W)
    assert layers.flows(0.5, only_neck, zero, zero, torch.full((1, 1, H, W), 0.5)) is None


def test_a_transparent_layer_keeps_its_transparency_where_the_arm_was():
    """On a transparent layer the background stays transparent where the arm was in a key."""
    alpha = 0

    def on_layer(img: np.ndarray) -> np.ndarray:
        img = img.copy()
        bg = (img[..., :3] == canvas()[0, 0, :3]).all(-1)
        img[bg, 3] = alpha
        return img
    a, b = on_layer(_drawing(-40.0)), on_layer(_drawing(40.0))
    out = _layered(a, b, _pose(-40.0), _pose(40.0), _pose(0.0), 0.5)
    want = on_layer(_drawing(0.0))
    away = (want[..., 3] == alpha) & (a[..., 3] != alpha) & (b[..., 3] == alpha)  # arm's place in key A only
    assert away.sum() > 500
    assert np.abs(out[..., 3][away].astype(int) - alpha).mean() < 20


def test_a_close_up_body_larger_than_a_remap_row_is_carried_whole():
    """A torso of 52k pixels (more than one `cv2.remap` row takes: 32767) on two long bones,
    moved 30 px between the keys: it is labelled, checked against the other key, and drawn
    once at the middle, not left where it was."""
    def pose(dx: float) -> list[list[float]]:
        pts = [[-1.0, -1.0, 0.0] for _ in BODY_JOINTS]
        pts[_j("neck")] = [236.0 + dx, 60.0, 1.0]
        pts[_j("r_shoulder")] = [336.0 + dx, 60.0, 1.0]
        pts[_j("r_hip")] = [236.0 + dx, 260.0, 1.0]
        return pts

    def drawing(dx: float) -> np.ndarray:
        return bar(canvas(), (236.0 + dx, 160.0), 230.0, 230.0, 90.0, BODY)

    a, b = drawing(-15.0), drawing(15.0)
    assert color_mask(a, BODY).sum() > 32767
    out = _layered(a, b, pose(-15.0), pose(15.0), pose(0.0), 0.5)
    got, truth = color_mask(out, BODY), color_mask(drawing(0.0), BODY)
    assert (got & truth).sum() > 0.97 * truth.sum() and (got & ~truth).sum() < 0.02 * truth.sum()


HEAD, EYE_PATCH = (230, 180, 120), (40, 120, 200)
HEAD_CENTER, NECK = (260.0, 130.0), (250.0, 215.0)


def _rotated(offset: tuple[float, float], angle_deg: float) -> tuple[float, float]:
    """`offset` from the head's centre turned by `angle_deg` about it, in the picture."""
    ux, uy = _unit(angle_deg)
    return (HEAD_CENTER[0] + ux * offset[0] - uy * offset[1],
            HEAD_CENTER[1] + uy * offset[0] + ux * offset[1])


#: The face's joints, from the head's centre: nose, right eye, left eye.
FACE = {"nose": (40.0, 5.0), "r_eye": (22.0, -18.0), "l_eye": (26.0, 14.0)}
EYE_PATCH_AT = (18.0, -16.0)


def _head_drawing(angle_deg: float) -> np.ndarray:
    """A body below a still neck, and a head tilting about its own centre (a nod on a long
    neck), with a patch over its right eye that shows where the head turned."""
    img = canvas()
    disc(img, (NECK[0], NECK[1] + 50), 45, BODY)
    disc(img, HEAD_CENTER, 55, HEAD)
    disc(img, _rotated(EYE_PATCH_AT, angle_deg), 12, EYE_PATCH)
    return img


def _head_pose(angle_deg: float, nose_off: float = 0.0) -> list[list[float]]:
    pts = [[-1.0, -1.0, 0.0] for _ in BODY_JOINTS]
    pts[_j("neck")] = [NECK[0], NECK[1], 1.0]
    pts[_j("r_hip")] = [NECK[0], NECK[1] + 90, 1.0]
    for name, offset in FACE.items():
        x, y = _rotated(offset, angle_deg)
        pts[_j(name)] = [x, y + (nose_off if name == "nose" else 0.0), 1.0]
    return pts


def test_a_head_tilting_about_its_centre_follows_all_its_face_joints():
    """Keys tilted 0 and 50 degrees about the head's centre, the pose at 25 with the nose
    placed 3 px off (as a hand-placed joint is): the head moves as one body, fitted to its
    nose and eyes together, and is drawn once at its size. Carried by one of its bones (the
    neck-nose bone turns and stretches with such a nod; an eye-nose bone is 20 px long and
    turns with its joint's error) it came out 16% larger, its outline left beside the truth's."""
    a, b = _head_drawing(0.0), _head_drawing(50.0)
    out = _layered(a, b, _head_pose(0.0), _head_pose(50.0), _head_pose(25.0, nose_off=3.0), 0.5)
    want = _head_drawing(25.0)
    got, truth = color_mask(out, EYE_PATCH), color_mask(want, EYE_PATCH)
    gx, gy = centroid(got)
    tx, ty = centroid(truth)
    assert math.hypot(gx - tx, gy - ty) < 2.5, ((gx, gy), (tx, ty))
    assert 0.85 * truth.sum() < got.sum() < 1.1 * truth.sum(), (got.sum(), truth.sum())
    _assert_no_ink_left(out, want)


def test_the_head_frame_is_the_face_joints_similarity_and_needs_three_of_them():
    """From the face's joints turned exactly, the frame carries any point of the head where
    the turn takes it; with only two face joints shown the head's bones keep their own
    motion (two joints are one short bone again)."""
    a = with_head_frame(_head_pose(0.0), _head_pose(0.0))
    b = with_head_frame(_head_pose(0.0), _head_pose(50.0))
    moving = mover((0, 1), (a, b))
    assert moving == HEAD_FRAME
    x, y = carry(np.float32([HEAD_CENTER[0] - 30.0]), np.float32([HEAD_CENTER[1] + 20.0]),
                 ends(a, moving), ends(b, moving))
    assert math.dist((float(x[0]), float(y[0])), _rotated((-30.0, 20.0), 50.0)) < 1e-3
    two = _head_pose(50.0)
    two[_j("l_eye")] = [-1.0, -1.0, 0.0]
    c = with_head_frame(_head_pose(0.0), two)
    assert c[HEAD_FRAME[1]][2] == 0.0
    assert mover((0, 1), (a, c)) == (0, 1)
    assert mover((9, 8), (a, b)) == (9, 8)  # a leg's bone is its own


def _wall(pan: float) -> np.ndarray:
    """A wall with spots of wallpaper, moved `pan` px by a camera pan."""
    img = canvas()
    for sx, sy in np.random.default_rng(3).uniform((0, 0), (W, H), (60, 2)):
        cv2.circle(img, (int(round(sx + pan)), int(round(sy))), 6, (200, 170, 150, 255), -1, cv2.LINE_AA)
    return img


def test_background_plates_paint_the_character_over_with_the_wall():
    """Keys on a wall panned 10 px, the character (a disc) elsewhere in each: each key's
    plate shows, where its character was, the wall the other key shows there (so the
    network sees the wall's motion only); where the other key hides it too, the wall around,
    never the character's colour."""
    a, b = _wall(0.0), _wall(10.0)
    disc(a, (150.0, 150.0), 45, BODY)
    disc(b, (330.0, 150.0), 45, BODY)
    disc(b, (160.0, 230.0), 30, BODY)  # hides the wall behind A's disc, in part
    labels_a = np.where(a[..., :3].astype(int).sum(-1) != _wall(0.0)[..., :3].astype(int).sum(-1), 0, -1)
    labels_b = np.where(b[..., :3].astype(int).sum(-1) != _wall(10.0)[..., :3].astype(int).sum(-1), 0, -1)
    layers = PoseLayers(a, b, _pose(0.0), _pose(0.0), BODY_PARENTS)
    plate_a, plate_b = background_plates(a, b, labels_a.astype(np.float32), labels_b.astype(np.float32),
                                         (10.0, 0.0), layers.grid())
    for plate, wall, labels in ((plate_a, _wall(0.0), labels_a), (plate_b, _wall(10.0), labels_b)):
        assert not color_mask(plate, BODY).any()
        assert (plate[labels < 0] == wall[labels < 0]).all()  # the rest untouched
    # where key B shows the wall behind A's disc, A's plate is that wall
    hidden = cv2.dilate((labels_b >= 0).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    shown = (labels_a >= 0) & ~np.roll(hidden, -10, axis=1)
    diff = np.abs(plate_a[shown].astype(int) - _wall(0.0)[shown].astype(int)).mean()
    assert shown.sum() > 3000 and diff < 4.0, (shown.sum(), diff)


TAIL = (230, 140, 40)
TAIL_ROOT = (SHOULDER[0] - 80.0, SHOULDER[1] + 25.0)
TAIL_LEN, TAIL_W = 75.0, 24.0


def _tail_drawing(tail_deg: float, line_art: bool = False) -> np.ndarray:
    """The body and the arm (still), and a tail from the body's side turned `tail_deg` about
    its root: no bone of the pose carries it. `line_art`: every part white inside its black
    outline, on white."""
    img = np.full((H, W, 4), 255, np.uint8) if line_art else canvas()
    tail, body, arm = ((255, 255, 255),) * 3 if line_art else (TAIL, BODY, ARM)
    ux, uy = _unit(tail_deg)
    bar(img, (TAIL_ROOT[0] + ux * TAIL_LEN / 2, TAIL_ROOT[1] + uy * TAIL_LEN / 2), TAIL_LEN, TAIL_W,
        tail_deg, tail)
    disc(img, (SHOULDER[0] - 40, SHOULDER[1]), 45, body)
    bar(img, _along(60.0, ARM_LEN / 2), ARM_LEN, ARM_W, 60.0, arm)
    return img


def test_a_tail_swinging_on_its_own_moves_as_one_piece_and_leaves_nothing_behind():
    """The tail swings 60 degrees about its root while the body stands still, so no bone's
    motion shows it in the other key: it is found as a loose piece, matched into the other
    key turned, and drawn once, whole, at the middle turn; no copy is left at the keys'
    places (the network's flows are zero: the layers alone move it)."""
    a, b = _tail_drawing(140.0), _tail_drawing(200.0)
    pose = _pose(60.0)
    out = _layered(a, b, pose, pose, pose, 0.5)
    want = _tail_drawing(170.0)
    got, truth = color_mask(out, TAIL), color_mask(want, TAIL)
    assert 0.8 * truth.sum() < got.sum() < 1.2 * truth.sum(), (got.sum(), truth.sum())
    x, y = centroid(got)
    assert abs(math.degrees(math.atan2(y - TAIL_ROOT[1], x - TAIL_ROOT[0])) % 360 - 170.0) < 4.0
    near = cv2.dilate(truth.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert (got & ~near).sum() < 0.15 * truth.sum(), (got & ~near).sum()
    _assert_no_ink_left(out, want)
    # the body and the arm stay as they were
    for color in (BODY, ARM):
        assert (color_mask(out, color) ^ color_mask(want, color)).sum() < 0.05 * color_mask(want, color).sum()


def test_a_line_art_tail_swinging_on_its_own_leaves_no_outline_behind():
    """Line art: the tail's white inside shows on the white wall wherever the background
    goes, so only its outline tells that it moved (a fill moves by its ink in line art). It
    is found as a loose piece and drawn at the middle turn with its outline whole, corners
    included: none of either key's outline stays at the keys' places."""
    a, b = _tail_drawing(140.0, line_art=True), _tail_drawing(200.0, line_art=True)
    pose = _pose(60.0)
    out = _layered(a, b, pose, pose, pose, 0.5)
    want = _tail_drawing(170.0, line_art=True)
    ink = lambda img: img[..., :3].astype(int).sum(-1) < 3 * 200  # noqa: E731

    def around(img: np.ndarray, px: int) -> np.ndarray:
        return cv2.dilate(ink(img).astype(np.uint8), np.ones((px, px), np.uint8)).astype(bool)

    # nothing of either key's tail where the truth has none (a corner of B's outline had
    # stayed behind); the tail's end cap, blended from both keys a few px apart, may be faint
    left = ink(out) & ~around(want, 9) & (around(a, 5) | around(b, 5))
    assert left.sum() < 10, left.sum()
    drawn = around(out, 5)
    assert (ink(want) & ~drawn).sum() < 0.05 * ink(want).sum(), ((ink(want) & ~drawn).sum(), ink(want).sum())


INK = (20, 20, 20)
WINDOW = (300, 40, 440, 160)  # x0, y0, x1, y1: a window of four white panes on a white wall


def _ink_head_drawing(dx: float) -> np.ndarray:
    """Line art: a window on the wall, and in front of it a body and a head (white inside
    black outlines, grey hair) moved `dx` px right; the head overlaps the window's left edge."""
    img = np.full((H, W, 4), 255, np.uint8)
    x0, y0, x1, y1 = WINDOW
    cv2.rectangle(img, (x0, y0), (x1, y1), INK + (255,), 3, cv2.LINE_AA)
    cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), INK + (255,), 3, cv2.LINE_AA)
    cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), INK + (255,), 3, cv2.LINE_AA)
    disc(img, (NECK[0] + dx, NECK[1] + 50), 45, (255, 255, 255))
    disc(img, (HEAD_CENTER[0] + dx, HEAD_CENTER[1]), 55, (255, 255, 255))
    cv2.circle(img, (round(HEAD_CENTER[0] + dx + 25), round(HEAD_CENTER[1] - 15)), 6, INK + (255,), -1)
    hair = (round(HEAD_CENTER[0] + dx + 20), round(HEAD_CENTER[1] - 30))
    cv2.ellipse(img, hair, (34, 22), 0, 0, 360, (90, 90, 90, 255), -1, cv2.LINE_AA)
    return img


def _moved_head_pose(dx: float) -> list[list[float]]:
    return [[x + dx, y, c] if c > 0 else [x, y, c] for x, y, c in _head_pose(0.0)]


def test_line_art_panes_beside_a_head_stay_on_the_wall():
    """Line art, the head and body moved 60 px in front of a window: the window's white
    panes fit the head's white wherever the head's bone takes them, so only their ink tells
    that the head does not carry them (`GROW_FIT_INK`; without it 17% of the window's ink
    went with the head). At the middle the window is drawn where it hangs; one pane still
    goes with the head (its top and bottom lines, shifted along themselves, land on the
    window's own), which leaves some ink beside the window's."""
    a, b = _ink_head_drawing(0.0), _ink_head_drawing(60.0)
    out = _layered(a, b, _moved_head_pose(0.0), _moved_head_pose(60.0), _moved_head_pose(30.0), 0.5)
    want = _ink_head_drawing(30.0)
    ink = lambda img: img[..., :3].astype(int).sum(-1) < 3 * 128  # noqa: E731
    yy, xx = np.mgrid[:H, :W]
    head = np.hypot(xx - HEAD_CENTER[0] - 30.0, yy - HEAD_CENTER[1]) < 62
    x0, y0, x1, y1 = WINDOW
    window = (xx >= x0 - 4) & (xx <= x1 + 4) & (yy >= y0 - 4) & (yy <= y1 + 4) & ~head
    truth, got = ink(want) & window, ink(out) & window
    near = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert (got & near).sum() > 0.9 * truth.sum(), ((got & near).sum(), truth.sum())
    assert (got & ~near).sum() < 0.15 * truth.sum(), (got & ~near).sum()


def _arm_drawing(arm_len: float) -> np.ndarray:
    """The body and the arm at 60 degrees, the arm drawn `arm_len` long (the two keys'
    drawings of one part need not agree)."""
    img = canvas()
    disc(img, (SHOULDER[0] - 40, SHOULDER[1]), 45, BODY)
    bar(img, _along(60.0, arm_len / 2), arm_len, ARM_W, 60.0, ARM)
    return img


def test_a_part_the_keys_draw_differently_is_drawn_once_from_one_key():
    """Key A draws the arm 90 px long, key B 70 px, in the same pose: at the middle the arm
    is A's, which shows more of it, with no trace of B's end across it (the two drawings
    blended had left B's end outline as a grey bar inside the arm); nearer to B it is B's,
    with nothing of A's longer end beyond it."""
    a, b = _arm_drawing(90.0), _arm_drawing(70.0)
    pose = _pose(60.0)
    ink = lambda img: img[..., :3].astype(int).sum(-1) < 3 * 70  # noqa: E731  (the outline, not the red)
    mid = _layered(a, b, pose, pose, pose, 0.5)
    x, y = (round(v) for v in _along(60.0, 70.0))
    across_b_end = (slice(y - 3, y + 4), slice(x - 3, x + 4))
    assert not ink(mid)[across_b_end].any(), ink(mid)[across_b_end].sum()
    assert (color_mask(mid, ARM) ^ color_mask(a, ARM)).sum() < 0.03 * color_mask(a, ARM).sum()
    late = _layered(a, b, pose, pose, pose, 0.75)
    assert (color_mask(late, ARM) ^ color_mask(b, ARM)).sum() < 0.03 * color_mask(b, ARM).sum()
    beyond = np.zeros(late.shape[:2], bool)
    for d in range(78, 96):  # where only A's longer arm and its end were
        px, py = (round(v) for v in _along(60.0, float(d)))
        beyond[py - 8:py + 9, px - 8:px + 9] = True
    assert not (ink(late) & beyond & ~ink(b)).any(), (ink(late) & beyond & ~ink(b)).sum()


HIP = (160.0, 200.0)
THIGH_LEN, THIGH_W = 70.0, 26.0
LEG = (205, 125, 60)  # a fox's leg: near the tail's orange


def _thigh_tail_drawing(thigh_deg: float, tail_deg: float) -> np.ndarray:
    """The body, the arm, a thigh from the hip at `thigh_deg` and a tail from beside the
    hip at `tail_deg`, of nearly the thigh's colour."""
    img = canvas()
    ux, uy = _unit(tail_deg)
    root = (HIP[0] - 20.0, HIP[1] - 5.0)
    bar(img, (root[0] + ux * TAIL_LEN / 2, root[1] + uy * TAIL_LEN / 2), TAIL_LEN, TAIL_W, tail_deg, TAIL)
    tx, ty = _unit(thigh_deg)
    bar(img, (HIP[0] + tx * THIGH_LEN / 2, HIP[1] + ty * THIGH_LEN / 2), THIGH_LEN, THIGH_W, thigh_deg, LEG)
    disc(img, (SHOULDER[0] - 40, SHOULDER[1]), 45, BODY)
    bar(img, _along(60.0, ARM_LEN / 2), ARM_LEN, ARM_W, 60.0, ARM)
    return img


def _thigh_pose(thigh_deg: float) -> list[list[float]]:
    pts = _pose(60.0)
    pts[_j("r_hip")] = [HIP[0], HIP[1], 1.0]
    tx, ty = _unit(thigh_deg)
    pts[_j("r_knee")] = [HIP[0] + tx * THIGH_LEN, HIP[1] + ty * THIGH_LEN, 1.0]
    return pts


def test_a_tail_hanging_beside_a_thigh_swings_on_its_own_whole():
    """Key A's tail hangs beside the thigh, within the thigh's bone's reach, so that bone
    takes it; in key B the thigh has swung 30 degrees and the tail 65. The thigh's motion
    does not show the tail in B, so the loose pieces may take it from the thigh: it is
    drawn once, whole, near its middle turn (the thigh had carried A's tail while B's
    stayed with the wall: 165 of the truth's 1165 tail pixels covered)."""
    a, b = _thigh_tail_drawing(90.0, 105.0), _thigh_tail_drawing(120.0, 170.0)
    out = _layered(a, b, _thigh_pose(90.0), _thigh_pose(120.0), _thigh_pose(105.0), 0.5)
    want = _thigh_tail_drawing(105.0, 137.5)
    got, truth = color_mask(out, TAIL, 25), color_mask(want, TAIL, 25)
    assert (got & truth).sum() > 0.75 * truth.sum(), ((got & truth).sum(), truth.sum())
    assert (got & ~truth).sum() < 0.2 * truth.sum(), (got & ~truth).sum()
