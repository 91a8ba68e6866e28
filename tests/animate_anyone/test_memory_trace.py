"""Device memory of a full-size job (512x768, 24 frames), traced on the meta device (no GPU, no
weights, seconds), as bench/animate_anyone_memory.py does: where the issue's 8 GB budget is
checked on machines without a GPU. Byte counts are deterministic: no timing here."""

from __future__ import annotations

import pytest

GiB = 2 ** 30


@pytest.fixture(scope="module")
def full_size_trace(torch_mod):
    from bench.animate_anyone_memory import trace
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig

    return trace(AnimateAnyoneConfig.full(), torch_mod.float16, frames=24, width=512, height=768)


def test_full_size_job_fits_the_8gb_budget(full_size_trace):
    r = full_size_trace
    print({k: round(v, 2) for k, v in r["phase_total_gb"].items()})
    w = r["weights_gb"]
    # 1.31 G parameters in the denoising UNet (860 M 2D + 454 M motion modules), 2 bytes each
    assert 2.3 < w["denoising"] < 2.6 and 1.5 < w["reference"] < 1.7
    assert set(r["phase_total_gb"]) == {"image_encoder", "vae_encode", "reference_net", "pose_guider",
                                        "denoise_step", "decode"}
    # the ReferenceNet leaves a bank of a few MB, not its 1.6 GB of weights
    assert r["bank_mb"] < 64
    # the target is 8 GB of GPU memory; keep 1 GB for what the trace cannot see
    assert r["peak_gb"] < 7.0, r


def test_chunks_are_what_keeps_it_under_budget(torch_mod):
    """Without feed-forward chunks the step peaks ~1.9 GB higher; one 24-frame decode needs
    ~16 GB: the chunking is what makes an 8 GB card work."""
    from bench.animate_anyone_memory import trace
    from engine.backends.animate_anyone.config import AnimateAnyoneConfig

    cfg = AnimateAnyoneConfig.full()
    plain = trace(cfg, torch_mod.float16, frames=24, chunk=24, ff_chunk_tokens=None)
    chunked = trace(cfg, torch_mod.float16, frames=24)
    assert plain["phase_total_gb"]["denoise_step"] - chunked["phase_total_gb"]["denoise_step"] > 1.0
    assert plain["phase_total_gb"]["decode"] > 2 * chunked["phase_total_gb"]["decode"]
