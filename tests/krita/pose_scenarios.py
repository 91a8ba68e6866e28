"""Real-Krita scenarios for pose vector layers and for results that survive a restart (run inside
Krita by driver_plugin.py, checked by test_krita_e2e.py).

`poses`: keys drawn as a figure in two poses; Pose this frame (real clicks) at both keys, the
second key's joints moved through Krita's shape API, the interpolated skeleton of an in-between,
kept as that frame's pose, Generate with the poses (flow, and animate_anyone on the tiny fixture
checkpoint when the engine has it), bad pose layers, and a result left waiting in a saved
document. `restart` runs in a new Krita on the same profile and finds that result again.
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterator

from . import Wait, log  # the driver package
from .scenarios import keyframes, layer_names, result_layer, show_docker

try:
    from PyQt6.QtCore import QPointF  # type: ignore[import-not-found]
except ImportError:
    from PyQt5.QtCore import QPointF  # type: ignore[import-not-found,no-redef]

W, H = 320, 240
INK = (50, 45, 40, 255)  # BGRA
SKIN = (120, 170, 230, 255)


def figure(pose: Any, w: int = W, h: int = H) -> bytes:
    """A figure drawn over a skeleton (BGRA): limbs as round-capped strokes, a torso, a head."""
    from inbetween_krita import pose_convention as conv

    buf = bytearray(w * h * 4)
    pts = pose.body

    def capsule(a: tuple, b: tuple, r: float, colour: tuple) -> None:
        x0, x1 = int(max(0, min(a[0], b[0]) - r - 1)), int(min(w, max(a[0], b[0]) + r + 2))
        y0, y1 = int(max(0, min(a[1], b[1]) - r - 1)), int(min(h, max(a[1], b[1]) + r + 2))
        dx, dy = b[0] - a[0], b[1] - a[1]
        n = dx * dx + dy * dy or 1e-9
        px = bytes(colour)
        for y in range(y0, y1):
            for x in range(x0, x1):
                u = min(1.0, max(0.0, ((x + 0.5 - a[0]) * dx + (y + 0.5 - a[1]) * dy) / n))
                if math.hypot(x + 0.5 - a[0] - u * dx, y + 0.5 - a[1] - u * dy) <= r:
                    buf[(y * w + x) * 4:(y * w + x) * 4 + 4] = px

    hip = ((pts[8][0] + pts[11][0]) / 2, (pts[8][1] + pts[11][1]) / 2)
    for i, (a, b) in enumerate(conv.BONES):
        if i < 12:  # arms and legs (the head's bones: a head is drawn instead)
            capsule(pts[a], pts[b], 6, INK)
    capsule(pts[1], hip, 14, INK)
    capsule(pts[1], hip, 11, SKIN)
    capsule(pts[0], pts[0], 17, INK)
    capsule(pts[0], pts[0], 14, SKIN)
    return bytes(buf)


def second_pose(first: Any) -> Any:
    """The second key: the figure 150 px to the right, right arm raised, left leg stepping."""
    from inbetween_krita import client_lib as cl

    body = [(x + 150, y, c) for x, y, c in first.body]
    sx, sy, _ = body[2]
    body[3] = (sx - 22, sy - 28, 1.0)  # right elbow up
    body[4] = (sx - 14, sy - 62, 1.0)  # right wrist over the head
    kx, ky, _ = body[12]
    body[12] = (kx + 16, ky - 4, 1.0)
    ax, ay, _ = body[13]
    body[13] = (ax + 30, ay, 1.0)
    return cl.Pose(tuple(body))


def joint_shapes(node: Any) -> dict[str, Any]:
    return {s.name(): s for s in node.shapes() if s.name().startswith("P00_J")}


def move_joint(doc: Any, shape: Any, dx_px: float, dy_px: float) -> None:
    """What dragging a circle with the Shape Selection tool does: Shape.setPosition, in points."""
    k = 72.0 / doc.resolution()
    p = shape.position()
    shape.update()  # Krita repaints neither the old place nor the new one after an API move
    shape.setPosition(QPointF(p.x() + dx_px * k, p.y() + dy_px * k))
    shape.update()


def bones_on_joints(doc: Any, node: Any) -> int:
    """How many of the 17 bone lines lie on their joints, by the plugin's test on Krita's boxes."""
    from inbetween_krita import pose_convention as conv
    from inbetween_krita import pose_layers

    k = doc.resolution() / 72.0
    boxes = {s.name(): s.boundingBox() for s in node.shapes()}

    def px(name: str) -> tuple:
        b = boxes[name]
        return (b.x() * k, b.y() * k, b.width() * k, b.height() * k)

    def centre(name: str) -> tuple:
        x, y, w, h = px(name)
        return (x + w / 2, y + h / 2)

    return sum(1 for i, (a, b) in enumerate(conv.BONES)  # a line being redrawn may be missing a moment
               if conv.bone_id(i) in boxes
               and pose_layers.bone_lies_on(px(conv.bone_id(i)), centre(conv.joint_id(a)), centre(conv.joint_id(b))))


def max_error(a: Any, b: Any) -> float:
    return max(math.hypot(p[0] - q[0], p[1] - q[1]) for p, q in zip(a.body, b.body) if p[2] > 0 and q[2] > 0)


def generate(d: Any, dock: Any, what: str, timeout_s: float = 600) -> Iterator:
    """Click Generate; wait until the job ended (or was refused); the docker's message."""
    ctl, idle = d.ctl, d.idle()
    ctl.say("")
    yield from d.click(dock.generate_button)
    yield Wait(lambda: idle() and ctl.message != "", timeout_s, what)
    yield 300
    return dock.message_label.text()


