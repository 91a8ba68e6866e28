"""OpenCLIP ViT-H-14 text and vision towers, run with `transformers`' CLIP implementation.

The official checkpoint stores the towers in open_clip's layout (`cond_stage_model.model.*`,
`embedder.model.*`); `text_key_map` / `vision_key_map` translate those names (and split the
fused `in_proj` attention weights) into transformers' layout. We use transformers rather than
open_clip_torch because open_clip imports torchvision at package import time.

What the reference computes (and we reproduce):
* text: token + positional embedding, every resblock but the last (the "penultimate" layer),
  causal mask, then `ln_final`; all 77 tokens, no pooling or projection;
* image: kornia-style antialiased bicubic resize to 224 (align_corners=True), CLIP
  normalisation, then all tokens of the last resblock WITHOUT `ln_post`/`proj`.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

from .config import TextTowerConfig, VisionTowerConfig


def _quiet_transformers() -> None:
    logging.getLogger("transformers").setLevel(logging.ERROR)


def _inner(model: nn.Module, name: str) -> nn.Module:
    """transformers < 5 nests the transformer under `text_model`/`vision_model`."""
    return getattr(model, name, model)


class TextTower(nn.Module):
    def __init__(self, cfg: TextTowerConfig) -> None:
        super().__init__()
        _quiet_transformers()
        from transformers import CLIPTextConfig, CLIPTextModel

        hf = CLIPTextConfig(
            vocab_size=cfg.vocab_size, hidden_size=cfg.width,
            intermediate_size=int(cfg.width * cfg.mlp_ratio),
            num_hidden_layers=cfg.layers - 1,  # the last resblock is never run (penultimate layer)
            num_attention_heads=cfg.heads, max_position_embeddings=cfg.context_length,
            hidden_act="gelu", layer_norm_eps=1e-5, projection_dim=cfg.embed_dim,
            bos_token_id=cfg.sot_id, eos_token_id=cfg.eot_id, pad_token_id=0,
            attn_implementation="sdpa",
        )
        self.cfg = cfg
        self.model = _inner(CLIPTextModel(hf), "text_model")

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=tokens).last_hidden_state

    def tokens_for_empty_prompt(self, batch: int = 1) -> torch.Tensor:
        t = torch.zeros(batch, self.cfg.context_length, dtype=torch.long)
        t[:, 0], t[:, 1] = self.cfg.sot_id, self.cfg.eot_id
        return t


class VisionTower(nn.Module):
    def __init__(self, cfg: VisionTowerConfig) -> None:
        super().__init__()
        _quiet_transformers()
        from transformers import CLIPVisionConfig, CLIPVisionModel

        hf = CLIPVisionConfig(
            hidden_size=cfg.width, intermediate_size=int(cfg.width * cfg.mlp_ratio),
            num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, image_size=cfg.image_size,
            patch_size=cfg.patch_size, hidden_act="gelu", layer_norm_eps=1e-5,
            projection_dim=cfg.embed_dim, attn_implementation="sdpa",
        )
        self.cfg = cfg
        self.model = _inner(CLIPVisionModel(hf), "vision_model")
        # ln_post / proj are not used by the reference: drop the pooled-output norm.
        self.model.post_layernorm = nn.Identity()
        self.register_buffer("mean", torch.tensor(cfg.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """image: (B, 3, H, W) in [-1, 1] -> normalised (B, 3, S, S)."""
        s = self.cfg.image_size
        x = antialiased_bicubic_resize(image.float(), (s, s))
        x = (x + 1.0) / 2.0
        return (x - self.mean) / self.std

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.preprocess(image).to(self.mean.dtype if self.mean.is_floating_point() else torch.float32)
        dtype = next(self.model.parameters()).dtype
        return self.model(pixel_values=x.to(dtype)).last_hidden_state


def _gaussian_1d(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - size // 2
    if size % 2 == 0:
        x = x + 0.5
    g = torch.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def antialiased_bicubic_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize like kornia's `resize(..., 'bicubic', align_corners=True, antialias=True)`:
    a Gaussian blur (sigma = (scale-1)/2, at least 0.001; kernel max(int(4 sigma), 3), made
    odd; reflect borders) before bicubic interpolation. Upscaling makes the blur an identity."""
    h, w = x.shape[-2:]
    sy, sx = max((h / size[0] - 1.0) / 2.0, 0.001), max((w / size[1] - 1.0) / 2.0, 0.001)
    ky, kx = max(int(2.0 * 2 * sy), 3), max(int(2.0 * 2 * sx), 3)
    ky += 1 - ky % 2
    kx += 1 - kx % 2
    c = x.shape[1]
    gx = _gaussian_1d(kx, sx, x.device).to(x.dtype)
    gy = _gaussian_1d(ky, sy, x.device).to(x.dtype)
    x = F.pad(x, (kx // 2, kx // 2, 0, 0), mode="reflect")
    x = F.conv2d(x, gx.view(1, 1, 1, kx).expand(c, 1, 1, kx), groups=c)
    x = F.pad(x, (0, 0, ky // 2, ky // 2), mode="reflect")
    x = F.conv2d(x, gy.view(1, 1, ky, 1).expand(c, 1, ky, 1), groups=c)
    return F.interpolate(x, size=size, mode="bicubic", align_corners=True)


def _resblock_map(src: str, dst: str, i: int) -> dict[str, str | tuple[str, int, int]]:
    """open_clip resblock i -> transformers encoder layer i. Tuples mark slices of in_proj."""
    s, d = f"{src}.resblocks.{i}.", f"{dst}.layers.{i}."
    m: dict[str, str | tuple[str, int, int]] = {
        s + "attn.out_proj.weight": d + "self_attn.out_proj.weight",
        s + "attn.out_proj.bias": d + "self_attn.out_proj.bias",
        s + "ln_1.weight": d + "layer_norm1.weight", s + "ln_1.bias": d + "layer_norm1.bias",
        s + "ln_2.weight": d + "layer_norm2.weight", s + "ln_2.bias": d + "layer_norm2.bias",
        s + "mlp.c_fc.weight": d + "mlp.fc1.weight", s + "mlp.c_fc.bias": d + "mlp.fc1.bias",
        s + "mlp.c_proj.weight": d + "mlp.fc2.weight", s + "mlp.c_proj.bias": d + "mlp.fc2.bias",
    }
    return m


def split_in_proj(prefix: str, i: int, dst: str) -> dict[str, list[tuple[str, int]]]:
    s, d = f"{prefix}.resblocks.{i}.attn.", f"{dst}.layers.{i}.self_attn."
    return {s + "in_proj_weight": [(d + f"{n}_proj.weight", j) for j, n in enumerate("qkv")],
            s + "in_proj_bias": [(d + f"{n}_proj.bias", j) for j, n in enumerate("qkv")]}


def text_key_map(cfg: TextTowerConfig, src: str = "cond_stage_model.model",
                 dst: str = "text.model") -> tuple[dict, dict, list[str]]:
    """(plain renames, in_proj splits, unused checkpoint keys) for the text tower."""
    plain: dict[str, str] = {
        f"{src}.token_embedding.weight": f"{dst}.embeddings.token_embedding.weight",
        f"{src}.positional_embedding": f"{dst}.embeddings.position_embedding.weight",
        f"{src}.ln_final.weight": f"{dst}.final_layer_norm.weight",
        f"{src}.ln_final.bias": f"{dst}.final_layer_norm.bias",
    }
    splits: dict[str, list[tuple[str, int]]] = {}
    for i in range(cfg.layers - 1):
        plain.update(_resblock_map(f"{src}.transformer", f"{dst}.encoder", i))  # type: ignore[arg-type]
        splits.update(split_in_proj(f"{src}.transformer", i, f"{dst}.encoder"))
    last = f"{src}.transformer.resblocks.{cfg.layers - 1}."
    unused = [last + k for k in _resblock_suffixes()] + [f"{src}.text_projection", f"{src}.logit_scale"]
    return plain, splits, unused


def vision_key_map(cfg: VisionTowerConfig, src: str = "embedder.model",
                   dst: str = "vision.model") -> tuple[dict, dict, list[str]]:
    v = f"{src}.visual"
    plain: dict[str, str] = {
        f"{v}.class_embedding": f"{dst}.embeddings.class_embedding",
        f"{v}.conv1.weight": f"{dst}.embeddings.patch_embedding.weight",
        f"{v}.positional_embedding": f"{dst}.embeddings.position_embedding.weight",
        f"{v}.ln_pre.weight": f"{dst}.pre_layrnorm.weight",
        f"{v}.ln_pre.bias": f"{dst}.pre_layrnorm.bias",
    }
    splits: dict[str, list[tuple[str, int]]] = {}
    for i in range(cfg.layers):
        plain.update(_resblock_map(f"{v}.transformer", f"{dst}.encoder", i))  # type: ignore[arg-type]
        splits.update(split_in_proj(f"{v}.transformer", i, f"{dst}.encoder"))
    unused = [f"{v}.ln_post.weight", f"{v}.ln_post.bias", f"{v}.proj",
              f"{src}.token_embedding.weight", f"{src}.positional_embedding",
              f"{src}.ln_final.weight", f"{src}.ln_final.bias", f"{src}.text_projection",
              f"{src}.logit_scale"]
    return plain, splits, unused


def _resblock_suffixes() -> list[str]:
    return ["attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias",
            "ln_1.weight", "ln_1.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
            "mlp.c_proj.weight", "mlp.c_proj.bias"]


__all__ = ["TextTower", "VisionTower", "antialiased_bicubic_resize", "text_key_map", "vision_key_map"]


def tokenize(prompt: str, cfg: TextTowerConfig, tokenizer_dir: str | None = None) -> torch.Tensor:
    """open_clip-style ids: [SOT, ids..., EOT, 0 padding] of length context_length.

    The empty prompt (the default) needs no vocabulary. Other prompts need the OpenCLIP BPE
    files (vocab.json + merges.txt, fetched by `models download`) in `tokenizer_dir`."""
    n = cfg.context_length
    out = torch.zeros(1, n, dtype=torch.long)
    if not prompt.strip():
        out[0, 0], out[0, 1] = cfg.sot_id, cfg.eot_id
        return out
    if tokenizer_dir is None:
        raise ValueError("a text prompt needs the CLIP tokenizer files (run `inbetween-engine models download "
                         "tooncrafter`), or leave the prompt empty")
    _quiet_transformers()
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(tokenizer_dir)
    ids = tok(prompt, add_special_tokens=False)["input_ids"][: n - 2]
    ids = [cfg.sot_id, *ids, cfg.eot_id]
    out[0, : len(ids)] = torch.tensor(ids)
    return out
