"""The learned path as the flow backend runs it: one IFNet per weights file, kept in memory,
and the in-betweens of a segment produced one frame at a time.

Imports torch (like everything in this package); the backend imports this module only once
it has decided the learned path may run, so a machine without torch never pays for it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np
import torch

from inbetween_client.pose_interpolation import poses_at

from .ifnet import IFNet
from .self_check import kept_share, lost_the_drawing
from .synthesis import LearnedOptions, LearnedPair, PoseGuide
from .weights import load_ifnet

if TYPE_CHECKING:
    from engine.shot import Segment

_lock = threading.Lock()
#: (resolved path, mtime_ns, size) -> net. Keyed by mtime and size so that a weights file
#: replaced on disk (a re-download) is read again instead of serving the old weights.
_nets: dict[tuple[str, int, int], IFNet] = {}


def cached_net(path: Path) -> IFNet:
    """The IFNet of `path`, loaded on first use and shared by all later jobs (thread-safe).

    Raises CheckpointError (from load_ifnet) for a file that is not RIFE 4.0 weights, and
    OSError when the file cannot be read; nothing is cached then, so a fixed file is retried.
    """
    resolved = Path(path).resolve()
    st = resolved.stat()
    key = (str(resolved), st.st_mtime_ns, st.st_size)
    with _lock:  # held while loading: two jobs never read the same 20 MB file twice at once
        net = _nets.get(key)
        if net is None:
            net = load_ifnet(resolved)
            for old in [k for k in _nets if k[0] == key[0]]:  # one copy per path in memory
                del _nets[old]
            _nets[key] = net
        return net


def loaded() -> list[str]:
    """What is in memory, for the engine's `status`."""
    with _lock:
        return [f"rife ({k[0]})" for k in _nets]


def unload() -> None:
    """Drop every cached net (after an out-of-memory error, or at shutdown)."""
    with _lock:
        _nets.clear()


def set_threads(threads: int) -> None:
    """Apply the engine's thread setting; 0 leaves torch's own choice alone."""
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def segment_frames(net: IFNet, key_a: np.ndarray, key_b: np.ndarray, times: list[float],
                   sketches: dict[int, np.ndarray],
                   check_cancelled: Callable[[], None],
                   poses: PoseGuide | None = None, pose_layers: bool = True
                   ) -> Iterator[np.ndarray]:
    """One RGBA uint8 frame per time, in order, at the keys' size.

    `pose_layers` False is the fast preview: posed frames by skinning (`LearnedOptions`).

    `sketches` maps a position in `times` to its sketch (as the classical path takes them);
    LearnedPair wants them by time. `check_cancelled` runs before the pair is prepared and
    before every frame, so a cancelled job stops within one network pass.
    """
    check_cancelled()
    if not times:
        return
    key_a, key_b = np.ascontiguousarray(key_a, np.uint8), np.ascontiguousarray(key_b, np.uint8)
    pair = LearnedPair(net, key_a, key_b, LearnedOptions(pose_layers=pose_layers),
                       sketches={float(times[i]): s for i, s in sketches.items()}, poses=poses)
    # the middle of the segment is where a motion beyond the network's reach shows: check it
    # first, before any frame goes out (it is then not made twice)
    probe_t = min(times, key=lambda t: abs(t - 0.5))
    probe = pair.frame(float(probe_t))
    if lost_the_drawing(probe, key_a, key_b, float(probe_t)):
        raise MotionBeyondReach(
            f"the learned frame at t={probe_t:.2f} keeps {kept_share(probe, key_a, key_b, probe_t):.0%} "
            "of the keys' drawing (the motion is beyond the network's reach)")
    for t in times:
        check_cancelled()
        yield probe if t == probe_t else pair.frame(float(t))


class MotionBeyondReach(RuntimeError):
    """The network lost the drawing on this segment: the classical path is to make it."""


def pose_guide(seg: "Segment") -> PoseGuide | None:
    """The segment's skeletons as the learned path uses them: both keys' poses are needed
    (a bone's motion is from the in-between to each key); in-betweens without a pose of their
    own get the engine's interpolated one (arcs along the timing), as every backend does."""
    if not seg.poses:
        return None
    key_a, key_b = poses_at(seg.poses, [0.0, 1.0])
    if key_a is None or key_b is None:
        return None
    between = {float(t): p.body for t, p in zip(seg.times, seg.inbetween_poses()) if p is not None}
    return PoseGuide(key_a.body, key_b.body, between) if between else None
