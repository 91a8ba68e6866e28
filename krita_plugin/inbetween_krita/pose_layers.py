"""Pose vector layers in Krita documents: found, read, made, and kept tidy while the animator edits.

With krita_io and krita_writer, the only module that touches Krita's document API. The
convention (shape names, SVG) is pose_convention's; what a pose means on the timeline is
pose_timeline's. Facts this relies on (measured on Krita 5.1.5 under Xvfb, docs/krita.md):

- `Document.createVectorLayer(name)` gives a layer that takes `addShapesFromSvg` before it is
  in the document, so a finished pose layer goes in with one `addChildNode`: one undo step.
- SVG user units are canvas pixels; a shape's `boundingBox()` is in points: pixels are
  points * resolution / 72. Shapes keep the SVG `id` as their `name()`.
- A shape moved with Krita's tools (or `Shape.setPosition`) moves its bounding box: its centre
  is the joint. Bones are redrawn by the plugin when their joints move (as krita-ai-diffusion
  does), for the active pose layer only. `Shape.remove()` and `addShapesFromSvg` are one undo
  step each, `Shape.setPosition` none; a stroked line's box is padded by 4.4 stroke widths on
  every side, whatever its angle.
- `Node.setVisible` is not on the undo stack and does not re-render: `refreshProjection()`.
"""

from __future__ import annotations

from typing import Any

from . import client_lib as cl
from . import krita_io
from . import pose_convention as conv
from .pose_timeline import PosedFrames

VECTOR_LAYER = "vectorlayer"
INTERPOLATED_OPACITY = 140  # of 255: the interpolated skeleton is a ghost of a pose
SHAPE_TOOL = "InteractionTool"  # Krita's Shape Selection tool: moves a vector layer's shapes


def current_frame(doc: Any) -> int:
    return int(doc.currentTime())


def canvas_size(doc: Any) -> tuple[int, int]:
    return int(doc.width()), int(doc.height())


def activate(doc: Any, node: Any) -> None:
    doc.setActiveNode(node)


def shape_tool() -> None:
    """Pick the Shape Selection tool (a convenience: the animator drags joints with it)."""
    try:
        from krita import Krita  # type: ignore[import-not-found]

        action = Krita.instance().action(SHAPE_TOOL)
        if action is not None:
            action.trigger()
    except Exception:  # noqa: BLE001 - the user can pick the tool
        pass


def _points_to_pixels(doc: Any) -> float:
    try:
        res = float(doc.resolution())
    except Exception:  # noqa: BLE001
        res = 72.0
    return (res if res > 0 else 72.0) / 72.0


def shapes_info(doc: Any, node: Any) -> list[conv.ShapeInfo]:
    """Name and bounding-box centre (canvas pixels) of every shape of a vector layer."""
    scale = _points_to_pixels(doc)
    out = []
    for shape in node.shapes():
        box = shape.boundingBox()
        out.append(conv.ShapeInfo(shape.name(), (box.x() + box.width() / 2.0) * scale,
                                  (box.y() + box.height() / 2.0) * scale))
    return out


def read_pose(doc: Any, node: Any) -> "cl.Pose":
    """The skeleton of one pose layer, on the canvas; PoseLayerError naming the layer otherwise."""
    pose = conv.pose_from_shapes(node.name(), shapes_info(doc, node))
    conv.check_on_canvas(node.name(), pose, int(doc.width()), int(doc.height()))
    return pose


def pose_nodes(doc: Any) -> list[tuple[int, Any]]:
    """(frame, node) of every layer named like a pose layer ('pose 0012'), any kind, anywhere."""
    out = []
    for node in krita_io.iter_nodes(doc.rootNode()):
        frame = conv.frame_of(node.name())
        if frame is not None:
            out.append((frame, node))
    return out


def is_pose_layer(node: Any) -> bool:
    """A layer the plugin treats as a pose (or its interpolated preview): never keys, never sketches."""
    return krita_io.pose_layer_frame(node) is not None


