"""What one Generate fills: drawn keys only, the range trimmed to them, exposure holds."""

from __future__ import annotations

import pytest

from inbetween_krita.shot_plan import frames_text, is_blank, make_plan


def test_empty_keyframes_are_not_keys_and_the_range_is_trimmed():
    plan = make_plan("ink", (0, 11), [0, 4, 10], blank=[0])
    assert plan.keys == (4, 10) and plan.span == (4, 10)
    assert plan.fill == [5, 6, 7, 8, 9] and plan.held == []
    text = plan.describe()
    assert "Fills frames 5-9 (5 in-betweens) between the keys of 'ink' at 4, 10" in text
    assert "range 0-11 trimmed to the keys 4-10" in text and "empty keyframe(s) at 0 are not keys" in text


def test_exposure_on_twos_and_threes_holds_the_frames_between_drawings():
    on2 = make_plan("ink", (0, 8), [0, 8], exposure=2)
    assert on2.fill == [2, 4, 6] and on2.held == [1, 3, 5, 7]
    assert "On 2s: 1, 3, 5, 7 hold." in on2.describe()
    on3 = make_plan("ink", (0, 12), [0, 6, 12], exposure=3)
    assert [(s.start, s.end, s.drawn) for s in on3.segments] == [(0, 6, (3,)), (6, 12, (9,))]
    assert make_plan("ink", (0, 8), [0, 8], exposure=7).exposure == 1  # unknown: on 1s


def test_sketches_count_only_on_drawn_inbetweens():
    plan = make_plan("ink", (0, 8), [0, 8], exposure=2, sketch_keyframes=[0, 3, 4, 8, 20])
    assert plan.sketches == (4,)


@pytest.mark.parametrize("keyframes, blank, requested, words", [
    ([0, 4], [0], (0, 6), ["'ink' has 1 drawn keyframe in frames 0-6", "empty keyframe(s) at 0 are not keys"]),
    ([], [], (0, 6), ["'ink' has 0 drawn keyframes"]),
    ([3, 4], [], (0, 6), ["'ink' at frames 3, 4 leave no frame between them"]),
    ([0, 4], [], (5, 2), ["range 5-2 is empty"]),
])
def test_problems_name_the_layer(keyframes, blank, requested, words):
    plan = make_plan("ink", requested, keyframes, blank)
    assert plan.problem is not None and plan.describe() == plan.problem
    for w in words:
        assert w in plan.problem


def test_no_frame_to_fill_on_twos():
    assert "on 2s" in make_plan("ink", (0, 2), [0, 2], exposure=2).problem


def test_frames_text():
    assert frames_text([5, 6, 7, 8, 9]) == "5-9"
    assert frames_text([5, 7, 9]) == "5, 7, 9"
    assert frames_text([1, 2]) == "1, 2"
    assert frames_text(list(range(1, 40, 2))) == "1, 3, 5 ... 39 (20 frames)"
    assert frames_text([]) == "none"


def test_is_blank_looks_at_alpha_only():
    assert is_blank(bytes(16))
    assert is_blank(bytes((9, 9, 9, 0)) * 4)  # colour left in erased pixels
    assert not is_blank(bytes(12) + bytes((0, 0, 0, 1)))
