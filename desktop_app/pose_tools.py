"""The window's pose tools: the Pose menu and panel, the pose tool on the canvas, pose export
and import, and what the generate panel says about poses.

Kept out of `main_window` (like `editing`); the edits themselves are `model.pose_edits`
functions, one undo step each, and the pose images come from the engine (`render_poses`),
because only its renderer draws them exactly as the model sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenu, QToolBar

from inbetween_client.client import NotSupportedError
from inbetween_client.errors import ClientError, RemoteError
from inbetween_client.poses import BODY_JOINTS, Pose, PoseError, PoseTrack

from .generate_controller import frames_text, plural
from .io import pose_export
from .model import pose_edits, pose_timing
from .widgets.pose_overlay import PoseOverlay
from .widgets.pose_panel import PosePanel

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass
class PoseExportResult:
    json_files: list[Path] = field(default_factory=list)
    image_files: list[Path] = field(default_factory=list)
    note: str = ""  # why images are missing, when they are


class PoseTools(QObject):
    def __init__(self, win: "MainWindow") -> None:
        super().__init__(win)
        self.win = win
        self.overlay = PoseOverlay(win.canvas, self)
        self.actions: dict[str, QAction] = {}
        self._build_menu()
        self.panel = PosePanel(self.actions)
        dock = QDockWidget("Pose", win)
        dock.setObjectName("pose")
        dock.setWidget(self.panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        layers = win.findChild(QDockWidget, "layers")
        if layers is not None:  # a tab next to the layers: the right column fits a laptop screen
            win.tabifyDockWidget(layers, dock)
            layers.raise_()
        self.dock = dock
        self.panel.show_box.toggled.connect(self.set_visible)
        self.actions["show"].setChecked(True)
        self.panel.ghost_box.toggled.connect(self.set_ghosts)
        self.overlay.message.connect(self.say)
        self.overlay.selectionChanged.connect(self.refresh)
        win.generate_panel.backend.currentTextChanged.connect(self.refresh_backend_note)
        win.link.capabilitiesChanged.connect(self.refresh_backend_note)
        self.set_document()

    @property
    def doc(self):
        return self.win.doc

    @property
    def frame(self) -> int:
        return self.win.cursor.current

    def _build_menu(self) -> None:
        win = self.win
        menu = QMenu("P&ose", win)
        help_menu = next((a for a in win.menuBar().actions() if a.text().replace("&", "") == "Help"), None)
        win.menuBar().insertMenu(help_menu, menu) if help_menu is not None else win.menuBar().addMenu(menu)
        self.menu = menu
        act = win._act
        a = self.actions
        a["tool"] = act(menu, "Pose &Tool", self.set_tool, "J", "fa5s.child",
                        "Drag the joints of the pose on the canvas; right-click a joint hides or shows it",
                        checkable=True)
        win.a_pen.actionGroup().addAction(a["tool"])
        a["add"] = act(menu, "&Add Pose", self.add, "Shift+J", "fa5s.user-plus",
                       "A default 18-joint skeleton fitted to this frame's drawing")
        a["copy_next"] = act(menu, "&Copy Pose to Next Key", self.copy_to_next_key, "Ctrl+J", "fa5s.share",
                             "Copy this frame's pose to the next key and go there to adjust it")
        a["remove"] = act(menu, "&Remove Pose", self.remove, icon="fa5s.user-minus",
                          tip="Remove this frame's own pose (an in-between goes back to the interpolated one)")
        menu.addSeparator()
        a["mirror"] = act(menu, "&Mirror Pose", lambda: self.mirror(False), "Shift+M", "fa5s.exchange-alt",
                          "Flip the pose left to right: a raised right arm becomes a raised left arm")
        a["swap"] = act(menu, "&Swap Left/Right", lambda: self.mirror(True), "Ctrl+Shift+M", "fa5s.retweet",
                        "Exchange the sides in place: the figure now faces away (or towards you)")
        a["hide"] = act(menu, "&Hide / Show Joint", self.toggle_hidden, "Shift+H", "fa5s.eye-slash",
                        "Mark the selected joint hidden (not there for the engine) or show it again")
        a["keep_lengths"] = act(menu, "&Keep Bone Lengths", self.set_keep_lengths, "L", "fa5s.ruler",
                                "Dragging keeps the previous pose's bone lengths and turns the limb below "
                                "(Shift while dragging does the opposite)", checkable=True)
        menu.addSeparator()
        a["import"] = act(menu, "&Import Poses…", self.import_dialog, icon="fa5s.file-import",
                          tip="Put a poses.json (the engine's format) on the segment under the playhead")
        a["export"] = act(menu, "&Export Poses…", self.export_dialog, icon="fa5s.file-export",
                          tip="The poses as JSON (one file per segment) and as the pose images the model sees")
        a["show"] = act(menu, "Show &Poses", self.set_visible, "Shift+P", checkable=True)
        toolbar = win.findChild(QToolBar, "main-toolbar")
        if toolbar is not None:
            toolbar.insertAction(win.color_button, a["tool"])

    # ------------------------------------------------------------------ document and view

    def set_document(self) -> None:
        """Follow the window's current document (called by `MainWindow.set_document`)."""
        self.overlay.cancel_drag()
        self.overlay.set_selected(None)
        self.doc.framesChanged.connect(self.refresh)
        self.doc.framesChanged.connect(self.refresh_backend_note)
        self.win.cursor.currentChanged.connect(self.refresh)
        self.refresh()
        self.refresh_backend_note()

    def refresh(self, *_: object) -> None:
        if not len(self.doc):
            return
        self.panel.status.setText(self.overlay.describe(self.frame))
        j = self.overlay.selected
        self.panel.joint.setText("No joint selected (click one with the pose tool)" if j is None
                                 else f"Selected: {BODY_JOINTS[j]} (joint {j})")

    def refresh_backend_note(self, *_: object) -> None:
        """The generate panel says whether the chosen backend uses the shot's poses."""
        backend = self.win.generate_panel.backend.currentText()
        if not pose_timing.posed_frames(self.doc) or not backend:
            self.win.generate_panel.set_pose_note("")
            return
        backends = self.win.link.backends()
        info = next((b for b in backends if b.get("name") == backend), {})
        users = [b["name"] for b in backends if b.get("supports_poses")]
        if info.get("supports_poses"):
            text = f"Poses: {backend} follows them."
        else:
            text = (f"Poses: {backend} does not use poses yet; they are sent, but the frames follow the "
                    "keys and sketches" + (f" (pose-guided: {', '.join(users)})." if users else "."))
        self.win.generate_panel.set_pose_note(text)

    def set_tool(self, on: bool) -> None:
        self.win.canvas.input_handler = self.overlay if on else None
        self.overlay.caption = on
        if not on:
            self.overlay.cancel_drag()
            self.win.canvas.unsetCursor()
        self.win.canvas.update()
        if on:
            self.dock.raise_()
            self.say("Pose tool: drag a joint (Shift: keep bone lengths, Ctrl: move the whole pose), "
                     "right-click a joint to hide it. " + self.overlay.describe(self.frame))

    def set_visible(self, on: bool) -> None:
        self.overlay.visible = on
        self.actions["show"].setChecked(on)
        self.panel.show_box.setChecked(on)
        self.win.canvas.update()

    def set_ghosts(self, on: bool) -> None:
        self.overlay.ghosts = on
        self.win.canvas.update()
        self.refresh()

    def set_keep_lengths(self, on: bool) -> None:
        self.overlay.keep_lengths = on

    def say(self, text: str) -> None:
        self.panel.status.setText(text)
        self.win.statusBar().showMessage(text, 8000)

    # ------------------------------------------------------------------ edits

    def _try(self, fn, *args) -> tuple[bool, object]:
        """Run an edit; a PoseError (no pose here, no next key, ...) is said, not raised."""
        try:
            return True, fn(*args)
        except PoseError as exc:
            self.say(str(exc)[0].upper() + str(exc)[1:] + ".")
            return False, None

    def add(self) -> bool:
        i = self.frame
        if not self._try(pose_edits.add_pose, self.doc, i)[0]:
            return False
        self.say(f"Added a pose on frame {i + 1}, fitted to its drawing. Drag the joints with the pose "
                 "tool (J).")
        return True

    def remove(self) -> bool:
        if not pose_edits.remove_pose(self.doc, self.frame):
            self.say(f"Frame {self.frame + 1} has no pose of its own to remove.")
            return False
        self.say(f"Removed the pose of frame {self.frame + 1}.")
        return True

    def copy_to_next_key(self) -> int | None:
        i = self.frame
        ok, target = self._try(pose_edits.copy_to_next_key, self.doc, i)
        if not ok or not isinstance(target, int):
            return None
        self.win.cursor.set_current(target)
        self.say(f"Copied the pose of frame {i + 1} to the key at frame {target + 1}: adjust it there.")
        return target

    def mirror(self, swap_only: bool) -> bool:
        if not self._try(pose_edits.mirror, self.doc, self.frame, swap_only)[0]:
            return False
        self.say(f"{'Swapped left and right' if swap_only else 'Mirrored the pose'} on frame {self.frame + 1}.")
        return True

    def toggle_hidden(self) -> bool:
        return self.overlay.toggle_hidden()

    # ------------------------------------------------------------------ files

    def _render(self, poses: list[Pose], labels: list[str]) -> list[bytes]:
        client = self.win.link.client
        if client is None or not self.win.link.connected:
            raise ClientError("the engine is not running")
        images = client.render_poses(self.doc.width, self.doc.height, poses, encoding="png", labels=labels)
        return [im.data for im in images]

    def export(self, folder: str | Path, name: str, images: bool = True) -> PoseExportResult:
        """JSON per segment, then (with the engine) the pose images; PoseExportError when
        nothing could be written."""
        result = PoseExportResult(pose_export.export_json(self.doc, folder, name))
        if images:
            try:
                result.image_files = pose_export.export_images(self.doc, folder, name, self._render)
            except NotSupportedError as exc:
                result.note = f"No pose images: {exc}."
            except RemoteError as exc:
                result.note = f"No pose images: the engine refused them: {exc.message}."
            except ClientError as exc:
                result.note = (f"No pose images: they are drawn by the engine, and {exc}. Generate ▸ Reconnect "
                               "to Engine, then export again.")
        return result

    def export_dialog(self) -> None:
        base = self.win.project_path.parent if self.win.project_path else Path.home()
        name = self.win.project_path.stem if self.win.project_path else "shot"
        folder = QFileDialog.getExistingDirectory(self.win, "Export poses to", str(base / f"{name}_export"))
        if folder:
            self.export_to(folder, name)

    def export_to(self, folder: str | Path, name: str) -> PoseExportResult | None:
        try:
            result = self.export(folder, name)
        except pose_export.PoseExportError as exc:
            self.win.error("Cannot export poses", str(exc))
            return None
        if not result.json_files and not result.image_files:
            self.say("No poses to export: add a pose on a key first (Pose ▸ Add Pose).")
            return result
        self.say(f"Exported {plural(len(result.json_files), 'pose file')} and "
                 f"{plural(len(result.image_files), 'pose image')} to {folder}. {result.note}".strip())
        return result

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.win, "Import poses", "", "Poses (*.json);;All files (*)")
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path) -> list[int]:
        """A poses.json onto the segment under the playhead (each pose on the frame at its t)."""
        seg = self.doc.segment_of(self.frame)
        if seg is None:
            self.win.error("Cannot import poses", "Put the playhead between two keys: a poses.json "
                                                  "holds the poses of one segment.")
            return []
        try:
            frames = pose_edits.import_track(self.doc, seg[0], seg[1], PoseTrack.read(path))
        except PoseError as exc:
            self.win.error("Cannot import poses", f"{exc}. Nothing was changed.")
            return []
        self.say(f"Imported {plural(len(frames), 'pose')} onto {frames_text(frames)}.")
        return frames