def read_posed_frames(doc: Any) -> PosedFrames:
    """Every pose layer of `doc`, read; the ones that cannot be used are named in `problems`."""
    out = PosedFrames()
    for frame, node in pose_nodes(doc):
        name = node.name()
        if node.type() != VECTOR_LAYER:
            out.problems.append(f"'{name}' is {krita_io.kind_name(node)}, named like a pose layer: poses are "
                                "vector layers (made with 'Pose this frame'). Rename it, or make it with the docker.")
            continue
        if frame in out.layers:
            out.problems.append(f"Frame {frame} has two pose layers, '{out.layers[frame]}' and '{name}': "
                                "delete or renumber one.")
            continue
        try:
            out.poses[frame] = read_pose(doc, node)
            out.layers[frame] = name
        except conv.PoseLayerError as exc:
            out.problems.append(str(exc))
    for node in krita_io.iter_nodes(doc.rootNode()):
        name = node.name()
        if (node.type() == VECTOR_LAYER and conv.looks_like_pose(name) and conv.frame_of(name) is None):
            out.notes.append(f"'{name}' is not read as a pose: a pose layer is named 'pose' and its frame, "
                             "e.g. 'pose 0012'.")
    return out


# ------------------------------------------------------------------ making pose layers


def _build_layer(doc: Any, name: str, pose: "cl.Pose") -> Any:
    layer = doc.createVectorLayer(name)
    layer.addShapesFromSvg(conv.pose_svg(pose, int(doc.width()), int(doc.height())))
    return layer


def _add_on_top(doc: Any, layer: Any) -> Any:
    """Add a finished layer at the top of the stack (one undo step); the node in the document."""
    doc.rootNode().addChildNode(layer, None)
    return krita_io.node_by_id(doc, str(layer.uniqueId())) or layer


def create_pose_layer(doc: Any, frame: int, pose: "cl.Pose") -> Any:
    """A new 'pose 0012' layer with `pose`, on top, made active for Krita's shape tools."""
    node = _add_on_top(doc, _build_layer(doc, conv.pose_layer_name(frame), pose))
    doc.setActiveNode(node)
    return node


def interpolated_nodes(doc: Any) -> list[tuple[int, Any]]:
    out = []
    for node in krita_io.iter_nodes(doc.rootNode()):
        frame = conv.interpolated_frame_of(node.name())
        if frame is not None:
            out.append((frame, node))
    return out


def remove_interpolated(doc: Any) -> int:
    """Remove the interpolated skeleton(s) the docker showed; how many there were."""
    found = interpolated_nodes(doc)
    for _, node in found:
        node.remove()
    return len(found)


def show_interpolated(doc: Any, frame: int, pose: "cl.Pose") -> Any:
    """The interpolated skeleton of `frame` as a ghosted vector layer on top (replacing an earlier
    one): a preview, never read as a pose; 'Pose this frame' turns it into one."""
    remove_interpolated(doc)
    layer = _build_layer(doc, conv.interpolated_layer_name(frame), pose)
    layer.setOpacity(INTERPOLATED_OPACITY)
    return _add_on_top(doc, layer)


def keep_interpolated(doc: Any, frame: int) -> Any | None:
    """Make the interpolated skeleton of `frame` that frame's pose layer (renamed, opaque)."""
    node = next((n for f, n in interpolated_nodes(doc) if f == frame), None)
    if node is None:
        return None
    node.setName(conv.pose_layer_name(frame))
    node.setOpacity(255)
    node.setVisible(True)
    doc.setActiveNode(node)
    return node


# ------------------------------------------------------------------ the drawing a skeleton fits


def drawing_bounds(doc: Any, node: Any | None, frame: int) -> tuple[int, int, int, int] | None:
    """Bounds of what `node` shows at `frame` (its keyframe at or before it), or None."""
    if node is None or node.type() != krita_io.PAINT_LAYER or not node.animated():
        return None
    key = next((t for t in range(frame, -1, -1) if node.hasKeyframeAtTime(t)), None)
    if key is None:
        return None
    w, h = int(doc.width()), int(doc.height())
    read = krita_io.run_steps(krita_io.read_frame_stepwise(node, key, w, h))
    return conv.alpha_bounds(read.bands, w) if read.drawn else None


# ------------------------------------------------------------------ keeping pose layers tidy


