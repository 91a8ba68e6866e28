"""The two UNets of Animate Anyone, built on diffusers' `UNet2DConditionModel`.

Both official UNet files use the SD 1.5 UNet's key names, so each network holds a diffusers
UNet (`self.unet`, the loader adds the prefix) and walks its blocks itself:

* `DenoisingUNet` is the inflated 3D UNet. Video tensors run as (batch * frames, C, h, w),
  which makes every GroupNorm, convolution and spatial transformer per frame exactly as the
  reference's `InflatedConv3d` / `InflatedGroupNorm` / `Transformer3DModel`; after each layer
  of a block whose resolution index is in `motion_module_resolutions` (and in the mid block)
  a temporal module (`motion_modules.N` of that block, the official key path) mixes frames.
  Pose features are added after `conv_in`; the reference bank enters through the `attn1`
  processors (`reference_attention.BankReader`).
* `ReferenceNet` is the 2D UNet the reference drawing goes through once, at timestep 0, to
  fill the bank (`BankWriter`). Everything after the last bank entry (the rest of the last
  transformer block, its `proj_out`, `conv_norm_out`, `conv_out`) cannot affect the bank and
  is not built; the loader lists those keys as unused.
"""

from __future__ import annotations

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention import FeedForward
from torch import nn

from .config import MotionConfig
from .motion_module import TemporalModule
from .reference_attention import BankReader, BankWriter, ReferenceState

CROSS_ATTN_TYPES = ("CrossAttnDownBlock2D", "CrossAttnUpBlock2D")


def _build_unet(config: dict) -> UNet2DConditionModel:
    cfg = {k: v for k, v in config.items() if not k.startswith("_")}
    return UNet2DConditionModel.from_config(cfg)


def transformer_block_paths(unet: UNet2DConditionModel) -> list[str]:
    """Module paths of every BasicTransformerBlock of the spatial transformers, in walk order."""
    out = []
    for prefix, blocks in (("down_blocks", unet.down_blocks), ("mid_block", [unet.mid_block]),
                           ("up_blocks", unet.up_blocks)):
        for i, block in enumerate(blocks):
            base = prefix if prefix == "mid_block" else f"{prefix}.{i}"
            for j, t2d in enumerate(getattr(block, "attentions", None) or []):
                for k in range(len(t2d.transformer_blocks)):
                    out.append(f"{base}.attentions.{j}.transformer_blocks.{k}")
    return out


def walk_units(unet: UNet2DConditionModel) -> list[nn.Module]:
    """The modules `_walk` calls, each exactly once per UNet call (what an offload moves in and
    out of the device): stem and head layers, and every resnet, transformer, motion module and
    down/upsampler of every block."""
    units = [m for m in (unet.conv_in, unet.time_embedding, unet.conv_norm_out, unet.conv_out) if m is not None]
    for block in [*unet.down_blocks, unet.mid_block, *unet.up_blocks]:
        for name in ("resnets", "attentions", "motion_modules", "downsamplers", "upsamplers"):
            units += list(getattr(block, name, None) or [])
    return units


def _set_processors(unet: UNet2DConditionModel, kind: type, state: ReferenceState) -> None:
    for path in transformer_block_paths(unet):
        unet.get_submodule(path).attn1.set_processor(kind(path, state))


def _time_embedding(unet: UNet2DConditionModel, timestep: torch.Tensor, batch: int,
                    dtype: torch.dtype) -> torch.Tensor:
    t = timestep.reshape(-1).expand(batch) if timestep.numel() == 1 else timestep
    t_emb = unet.time_proj(t).to(dtype)  # float32 sinusoid, as diffusers and the reference compute it
    return unet.time_embedding(t_emb)


def _forced_upsample(unet: UNet2DConditionModel, x: torch.Tensor) -> bool:
    """The reference forces each upsample to the next skip's size when h or w is not a multiple
    of 2**upsamplers (e.g. its default 784-pixel height)."""
    factor = 2 ** unet.num_upsamplers
    return any(s % factor != 0 for s in x.shape[-2:])


