"""Pose-guided in-betweening with Animate Anyone (our own port; loads the Moore-AnimateAnyone
weights: denoising_unet.pth, reference_unet.pth, pose_guider.pth, motion_module.pth, on the
SD 1.5 UNet config, the sd-vae-ft-mse VAE and the sd-image-variations CLIP image encoder).

Modules: config (architecture, sampling defaults), unet (denoising 3D UNet and ReferenceNet on
diffusers' UNet2DConditionModel), motion_module (AnimateDiff temporal layers),
reference_attention (the bank), pose_guider, loading (files -> networks), preprocess (the
reference's Pillow resizes), context (windows for long clips), pipeline (inference),
framing (canvas <-> model frame, pose images), model_store (files, download), probe
(availability and capabilities without torch), backend (the engine adapter).

Importing this package does not import torch; `backend` does (the registry turns a missing
runtime into "not installed").
"""
