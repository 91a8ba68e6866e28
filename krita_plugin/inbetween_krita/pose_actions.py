"""The docker's pose tools: pose this frame, show the interpolated pose, poses for a Generate.

Glue between the controller (plan, timing, the engine's capabilities, messages), the pose
layers in the document (pose_layers) and what poses mean on the timeline (pose_timeline).
Each action returns the sentence the docker shows; problems the user can fix are
KritaIOError with a message naming the layer or frame.
"""

from __future__ import annotations

from typing import Any, Callable

from . import client_lib as cl
from . import pose_layers, pose_timeline
from . import pose_convention as conv
from .krita_io import KritaIOError
from .pose_timeline import PosedFrames
from .shot_plan import ShotPlan, frames_text


class PoseTools:
    def __init__(self, ctl: Any) -> None:
        self.ctl = ctl
        self.bones = pose_layers.BoneKeeper()

    # ------------------------------------------------------------ reading

    def posed(self, doc: Any) -> PosedFrames:
        return pose_layers.read_posed_frames(doc)

    def uses_poses(self, backend: str) -> bool | None:
        """Whether the engine says `backend` uses poses (None until it is connected)."""
        info = self.ctl.link.backend_info(backend)
        return None if info is None else bool(info.get("supports_poses"))

    def backend_note(self, backend: str) -> str:
        used = self.uses_poses(backend)
        if used is None:
            return f"whether {backend} uses them is known once the engine is connected"
        if used:
            return f"{backend} draws the in-betweens in them"
        return f"{backend} does not use poses yet: they are sent, but its frames do not follow them"

    def summary(self, doc: Any) -> str:
        """What the docker's pose box says about `doc`."""
        posed = self.posed(doc)
        lines = list(posed.problems)
        if posed.poses:
            what = f"Poses at frames {frames_text(posed.frames)}"
            if self.ctl.settings.send_poses:
                lines.append(f"{what} ({self.backend_note(self.ctl.settings.backend)}).")
            else:
                lines.append(f"{what}; not sent with Generate (ticked off below).")
        elif not posed.problems:
            lines.append("No poses yet. 'Pose this frame' adds a skeleton for the current frame: a vector "
                         "layer 'pose 0012' whose joints you move with Krita's shape tools.")
        return " ".join(lines + posed.notes)

    def for_generate(self, doc: Any, plan: ShotPlan) -> tuple[dict[int, "cl.Pose"], list[str]]:
        """The poses a Generate of `plan` sends, and notes; KritaIOError when a pose layer is bad."""
        if not self.ctl.settings.send_poses:
            return {}, []
        posed = self.posed(doc)
        if posed.problems:
            more = f" ({len(posed.problems) - 1} more problem(s) with pose layers.)" if len(posed.problems) > 1 else ""
            raise KritaIOError(f"{posed.problems[0]}{more} Nothing was sent; fix the pose layer, or untick "
                               "'send poses'.")
        sent, notes = pose_timeline.for_plan(posed, plan)
        return sent, notes + posed.notes

    def _timing_for(self, doc: Any) -> Callable[[int], str]:
        return self.ctl.params(doc).timing_for

    # ------------------------------------------------------------ actions

    def pose_this_frame(self, doc: Any, fresh: bool = False) -> str:
        """Add the current frame's pose layer: the interpolated skeleton shown there, else a copy of
        the nearest posed frame, else (or with `fresh`) the default skeleton fitted to the keys."""
        t = pose_layers.current_frame(doc)
        posed = self.posed(doc)
        if t in posed.layers:
            node = next(n for f, n in pose_layers.pose_nodes(doc) if f == t)
            pose_layers.activate(doc, node)
            return (f"Frame {t} already has its pose layer '{node.name()}' (now the active layer): move its "
                    "joints with the Shape Selection tool.")
        node = None if fresh else pose_layers.keep_interpolated(doc, t)
        if node is not None:
            how = "the interpolated skeleton shown there, kept as this frame's pose"
        else:
            near = None if fresh else posed.nearest(t)
            if near is not None:
                pose, how = posed.poses[near], f"a copy of the pose of frame {near}"
            else:
                pose, how = self._default_pose(doc, t)
            node = pose_layers.create_pose_layer(doc, t, pose)
        pose_layers.shape_tool()
        return (f"Added '{node.name()}': {how}. Move its joints (the circles) with the Shape Selection tool; "
                "the bones follow. Delete a joint's circle when it is not seen in this frame.")

    def _default_pose(self, doc: Any, t: int) -> tuple["cl.Pose", str]:
        w, h = pose_layers.canvas_size(doc)
        try:
            keys = self.ctl.choices.keys_node(doc)
        except KritaIOError:
            keys = None
        box = pose_layers.drawing_bounds(doc, keys, t)
        if box is None:
            where = f"'{keys.name()}' shows nothing at frame {t}" if keys is not None else "no keys layer is chosen"
            return conv.default_pose(w, h), f"a default skeleton in the middle of the canvas ({where})"
        return conv.default_pose(w, h, box), f"a default skeleton fitted to the drawing of '{keys.name()}' at frame {t}"

    def show_interpolated(self, doc: Any) -> str:
        """Show the current frame's interpolated skeleton (what the engine will draw it in)."""
        t = pose_layers.current_frame(doc)
        plan = self.ctl.plan(doc)
        fp = pose_timeline.pose_of_frame(plan, self._timing_for(doc), self.posed(doc), t)
        if fp.pose is None or fp.how != "interpolated":
            return fp.text
        node = pose_layers.show_interpolated(doc, t, fp.pose)
        return (f"{fp.text} Shown as '{node.name()}' (a preview, not sent); 'Pose this frame' keeps it as "
                "this frame's pose.")

    def hide_interpolated(self, doc: Any) -> str:
        n = pose_layers.remove_interpolated(doc)
        return "Removed the interpolated skeleton." if n else "No interpolated skeleton is shown."

    def set_follow_frame(self, doc: Any | None, on: bool) -> None:
        self.ctl.settings.poses_follow_frame = on
        if doc is not None and not on:
            pose_layers.show_all(doc)

    def tick(self, doc: Any) -> None:
        """While the animator works: bones follow moved joints; only this frame's pose is shown."""
        if doc is None or self.ctl.busy:
            return
        self.bones.tick(doc)
        if self.ctl.settings.poses_follow_frame:
            pose_layers.follow_frame(doc, pose_layers.current_frame(doc))