def bone_lies_on(box: tuple[float, float, float, float], a: tuple[float, float], b: tuple[float, float],
                 tol: float = 0.75) -> bool:
    """Whether a line shape's bounding box (x, y, w, h; pixels) is that of the bone a-b: centred on
    its midpoint, its width and height differing as the bone's do (Krita pads a stroked line's
    box by the same margin on every side)."""
    x, y, w, h = box
    if abs(x + w / 2 - (a[0] + b[0]) / 2) > tol or abs(y + h / 2 - (a[1] + b[1]) / 2) > tol:
        return False
    return abs((w - h) - (abs(b[0] - a[0]) - abs(b[1] - a[1]))) <= 2 * tol


class BoneKeeper:
    """Keeps the bones of the active pose layer on its joints while the animator drags them.

    The joints are the pose; the lines between them are drawn by the plugin. On each tick the
    active layer's joints are compared with those of the last tick; for the bones of a joint that
    moved (or was deleted), a line that is not on its joints is replaced (removed, drawn again
    below the joints). Only a joint that moved starts this: an Undo that takes back a redrawn
    line moves no joint, so nothing is redrawn over it, and undoing the joint's move then finds
    the old line on the old joint again (nothing redrawn either, so Redo still works)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[int, tuple[float, float]]] = {}

    def tick(self, doc: Any) -> int:
        """Redraw the bones of moved joints that are off them; how many were redrawn or removed."""
        node = doc.activeNode()
        if node is None or node.type() != VECTOR_LAYER or not is_pose_layer(node):
            return 0
        scale = _points_to_pixels(doc)
        found: list[tuple[Any, tuple[str, int, int], tuple[float, float, float, float]]] = []
        for shape in node.shapes():
            parsed = conv.parse_shape_name(shape.name())
            if parsed is not None:
                r = shape.boundingBox()
                found.append((shape, parsed, (r.x() * scale, r.y() * scale, r.width() * scale, r.height() * scale)))
        people = {p[1] for _, p, _ in found if p[0] == "J"}
        if len(people) != 1:
            return 0
        person = people.pop()
        joints = {p[2]: (x + w / 2, y + h / 2) for _, p, (x, y, w, h) in found if p[0] == "J" and p[1] == person}
        key = str(node.uniqueId())
        before, self.seen[key] = self.seen.get(key), {j: (round(x, 2), round(y, 2)) for j, (x, y) in joints.items()}
        if before is None or before == self.seen[key]:
            return 0
        moved = {j for j in set(before) | set(self.seen[key]) if before.get(j) != self.seen[key].get(j)}
        candidates = conv.bones_of(moved)
        lines: dict[int, list] = {}
        for shape, p, box in found:
            if p[0] == "B" and p[1] == person:
                lines.setdefault(p[2], []).append((shape, box))
        stale, redraw, changed = [], set(), set()
        for bone in sorted(candidates):
            ja, jb = conv.BONES[bone]
            have = lines.get(bone, [])
            a, b = joints.get(ja), joints.get(jb)
            if a is None or b is None:  # a joint was deleted: so is its bone
                ok = not have
            else:
                ok = len(have) == 1 and bone_lies_on(have[0][1], a, b)
                if not ok:
                    redraw.add(bone)
            if not ok:
                stale += [shape for shape, _ in have]
                changed.add(bone)
        for shape in stale:
            shape.remove()
        if redraw:
            body = tuple((*joints[j], 1.0) if j in joints else (-1.0, -1.0, 0.0) for j in range(conv.JOINT_COUNT))
            svg = conv.bones_svg(cl.Pose(body), redraw, int(doc.width()), int(doc.height()), person)
            for shape in node.addShapesFromSvg(svg) if svg else []:
                shape.setZIndex(-1)  # below the joints, which stay easy to grab
        return len(changed)


def follow_frame(doc: Any, frame: int) -> bool:
    """Show only the pose layer of `frame` (and the interpolated skeleton when it is of `frame`);
    True when a layer's visibility changed (and the canvas was re-rendered)."""
    changed = False
    for f, node in pose_nodes(doc) + interpolated_nodes(doc):
        want = f == frame
        if bool(node.visible()) != want:
            node.setVisible(want)
            changed = True
    if changed:
        doc.refreshProjection()
    return changed


def show_all(doc: Any) -> None:
    """Every pose layer visible again (when the docker stops following the frame)."""
    changed = False
    for _, node in pose_nodes(doc) + interpolated_nodes(doc):
        if not node.visible():
            node.setVisible(True)
            changed = True
    if changed:
        doc.refreshProjection()
