"""What happens to a finished result: Apply (into its own, the active or a new document),
Discard, Remove layer, and showing a written result alone for review.

A mixin of the Controller (the one piece of state), kept apart so each module has one job.
A result waiting for Apply is also on disk (pending_store): Apply and Discard remove it there.
After a restart a result finds its document again by file name (`own_document`).
"""

from __future__ import annotations

from typing import Any

from . import krita_io, krita_writer
from .results import Result, Target
from .shot_plan import frames_text


class ResultActions:
    """Apply, Discard, Remove layer and review; mixed into controller.Controller."""

    # ------------------------------------------------------------ results

    def own_document(self, target: Target) -> Any | None:
        """The result's own document if it is open: by identity, or (a result kept from an
        earlier session, whose document was opened again) by file name; the target is then
        bound to it, and to its keys layer (by id, else by name)."""
        doc = krita_io.find_document(target.doc_key)
        if doc is not None or not target.doc_file:
            return doc
        doc = next((d for d in krita_io.open_documents() if (d.fileName() or "") == target.doc_file), None)
        if doc is None:
            return None
        target.doc_key = krita_io.doc_key(doc)
        if krita_io.node_by_id(doc, target.keys_uid) is None:
            keys = next((n for n in krita_io.paint_layers(doc) if n.name() == target.keys_name), None)
            target.keys_uid = str(keys.uniqueId()) if keys is not None else ""
        return doc

    def result_document_open(self, result: Result) -> bool:
        return self.own_document(result.target) is not None

    def latest(self) -> Result | None:
        return self.history.items[0] if self.history.items else None

    def apply(self, result: Result | None = None, into: str = "own") -> bool:
        """Write a result: into its own document ("own"), the active one, or a new one."""
        result = result or next(iter(self.history.waiting), None)
        if result is None:
            self._set(message="There is no result to write.")
            return False
        if self.busy:
            self._set(message="Wait for the running job to finish first.")
            return False
        t = result.target
        doc = self.own_document(t) if into == "own" else None
        keys_uid = t.keys_uid
        if into == "own" and doc is None:
            self._set("failed", f"The document '{t.doc_title}' of {result.title} was closed. The result is "
                                "kept: write it into the active document or a new one.")
            return False
        if into == "active":
            doc = krita_io.active_document()
            if doc is None or (int(doc.width()), int(doc.height())) != (t.width, t.height):
                self._set("failed", f"{result.title} is {t.width}x{t.height}: open a document of that "
                                    "size, or write it into a new document.")
                return False
            keys_uid = t.keys_uid if krita_io.node_by_id(doc, t.keys_uid) is not None else ""
        elif into == "new":
            doc = krita_writer.new_document_for(t.width, t.height, f"{t.keys_name} in-betweens",
                                                t.fps, max(result.frames))
            keys_uid = ""
        assert doc is not None
        key = krita_io.doc_key(doc)
        ch = self.choices.for_doc(doc)
        previous = ch.last_result.get(t.slot)
        if previous is not None and krita_io.node_by_id(doc, previous) is None:
            previous = None
        old_uid = None if self.settings.keep_previous else previous
        name = krita_writer.result_layer_name(t.keys_name, t.backend)
        job = krita_writer.WriteJob(key, keys_uid, name, result.frames, t.width, t.height, old_uid,
                                    above_uid=previous if self.settings.keep_previous else None)
        if self.settings.review_alone:
            job.hide_uids = self._review_hides(result, doc)
        self.last_write = job
        self.review.stop()
        result.state = "writing"
        title = krita_io.doc_title(doc)
        self.progress = 0.0
        self._set("writing", f"Writing {len(result.frames)} keyframes of '{name}' into '{title}' (a scratch "
                             "document opens for a moment)...")

        def done(node: Any) -> None:
            self._activity = "written"
            result.state = "written"
            result.layer_uid, result.layer_name = job.written_uid, node.name()
            result.written_doc_key = key
            self.pending.remove(result)  # written: no longer waiting on disk
            self.choices.written.add(str(job.written_uid))
            ch.last_result[t.slot] = str(job.written_uid)
            self.progress = 1.0
            replaced = " It replaced the previous result (Ctrl+Z twice brings that back)." if job.replaced else ""
            self._set("done", f"Wrote '{node.name()}' into '{title}': keyframes at "
                              f"{frames_text(sorted(result.frames))}. One Ctrl+Z takes it back.{replaced}")
            if self.settings.review_alone:  # the writer hid them while showing the result
                self.review.adopt(key, job.hidden)
                self._activity = "reviewing"

        def failed(exc: BaseException) -> None:
            result.state = "ready"
            self.progress = 0.0
            if isinstance(exc, krita_writer.DocumentClosed):
                msg = (f"The document '{title}' was closed before {result.title} was written. The result is "
                       "kept: write it into the active document or a new one.")
            else:
                msg = (f"Could not write {result.title}: {type(exc).__name__}: {exc}. Nothing was changed in "
                       f"'{title}'; the result is kept.")
            self._set("failed", msg)

        self._run_steps(krita_writer.write_stepwise(job), done, failed)
        return True

    def discard(self, result: Result | None = None) -> None:
        result = result or self.latest()
        if result is None:
            return
        if self.review.active:
            self.review.stop()
        self.history.remove(result)
        self.pending.remove(result)
        result.state = "discarded"
        result.frames, result.thumbs = {}, {}
        self.progress = 0.0
        self._set("idle", f"Discarded {result.title}.")

    def take_back(self, result: Result | None = None) -> bool:
        """Remove a written result's layer from its document (one undo step); it stays in the list."""
        result = result or next((r for r in self.history.items if r.state == "written"), None)
        if result is None or result.layer_uid is None or result.written_doc_key is None:
            self._set(message="No written result to take back.")
            return False
        self.review.stop()
        name = krita_writer.remove_layer(result.written_doc_key, result.layer_uid)
        result.state, result.layer_uid = "ready", None
        self._set("idle", f"Removed '{name}'; the result is still here to write again." if name else
                  f"The layer of {result.title} was already gone; the result is still here.")
        return name is not None

    # ------------------------------------------------------------ review

    def start_review(self, result: Result) -> str:
        """Show a written result alone: the keys and sketch layers are hidden until stop_review."""
        doc = krita_io.find_document(result.written_doc_key or "")
        if doc is None or result.layer_uid is None:
            return ""
        names = self.review.start(doc, result.layer_uid, self._review_hides(result, doc))
        self._notify()
        return ", ".join(f"'{n}'" for n in names)

    def _review_hides(self, result: Result, doc: Any) -> list[str]:
        """The keys, the sketches and other results of the same keys in `doc` (also those written in
        an earlier session, known by name). Pose layers are left as they are: a skeleton over the
        result is how a pose-guided result is checked."""
        t = result.target
        hide = [t.keys_uid] + ([t.sketch_uid] if t.sketch_uid else [])
        hide += [r.layer_uid for r in self.history.items
                 if r is not result and r.layer_uid and r.target.keys_uid == t.keys_uid
                 and r.written_doc_key == krita_io.doc_key(doc)]
        base = f"{t.keys_name} in-betweens ("
        hide += [str(n.uniqueId()) for n in krita_io.iter_nodes(doc.rootNode())
                 if n.name().startswith(base) and krita_io.looks_like_result(n) and str(n.uniqueId()) != result.layer_uid]
        return list(dict.fromkeys(u for u in hide if u))

    def stop_review(self) -> None:
        self.review.stop()
        self._notify()
