"""Runs generation for the main window: plan a request, submit through the engine link,
show previews while frames arrive, and apply the result as one undoable edit at the end.

A failed, cancelled or lost job changes nothing in the shot and the message says what
happened, so the animator never loses keys, sketches or earlier results.

Engine loss (the engine was stopped: `shutting_down`; killed or crashed: the connection
dropped) is reported as such, never as a cancel: the frames received so far stay on screen
as previews (not part of the shot), and "Restart engine and retry" restarts the engine the
link uses and resubmits the same range once it is back. The engine's refusals (`bad_shot`,
`too_large`, `queue_full`) are shown with the engine's own message and what to do; a shot
over the engine's limits is refused here before anything is sent.

Regenerating over accepted frames asks first (replace them, or keep them as drawings), so
a new result never stacks on an accepted one.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from inbetween_client.done_notes import done_notes
from inbetween_client.errors import ClientError, ErrorCode, RemoteError

from . import generation
from .engine_link import CONNECTION_LOST, EngineLink, JobOutcome
from .model import edits
from .model.cursor import Cursor
from .model.shot import ShotDocument
from .widgets.generate_panel import GeneratePanel


ENGINE_LOSS = (CONNECTION_LOST, ErrorCode.SHUTTING_DOWN)


def refusal_text(code: str, message: str) -> str:
    """The engine's own words for a refused job, plus what the animator can do about it."""
    hint = {
        ErrorCode.BAD_SHOT: " Make the shot smaller (a smaller canvas or fewer frames between keys)"
                            " and generate again.",
        ErrorCode.TOO_LARGE: " Scale the images down (File ▸ New Shot with a smaller canvas, or smaller"
                             " PNGs) and generate again.",
        ErrorCode.QUEUE_FULL: " The engine is busy with other jobs: wait for one to finish, then"
                              " generate again.",
    }.get(code, "")
    return f"The engine refused the shot: {message.rstrip('.')}.{hint} The shot is unchanged. [{code}]"


