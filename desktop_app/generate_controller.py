"""Runs generation for the main window: plan a request, submit through the engine link,
show previews while frames arrive, and apply the result as one undoable edit at the end.

A failed, cancelled or lost job changes nothing in the shot: previews are dropped and the
message says what happened, so the animator never loses keys, sketches or earlier results.

If the engine dies under a job, the controller remembers the range and offers "Restart
engine and retry": `restart_and_retry()` restarts the engine the link uses and resubmits the
same range once it is connected again. The engine's refusals (`bad_shot`: images over the
size limit, too many frames; `queue_full`) are shown with the engine's own message and a
hint of what to do.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from inbetween_client.errors import ClientError, ErrorCode, RemoteError

from . import generation
from .engine_link import CONNECTION_LOST, EngineLink, JobOutcome
from .model import edits
from .model.cursor import Cursor
from .model.shot import ShotDocument
from .widgets.generate_panel import GeneratePanel


def refusal_text(code: str, message: str) -> str:
    """The engine's own words for a refused job, plus what the animator can do about it."""
    hint = {
        ErrorCode.BAD_SHOT: " Make the shot smaller (a smaller canvas or fewer frames between keys)"
                            " and generate again.",
        ErrorCode.QUEUE_FULL: " The engine is busy with other jobs: wait for one to finish, then"
                              " generate again.",
    }.get(code, "")
    return f"The engine refused the shot: {message.rstrip('.')}.{hint} The shot is unchanged. [{code}]"


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
        cursor.currentChanged.connect(self._sync_panel)
        doc.framesChanged.connect(self._sync_panel)
        doc.settingsChanged.connect(self._sync_panel)
        self._sync_panel()

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
            plan = generation.plan(self.doc, first, last, backend, self.panel.seed.value())
        except generation.GenerateError as exc:
            self._say(str(exc))
            return False
        try:
            self.link.submit(plan.request)
        except RemoteError as exc:
            self.last_error = (exc.code, exc.message)
            self._say(refusal_text(exc.code, exc.message))
            return False
        except (ClientError, TimeoutError) as exc:
            self._say(f"The engine refused the shot: {exc}")
            return False
        self._forget_retry()
        self.plan, self.job_doc, self.last_error = plan, self.doc, None
        self._layout = self._timeline_layout()
        self.panel.set_running(True)
        note = f" (sketches on holds ignored: frames {', '.join(str(i + 1) for i in plan.skipped_sketches)})" \
            if plan.skipped_sketches else ""
        self._say(f"Generating frames {plan.first + 1}–{plan.last + 1} with {backend}…{note}")
        return True

    def _timeline_layout(self) -> tuple:
        """What must not change under a running job: frame count, anchors and exposure."""
        return len(self.doc), tuple(self.doc.anchors()), self.doc.exposure

    def cancel(self) -> None:
        if self.running:
            self.link.cancel()
            self._say("Cancelling…")

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
        edits.apply_generated(self.doc, plan.first, plan.last, outcome.frames, outcome.holds)
        secs = outcome.stats.get("seconds") or outcome.stats.get("elapsed_s")
        took = f" in {secs:.1f} s" if isinstance(secs, (int, float)) else ""
        self._say(f"Generated {len(outcome.frames)} frames{took}. Review, fix, then Accept.")
        self.panel.set_progress(0.0, "Done")
        self.finished.emit(True)

    def _failed(self, code: str, message: str) -> None:
        plan, self.plan = self.plan, None
        self.plan_range = (plan.first, plan.last) if plan is not None and self.job_doc is self.doc else None
        self.last_error = (code, message)
        self.panel.set_running(False)
        self.doc.clear_previews()
        if code == "cancelled":
            text = "Generation cancelled; the shot is unchanged."
        elif code == CONNECTION_LOST:
            text = (f"{message} Your shot is intact; nothing was changed. "
                    "Click “Restart engine and retry” to generate these frames again.")
            if self.plan_range is not None:
                self.retry_range, self._retry_doc = self.plan_range, self.doc
                self.panel.offer_retry(True)
        elif code in (ErrorCode.BAD_SHOT, ErrorCode.QUEUE_FULL):
            text = refusal_text(code, message)
        else:
            text = f"Generation failed: {message} [{code}]. The shot is unchanged."
        self.panel.set_progress(0.0, text)
        self._say(text)
        self.finished.emit(False)

    # ------------------------------------------------------------------ restart and retry

    def restart_and_retry(self) -> bool:
        """Restart the engine (if it is not connected) and resubmit the range the lost job had.

        Returns True if the job was submitted now or will be once the engine is back.
        """
        if self.retry_range is None or self._retry_doc is not self.doc:
            self._forget_retry()
            self._say("There is no lost job to retry.")
            return False
        if self.running:
            self._say("A generate job is already running.")
            return False
        if self.link.connected:
            return self._resubmit()
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

    def accept_selection(self) -> int:
        n = edits.accept(self.doc, self.cursor.selected)
        if n == 0:
            seg = self.doc.segment_of(self.cursor.current)
            if seg:  # nothing generated in the selection: accept the whole segment
                n = edits.accept(self.doc, range(seg[0], seg[1] + 1))
        self._say(f"Accepted {n} generated frame{'s' if n != 1 else ''}." if n else "Nothing to accept.")
        return n

    def _say(self, text: str) -> None:
        self.panel.status.setText(text)
        self.message.emit(text)