def poses(d: Any) -> Iterator:
    from inbetween_krita import client_lib as cl
    from inbetween_krita import pending_store, pose_layers

    dock = yield from show_docker(d)
    ctl, panel = d.ctl, dock.pose_panel
    doc, view = yield from d.new_doc(W, H, 8, "poses")
    keys = yield from d.add_layer(doc, "keys")
    from inbetween_krita import pose_convention as conv

    pose_a = conv.default_pose(W, H, (30, 25, 120, 225))
    pose_b = second_pose(pose_a)
    yield from d.add_keyframes(doc, keys, {0: figure(pose_a), 8: figure(pose_b)})
    doc.setActiveNode(keys)
    yield from d.click(dock.active_button)
    yield Wait(lambda: "Fills frames 1-7" in dock.plan_label.text(), 60, "the plan")
    dock.widget().ensureWidgetVisible(panel)
    # ---- Pose this frame at key 0: a default skeleton fitted to the drawing
    doc.setCurrentTime(0)
    yield 400
    yield from d.click(panel.pose_button)
    yield Wait(lambda: doc.nodeByName("pose 0000") is not None, 30, "pose 0000")
    yield 300
    p0 = doc.nodeByName("pose 0000")
    d.record("message_pose_0", dock.message_label.text())
    d.record("pose_0_type", p0.type())
    d.record("pose_0_shapes", sorted(s.name() for s in p0.shapes()))
    fitted = pose_layers.read_pose(doc, p0)
    d.record("fitted_vs_drawn_px", round(max_error(fitted, pose_a), 2))
    d.record("fitted_inside_drawing", all(20 <= x <= 135 and 5 <= y <= 240 for x, y, _ in fitted.body))
    d.record("active_is_pose_0", doc.activeNode().name() == "pose 0000")
    d.record("bones_on_joints_0", bones_on_joints(doc, p0))  # Krita's boxes of the lines it drew
    undo, redo = d.app.action("edit_undo"), d.app.action("edit_redo")
    undo.trigger()
    doc.waitForDone()
    yield 600
    d.record("after_undo", [n.name() for n in doc.topLevelNodes()])
    redo.trigger()
    doc.waitForDone()
    yield 600
    d.record("after_redo", [n.name() for n in doc.topLevelNodes()])
    # ---- key 8: a copy of the nearest pose, then the animator moves every joint onto the drawing
    doc.setCurrentTime(8)
    yield 400
    yield from d.click(panel.pose_button)
    yield Wait(lambda: doc.nodeByName("pose 0008") is not None, 30, "pose 0008")
    yield 300
    d.record("message_pose_8", dock.message_label.text())
    p8 = doc.nodeByName("pose 0008")
    doc.setActiveNode(p8)
    yield 500
    copied = pose_layers.read_pose(doc, p8)
    d.record("copy_equals_pose_0", round(max_error(copied, fitted), 3))
    shapes = joint_shapes(p8)
    for j in range(18):
        c, target = copied.body[j], pose_b.body[j]
        move_joint(doc, shapes[f"P00_J{j:02d}"], target[0] - c[0], target[1] - c[1])
    # the docker's pose timer redraws the bones of the active pose layer
    yield Wait(lambda: bones_on_joints(doc, p8) == 17, 60, "the bones to follow the joints")
    moved = pose_layers.read_pose(doc, p8)
    d.record("moved_vs_target_px", round(max_error(moved, pose_b), 3))
    bone = next(s for s in p8.shapes() if s.name() == "P00_B03")  # right elbow to right wrist
    box = bone.boundingBox()
    k = doc.resolution() / 72.0
    mid = ((box.x() + box.width() / 2) * k, (box.y() + box.height() / 2) * k)
    want = ((pose_b.body[3][0] + pose_b.body[4][0]) / 2, (pose_b.body[3][1] + pose_b.body[4][1]) / 2)
    d.record("bone_follows_px", round(math.hypot(mid[0] - want[0], mid[1] - want[1]), 2))
    d.record("bone_count", sum(1 for s in p8.shapes() if s.name().startswith("P00_B")))
    d.record("bones_on_joints_8", bones_on_joints(doc, p8))  # redrawn by the docker's timer
    # ---- an in-between: the interpolated skeleton, then kept as frame 4's pose
    doc.setCurrentTime(4)
    yield 500
    yield from d.click(panel.show_button)
    yield Wait(lambda: doc.nodeByName("interpolated pose 0004") is not None, 30, "the interpolated skeleton")
    yield 500
    d.record("message_show", dock.message_label.text())
    ghost = doc.nodeByName("interpolated pose 0004")
    expected = cl.pose_at([cl.TimedPose(0.0, fitted), cl.TimedPose(1.0, moved)], 0.5)
    d.record("interpolated_vs_pose_at_px", round(max_error(pose_layers.read_pose(doc, ghost), expected), 3))
    shown = lambda: {n: doc.nodeByName(n).visible()  # noqa: E731
                     for n in ("pose 0000", "pose 0008", "interpolated pose 0004")}
    yield Wait(lambda: shown() == {"pose 0000": False, "pose 0008": False, "interpolated pose 0004": True}, 30,
               "only frame 4's skeleton to be shown")
    d.record("visible_at_4", shown())
    yield from d.screenshot("krita-poses-interpolated")
    yield from d.click(panel.pose_button)  # keep it as this frame's pose
    yield Wait(lambda: doc.nodeByName("pose 0004") is not None, 30, "pose 0004")
    d.record("message_keep", dock.message_label.text())
    d.record("pose_frames", pose_layers.read_posed_frames(doc).frames)
    # ---- the bones follow a moved joint, and an Undo of the redrawn line is not fought
    p4 = doc.nodeByName("pose 0004")
    doc.setActiveNode(p4)
    yield 800
    line = lambda: [(round(b.x(), 3), round(b.y(), 3)) for b in  # noqa: E731
                    (s.boundingBox() for s in p4.shapes() if s.name() == "P00_B03")]
    first = line()
    move_joint(doc, joint_shapes(p4)["P00_J04"], 25, 15)
    yield Wait(lambda: line() != first and bones_on_joints(doc, p4) == 17, 60, "the line to follow the wrist")
    yield 500
    redrawn = line()
    steps = []
    for _ in range(2):  # Undo the addition, then the removal, of the redrawn line
        undo.trigger()
        doc.waitForDone()
        yield 1500  # six ticks of the docker's timer
        steps.append(line())
    move_joint(doc, joint_shapes(p4)["P00_J04"], -25, -15)  # the joint back where it was
    yield 1500
    d.record("bone_undo", {"first": first, "redrawn": redrawn, "after_undos": steps, "joint_back": line(),
                           "on_joints": bones_on_joints(doc, p4)})
    # ---- pose layers are not keys
    d.record("keys_combo", [dock.key_combo.itemText(i) for i in range(dock.key_combo.count())])
    doc.setActiveNode(p0)
    yield 400
    before = dock.message_label.text()
    for _ in range(3):  # a real click that Krita's busy event loop swallowed is made again
        yield from d.click(dock.active_button)
        for _ in range(10):
            if dock.message_label.text() != before:
                break
            yield 200
        if dock.message_label.text() != before:
            break
    d.record("message_pose_as_keys", dock.message_label.text())
    i = dock.key_combo.findText("keys")
    dock.key_combo.setCurrentIndex(i)
    dock.key_combo.activated.emit(i)
    yield 400
    # ---- Generate with the poses (flow), then Apply
    msg = yield from generate(d, dock, "the flow job")
    d.record("message_flow", msg)
    d.record("request_flow", dict(ctl.last_request))
    d.record("flow_supports_poses", ctl.poses.uses_poses("flow"))
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    res = result_layer(doc)
    d.record("result_keyframes", keyframes(res, 8) if res else None)
    d.record("pose_layers_in_review", {n: doc.nodeByName(n).visible() for n in ("pose 0000", "pose 0004", "pose 0008")})
    d.record("keys_hidden_in_review", not keys.visible())
    doc.setCurrentTime(4)
    yield 800
    p4 = doc.nodeByName("pose 0004")
    doc.setActiveNode(p4)  # as the animator would, to adjust the in-between's pose
    d.app.action("InteractionTool").trigger()
    yield 600
    joint_shapes(p4)["P00_J04"].select()  # the right wrist, with the Shape Selection tool's handles
    yield 800
    dock.widget().ensureWidgetVisible(panel)
    yield 400
    yield from d.screenshot("krita-poses")
    ctl.stop_review()
    yield 300
    # ---- bad pose layers: a joint off the canvas, a layer that is not a pose
    ankle = joint_shapes(p8)["P00_J10"]
    move_joint(doc, ankle, 0, 300)
    yield 400
    d.record("message_off_canvas", (yield from generate(d, dock, "the refused job")))
    move_joint(doc, ankle, 0, -300)
    fake = doc.createVectorLayer("pose 0006")
    fake.addShapesFromSvg('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240">'
                          '<rect id="box" x="10" y="10" width="40" height="30" fill="#3355ff"/></svg>')
    doc.rootNode().addChildNode(fake, None)
    yield Wait(lambda: "'pose 0006'" in panel.summary_label.text(), 30, "the pose box to name 'pose 0006'")
    d.record("summary_not_a_pose", panel.summary_label.text())
    d.record("message_not_a_pose", (yield from generate(d, dock, "the refused job")))
    doc.nodeByName("pose 0006").remove()
    yield 400
    # ---- a pose outside the keys is named and left out; animate_anyone draws the frames in the poses
    pose_layers.create_pose_layer(doc, 12, fitted)
    yield 600
    backends = {b.get("name"): b for b in ctl.backends()}
    aa = backends.get("animate_anyone", {})
    d.record("animate_anyone", {"listed": bool(aa), "available": aa.get("available"),
                                "supports_poses": aa.get("supports_poses"), "reason": aa.get("reason")})
    if aa.get("available"):
        idx = dock.backend_combo.findData("animate_anyone")
        dock.backend_combo.setCurrentIndex(idx)
        dock.backend_combo.activated.emit(idx)
        yield Wait(lambda: "animate_anyone" in panel.summary_label.text(), 30, "the pose box to follow")
        d.record("summary_animate_anyone", panel.summary_label.text())
        d.record("message_animate_anyone", (yield from generate(d, dock, "the animate_anyone job", 1500)))
        d.record("state_animate_anyone", ctl.state)
        d.record("request_animate_anyone", dict(ctl.last_request))
        latest = ctl.latest()
        d.record("frames_animate_anyone", sorted(latest.frames) if latest and latest.target.backend ==
                 "animate_anyone" else None)
        yield from d.click(panel.send_check, "send poses (off)")
        d.record("message_animate_anyone_no_poses", (yield from generate(d, dock, "the job without poses", 600)))
        yield from d.click(panel.send_check, "send poses (on)")
        if latest is not None and latest.target.backend == "animate_anyone":
            ctl.discard(latest)
        idx = dock.backend_combo.findData("flow")
        dock.backend_combo.setCurrentIndex(idx)
        dock.backend_combo.activated.emit(idx)
        yield 400
    # ---- a result left waiting in a saved document, for the restart scenario
    path = os.path.join(d.report["spec"].get("kra_dir") or d.report["spec"]["out_dir"], "poses.kra")
    doc.saveAs(path)
    yield 1000
    msg = yield from generate(d, dock, "the job left waiting")
    d.record("message_outside", msg)
    waiting = ctl.latest()
    ctl.pending.wait()
    d.record("pending", {"uid": waiting.uid, "state": waiting.state, "doc_file": waiting.target.doc_file,
                         "folder": str(ctl.pending.folder(waiting)),
                         "on_disk": (ctl.pending.folder(waiting) / pending_store.META).is_file()})
    d.record("kra", path)
    doc.setModified(False)
    log("poses done")


