"""The keys and sketch layers of each document: chosen explicitly, defaulted once, remembered.

The keys layer is never "whatever is active when Generate is pressed" (that made a second
Generate in-between the result of the first). It is chosen in the docker and remembered per
document; the default is taken once, when the docker first sees the document: the active
layer if it is a paint layer that is not a result. Until the user chooses, a default that
cannot work (a layer with no keyframes, like the Background of a new document) gives way to
the active layer once that is an animated paint layer that is not a result. Anything else is
refused with a message naming the layer and what it is. Saved documents keep their choice by
file name.
"""

from __future__ import annotations

from typing import Any

from . import krita_io
from .krita_io import KritaIOError
from .results import AUTO, NONE, DocChoices


class DocumentChoices:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.docs: dict[str, DocChoices] = {}
        self.written: set[str] = set()  # uids of result layers this plugin wrote

    def is_result(self, node: Any) -> bool:
        return str(node.uniqueId()) in self.written or krita_io.looks_like_result(node)

    def for_doc(self, doc: Any) -> DocChoices:
        """The document's choices; the first call takes the defaults (see the module docstring)."""
        key = krita_io.doc_key(doc)
        ch = self.docs.get(key)
        if ch is None:
            ch = self.docs[key] = DocChoices()
        if not ch.initialised:
            ch.initialised = True
            self._restore(doc, ch)
            if ch.keys_uid is None and self._usable_default(doc.activeNode()):
                active = doc.activeNode()
                ch.keys_uid, ch.keys_name = str(active.uniqueId()), active.name()
        elif not ch.explicit:
            self._refine_default(doc, ch)
        return ch

    def _usable_default(self, node: Any) -> bool:
        return (node is not None and node.type() == krita_io.PAINT_LAYER and not self.is_result(node)
                and krita_io.pose_layer_frame(node) is None)

    def _refine_default(self, doc: Any, ch: DocChoices) -> None:
        """A default that cannot work (a layer without keyframes, e.g. the Background active in a
        new document) gives way to the active layer once that is an animated paint layer that is
        not a result. A layer the user chose is never replaced."""
        current = krita_io.node_by_id(doc, ch.keys_uid) if ch.keys_uid else None
        if current is not None and current.animated():
            return
        active = doc.activeNode()
        if self._usable_default(active) and active.animated():
            ch.keys_uid, ch.keys_name = str(active.uniqueId()), active.name()

    def _restore(self, doc: Any, ch: DocChoices) -> None:
        saved = self.settings.documents.get(doc.fileName() or "")
        if not isinstance(saved, dict):
            return
        node = None
        if isinstance(saved.get("keys_uid"), str):
            node = krita_io.node_by_id(doc, saved["keys_uid"])
        if node is None and isinstance(saved.get("keys_name"), str):
            node = next((n for n in krita_io.paint_layers(doc) if n.name() == saved["keys_name"]), None)
        if node is not None and node.type() == krita_io.PAINT_LAYER:
            ch.keys_uid, ch.keys_name = str(node.uniqueId()), node.name()
            ch.explicit = bool(saved.get("explicit", True))
        timing = saved.get("segment_timing")
        if isinstance(timing, dict):
            ch.segment_timing = {int(k): str(v) for k, v in timing.items() if str(k).lstrip("-").isdigit()}

    def remember(self, doc: Any) -> None:
        """Keep a saved document's choices in the settings (by its file name)."""
        ch = self.for_doc(doc)
        self.settings.remember_document(doc.fileName() or "", {
            "keys_uid": ch.keys_uid, "keys_name": ch.keys_name, "explicit": ch.explicit,
            "segment_timing": {str(k): v for k, v in ch.segment_timing.items()}})

    # ------------------------------------------------------------ choosing

    def set_keys(self, doc: Any, node: Any) -> str:
        """Make `node` the keys layer; the confirmation, or KritaIOError naming what it is."""
        krita_io.check_paint_layer(node, "keys")
        ch = self.for_doc(doc)
        ch.keys_uid, ch.keys_name = str(node.uniqueId()), node.name()
        ch.explicit = True
        self.remember(doc)
        note = " (it is an earlier result: its frames become the keys)" if self.is_result(node) else ""
        return f"Keys layer: '{node.name()}'{note}."

    def use_active(self, doc: Any) -> str:
        node = doc.activeNode()
        if node is None:
            raise KritaIOError("There is no active layer: select the layer that holds the keys.")
        return self.set_keys(doc, node)

    def set_sketch(self, doc: Any, choice: str) -> None:
        self.for_doc(doc).sketch = choice

    def keys_node(self, doc: Any) -> Any:
        """The keys layer, or KritaIOError saying what to do."""
        ch = self.for_doc(doc)
        if ch.keys_uid is None:
            active = doc.activeNode()
            why = ""
            pose_frame = krita_io.pose_layer_frame(active) if active is not None else None
            if pose_frame is not None:
                why = f" The active layer '{active.name()}' is the pose layer of frame {pose_frame}, not keys."
            elif active is not None and active.type() != krita_io.PAINT_LAYER:
                why = (f" The active layer '{active.name()}' is {krita_io.kind_name(active)}: keys are "
                       "read from paint layers.")
            elif active is not None and self.is_result(active):
                why = f" The active layer '{active.name()}' is a result, not keys."
            raise KritaIOError(f"Choose the keys layer of '{krita_io.doc_title(doc)}' in the docker.{why}")
        node = krita_io.node_by_id(doc, ch.keys_uid)
        if node is None:
            raise KritaIOError(f"The keys layer '{ch.keys_name}' is no longer in '{krita_io.doc_title(doc)}': "
                               "choose another keys layer.")
        krita_io.check_paint_layer(node, "keys")
        return node

    def sketch_node(self, doc: Any, keys: Any) -> Any | None:
        ch = self.for_doc(doc)
        if ch.sketch == NONE:
            return None
        if ch.sketch == AUTO:
            hint = self.settings.sketch_hint.strip().lower()
            if not hint:
                return None
            for node in krita_io.paint_layers(doc):
                if (str(node.uniqueId()) != str(keys.uniqueId()) and not self.is_result(node)
                        and hint in node.name().lower()):
                    return node
            return None
        node = krita_io.node_by_id(doc, ch.sketch)
        if node is None:
            raise KritaIOError(f"The sketch layer chosen for '{krita_io.doc_title(doc)}' is gone: choose "
                               "another, or no sketches.")
        krita_io.check_paint_layer(node, "sketches")
        return node

    def frame_range(self, doc: Any) -> tuple[int, int]:
        return self.for_doc(doc).frame_range or krita_io.playback_range(doc)
