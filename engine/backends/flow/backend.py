"""Adapter from the engine's backend interface to the flow in-betweening functions.

Two paths make the in-betweens. The learned one (RIFE 4.0's IFNet flows, learned/) runs
when torch imports and `<models>/rife/flownet.pkl` exists; the classical one (OpenCV,
interpolate.py) runs otherwise, when the job sets `learned: false`, and for the rest of a
segment whenever the learned one fails: the default backend must always deliver. Which one
ran goes into the job's `done` stats (`flow_path`, and `flow_hint` with the one command
that enables the learned path) so users see it instead of guessing from the pictures.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import numpy as np

from inbetween_client.done_notes import POSES_BY_LAYERS, POSES_BY_SKINNING

from ...errors import JobCancelled, ShotError
from ...shot import Segment, Shot
from ..base import Backend, BackendInfo, FrameOut, JobContext, Plan
from . import path_choice
from .interpolate import interpolate_segment

log = logging.getLogger(__name__)

LEARNED, CLASSICAL, MIXED = "learned", "classical", "mixed"
NO_POSES_ON_CLASSICAL = "only the learned path follows poses"


class FlowBackend(Backend):
    worker = "cpu"

    @property
    def info(self) -> BackendInfo:
        return BackendInfo(
            name="flow",
            description="cartoon in-betweening on the CPU: RIFE 4.0 flows when its weights are "
                        "installed (learned path), else classical OpenCV flow (no weights)",
            needs_gpu=False,
            supports_sketches=True,
            supports_poses=True,  # on the learned path: each part follows its bone
            options=(path_choice.LEARNED_OPTION, path_choice.PREVIEW_OPTION),
        )

    def prepare(self, shot: Shot) -> Plan:
        for name in (path_choice.LEARNED_OPTION, path_choice.PREVIEW_OPTION):
            value = shot.options.extra.get(name, name == path_choice.LEARNED_OPTION)
            if not isinstance(value, bool):
                raise ShotError(f"options.{name} must be true or false, got {value!r}")
        return super().prepare(shot)

    def run(self, plan: Plan, ctx: JobContext) -> Iterator[FrameOut]:
        opts = plan.shot.options
        choice = path_choice.choose(opts.model_dir, self.config.models_dir,
                                    opts.extra.get(path_choice.LEARNED_OPTION, True))
        ctx.progress(0.0, "flow: preparing")  # before the first frame, which can take seconds
        net = self._learned_net(choice, ctx) if choice.learned else None
        if choice.missing is not None:
            ctx.notes["flow_hint"] = path_choice.hint(choice.missing)
        preview = opts.extra.get(path_choice.PREVIEW_OPTION, False)
        used: set[str] = set()
        posed: set[int] = set()  # segments whose frames followed their poses
        done = 0
        for seg in plan.segments:
            frames = (self._learned_segment(net, seg, ctx, used, posed, preview) if net is not None
                      else self._classical_segment(seg, ctx, used))
            for ib, rgba in zip(seg.inbetweens, frames):
                done += 1
                yield FrameOut(ib.frame, rgba)
                ctx.progress(done / plan.work_units, f"frame {done}/{plan.work_units}")
                ctx.notes["flow_path"] = MIXED if len(used) > 1 else next(iter(used))
        if not used:  # a plan with no in-betweens still says which path it would have taken
            ctx.notes["flow_path"] = LEARNED if net is not None else CLASSICAL
        if plan.shot.poses and not posed:
            ctx.poses_ignored = ctx.poses_ignored or NO_POSES_ON_CLASSICAL
        if posed:  # how the poses moved the frames, so a preview is never taken for the real thing
            ctx.notes["flow_poses"] = POSES_BY_SKINNING if preview else POSES_BY_LAYERS

    def _learned_net(self, choice: path_choice.PathChoice, ctx: JobContext) -> Any | None:
        """The cached IFNet, or None (classical path) when torch or the file lets us down."""
        try:
            from .learned import runtime
        except ImportError as exc:  # torch found but broken (missing libs, wrong build)
            log.warning("flow: the learned path does not import (%s); classical path", exc)
            ctx.notes["flow_hint"] = path_choice.hint(f"the learned path does not import: {exc}")
            return None
        try:
            runtime.set_threads(self.config.threads)
            return runtime.cached_net(choice.weights)
        except Exception as exc:  # noqa: BLE001 - a bad weights file must not fail the job
            log.warning("flow: cannot load %s (%s); classical path", choice.weights, exc)
            ctx.notes["flow_hint"] = path_choice.hint(f"{choice.weights} is not usable: {exc}")
            return None

    def _classical_segment(self, seg: Segment, ctx: JobContext, used: set[str]
                           ) -> Iterator[np.ndarray]:
        for frame in interpolate_segment(seg.key_a, seg.key_b, seg.times, seg.sketches,
                                         ctx.check_cancelled):
            used.add(CLASSICAL)
            yield frame

    def _learned_segment(self, net: Any, seg: Segment, ctx: JobContext, used: set[str],
                         posed: set[int], preview: bool = False) -> Iterator[np.ndarray]:
        """Learned frames; on a failure (not a cancellation) the rest comes from the classical path."""
        from .learned import runtime

        times, sketches = list(seg.times), seg.sketches
        guide = runtime.pose_guide(seg)
        if guide is None and seg.poses:
            ctx.poses_ignored = "both keys of a segment need a pose"
        frames = runtime.segment_frames(net, seg.key_a, seg.key_b, times, sketches,
                                        ctx.check_cancelled, guide, pose_layers=not preview)
        done = 0
        while done < len(times):
            try:
                frame = next(frames)
            except StopIteration:
                return
            except JobCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - the default backend must always deliver
                if isinstance(exc, runtime.MotionBeyondReach):
                    log.info("flow: segment %d-%d: %s; classical path", seg.start, seg.end, exc)
                    ctx.notes["flow_fallback"] = (f"segment {seg.start}-{seg.end}: {exc}; "
                                                  "classical path used there")
                else:
                    log.exception("flow: learned path failed in segment %d-%d; classical path "
                                  "for its last %d frames", seg.start, seg.end, len(times) - done)
                    ctx.notes["flow_fallback"] = (f"learned path failed in segment {seg.start}-"
                                                  f"{seg.end} ({type(exc).__name__}: {exc}); "
                                                  "classical path used there")
                rest = {i - done: s for i, s in sketches.items() if i >= done}
                for frame in interpolate_segment(seg.key_a, seg.key_b, times[done:], rest,
                                                 ctx.check_cancelled):
                    used.add(CLASSICAL)
                    yield frame
                return
            done += 1
            used.add(LEARNED)
            if guide is not None:
                posed.add(seg.start)
            yield frame

    def warm_up(self) -> None:
        """Import torch and load the IFNet when the learned path would run for a job that
        names no models folder of its own (torch's import alone takes about a second)."""
        choice = path_choice.choose(None, self.config.models_dir, True)
        if choice.learned:
            from .learned import runtime

            runtime.set_threads(self.config.threads)
            runtime.cached_net(choice.weights)

    def loaded_models(self) -> list[str]:
        loaded = _runtime_function("loaded")
        return loaded() if loaded is not None else []

    def unload(self) -> None:
        unload = _runtime_function("unload")
        if unload is not None:
            unload()


def _runtime_function(name: str) -> Any | None:
    """A function of the learned runtime if that module has been imported, without importing
    it (torch) here. While warm_up is still importing it in the background the module is in
    sys.modules half made: its functions may not exist yet, which means nothing is loaded."""
    import sys

    runtime = sys.modules.get("engine.backends.flow.learned.runtime")
    return getattr(runtime, name, None) if runtime is not None else None