def restart(d: Any) -> Iterator:
    """A new Krita on the same profile: the result left waiting is offered again and applied into
    its document, found by file name; the pose layers read back from the saved file."""
    from inbetween_krita import pose_layers

    dock = yield from show_docker(d)
    ctl = d.ctl
    before = d.report["spec"]["pending"]
    yield Wait(lambda: any(r.uid == before["uid"] for r in ctl.history.items), 120, "the kept result")
    result = next(r for r in ctl.history.items if r.uid == before["uid"])
    d.record("recovered", {"state": result.state, "recovered": result.recovered, "title": result.title,
                           "frames": sorted(result.frames)})
    d.record("message_recovered", ctl.message)
    d.record("own_open_before", ctl.result_document_open(result))
    doc = d.app.openDocument(d.report["spec"]["kra"])
    d.window.addView(doc)
    yield 1500
    dock.result_panel.set_result(result)
    yield Wait(lambda: dock.result_panel.apply_button.isEnabled(), 60, "Apply for its document")
    d.record("own_open_after", ctl.result_document_open(result))
    d.record("pose_frames", pose_layers.read_posed_frames(doc).frames)
    dock.widget().ensureWidgetVisible(dock.result_panel.apply_button)
    yield 500
    yield from d.screenshot("krita-restart-recovered")
    yield from d.click(dock.result_panel.apply_button)
    yield Wait(d.idle(), 300, "the write")
    d.record("message_written", dock.message_label.text())
    d.record("layers", layer_names(doc))
    d.record("written_layer", result.layer_name)
    res = doc.nodeByName(result.layer_name) if result.layer_name else None
    d.record("result_keyframes", keyframes(res, 8) if res else None)
    older = doc.nodeByName("keys in-betweens (flow)")  # written in the first session
    d.record("older_result_hidden", older is not None and not older.visible())
    ctl.pending.wait()
    d.record("folder_left", os.path.exists(before["folder"]))
    ctl.stop_review()
    doc.setModified(False)