def frames_text(indices: list[int]) -> str:
    """'frame 4' / 'frames 2–8' / 'frames 2, 5, 7' (1-based, as on the timeline)."""
    if not indices:
        return "no frames"
    if len(indices) == 1:
        return f"frame {indices[0] + 1}"
    if indices == list(range(indices[0], indices[-1] + 1)):
        return f"frames {indices[0] + 1}–{indices[-1] + 1}"
    return "frames " + ", ".join(str(i + 1) for i in indices)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class GenerateController(QObject):
    message = Signal(str)  # for the status bar
    finished = Signal(bool)  # True if frames were applied

    def __init__(self, link: EngineLink, panel: GeneratePanel, doc: ShotDocument, cursor: Cursor,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.link, self.panel = link, panel
        self.doc, self.cursor = doc, cursor
        self.plan: generation.Plan | None = None
        self.job_doc: ShotDocument | None = None
        self.last_error: tuple[str, str] | None = None
        self.plan_range: tuple[int, int] | None = None
        self._layout: tuple = ()
        self.retry_range: tuple[int, int] | None = None  # the range a lost job covered
        self._retry_doc: ShotDocument | None = None
        self.retry_pending = False  # waiting for the restarted engine
        self._accepted_choice = edits.REPLACE  # for the running job's accepted frames
        self._result_index: int | None = None  # undo index right after the last applied result
        # "replace" | "keep" | "cancel" for accepted frames a generate would cover (tests replace it)
        self.ask_accepted: Callable[[list[int]], str] = self._ask_accepted
        link.connectedChanged.connect(self._connected_changed)
        panel.retryRequested.connect(self.restart_and_retry)
        link.capabilitiesChanged.connect(lambda caps: panel.set_backends(caps.get("backends", [])))
        link.progress.connect(self._progress)
        link.frameArrived.connect(self._frame)
        link.jobFinished.connect(self._done)
        link.jobFailed.connect(self._failed)
        panel.generateSegment.connect(self.generate_segment)
        panel.generateShot.connect(self.generate_shot)
        panel.cancelRequested.connect(self.cancel)
        panel.acceptRequested.connect(self.accept_selection)
        panel.timingChosen.connect(self._timing)
        panel.exposureChosen.connect(lambda n: edits.set_exposure(self.doc, n))
        self.set_document(doc, cursor)

    def set_document(self, doc: ShotDocument, cursor: Cursor) -> None:
        if self.link.busy:
            self.cancel()
        self._forget_retry()
        self.doc, self.cursor = doc, cursor
        self._result_index = None
        cursor.currentChanged.connect(self._sync_panel)
        doc.framesChanged.connect(self._sync_panel)
        doc.framesChanged.connect(self._drop_stale_previews)
        doc.settingsChanged.connect(self._sync_panel)
        doc.undo_stack.indexChanged.connect(self._undo_moved)
        self._sync_panel()
        self.panel.set_progress(0.0, "Ready")

    def _drop_stale_previews(self) -> None:
        """Previews kept from a lost job are by frame number: drop them once the timeline's
        layout changes (they would show on the wrong frames)."""
        if not self.running and self.doc.previews and self._timeline_layout() != self._layout:
            self.doc.clear_previews()

    def _undo_moved(self, index: int) -> None:
        """A result undone: the panel must not keep saying "Done"."""
        if self._result_index is not None and index < self._result_index and not self.running:
            self._result_index = None
            self.panel.set_progress(0.0, "Generate undone: the shot is as it was before.")

    def _sync_panel(self, *_: object) -> None:
        seg = self.doc.segment_of(self.cursor.current)
        self.panel.show_segment(self.doc.frames[seg[0]].timing if seg else None, self.doc.exposure)

    def _timing(self, timing: str) -> None:
        seg = self.doc.segment_of(self.cursor.current)
        if seg:
            edits.set_timing(self.doc, seg[0], timing)

    # ------------------------------------------------------------------ run

    @property
    def running(self) -> bool:
        return self.plan is not None

    def generate_segment(self) -> bool:
        """The segment under the playhead, or every segment the selection touches."""
        a, b = self.cursor.selection
        first, last = self.doc.segment_of(a), self.doc.segment_of(b)
        seg = self.doc.segment_of(self.cursor.current)
        if first is not None and last is not None and b > a:
            return self.generate(first[0], last[1])
        if seg is None:
            self._say("Put the playhead between two keys to generate that segment.")
            return False
        return self.generate(*seg)

    def generate_shot(self) -> bool:
        return self.generate(None, None)

    def generate(self, first: int | None, last: int | None) -> bool:
        if self.running:
            self._say("A generate job is already running.")
            return False
        if not self.link.connected:
            self._say("Cannot generate: the engine is not running"
                      + (f" ({self.link.error.splitlines()[0]})" if self.link.error else "") + ".")
            return False
        backend = self.panel.backend.currentText() or "flow"
        try:
            plan = generation.plan(self.doc, first, last, backend, self.panel.seed.value(),
                                   self.panel.options())
        except generation.GenerateError as exc:
            self._say(str(exc))
            return False
        limits = self.link.limits
        problem = limits.shot_problem(self.doc.width, self.doc.height, plan.first, plan.last) if limits else None
        if problem:  # known before sending: nothing is uploaded, the connection stays as it is
            self.last_error = (ErrorCode.TOO_LARGE, problem)
            self._say(f"Cannot generate: {problem} The shot is unchanged.")
            return False
        accepted = edits.accepted_in(self.doc, plan.first, plan.last)
        choice = edits.REPLACE
        if accepted:
            choice = self.ask_accepted(accepted)
            if choice not in (edits.REPLACE, edits.KEEP):
                self._say("Generate cancelled; the shot is unchanged.")
                return False
        self.doc.clear_previews()
        self.panel.set_busy(f"Sending frames {plan.first + 1}–{plan.last + 1} to the engine…")
        try:
            self.link.submit(plan.request)
        except RemoteError as exc:
            self.panel.set_running(False)
            self.last_error = (exc.code, exc.message)
            self._say(refusal_text(exc.code, exc.message))
            return False
        except (ClientError, TimeoutError) as exc:
            self.panel.set_running(False)
            self._say(f"The engine refused the shot: {exc}")
            return False
        self._forget_retry()
        self.plan, self.job_doc, self.last_error = plan, self.doc, None
        self._accepted_choice = choice
        self._layout = self._timeline_layout()
        self.panel.set_running(True)
        note = f" (sketches on holds ignored: frames {', '.join(str(i + 1) for i in plan.skipped_sketches)})" \
            if plan.skipped_sketches else ""
        self._say(f"Generating frames {plan.first + 1}–{plan.last + 1} with {backend}…{note}"
                  f"{self.pose_note(plan, backend)}")
        return True

    def pose_note(self, plan: generation.Plan, backend: str) -> str:
        """What happens to the shot's poses in this run: sent and used, sent but ignored by a
        backend without pose support (`supports_poses`), or not sendable (outside the keys)."""
        parts = []
        if plan.poses:
            info = next((b for b in self.link.backends() if b.get("name") == backend), {})
            if info.get("supports_poses"):
                parts.append(f"{backend} follows the poses on {frames_text(plan.poses)}.")
            else:
                parts.append(f"The poses on {frames_text(plan.poses)} are sent, but {backend} does not use "
                             "poses yet: the frames follow the keys and sketches only.")
        if plan.unplaced_poses:
            anchors = self.doc.anchors()
            parts.append(f"The pose on {frames_text(plan.unplaced_poses)} is outside the keys (frames "
                         f"{anchors[0] + 1}–{anchors[-1] + 1}), so it is not sent: mark a key after it or "
                         "move it between two keys.")
        return "".join(" " + p for p in parts)

    def _timeline_layout(self) -> tuple:
        """What must not change under a running job: frame count, anchors and exposure."""
        return len(self.doc), tuple(self.doc.anchors()), self.doc.exposure

    def cancel(self) -> None:
        if self.running:
            self.link.cancel()
            self._say("Cancelling…")

    def _ask_accepted(self, frames: list[int]) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Regenerate accepted frames?",
                          f"{plural(len(frames), 'frame').capitalize()} in this range "
                          f"({frames_text(frames)}) {'was' if len(frames) == 1 else 'were'} generated and "
                          "accepted. Replace them with the new result, or keep them as drawings "
                          "(the new result skips them)?", QMessageBox.StandardButton.Cancel, self.panel)
        replace_btn = box.addButton("Replace them", QMessageBox.ButtonRole.AcceptRole)
        keep_btn = box.addButton("Keep as drawings", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(replace_btn)
        box.exec()
        return {replace_btn: edits.REPLACE, keep_btn: edits.KEEP}.get(box.clickedButton(), "cancel")

    def _progress(self, fraction: float, stage: str) -> None:
        self.panel.set_progress(fraction, stage)

    def _frame(self, index: int, img: QImage, preview: bool) -> None:
        if self.plan is not None and self.job_doc is self.doc and index in self.plan.targets:
            self.doc.set_preview(index, img)

    def _done(self, outcome: JobOutcome) -> None:
        plan, self.plan = self.plan, None
        self.panel.set_running(False)
        if plan is None or self.job_doc is not self.doc:
            return
        self.doc.clear_previews()
        if self._timeline_layout() != self._layout:
            # frames were inserted, removed, moved or re-marked while the engine worked: the
            # result's frame numbers no longer match, so applying it would misplace drawings
            text = ("The timeline changed while generating, so the result was not applied. "
                    "Generate again.")
            self.panel.set_progress(0.0, text)
            self._say(text)
            self.finished.emit(False)
            return
        kept = edits.accepted_in(self.doc, plan.first, plan.last) if self._accepted_choice == edits.KEEP else []
        edits.apply_generated(self.doc, plan.first, plan.last, outcome.frames, outcome.holds,
                              self._accepted_choice)
        self._result_index = self.doc.undo_stack.index()
        secs = outcome.stats.get("seconds") or outcome.stats.get("elapsed_s")
        took = f" in {secs:.1f} s" if isinstance(secs, (int, float)) else ""
        note = f" Kept {plural(len(kept), 'accepted frame')} as drawn ({frames_text(kept)})." if kept else ""
        posed = outcome.stats.get("poses")
        if isinstance(posed, dict) and posed.get("inbetweens_posed") is not None:
            n = len(posed["inbetweens_posed"])
            note += (f" The engine gave {plural(n, 'in-between')} a pose"
                     + ("." if posed.get("used") else f" ({posed.get('backend', 'the backend')} ignores it"
                                                      + (f": {posed['why_not']}" if posed.get("why_not") else "")
                                                      + ")."))
        note += "".join(" " + n for n in done_notes(outcome.stats))
        text = f"Generated {plural(len(outcome.frames), 'frame')}{took}.{note} Review, fix, then Accept."
        self._say(text)
        self.panel.set_progress(0.0, f"Done: {text}")
        self.finished.emit(True)

    def _failed(self, code: str, message: str) -> None:
        plan, self.plan = self.plan, None
        self.plan_range = (plan.first, plan.last) if plan is not None and self.job_doc is self.doc else None
        self.last_error = (code, message)
        self.panel.set_running(False)
        if code in ENGINE_LOSS:
            # the frames that arrived stay on screen (previews, not in the shot) until the
            # next generate, or until the timeline changes under them
            shown = sorted(self.doc.previews) if self.job_doc is self.doc else []
            if not shown:
                self.doc.clear_previews()
            why = ("the engine was shut down" if code == ErrorCode.SHUTTING_DOWN
                   else "the connection to the engine was lost: it was killed or crashed")
            seen = (f" The {plural(len(shown), 'frame')} received before it stopped "
                    f"({frames_text(shown)}) {'is' if len(shown) == 1 else 'are'} shown as "
                    "previews, not part of the shot." if shown else "")
            detail = message if code == CONNECTION_LOST else f"The engine stopped while generating ({why})."
            text = (f"{detail} Your shot is intact; nothing was changed.{seen} "
                    "Click “Restart engine and retry” to generate these frames again.")
            if self.plan_range is not None:
                self.retry_range, self._retry_doc = self.plan_range, self.doc
                self.panel.offer_retry(True)
        else:
            self.doc.clear_previews()
            if code == ErrorCode.CANCELLED:
                text = "Generation cancelled; the shot is unchanged."
            elif code in (ErrorCode.BAD_SHOT, ErrorCode.QUEUE_FULL, ErrorCode.TOO_LARGE):
                text = refusal_text(code, message)
            else:
                text = f"Generation failed: {message} [{code}]. The shot is unchanged."
        self.panel.set_progress(0.0, text)
        self._say(text)
        self.finished.emit(False)

    # ------------------------------------------------------------------ restart and retry

    def restart_and_retry(self) -> bool:
        """Restart the engine and resubmit the range the lost job had.

        The engine is restarted even when a connection still looks open: after
        `shutting_down` the old engine is on its way out. Returns True if the job will be
        submitted once the engine is back.
        """
        if self.retry_range is None or self._retry_doc is not self.doc:
            self._forget_retry()
            self._say("There is no lost job to retry.")
            return False
        if self.running:
            self._say("A generate job is already running.")
            return False
        self.retry_pending = True
        self.panel.offer_retry(False)
        self._say("Restarting the engine… the lost job will be resubmitted when it is up.")
        self.link.restart()
        return True

    def _connected_changed(self, connected: bool) -> None:
        if not self.retry_pending:
            return
        self.retry_pending = False
        if connected:
            self._resubmit()
        else:
            self.panel.offer_retry(self.retry_range is not None)
            why = self.link.error.strip().splitlines()[0] if self.link.error.strip() else "unknown error"
            self._say(f"Could not restart the engine ({why}). Your shot is intact; try again later.")

    def _resubmit(self) -> bool:
        assert self.retry_range is not None
        first, last = self.retry_range
        if self.generate(first, last):
            return True
        self.panel.offer_retry(self.retry_range is not None)
        return False

    def _forget_retry(self) -> None:
        self.retry_range, self._retry_doc, self.retry_pending = None, None, False
        self.panel.offer_retry(False)

    def review_range(self) -> list[int]:
        """What Accept acts on: the selection when several frames are selected, else the whole
        segment under the playhead (the one just generated and reviewed)."""
        sel = self.cursor.selected
        if len(sel) > 1:
            return sel
        seg = self.doc.segment_of(self.cursor.current)
        return list(range(seg[0], seg[1] + 1)) if seg else sel

    def accept_selection(self) -> int:
        return self.accept(self.review_range())

    def accept(self, indices: list[int]) -> int:
        """Accept the generated frames among `indices`; says how many and which."""
        generated = [i for i in indices if 0 <= i < len(self.doc) and self.doc.frames[i].has_generated]
        n = edits.accept(self.doc, generated)
        self._say(f"Accepted {plural(n, 'generated frame')} ({frames_text(generated)})." if n
                  else f"Nothing to accept: no generated frames in {frames_text(indices)}.")
        return n

    def _say(self, text: str) -> None:
        self.panel.status.setText(text)
        self.message.emit(text)
