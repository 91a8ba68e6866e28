"""AnimateAnyoneBackend end to end on the tiny fixture (random weights: garbage images, right
shapes), and its planning: poses per in-between, reference key, framing, windows."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import fixture_dir, have_fixture


def _keys(h=50, w=70, transparent=True):
    bg = 0 if transparent else 255
    k0 = np.full((h, w, 4), bg, np.uint8)
    k0[..., 3] = 0 if transparent else 255
    k0[10:30, 10:30] = (255, 0, 0, 255)
    k1 = k0.copy()
    k1[10:30, 10:30] = k0[0, 0]
    k1[20:40, 40:60] = (0, 0, 255, 255)
    return k0, k1


def _figure(w, h, dx=0.0, arm=0.0):
    """An 18-joint skeleton inside a w x h canvas (ears missing), shifted by dx (fraction of w)."""
    from inbetween_client.poses import MISSING, Pose

    pts = [(0.5, 0.15), (0.5, 0.3), (0.4, 0.3), (0.35, 0.45 - arm), (0.3, 0.6 - 2 * arm), (0.6, 0.3), (0.65, 0.45),
           (0.7, 0.6), (0.45, 0.6), (0.45, 0.75), (0.45, 0.9), (0.55, 0.6), (0.55, 0.75), (0.55, 0.9),
           (0.47, 0.12), (0.53, 0.12)]
    body = [((x + dx) * (w - 1), y * (h - 1), 1.0) for x, y in pts] + [MISSING, MISSING]
    return Pose(tuple(body))


def _shot(k0, k1, poses=None, steps=2, end=6, seed=3, sketches=None, **extra):
    from engine.shot import BackendOptions, Shot
    from inbetween_client.poses import PoseTrack

    h, w = k0.shape[:2]
    if poses is None:
        poses = {0.0: _figure(w, h), 1.0: _figure(w, h, 0.2, 0.1)}
    track = {0: PoseTrack.of(poses)} if poses else {}
    return Shot(w, h, {0: k0, end: k1}, sketches or {}, backend="animate_anyone", poses=track,
                options=BackendOptions(seed=seed, steps=steps, extra=extra))


@pytest.fixture(scope="module")
def backend(fixture_path, torch_mod):
    from engine.backends.animate_anyone.backend import AnimateAnyoneBackend
    from engine.backends.base import EngineConfig

    return AnimateAnyoneBackend(EngineConfig(device="cpu", models_dir=str(fixture_path)))


def test_runs_end_to_end_with_alpha_progress_and_previews(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys()
    k0_before, k1_before = k0.copy(), k1.copy()
    plan = backend.prepare(_shot(k0, k1, steps=3))
    progress: list[tuple[float, str]] = []
    out = list(backend.run(plan, JobContext(on_progress=lambda f, s: progress.append((f, s)))))
    finals = [o for o in out if not o.preview]
    assert [o.frame for o in finals] == [1, 2, 3, 4, 5]
    assert any(o.preview for o in out)  # after step 1 of 3
    for o in out:
        assert o.rgba.shape == k0.shape and o.rgba.dtype == np.uint8
    assert np.array_equal(k0, k0_before) and np.array_equal(k1, k1_before)  # keys untouched
    assert [s for _, s in progress if "step" in s] == ["clip: step 1/3", "clip: step 2/3", "clip: step 3/3"]
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("animate_anyone" in m for m in backend.loaded_models())


def test_reproducible_per_seed_and_opaque_keys_stay_opaque(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys(40, 56, transparent=False)

    def frames(seed):
        return [o.rgba for o in backend.run(backend.prepare(_shot(k0, k1, steps=1, seed=seed)),
                                             JobContext(previews=False))]

    a, b, c = frames(5), frames(5), frames(6)
    assert all((f[..., 3] == 255).all() for f in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_any_canvas_size_comes_back_at_its_size(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys(37, 53)
    out = list(backend.run(backend.prepare(_shot(k0, k1, steps=1, end=3)), JobContext(previews=False)))
    assert [o.frame for o in out] == [1, 2] and all(o.rgba.shape == (37, 53, 4) for o in out)


def test_nearer_reference_runs_two_clips(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys()
    plan = backend.prepare(_shot(k0, k1, steps=1, reference="nearer"))
    assert [c.reference for c in plan.clips] == ["a", "b"] and plan.work_units == 2
    # in-betweens at t <= 0.5 take key A, the later ones key B; each clip anchored at its key's pose
    assert [i for _, i in plan.clips[0].keep] == [0, 1, 2] and [i for _, i in plan.clips[1].keep] == [3, 4]
    assert len(plan.clips[0].poses) == 4 and len(plan.clips[1].poses) == 3
    progress = []
    out = list(backend.run(plan, JobContext(previews=False, on_progress=lambda f, s: progress.append(s))))
    assert [o.frame for o in out] == [1, 2, 3, 4, 5]
    assert "clip 2/2: step 1/1" in progress
    first = [o.rgba for o in backend.run(backend.prepare(_shot(k0, k1, steps=1)), JobContext(previews=False))]
    assert not np.array_equal(first[4], out[4].rgba)


def test_poses_are_required_and_sketches_refused(backend):
    from engine.errors import ShotError

    k0, k1 = _keys()
    h, w = k0.shape[:2]
    with pytest.raises(ShotError, match="no pose for frames 1, 2, 3, 4, 5"):
        backend.prepare(_shot(k0, k1, poses={}))
    with pytest.raises(ShotError, match="no pose for frames 4, 5"):  # nothing to interpolate from after t=0.5
        backend.prepare(_shot(k0, k1, poses={0.0: _figure(w, h), 0.5: _figure(w, h, 0.1)}))
    sketch = np.zeros_like(k0)
    sketch[20, 10:40] = (0, 0, 0, 255)
    with pytest.raises(ShotError, match="does not take sketches"):
        backend.prepare(_shot(k0, k1, sketches={2: sketch}))
    with pytest.raises(ShotError, match="options.reference"):
        backend.prepare(_shot(k0, k1, reference="last"))


def test_cancel_between_steps(backend):
    from engine.backends.base import JobContext
    from engine.errors import JobCancelled

    k0, k1 = _keys()
    ctx = JobContext(previews=False)
    seen = []

    def progress(f, s):
        seen.append(s)
        if "step 1/" in s:
            ctx.cancel_event.set()

    ctx.on_progress = progress
    with pytest.raises(JobCancelled):
        list(backend.run(backend.prepare(_shot(k0, k1, steps=3)), ctx))
    assert "clip: step 2/3" not in seen


def test_long_segment_runs_in_windows(backend, fixture_config):
    """More frames than one motion window: clamped windows (no wrap-around) by default."""
    from engine.backends.animate_anyone.context import clamped_windows
    from engine.backends.base import JobContext

    size = fixture_config["pipeline"]["context_frames"]
    k0, k1 = _keys(40, 40, transparent=False)
    end = size + 2  # size + 1 in-betweens + the two key poses: two windows
    plan = backend.prepare(_shot(k0, k1, steps=1, end=end))
    frames = len(plan.clips[0].poses)
    assert frames == end + 1 and len(clamped_windows(frames, size, plan.cfg.run.context_overlap)) == 2
    out = list(backend.run(plan, JobContext(previews=False)))
    assert [o.frame for o in out] == list(range(1, end))


def test_unavailable_without_files(tmp_path, torch_mod):
    from engine.backends.animate_anyone.backend import AnimateAnyoneBackend
    from engine.backends.base import EngineConfig
    from engine.errors import BackendUnavailable

    b = AnimateAnyoneBackend(EngineConfig(device="cpu", models_dir=str(tmp_path)))
    avail = b.availability()
    assert not avail.available and "denoising_unet.pth" in avail.reason and "models download animate-anyone" in avail.reason
    k0, k1 = _keys()
    with pytest.raises(BackendUnavailable, match="missing in"):
        b.prepare(_shot(k0, k1))


def test_model_frame_fits_orientation_and_multiples_of_8():
    pytest.importorskip("cv2")
    from engine.backends.animate_anyone.framing import model_frame

    for (w, h), (mw, mh) in [((150, 100), (512, 768)), ((1920, 1080), (512, 768)), ((1080, 1920), (512, 768)),
                             ((37, 53), (80, 112)), ((512, 512), (512, 768)), ((3000, 200), (512, 768))]:
        box = model_frame(w, h, mw, mh)
        assert box.dst_w % 8 == 0 and box.dst_h % 8 == 0
        assert max(box.dst_w, box.dst_h) <= max(mw, mh) and min(box.dst_w, box.dst_h) <= min(mw, mh)
        assert (box.dst_w > box.dst_h) == (w > h) or w == h or box.dst_w == box.dst_h
        assert box.dst_w - box.w < 8 and box.dst_h - box.h < 8  # padding only up to the next multiple of 8
        assert abs(box.w / box.h - w / h) < 0.05 * w / h + 8 / box.h
    assert model_frame(1920, 1080, 512, 768).dst_w == 768


def test_pose_image_is_the_renderer_output_in_the_content_box():
    pytest.importorskip("cv2")
    from engine.backends.animate_anyone.framing import model_frame, pose_image
    from engine.poses.render import render_pose

    pose = _figure(150, 100)
    box = model_frame(150, 100, 512, 768)
    img = pose_image(pose, box)
    assert img.shape == (box.dst_h, box.dst_w, 3) and img.dtype == np.uint8
    inner = img[box.y0:box.y0 + box.h, box.x0:box.x0 + box.w]
    assert np.array_equal(inner, render_pose(pose, 150, 100, (box.w, box.h)))
    assert img.sum() == inner.sum()  # the padding is the renderer's black


def test_context_windows():
    from engine.backends.animate_anyone.context import clamped_windows, uniform_windows

    assert uniform_windows(6, 8) == [list(range(6))] == clamped_windows(6, 8)
    assert uniform_windows(10, 8, 1, 4) == [[0, 1, 2, 3, 4, 5, 6, 7], [4, 5, 6, 7, 8, 9, 0, 1], [8, 9, 0, 1, 2, 3, 4, 5]]
    assert clamped_windows(10, 8, 4) == [list(range(8)), list(range(2, 10))]
    for n in range(9, 60):
        wins = clamped_windows(n, 8, 4)
        covered = sorted({f for w in wins for f in w})
        assert covered == list(range(n)) and all(len(w) == 8 and w == sorted(w) for w in wins)
        assert all(len(set(a) & set(b)) >= 4 for a, b in zip(wins, wins[1:]))


@pytest.mark.skipif(not have_fixture(), reason=f"Animate Anyone fixture not found at {fixture_dir()}")
def test_backends_listing_says_what_is_missing(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from .conftest import REPO

    def listing(models):
        env = dict(os.environ, INBETWEEN_MODELS_DIR=str(models), INBETWEEN_STATE_DIR=str(tmp_path / "state"))
        r = subprocess.run([sys.executable, "-m", "engine", "backends", "--json"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return next(b for b in json.loads(r.stdout)["backends"] if b["name"] == "animate_anyone")

    missing = listing(tmp_path / "empty")
    assert not missing["available"] and "image_encoder/" in missing["reason"] and missing["supports_poses"]
    ready = listing(fixture_dir())
    assert ready["available"] and ready["supports_poses"] and not ready["supports_sketches"]
