"""Reference attention: the ReferenceNet's self-attention inputs become extra keys/values of the
denoising UNet's self-attention (what carries the drawing's appearance into every frame).

Both sides are diffusers attention processors on the `attn1` of every transformer block, so
the blocks themselves stay diffusers' `BasicTransformerBlock`:

* `BankWriter` (ReferenceNet) records its input, which is `norm1(hidden_states)`, under the
  block's module path, then attends as usual.
* `BankReader` (denoising UNet) looks up the bank of the block with the same path (the
  reference pairs blocks by sorting both lists by width, which is the identity by name). The
  bank is cast to float16 when handed over, as the reference does even in float32 runs; the
  rows of the unconditional CFG half attend to themselves only (the reference computes them
  with the bank too and then overwrites them with plain self-attention), the others to
  `cat([own tokens, bank])`, the bank repeated for every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention

#: the dtype the reference hands the bank over in (ReferenceAttentionControl.update)
BANK_DTYPE = torch.float16


def attend(attn: Attention, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
    """diffusers' SDPA attention (AttnProcessor2_0 without masks or norms): q from `x`, k/v from
    `context` (default `x`), default 1/sqrt(head_dim) scale."""
    context = x if context is None else context
    b = x.shape[0]
    q = attn.to_q(x)
    k = attn.to_k(context)
    v = attn.to_v(context)
    d = k.shape[-1] // attn.heads
    q = q.view(b, -1, attn.heads, d).transpose(1, 2)
    k = k.view(b, -1, attn.heads, d).transpose(1, 2)
    v = v.view(b, -1, attn.heads, d).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=False)
    out = out.transpose(1, 2).reshape(b, -1, attn.heads * d).to(q.dtype)
    out = attn.to_out[0](out)
    return attn.to_out[1](out)


@dataclass
class ReferenceState:
    """What the processors of one UNet share during a call."""

    banks: dict[str, torch.Tensor] | None = None  # block path -> (1 or B, tokens, C)
    frames: int = 1
    uncond_batches: int = 0  # leading batch elements that attend without the reference
    written: dict[str, torch.Tensor] = field(default_factory=dict)


class BankWriter:
    def __init__(self, name: str, state: ReferenceState) -> None:
        self.name = name
        self.state = state

    def __call__(self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None,
                 attention_mask=None, temb=None, **_) -> torch.Tensor:
        self.state.written[self.name] = hidden_states
        return attend(attn, hidden_states, encoder_hidden_states)


class BankReader:
    def __init__(self, name: str, state: ReferenceState) -> None:
        self.name = name
        self.state = state

    def __call__(self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None,
                 attention_mask=None, temb=None, **_) -> torch.Tensor:
        st = self.state
        bank = None if st.banks is None else st.banks.get(self.name)
        if bank is None:
            return attend(attn, hidden_states, encoder_hidden_states)
        x = hidden_states
        split = st.uncond_batches * st.frames
        total = x.shape[0] // st.frames
        batches = total - st.uncond_batches
        bank = bank.to(BANK_DTYPE).to(x.dtype)
        if bank.shape[0] == total and total != batches:  # a bank of the whole CFG batch
            bank = bank[st.uncond_batches:]
        if bank.shape[0] == 1:
            bank = bank.expand(batches, -1, -1)
        elif bank.shape[0] != batches:
            raise ValueError(f"reference bank {self.name} has {bank.shape[0]} rows for {batches} batches")
        ref_rows = x[split:]
        context = torch.cat([ref_rows, bank.repeat_interleave(st.frames, dim=0)], dim=1)
        with_ref = attend(attn, ref_rows, context)
        if split == 0:
            return with_ref
        return torch.cat([attend(attn, x[:split]), with_ref], dim=0)
