"""Krita registration glue: the plugin's actions (Tools > Scripts, shortcuts, tests) and cleanup.

The actions work without the docker: Generate uses the active document's choices (taking the
defaults when the plugin first sees the document: the active paint layer as keys, a layer
named like "sketch", the playback range, the saved settings).
"""

from __future__ import annotations

from typing import Any

from krita import Extension, Krita  # type: ignore[import-not-found]

from . import controller as controller_mod

GENERATE_ACTION = "inbetween_generate"
CANCEL_ACTION = "inbetween_cancel"
APPLY_ACTION = "inbetween_apply"
DISCARD_ACTION = "inbetween_discard"
TAKE_BACK_ACTION = "inbetween_take_back"


class InbetweenExtension(Extension):
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)

    def setup(self) -> None:
        notifier = Krita.instance().notifier()
        notifier.applicationClosing.connect(self._closing)

    def createActions(self, window: Any) -> None:  # noqa: N802 - Krita's name
        for name, text, slot in (
                (GENERATE_ACTION, "Generate In-betweens", lambda: controller_mod.instance().generate()),
                (CANCEL_ACTION, "Cancel In-betweening", lambda: controller_mod.instance().cancel()),
                (APPLY_ACTION, "Apply In-betweens", lambda: controller_mod.instance().apply()),
                (DISCARD_ACTION, "Discard In-betweens", lambda: controller_mod.instance().discard()),
                (TAKE_BACK_ACTION, "Remove the Last In-betweens Layer",
                 lambda: controller_mod.instance().take_back())):
            action = window.createAction(name, text, "tools/scripts")
            action.triggered.connect(slot)

    def _closing(self) -> None:
        controller_mod.instance().shutdown()
