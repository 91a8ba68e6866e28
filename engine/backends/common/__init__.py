"""Pieces every generative backend shares (ToonCrafter, Animate Anyone).

imaging (letterboxing into a model frame, matte compositing and alpha recovery, latent
previews; numpy/OpenCV only), model_store (the models folder and hub downloads; pure Python),
checkpoints (weights-only checkpoint reading; torch), memory_trace (live-tensor accounting on
the meta device for the memory benches; torch).

Importing the package imports nothing heavy: each module pulls in only what it needs.
"""
