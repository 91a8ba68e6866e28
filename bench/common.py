"""Helpers the GPU benches share: speed does not depend on weight values, so the benches build
full-size architectures with well-scaled random weights instead of loading checkpoints."""

from __future__ import annotations

import torch
from torch import nn


def random_init(module: nn.Module, gen: torch.Generator) -> None:
    """Well-scaled random weights (activations stay finite in fp16)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
            elif name.endswith("weight"):
                p.fill_(1.0)
            else:
                p.zero_()
