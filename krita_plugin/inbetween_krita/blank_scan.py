"""Which keyframes are empty, found out in the background for the plan shown before Generate.

Knowing that a keyframe is empty means reading it (about 130 ms for a whole 4096x4096 frame),
so the docker's plan does not wait for it: it asks `blank(node, t)`, which answers from a
cache (None when not known yet: treated as drawn) and queues the keyframe. The queue is read
band by band from timer callbacks, stopping at the first band with a visible pixel, so a
drawn key costs one band and an empty one a few. Verdicts expire (an empty one after 1.5 s, a
drawn one after 4 s), so a key drawn on Krita's empty frame 0 is noticed. No scanning while a job reads or writes.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from . import krita_io

TTL_S = 4.0  # a drawn keyframe is looked at again after this
TTL_BLANK_S = 1.5  # an empty one sooner: the animator is probably about to draw on it

Key = tuple[str, str, int]  # document, layer uid, frame


class BlankScanner:
    def __init__(self, run_steps: Callable, defer: Callable[[int, Callable[[], None]], None],
                 notify: Callable[[], None], busy: Callable[[], bool]) -> None:
        self.run_steps, self.defer, self.notify, self.busy = run_steps, defer, notify, busy
        self.known: dict[Key, tuple[bool, float]] = {}
        self.wanted: list[Key] = []
        self.scanning = False

    def tester(self, doc_key: str) -> Callable[[Any, int], bool | None]:
        """`blank(node, t)` for krita_io.plan_for: the cached verdict, queuing what is unknown."""
        def blank(node: Any, t: int) -> bool | None:
            key = (doc_key, str(node.uniqueId()), t)
            verdict = self.known.get(key)
            ttl = min(TTL_S, TTL_BLANK_S) if verdict is not None and verdict[0] else TTL_S
            if (verdict is None or time.monotonic() - verdict[1] > ttl) and key not in self.wanted:
                self.wanted.append(key)
            return None if verdict is None else verdict[0]
        return blank

    def soon(self) -> None:
        if not self.scanning and self.wanted and not self.busy():
            self.scanning = True
            self.defer(0, self._next)

    def _next(self) -> None:
        """Scan one queued keyframe (then the next, from its own callback)."""
        while self.wanted and not self.busy():
            key = self.wanted.pop(0)
            doc = krita_io.find_document(key[0])
            node = krita_io.node_by_id(doc, key[1]) if doc is not None else None
            if node is None or not node.hasKeyframeAtTime(key[2]):
                continue
            steps = krita_io.read_frame_stepwise(node, key[2], int(doc.width()), int(doc.height()),
                                                 stop_when_drawn=True)

            def done(drawn: Any, key: Key = key) -> None:
                self.known[key] = (not drawn, time.monotonic())
                self.defer(0, self._next)
                self.notify()

            self.run_steps(steps, done, lambda exc: self.defer(0, self._next))
            return
        self.scanning = False
