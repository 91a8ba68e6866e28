"""From a `submit` message (JSON + blobs) to a validated `Shot`.

Every field is type-checked here so a malformed request becomes one clear ShotError and
never a KeyError or TypeError deep inside a backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from inbetween_client.poses import PoseError, PoseTrack

from .errors import ShotError
from .images import decode_rgba_or_png
from .shot import BackendOptions, Shot
from .timing import Timing


@dataclass(frozen=True)
class OutputSpec:
    encoding: str = "rgba"
    previews: bool = True


def _int(obj: dict, name: str, what: str) -> int:
    v = obj.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ShotError(f"{what}: '{name}' must be an integer, got {v!r}")
    return v


def _images(entries: Any, blobs: list[bytes], kind: str, w: int, h: int) -> dict[int, np.ndarray]:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ShotError(f"'{kind}s' must be a list")
    out: dict[int, np.ndarray] = {}
    for e in entries:
        if not isinstance(e, dict):
            raise ShotError(f"each {kind} must be an object with frame and blob")
        frame = _int(e, "frame", kind)
        what = f"{kind} at frame {frame}"
        if frame in out:
            raise ShotError(f"two {kind}s at frame {frame}")
        blob = _int(e, "blob", what)
        if not 0 <= blob < len(blobs):
            raise ShotError(f"{what}: blob {blob} was not sent ({len(blobs)} blobs attached)")
        enc = e.get("encoding", "png")
        ew, eh = e.get("width", w), e.get("height", h)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (ew, eh)):
            raise ShotError(f"{what}: width and height must be integers")
        img = decode_rgba_or_png(blobs[blob], enc, ew, eh, what)
        if img.shape[:2] != (h, w):
            raise ShotError(
                f"{what} is {img.shape[1]}x{img.shape[0]}, but the shot is {w}x{h}; "
                "all keys and sketches must have the same size"
            )
        out[frame] = img
    return out


def _timing(raw: Any) -> dict[int, Timing]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ShotError("'timing' must be a list of {start, curve|times}")
    out = {}
    for e in raw:
        if not isinstance(e, dict):
            raise ShotError("each timing entry must be an object")
        start = _int(e, "start", "timing")
        times = e.get("times")
        if times is not None:
            if not isinstance(times, list):
                raise ShotError(f"timing of segment {start}: 'times' must be a list of numbers")
            out[start] = Timing("linear", tuple(times))
        else:
            curve = e.get("curve", "linear")
            if not isinstance(curve, str):
                raise ShotError(f"timing of segment {start}: 'curve' must be a string")
            out[start] = Timing(curve)
    return out


def _poses(raw: Any) -> dict[int, PoseTrack]:
    """`poses`: [{start, size?, poses: [{t, frame?, keypoints, hand_left?, hand_right?, face?}]}]."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ShotError("'poses' must be a list of {start, poses}")
    out: dict[int, PoseTrack] = {}
    for e in raw:
        if not isinstance(e, dict):
            raise ShotError("each poses entry must be an object with start and poses")
        start = _int(e, "start", "poses")
        if not isinstance(e.get("poses"), list):
            raise ShotError(f"poses of segment {start}: 'poses' must be a list of poses")
        if start in out:
            raise ShotError(f"two poses entries for the segment starting at {start}")
        body = {"frames": e.get("poses")}
        if e.get("size") is not None:
            body["size"] = e["size"]
        try:
            out[start] = PoseTrack.from_json(body, f"poses of segment {start}")
        except PoseError as exc:
            raise ShotError(str(exc)) from None
    return out


def shot_from_wire(raw: Any, blobs: list[bytes]) -> tuple[Shot, OutputSpec]:
    if not isinstance(raw, dict):
        raise ShotError("'shot' must be an object")
    w = _int(raw, "width", "shot")
    h = _int(raw, "height", "shot")
    if w < 1 or h < 1:
        raise ShotError(f"canvas size must be positive, got {w}x{h}")
    backend = raw.get("backend", "flow")
    if not isinstance(backend, str):
        raise ShotError("'backend' must be a string")
    out_raw = raw.get("output") or {}
    if not isinstance(out_raw, dict) or out_raw.get("encoding", "rgba") not in ("rgba", "png"):
        raise ShotError("output.encoding must be 'rgba' or 'png'")
    output = OutputSpec(out_raw.get("encoding", "rgba"), bool(out_raw.get("previews", True)))
    fps = raw.get("fps", 24.0)
    exposure = raw.get("exposure", 1)
    # sizes are checked by Shot; images are decoded only once the canvas passed the limits
    Shot.check_canvas(w, h)
    shot = Shot(
        width=w,
        height=h,
        keys=_images(raw.get("keys"), blobs, "key", w, h),
        sketches=_images(raw.get("sketches"), blobs, "sketch", w, h),
        timing=_timing(raw.get("timing")),
        exposure=exposure,
        fps=fps,
        backend=backend,
        options=BackendOptions.from_wire(raw.get("options")),
        poses=_poses(raw.get("poses")),
    )
    return shot, output
