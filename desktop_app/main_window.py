"""The main window: canvas in the middle, x-sheet strip below, generate and layer panels on
the right, engine state in the status bar. It wires views to the current document and owns
the file workflow (new/open/save/export/autosave/recovery); the work itself lives in
`model`, `io`, `generate_controller` and `engine_link`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (QColorDialog, QDockWidget, QFileDialog, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QVBoxLayout, QWidget)

from . import recent, theme
from .editing import ShotEditing
from .engine_link import EngineLink
from .generate_controller import GenerateController
from .io import autosave, export, project
from .model import edits
from .model.cursor import Cursor
from .model.shot import LayerKind, Role, ShotDocument
from .playback import LOOP, ONCE, PINGPONG, Playback
from .pose_tools import PoseTools
from .toolbar import build_toolbar
from .widgets.about import show_about
from .widgets.canvas import ERASER, PEN, CanvasWidget
from .widgets.dialogs import ExportDialog, NewShotDialog, NewShotSpec
from .widgets.generate_panel import GeneratePanel
from .widgets.layers_panel import LayersPanel
from .widgets.palette import PaletteWidget
from .widgets.timeline import TimelineWidget

APP_NAME = "inbetween-studio"


class MainWindow(QMainWindow):
    def __init__(self, link: EngineLink | None = None, autosave_ms: int = autosave.DEFAULT_INTERVAL_MS,
                 doc: ShotDocument | None = None) -> None:
        super().__init__()
        self.resize(1400, 860)
        self.link = link or EngineLink(self)
        self.link.setParent(self)
        self.doc = doc or ShotDocument(512, 320, 24.0, edits.new_shot_frames(12))
        self.cursor = Cursor(self.doc, self)
        self.project_path: Path | None = None
        self._recovered = False
        # hooks for dialogs, replaceable in tests and scripts
        self.ask_recover: Callable[[list[autosave.Recovery]], autosave.Recovery | None] = self._ask_recover
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved  # "save" | "discard" | "cancel"
        self.ask_export: Callable[[str], bool] = self._ask_export  # export despite the warning?
        self.editing = ShotEditing(self)

        self.undo_group = QUndoGroup(self)
        self.undo_group.addStack(self.doc.undo_stack)
        self.undo_group.setActiveStack(self.doc.undo_stack)
        self.autosaver = autosave.Autosaver(autosave_ms, self)
        self.autosaver.attach(self.doc, None)
        self.autosaver.failed.connect(lambda m: self.statusBar().showMessage(m, 8000))

        self.canvas = CanvasWidget(self.doc, self.cursor)
        self.timeline = TimelineWidget(self.doc, self.cursor)
        self.playback = Playback(self.cursor, self)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.timeline)
        self.setCentralWidget(central)

        self.generate_panel = GeneratePanel()
        self.palette = PaletteWidget()
        self.layers_panel = LayersPanel(self.canvas, self.palette)
        self.generator = GenerateController(self.link, self.generate_panel, self.doc, self.cursor, self)
        for title, widget, name in (("Generate", self.generate_panel, "generate"),
                                    ("Layers && onion skin", self.layers_panel, "layers")):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                             QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        self.engine_label = QLabel(self.link.state)
        self.frame_label = QLabel()
        self.statusBar().addPermanentWidget(self.frame_label)
        self.statusBar().addPermanentWidget(self.engine_label)
        self.link.stateChanged.connect(self.engine_label.setText)
        self.generator.message.connect(lambda m: self.statusBar().showMessage(m, 10000))
        self.canvas.message.connect(lambda m: self.statusBar().showMessage(m, 6000))
        self.canvas.colorPicked.connect(self._picked)
        self.palette.colorChosen.connect(self.set_pen_color)
        self.palette.set_document(self.doc)
        self.timeline.set_toggle_key(lambda idx: self.editing.toggle_key(list(idx)))
        self.link.capabilitiesChanged.connect(self.editing.check_canvas)

        self._build_actions()
        self.poses = PoseTools(self)  # the Pose menu and panel, the pose tool, pose export
        self._wire_document()
        self.layers_panel.changed.connect(self._sync_sketch_action)
        self.layers_panel.onion_box.toggled.connect(self.a_onion.setChecked)
        self.setAcceptDrops(True)

    # ================================================================== actions and menus

    def _act(self, menu, text: str, slot, shortcut=None, icon: str | None = None, tip: str = "",
             checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if icon:
            a.setIcon(theme.icon(icon))
        if shortcut:
            a.setShortcuts([QKeySequence(s) for s in shortcut] if isinstance(shortcut, (list, tuple))
                           else [QKeySequence(shortcut)])
        a.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}"
                     + (f" ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else ""))
        a.setCheckable(checkable)
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        self.addAction(a)  # shortcuts work even when the menu bar is hidden
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.a_new = self._act(f, "&New Shot…", self.new_shot_dialog, QKeySequence.StandardKey.New, "fa5s.file")
        self.a_open = self._act(f, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open, "fa5s.folder-open")
        self._act(f, "&Import Images as Keys…", self.import_dialog, "Ctrl+I", "fa5s.images",
                  "Add PNG images to this shot as keys after the current frame (an empty shot takes their size)")
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        self.a_save = self._act(f, "&Save", self.save, QKeySequence.StandardKey.Save, "fa5s.save")
        self._act(f, "Save &As…", self.save_as_dialog, "Ctrl+Shift+S")
        f.addSeparator()
        self.a_export = self._act(f, "&Export…", self.export_dialog, "Ctrl+E", "fa5s.file-export",
                                  "Export a PNG sequence name_0001.png (and an animated preview)")
        f.addSeparator()
        self._act(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        self.a_undo = self.undo_group.createUndoAction(self, "&Undo")
        self.a_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.a_undo.setIcon(theme.icon("fa5s.undo"))
        self.a_redo = self.undo_group.createRedoAction(self, "&Redo")
        self.a_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.a_redo.setIcon(theme.icon("fa5s.redo"))
        for a in (self.a_undo, self.a_redo):
            e.addAction(a)
            self.addAction(a)
        e.addSeparator()
        self._act(e, "&Copy Frames", self.editing.copy, QKeySequence.StandardKey.Copy, "fa5s.copy",
                  "Copy the selected frames (and the current picture, for other apps)")
        self._act(e, "Cu&t Frames", self.editing.cut, QKeySequence.StandardKey.Cut, "fa5s.cut")
        self._act(e, "&Paste Frames", self.editing.paste_frames, QKeySequence.StandardKey.Paste, "fa5s.paste",
                  "Insert the copied frames after the current frame")
        self._act(e, "Paste &Drawing", self.editing.paste_drawing, "Ctrl+Shift+V", "fa5s.clipboard",
                  "Paste the copied drawing (or an image) on the active layer of the current frame")
        e.addSeparator()
        self._act(e, "Clear Layer", self.clear_layer, "Delete", "fa5s.eraser",
                  "Clear the active layer of the current frame")

        fr = mb.addMenu("F&rame")
        self._act(fr, "Mark / Unmark &Key", lambda: self.editing.toggle_key(), "K", "fa5s.key")
        self._act(fr, "Mark &Breakdown", lambda: self.editing.mark(Role.BREAKDOWN), "B", "fa5s.gem")
        self._act(fr, "Mark In-&between", lambda: self.editing.mark(Role.INBETWEEN), "N")
        fr.addSeparator()
        for n in (1, 2, 3):
            self._act(fr, f"Expose Selection on &{n}s", lambda n=n: self.editing.expose(n), f"Alt+{n}",
                      tip=f"The selected frames on {n}s: a drawing every {n} frame{'s' if n > 1 else ''}, holds between")
        fr.addSeparator()
        self._act(fr, "&Insert Frame", lambda: edits.insert_frames(self.doc, self.cursor.current + 1),
                  "Insert", "fa5s.plus-square")
        self._act(fr, "Insert &Hold", lambda: edits.insert_frames(self.doc, self.cursor.current + 1, 1, Role.HOLD),
                  "H", "fa5s.pause")
        self._act(fr, "&Remove Frames", self.remove_selected, "Shift+Delete", "fa5s.minus-square")
        self._act(fr, "Select &All Frames", lambda: self.cursor.select_range(0, len(self.doc) - 1), "Ctrl+A")

        pb = mb.addMenu("&Playback")
        self.a_play = self._act(pb, "&Play / Stop", self.playback.toggle, "Space", "fa5s.play")
        pb.addSeparator()
        group = QActionGroup(self)
        for text, mode in (("&Loop", LOOP), ("Ping-&pong", PINGPONG), ("Play &once", ONCE)):
            a = self._act(pb, text, lambda on, m=mode: on and setattr(self.playback, "mode", m), checkable=True)
            a.setChecked(mode == LOOP)
            group.addAction(a)
        pb.addSeparator()
        self._act(pb, "Previous Frame", lambda: self.cursor.step(-1), ",", "fa5s.step-backward")
        self._act(pb, "Next Frame", lambda: self.cursor.step(1), ".", "fa5s.step-forward")
        self._act(pb, "Previous Key", lambda: self.cursor.jump_to_anchor(-1), "Alt+,", "fa5s.fast-backward")
        self._act(pb, "Next Key", lambda: self.cursor.jump_to_anchor(1), "Alt+.", "fa5s.fast-forward")
        self.playback.playingChanged.connect(
            lambda on: self.a_play.setIcon(theme.icon("fa5s.stop" if on else "fa5s.play")))

        g = mb.addMenu("&Generate")
        self._act(g, "Generate &Segment", self.generator.generate_segment, "G", "fa5s.magic")
        self._act(g, "Generate Whole S&hot", self.generator.generate_shot, "Shift+G", "fa5s.film")
        self._act(g, "&Cancel", self.generator.cancel, "Esc", "fa5s.stop")
        self._act(g, "&Accept Generated Frames", self.generator.accept_selection, "Ctrl+Return", "fa5s.check",
                  "Accept the selected frames, or with one frame selected the whole segment under review")
        self._act(g, "Accept C&urrent Frame Only", lambda: self.generator.accept([self.cursor.current]))
        g.addSeparator()
        self._act(g, "&Reconnect to Engine", lambda: self.link.start(), icon="fa5s.plug")
        self.a_retry = self._act(g, "Restart Engine and Re&try", self.generator.restart_and_retry,
                                 icon="fa5s.redo", tip="Restart the engine and resubmit the job it lost")

        v = mb.addMenu("&View")
        self._act(v, "Zoom &In", lambda: self.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn, "fa5s.search-plus")
        self._act(v, "Zoom &Out", lambda: self.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut,
                  "fa5s.search-minus")
        self._act(v, "&Fit to Window", self.canvas.fit, "Ctrl+0", "fa5s.expand")
        self._act(v, "Rotate &Left", lambda: self.canvas.rotate_by(-15), "4", "fa5s.undo-alt",
                  "Turn the canvas 15° (view only, like turning the paper)")
        self._act(v, "Rotate &Right", lambda: self.canvas.rotate_by(15), "6", "fa5s.redo-alt")
        self._act(v, "Reset &Rotation", self.canvas.reset_rotation, "5")
        self.a_flip = self._act(v, "&Flip Horizontally", self.canvas.flip, "M", "fa5s.arrows-alt-h",
                                "Mirror the canvas (view only) to check the drawing")
        self.a_onion = self._act(v, "&Onion Skin", self._toggle_onion, "O", "fa5s.layer-group", checkable=True)
        self.a_onion.setChecked(self.canvas.onion.enabled)

        t = mb.addMenu("&Tools")
        tools = QActionGroup(self)
        self.a_pen = self._act(t, "&Pen", lambda on: on and self._tool(PEN), "P", "fa5s.pen", checkable=True)
        self.a_eraser = self._act(t, "&Eraser", lambda on: on and self._tool(ERASER), "E", "fa5s.eraser",
                                  checkable=True)
        tools.addAction(self.a_pen)
        tools.addAction(self.a_eraser)
        self.a_pen.setChecked(True)
        self.a_sketch = self._act(t, "Draw on &Sketch Layer", self._sketch_mode, "S", "fa5s.pencil-alt",
                                  checkable=True)
        self._act(t, "&Colour…", self._pick_color, "C", "fa5s.palette")
        self._act(t, "Smaller Brush", lambda: self.size_box.setValue(self.size_box.value() - 1), "[")
        self._act(t, "Bigger Brush", lambda: self.size_box.setValue(self.size_box.value() + 1), "]")

        h = mb.addMenu("&Help")
        self._act(h, f"&About {APP_NAME}…", lambda: show_about(self), icon="fa5s.info-circle")

        build_toolbar(self)

        self.timeline.strip.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        for a in fr.actions():
            self.timeline.strip.addAction(a)

    def _tool(self, tool: str) -> None:
        self.canvas.tool = tool

    def _sketch_mode(self, on: bool) -> None:
        kind = LayerKind.SKETCH if on else LayerKind.DRAWING
        self.canvas.active_layer = kind
        self.layers_panel.set_active(kind)

    def _sync_sketch_action(self) -> None:
        self.a_sketch.blockSignals(True)
        self.a_sketch.setChecked(self.canvas.active_layer is LayerKind.SKETCH)
        self.a_sketch.blockSignals(False)

    def dragEnterEvent(self, e) -> None:  # noqa: N802 - Qt API
        if e.mimeData().hasUrls():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:  # noqa: N802 - Qt API
        """Drop a project to open it, or PNGs to open them as keys."""
        paths = [Path(u.toLocalFile()) for u in e.mimeData().urls() if u.isLocalFile()]
        if not paths or not self.maybe_save():
            return
        projects = [p for p in paths if project.is_project_path(p)]
        if projects:
            self.open_path(projects[0])
        else:
            self.open_images(paths, 7 if len(paths) <= 3 else 0)
        e.acceptProposedAction()

    def _toggle_onion(self, on: bool) -> None:
        self.layers_panel.onion_box.setChecked(on)

    def _pick_color(self) -> None:
        c = QColorDialog.getColor(self.canvas.color, self, "Pen colour")
        if c.isValid():
            self.set_pen_color(c)

    def set_pen_color(self, c: QColor) -> None:
        self.canvas.color = QColor(c)
        self._update_color_icon()

    def _picked(self, c: QColor) -> None:
        self.set_pen_color(c)
        self.palette.add_picked(c)

    def _update_color_icon(self) -> None:
        from PySide6.QtGui import QIcon, QPixmap

        pm = QPixmap(20, 20)
        pm.fill(self.canvas.color)
        self.color_button.setIcon(QIcon(pm))

    def clear_layer(self) -> None:
        i = self.cursor.current
        if self.doc.frames[i].layer(self.canvas.active_layer) is not None:
            edits.set_layer_image(self.doc, i, self.canvas.active_layer, None, "Clear layer")

    def remove_selected(self) -> None:
        if len(self.cursor.selected) >= len(self.doc):
            self.statusBar().showMessage("A shot keeps at least one frame.", 5000)
            return
        edits.remove_frames(self.doc, self.cursor.selected)
        self.cursor.set_current(min(self.cursor.selection[0], len(self.doc) - 1))

    # ================================================================== document wiring

    def _wire_document(self) -> None:
        self._wired = [(self.doc.framesChanged, self._update_frame_label),
                       (self.doc.settingsChanged, self._update_settings),
                       (self.cursor.currentChanged, self._update_frame_label),
                       (self.doc.undo_stack.cleanChanged, self._update_title),
                       (self.doc.undo_stack.indexChanged, self._update_title)]
        for signal, slot in self._wired:
            signal.connect(slot)
        self._update_settings()
        self._update_frame_label()
        self._update_title()

    def set_document(self, doc: ShotDocument, path: Path | None, recovered: bool = False,
                     recovered_from: Path | None = None) -> None:
        """Show a new document: every view, the undo group, autosave and playback follow it.

        `recovered_from`: the autosave the document came from, which must stay on disk until
        this session's autosave has replaced it (it may be the current side file)."""
        self.playback.stop()
        old = self.doc
        for signal, slot in self._wired:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        if recovered_from is None or self.autosaver.path != recovered_from:
            self.autosaver.discard()
        self.doc = doc
        old_cursor, self.cursor = self.cursor, Cursor(doc, self)
        old_cursor.deleteLater()  # its connections to views go with it
        self.project_path = path
        self._recovered = recovered
        self.undo_group.addStack(doc.undo_stack)
        self.undo_group.setActiveStack(doc.undo_stack)
        self.undo_group.removeStack(old.undo_stack)
        self.autosaver.attach(doc, path)
        self.canvas.set_document(doc, self.cursor)
        self.timeline.set_document(doc, self.cursor)
        self.generator.set_document(doc, self.cursor)
        self.playback.set_cursor(self.cursor)
        self.palette.set_document(doc)
        self.poses.set_document()
        self._wire_document()
        self.cursor.set_current(0)
        self.editing.check_canvas()

    @property
    def modified(self) -> bool:
        return self._recovered or not self.doc.undo_stack.isClean()

    def _update_title(self, *_: object) -> None:
        try:
            self.modified
        except RuntimeError:  # the document is being destroyed with the window
            return
        name = self.project_path.name if self.project_path else "Untitled"
        self.setWindowTitle(f"{name}{' *' if self.modified else ''} — {APP_NAME}")

    def _update_settings(self) -> None:
        self.fps_box.setValue(self.doc.fps)

    def _update_frame_label(self, *_: object) -> None:
        if not len(self.doc):
            self.frame_label.setText("")
            return
        i = self.cursor.current
        f = self.doc.frames[i]
        extra = (" · generated (not accepted)" if f.has_generated else "") + (" · posed" if f.pose else "")
        self.frame_label.setText(f"Frame {i + 1}/{len(self.doc)} · {f.role.value}{extra} · "
                                 f"{self.doc.width}×{self.doc.height} · on {self.doc.exposure}s")

    # ================================================================== files

    def maybe_save(self) -> bool:
        """Before dropping the document: True if it is saved, discarded or unchanged."""
        if not self.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_shot(self, spec: NewShotSpec | None = None) -> None:
        spec = spec or NewShotSpec(self.doc.width, self.doc.height, self.doc.fps)
        doc = ShotDocument(spec.width, spec.height, spec.fps, edits.new_shot_frames(spec.frames))
        self.set_document(doc, None)

    def new_shot_dialog(self) -> None:
        if not self.maybe_save():
            return
        dlg = NewShotDialog(NewShotSpec(self.doc.width, self.doc.height, self.doc.fps), self)
        if dlg.exec():
            self.new_shot(dlg.spec())

    def open_path(self, path: str | Path, check_recovery: bool = True) -> bool:
        """Open a project (folder, project.json or .ibproj) or one image as a key."""
        path = Path(path)
        try:
            if project.is_project_path(path):
                doc = project.load(path)
                target = path.parent if path.name == project.MANIFEST else path
            else:
                doc, target = project.import_images([path]), None
        except project.ProjectError as exc:
            self.error("Cannot open", str(exc))
            return False
        self.set_document(doc, target)
        if target is not None:
            recent.add(target)
            if check_recovery:
                self.offer_recovery(target)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def open_images(self, paths: list[str | Path], gap: int = 0) -> bool:
        try:
            doc = project.import_images(list(paths), self.doc.fps, gap)
        except project.ProjectError as exc:
            self.error("Cannot import images", str(exc))
            return False
        self.set_document(doc, None)
        self.statusBar().showMessage(f"Opened {len(paths)} image{'s' if len(paths) != 1 else ''} as keys", 5000)
        return True

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "",
                                              "Projects (project.json *.ibproj *.zip);;All files (*)")
        if path:
            self.open_path(path)

    def import_dialog(self) -> None:
        """Ctrl+I adds images to this shot as keys (File ▸ Open makes a new shot)."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Import images as keys", "", "Images (*.png);;All files (*)")
        if not paths:
            return
        gap, ok = QInputDialog.getInt(self, "Import images as keys", "Empty in-betweens before each imported "
                                      "key (0: the images are a sequence):", 0 if len(paths) > 3 else 7, 0, 200)
        if ok:
            self.editing.add_images_as_keys(paths, gap)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in recent.load():
            self.recent_menu.addAction(p, lambda p=p: self.maybe_save() and self.open_path(p))
        if not self.recent_menu.actions():
            self.recent_menu.addAction("(none)").setEnabled(False)

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as_dialog()
        return self.save_to(self.project_path)

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            written = project.save(self.doc, path)
        except project.ProjectError as exc:
            self.error("Cannot save", str(exc))
            return False
        if self.project_path != written:
            self.autosaver.discard()
            self.project_path = written
            self.autosaver.attach(self.doc, written)
        self.autosaver.discard()
        self._recovered = False
        self.doc.undo_stack.setClean()
        recent.add(written)
        self._update_title()
        self.statusBar().showMessage(f"Saved {written}", 5000)
        return True

    def save_as_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", "shot.ibproj",
                                              "Single-file project (*.ibproj);;Project folder (*)")
        return bool(path) and self.save_to(path)

    def export_dialog(self) -> None:
        base = self.project_path.parent if self.project_path else Path.home()
        name = self.project_path.stem if self.project_path else "shot"
        dlg = ExportDialog(base / f"{name}_export", name, len(self.cursor.selected) > 1, self)
        if dlg.exec():
            self.export(dlg.options(self.cursor.selected), dlg.preview_path())

    def export(self, opts: export.ExportOptions, preview: Path | None = None) -> list[Path]:
        """Export; unaccepted generated frames or empty frames among them are said first."""
        check = export.review(self.doc, opts.frames, opts.layers)
        if not check.ok and not self.ask_export(check.text()):
            self.statusBar().showMessage(f"Export cancelled. {check.text()}", 8000)
            return []
        try:
            paths = export.export_png_sequence(self.doc, opts)
            if preview is not None:
                export.export_animation(self.doc, preview, opts.frames, opts.layers)
        except export.ExportError as exc:
            self.error("Export failed", str(exc))
            return []
        note = "" if check.ok else f" {check.text()}"
        self.statusBar().showMessage(f"Exported {len(paths)} frames to {opts.folder}.{note}", 12000)
        return paths

    def _ask_export(self, text: str) -> bool:
        if not self.isVisible() or getattr(self, "quiet", False):
            return True  # scripts and tests: export, the status bar says it
        r = QMessageBox.question(self, "Export frames that are not final?",
                                 f"{text}\n\nAccept generated frames (Ctrl+Enter) or draw the empty ones first, "
                                 "or export anyway?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return r == QMessageBox.StandardButton.Yes

    # ================================================================== recovery

    def offer_recovery(self, project_path: Path | None = None) -> bool:
        """If a crashed session left an autosave, offer to restore it."""
        found = autosave.find_recoverable(project_path)
        if not found:
            return False
        choice = self.ask_recover(found)
        if choice is None:
            return False
        try:
            doc = autosave.recover(choice)
        except project.ProjectError as exc:
            self.error("Cannot recover", str(exc))
            return False
        self.set_document(doc, choice.original, recovered=True, recovered_from=choice.path)
        # this session's side file takes over at once; the old one goes only once the new one
        # is written (for a project it is the same file, replaced atomically): a crash here
        # must not lose the recovered work (tests/reliability/test_kill_app.py)
        self.autosaver.mark_dirty()
        written = self.autosaver.tick()
        if written is not None and Path(written) != choice.path:
            choice.path.unlink(missing_ok=True)
        self._update_title()
        self.statusBar().showMessage(f"Recovered {choice.describe()}. Save to keep it.", 10000)
        return True

    def _ask_recover(self, found: list[autosave.Recovery]) -> autosave.Recovery | None:
        rec = max(found, key=lambda r: r.saved_at)
        box = QMessageBox(QMessageBox.Icon.Question, "Recover work?",
                          f"{APP_NAME} did not close cleanly. An autosave of {rec.describe()} exists.\n\n"
                          "Restore it?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        return rec if box.exec() == QMessageBox.StandardButton.Yes else None

    def _ask_unsaved(self) -> str:
        r = QMessageBox.question(self, "Unsaved changes", "Save the changes to this shot?",
                                 QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                                 | QMessageBox.StandardButton.Cancel)
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(r, "cancel")

    def error(self, title: str, text: str) -> None:
        """Errors go to the status bar and, in an interactive session, a message box."""
        self.statusBar().showMessage(f"{title}: {text}", 15000)
        if self.isVisible() and not getattr(self, "quiet", False):
            QMessageBox.warning(self, title, text)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.maybe_save():
            event.ignore()
            return
        self.playback.stop()
        self.autosaver.timer.stop()
        self.autosaver.discard()
        self.link.close(stop_engine=self.link.owns_idle_engine())
        event.accept()
