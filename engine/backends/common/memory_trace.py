"""Live-tensor accounting on PyTorch's meta device: peak device memory of a full-size job
without a GPU and without weights (shapes only, seconds on any machine).

`LiveBytes` counts the bytes of every tensor storage created under it while it is alive;
`fused_attention` makes SDPA allocate what a flash / memory-efficient CUDA kernel allocates
(output plus log-sum-exp, never the score matrix). What a trace cannot see: the CUDA caching
allocator's rounding and fragmentation, cuDNN/cuBLAS workspaces and the CUDA context (about
0.3-0.5 GB), so `torch.cuda.max_memory_allocated` lands a little above a trace.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Iterator

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

GiB = 2 ** 30


class LiveBytes(TorchDispatchMode):
    """Counts bytes of storages created under it while they are alive.

    A storage is counted once, when an op first returns a tensor on it that none of the op's
    inputs already had (views and in-place results share their input's storage); it is
    uncounted when Python frees it. Storages made before the mode (weights, inputs) are free.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._ids: set[int] = set()

    def reset_peak(self) -> None:
        self.peak = self.live

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {id(t.untyped_storage()) for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            st = t.untyped_storage()
            key = id(st)
            if key in inputs or key in self._ids:
                continue
            n = st.nbytes()
            self._ids.add(key)
            self.live += n
            self.peak = max(self.peak, self.live)
            weakref.finalize(st, self._free, key, n)
        return out

    def _free(self, key: int, n: int) -> None:
        self._ids.discard(key)
        self.live -= n


def _fused_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **_):
    """What a flash/memory-efficient kernel allocates: the output and a float32 log-sum-exp."""
    out = q.new_empty(q.shape[:-1] + (v.shape[-1],))
    q.new_empty(q.shape[:-1], dtype=torch.float32)  # logsumexp scratch, freed at once
    return out


@contextlib.contextmanager
def fused_attention() -> Iterator[None]:
    original = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = _fused_sdpa
    try:
        yield
    finally:
        F.scaled_dot_product_attention = original


def weight_bytes(module: torch.nn.Module | None, dtype: torch.dtype) -> int:
    if module is None:
        return 0
    size = torch.empty((), dtype=dtype).element_size()
    return sum(p.numel() for p in module.parameters()) * size


class PhasePeaks:
    """Peak live bytes per named phase of one traced run (a phase may be entered repeatedly)."""

    def __init__(self, tracker: LiveBytes) -> None:
        self.tracker = tracker
        self.peaks: dict[str, int] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.tracker.reset_peak()
        yield
        self.peaks[name] = max(self.peaks.get(name, 0), self.tracker.peak)
