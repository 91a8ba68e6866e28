"""Generative in-betweening with ToonCrafter 512 (our own port; loads the official checkpoints).

Modules: config (architecture), attention/unet/sketch_encoder/vae/decoder/resampler/clip
(networks), sampler (DDIM), loading (checkpoints), pipeline (inference), imaging (letterbox,
alpha, retiming), model_store (files, download), backend (the engine adapter).

Importing this package does not import torch; `backend` does (the registry turns a missing
runtime into "not installed").
"""
