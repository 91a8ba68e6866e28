"""ToonCrafterBackend end to end on the tiny fixture checkpoint (garbage images, right shapes)."""

from __future__ import annotations

import numpy as np
import pytest


def _keys(h=50, w=70, transparent=True):
    bg = 0 if transparent else 255
    k0 = np.full((h, w, 4), bg, np.uint8)
    k0[..., 3] = 0 if transparent else 255
    k0[10:30, 10:30] = (255, 0, 0, 255)
    k1 = k0.copy()
    k1[10:30, 10:30] = k0[0, 0]
    k1[20:40, 40:60] = (0, 0, 255, 255)
    return k0, k1


@pytest.fixture(scope="module")
def backend(fixture_path, torch_mod):
    from engine.backends.base import EngineConfig
    from engine.backends.tooncrafter.backend import ToonCrafterBackend

    return ToonCrafterBackend(EngineConfig(device="cpu", models_dir=str(fixture_path)))


def _shot(k0, k1, sketches=None, steps=2, **extra):
    from engine.shot import BackendOptions, Shot

    h, w = k0.shape[:2]
    return Shot(w, h, {0: k0, 6: k1}, sketches or {}, backend="tooncrafter",
                options=BackendOptions(seed=3, steps=steps, extra=extra))


def test_runs_end_to_end_with_sketch_and_alpha(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys()
    sketch = np.zeros_like(k0)
    sketch[25, 20:50] = (0, 0, 0, 255)
    k0_before, k1_before = k0.copy(), k1.copy()
    plan = backend.prepare(_shot(k0, k1, {3: sketch}))
    progress: list[tuple[float, str]] = []
    out = list(backend.run(plan, JobContext(on_progress=lambda f, s: progress.append((f, s)))))
    assert [o.frame for o in out if not o.preview] == [1, 2, 3, 4, 5]
    for o in out:
        assert o.rgba.shape == k0.shape and o.rgba.dtype == np.uint8
    assert np.array_equal(k0, k0_before) and np.array_equal(k1, k1_before)  # keys untouched
    steps = [s for _, s in progress if "step" in s]
    assert len(steps) == 2
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("tooncrafter" in m for m in backend.loaded_models())


def test_opaque_keys_stay_opaque_and_runs_are_reproducible(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys(40, 40, transparent=False)
    a = [o.rgba for o in backend.run(backend.prepare(_shot(k0, k1, steps=1)), JobContext())]
    b = [o.rgba for o in backend.run(backend.prepare(_shot(k0, k1, steps=1)), JobContext())]
    assert all((f[..., 3] == 255).all() for f in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_cancel_between_steps(backend):
    from engine.backends.base import JobContext
    from engine.errors import JobCancelled

    k0, k1 = _keys()
    ctx = JobContext()
    seen = []

    def progress(f, s):
        seen.append(s)
        if "step 1/" in s:
            ctx.cancel_event.set()

    ctx.on_progress = progress
    with pytest.raises(JobCancelled):
        list(backend.run(backend.prepare(_shot(k0, k1, steps=3)), ctx))
    assert not any("step 2/" in s for s in seen)


def test_unavailable_without_checkpoint(tmp_path, torch_mod):
    from engine.backends.base import EngineConfig
    from engine.backends.tooncrafter.backend import ToonCrafterBackend
    from engine.errors import BackendUnavailable

    b = ToonCrafterBackend(EngineConfig(device="cpu", models_dir=str(tmp_path)))
    avail = b.availability()
    assert not avail.available and "no checkpoint" in avail.reason
    k0, k1 = _keys()
    with pytest.raises(BackendUnavailable):
        b.prepare(_shot(k0, k1))


def test_prompt_without_tokenizer_is_refused(backend):
    from engine.errors import ShotError

    k0, k1 = _keys()
    with pytest.raises(ShotError):
        backend.prepare(_shot(k0, k1, prompt="a cat"))


@pytest.mark.parametrize("chunk", [1, 3])
def test_chunked_vae_decode_matches_reference(pipeline, tensors, torch_mod, fixture_config, chunk):
    """The memory-lean decode (frame chunks, row-tiled temporal layers with clip-wide GroupNorm
    statistics, fused upsampling, in-place updates) against the reference's decoder outputs;
    3 does not divide the frame count, so chunks and tiles are ragged."""
    _, expected = tensors
    tol = fixture_config["suggested_atol"]["values"]
    refs = [expected[f"vae_ref_{i}"] for i in range(len([k for k in expected if k.startswith("vae_ref_")]))]
    z = expected["h_latent_final"]
    full = pipeline.decode_frames(z, refs)
    pipeline.vae_frame_chunk = chunk
    try:
        chunked = pipeline.decode_frames(z, refs)
        mid = pipeline.middle_frames_of_redecode(z, refs)
    finally:
        pipeline.vae_frame_chunk = None
    assert (chunked - expected["dec_video16"]).abs().max().item() <= tol["dec_video16"]
    assert (mid - expected["dec_video14_mid"]).abs().max().item() <= tol["dec_video14_mid"]
    # only the float rounding of the reorganised arithmetic separates the two paths
    assert (full - chunked).abs().max().item() < 1e-4


def test_previews_while_sampling_then_the_finals(backend):
    from engine.backends.base import JobContext

    k0, k1 = _keys()
    out = list(backend.run(backend.prepare(_shot(k0, k1, steps=3)), JobContext()))
    previews = [i for i, o in enumerate(out) if o.preview]
    finals = [i for i, o in enumerate(out) if not o.preview]
    # the first preview set comes right after step 1, before any final frame
    assert [out[i].frame for i in previews[:5]] == [1, 2, 3, 4, 5]
    assert max(previews) < min(finals)
    assert all(out[i].rgba.shape == k0.shape and out[i].rgba.dtype == np.uint8 for i in previews)
    quiet = list(backend.run(backend.prepare(_shot(k0, k1, steps=3)), JobContext(previews=False)))
    assert not any(o.preview for o in quiet)
    # previews are a side view: the results do not depend on them
    assert all(np.array_equal(out[i].rgba, q.rgba) for i, q in zip(finals, quiet))


def test_keys_that_paint_white_go_in_on_a_chroma_key_matte(backend):
    """The model sees the transparent parts of the keys in the matte colour it is matted
    against afterwards, and the letterbox padding too."""
    from engine.backends.base import JobContext

    k0, k1 = _keys(40, 80)
    k0[12:18, 12:18] = (255, 255, 255, 255)  # a white eye: white cannot be the matte
    plan = backend.prepare(_shot(k0, k1, steps=1))
    pipe = backend._pipeline(plan)
    seen = []
    original = pipe.condition

    def spy(key_first, key_last, *args):
        seen.append((key_first.clone(), key_last.clone()))
        return original(key_first, key_last, *args)

    pipe.condition = spy
    try:
        out = list(backend.run(plan, JobContext(previews=False)))
    finally:
        del pipe.condition
    first, last = seen[0]
    green = np.array([-1.0, 1.0, -1.0], np.float32)  # (0, 255, 0) in the model's [-1, 1]
    for key in (first, last):
        img = key[0].permute(1, 2, 0).numpy()
        assert np.allclose(img[0, 0], green, atol=1e-3)  # padding (80x40 in a square frame)
        assert np.allclose(img[img.shape[0] // 2, 1], green, atol=1e-3)  # transparent key area
    assert len(out) == 5
