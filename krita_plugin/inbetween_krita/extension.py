"""Krita registration glue: the "generate" action (menu Tools > Scripts, and for tests) and cleanup.

The action works without the docker: it then uses the defaults (active document and layer,
a layer named like "sketch", the playback range, the saved settings).
"""

from __future__ import annotations

from typing import Any

from krita import Extension, Krita  # type: ignore[import-not-found]

from . import controller as controller_mod

GENERATE_ACTION = "inbetween_generate"
CANCEL_ACTION = "inbetween_cancel"


class InbetweenExtension(Extension):
    def __init__(self, parent: Any) -> None:
        super().__init__(parent)

    def setup(self) -> None:
        notifier = Krita.instance().notifier()
        notifier.applicationClosing.connect(self._closing)

    def createActions(self, window: Any) -> None:  # noqa: N802 - Krita's name
        generate = window.createAction(GENERATE_ACTION, "Generate In-betweens", "tools/scripts")
        generate.triggered.connect(self.generate)
        cancel = window.createAction(CANCEL_ACTION, "Cancel In-betweening", "tools/scripts")
        cancel.triggered.connect(self.cancel)

    def generate(self) -> None:
        controller_mod.instance().generate()

    def cancel(self) -> None:
        controller_mod.instance().cancel()

    def _closing(self) -> None:
        controller_mod.instance().shutdown()