class _TokenChunks:
    """A feed-forward applied to slices of its (rows, tokens, C) input along the rows."""

    def __init__(self, forward, tokens: int) -> None:
        self.forward = forward
        self.tokens = tokens

    def __call__(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        rows = max(1, self.tokens // max(1, x.shape[1]))
        if x.shape[0] <= rows:
            return self.forward(x, *args, **kwargs)
        return torch.cat([self.forward(part, *args, **kwargs) for part in x.split(rows)])


class DenoisingUNet(nn.Module):
    def __init__(self, unet_config: dict, motion: MotionConfig, ff_chunk_tokens: int | None = None) -> None:
        super().__init__()
        self.unet = _build_unet(unet_config)
        self.motion = motion
        ch = list(unet_config["block_out_channels"])
        n = len(ch)
        for i, block in enumerate(self.unet.down_blocks):
            if (2 ** i) in motion.resolutions and not motion.decoder_only:
                block.motion_modules = nn.ModuleList(TemporalModule(ch[i], motion) for _ in block.resnets)
        if motion.mid_block:
            self.unet.mid_block.motion_modules = nn.ModuleList([TemporalModule(ch[-1], motion)])
        for i, block in enumerate(self.unet.up_blocks):
            if (2 ** (n - 1 - i)) in motion.resolutions:
                width = list(reversed(ch))[i]
                block.motion_modules = nn.ModuleList(TemporalModule(width, motion) for _ in block.resnets)
        self.reference = ReferenceState()
        _set_processors(self.unet, BankReader, self.reference)
        self.set_feed_forward_chunk(ff_chunk_tokens)

    def set_feed_forward_chunk(self, tokens: int | None) -> None:
        """Run every feed-forward (spatial and temporal) on about `tokens` tokens at a time: the
        GEGLU's 8x-wide intermediate is the largest activation of a step. Same numbers (the
        feed-forward works per token); None: whole tensors."""
        for m in self.unet.modules():
            if isinstance(m, FeedForward):
                if tokens:
                    m.forward = _TokenChunks(type(m).forward.__get__(m), tokens)
                elif "forward" in m.__dict__:
                    del m.forward

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.conv_in.weight.dtype

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                pose_features: torch.Tensor | None = None, banks: dict[str, torch.Tensor] | None = None,
                uncond_batches: int = 0) -> torch.Tensor:
        """sample (B, 4, F, h, w); timestep 0-dim or (B,); encoder_hidden_states (B, n, D);
        pose_features (B, C0, F, h, w); banks: block path -> (1 or B, tokens, C), used by the
        batch elements after the first `uncond_batches` -> v-prediction (B, 4, F, h, w)."""
        u = self.unet
        b, c, f, h, w = sample.shape
        x = sample.transpose(1, 2).reshape(b * f, c, h, w).to(self.dtype)
        emb = _time_embedding(u, timestep.to(x.device), b, x.dtype).repeat_interleave(f, dim=0)
        ehs = encoder_hidden_states.to(x.dtype).repeat_interleave(f, dim=0)
        self.reference.banks, self.reference.frames, self.reference.uncond_batches = banks, f, uncond_batches
        try:
            x = u.conv_in(x)
            if pose_features is not None:
                x = x + pose_features.transpose(1, 2).reshape(b * f, -1, h, w).to(x.dtype)
            x = _walk(u, x, emb, ehs, f, final=True)
        finally:
            self.reference.banks = None
        return x.view(b, f, *x.shape[1:]).transpose(1, 2)


class ReferenceNet(nn.Module):
    def __init__(self, unet_config: dict) -> None:
        super().__init__()
        self.unet = _build_unet(unet_config)
        self.state = ReferenceState()
        _set_processors(self.unet, BankWriter, self.state)
        self.last_block = transformer_block_paths(self.unet)[-1]
        # not built: nothing after the last bank entry reaches the bank
        last = self.unet.get_submodule(self.last_block)
        for name in ("attn1", "norm2", "attn2", "norm3", "ff"):
            setattr(last, name, None)
        self.unet.get_submodule(self.last_block.rsplit(".transformer_blocks", 1)[0]).proj_out = None
        self.unet.conv_norm_out = None
        self.unet.conv_act = None
        self.unet.conv_out = None

    @property
    def dtype(self) -> torch.dtype:
        return self.unet.conv_in.weight.dtype

    def forward(self, latents: torch.Tensor, encoder_hidden_states: torch.Tensor,
                timestep: int = 0) -> dict[str, torch.Tensor]:
        """latents (B, 4, h, w) (scaled), encoder_hidden_states (B, n, D) -> bank per block path:
        its `norm1` output (B, h_l * w_l, C), in the network's dtype."""
        u = self.unet
        x = latents.to(self.dtype)
        t = torch.tensor(timestep, dtype=torch.long, device=x.device)
        emb = _time_embedding(u, t, x.shape[0], x.dtype)
        self.state.written = {}
        try:
            _walk(u, u.conv_in(x), emb, encoder_hidden_states.to(x.dtype), 1, final=False,
                  last_block=self.last_block, state=self.state)
            return dict(self.state.written)
        finally:
            self.state.written = {}


def _walk(u: UNet2DConditionModel, x: torch.Tensor, emb: torch.Tensor, ehs: torch.Tensor, frames: int,
          final: bool, last_block: str | None = None, state: ReferenceState | None = None) -> torch.Tensor:
    """conv_in output -> down, mid, up blocks (with motion modules where they exist) -> output."""

    def layers(block, x: torch.Tensor, path: str, skips: list | None) -> torch.Tensor:
        attns = getattr(block, "attentions", None)
        mms = getattr(block, "motion_modules", None)
        for j, resnet in enumerate(block.resnets):
            if skips is not None:
                x = torch.cat([x, skips.pop()], dim=1)
            x = resnet(x, emb)
            if attns is not None:
                if last_block is not None and last_block.startswith(f"{path}.attentions.{j}."):
                    _write_last_bank(attns[j], x, ehs, last_block, state)
                    return x
                x = attns[j](x, encoder_hidden_states=ehs, return_dict=False)[0]
            if mms is not None:
                x = mms[j](x, frames)
            if skips is None:
                down_skips.append(x)
        return x

    down_skips = [x]
    for i, block in enumerate(u.down_blocks):
        x = layers(block, x, f"down_blocks.{i}", None)
        for ds in block.downsamplers or []:
            x = ds(x)
            down_skips.append(x)
    mid = u.mid_block
    x = mid.resnets[0](x, emb)
    mms = getattr(mid, "motion_modules", None)
    for j, (attn, resnet) in enumerate(zip(mid.attentions, mid.resnets[1:])):
        x = attn(x, encoder_hidden_states=ehs, return_dict=False)[0]
        if mms is not None:
            x = mms[j](x, frames)
        x = resnet(x, emb)
    forced = _forced_upsample(u, down_skips[0])
    for i, block in enumerate(u.up_blocks):
        n = len(block.resnets)
        skips, down_skips = down_skips[-n:], down_skips[:-n]
        x = layers(block, x, f"up_blocks.{i}", skips)
        if last_block is not None and last_block.startswith(f"up_blocks.{i}."):
            return x
        size = down_skips[-1].shape[2:] if (forced and down_skips) else None
        for us in block.upsamplers or []:
            x = us(x, size)
    if not final:
        return x
    x = u.conv_act(u.conv_norm_out(x))
    return u.conv_out(x)


def _write_last_bank(t2d, x: torch.Tensor, ehs: torch.Tensor, last_block: str, state: ReferenceState) -> None:
    """The last spatial transformer of the ReferenceNet up to its last block's `norm1` (what
    the bank holds); earlier blocks of that transformer run in full."""
    b, c, h, w = x.shape
    y = t2d.norm(x)
    if t2d.use_linear_projection:
        y = t2d.proj_in(y.permute(0, 2, 3, 1).reshape(b, h * w, c))
    else:
        y = t2d.proj_in(y)
        y = y.permute(0, 2, 3, 1).reshape(b, h * w, y.shape[1])
    blocks = list(t2d.transformer_blocks)
    for block in blocks[:-1]:
        y = block(y, encoder_hidden_states=ehs)
    state.written[last_block] = blocks[-1].norm1(y)
