"""Device memory of a full-size job, traced on the meta device (no GPU, no weights, seconds).

The tracer itself is checked on real CPU tensors first; then the full-size architecture is
traced as `bench/tooncrafter_memory.py` does, which is where the issue's 8 GB budget is
checked on machines without a GPU. Byte counts are deterministic: no timing here.
"""

from __future__ import annotations

import pytest

GiB = 2 ** 30


def test_live_bytes_counts_allocations_views_and_frees(torch_mod):
    torch = torch_mod
    from bench.tooncrafter_memory import LiveBytes

    mib = 2 ** 20
    weight = torch.ones(256, 1024)  # made before tracing: free
    tracker = LiveBytes()
    with tracker, torch.inference_mode():
        a = weight * 2  # 1 MiB
        b = a + 1  # 2 MiB live
        del a  # 1 MiB
        v = b.view(-1)  # a view: nothing new
        b.relu_()  # in place: nothing new
        t = weight.t()  # view of an untracked weight: nothing new
        assert tracker.live == mib
        assert tracker.peak == 2 * mib
        del b, v, t
        assert tracker.live == 0
        c = torch.empty(3 * mib // 4, dtype=torch.uint8)
        assert tracker.live == 3 * mib // 4
        del c
    assert tracker.live == 0


@pytest.fixture(scope="module")
def full_size_trace(torch_mod):
    from bench.tooncrafter_memory import trace
    from engine.backends.tooncrafter.backend import VAE_FRAME_CHUNK
    from engine.backends.tooncrafter.config import ToonCrafterConfig

    return trace(ToonCrafterConfig.full(), torch_mod.float16, sketch=True, chunk=VAE_FRAME_CHUNK)


def test_full_size_job_fits_the_8gb_budget(full_size_trace):
    r = full_size_trace
    print({k: round(v, 2) for k, v in r["phase_total_gb"].items()})
    # weights: the UNet (1.44 G parameters) dominates; 2 bytes each in fp16
    assert 2.6 < r["weights_gb"]["unet"] < 2.8
    assert r["weights_gb"]["sketch"] > 0.6
    # the target is 8 GB of GPU memory; keep 1 GB for what the trace cannot see
    # (allocator rounding and fragmentation, library workspaces)
    assert r["peak_gb"] < 7.0, r


def test_chunked_decode_saves_gigabytes(torch_mod):
    from bench.tooncrafter_memory import LiveBytes, fused_attention
    from engine.backends.tooncrafter.config import ToonCrafterConfig
    from engine.backends.tooncrafter.decoder import DualRefDecoder

    torch = torch_mod
    cfg = ToonCrafterConfig.full()
    frames, (lh, lw) = cfg.unet.temporal_length, cfg.latent_size
    meta = torch.device("meta")
    with meta:
        decoder = DualRefDecoder(cfg.vae).half()
    ch = [cfg.vae.ch * m for m in cfg.vae.ch_mult]
    refs = [torch.empty((1, c, 2, cfg.run.height >> i, cfg.run.width >> i), device=meta, dtype=torch.half)
            for i, c in enumerate(ch)]
    refs.append(torch.empty((1, cfg.vae.ch, 2, cfg.run.height, cfg.run.width), device=meta, dtype=torch.half))
    peaks = {}
    for chunk in (None, 4):
        z = torch.empty((frames, cfg.vae.z_channels, lh, lw), device=meta, dtype=torch.half)
        tracker = LiveBytes()
        with fused_attention(), tracker, torch.inference_mode():
            out = decoder(z, refs, frames, chunk)
        assert tuple(out.shape) == (frames, 3, cfg.run.height, cfg.run.width)
        peaks[chunk] = tracker.peak / GiB
    print(peaks)  # measured: 4.4 GiB whole-clip, 2.5 GiB chunked (fp16, 16 frames, 512x320)
    assert peaks[4] < 3.0
    assert peaks[None] - peaks[4] > 1.5
