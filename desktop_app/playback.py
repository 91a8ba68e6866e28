"""Playback at the shot's fps: loop, ping-pong or play once; drives the shared cursor."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal

from .model.cursor import Cursor

LOOP, PINGPONG, ONCE = "loop", "pingpong", "once"


class Playback(QObject):
    playingChanged = Signal(bool)

    def __init__(self, cursor: Cursor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cursor = cursor
        self.mode = LOOP
        self.direction = 1
        self.range: tuple[int, int] | None = None  # play only this range (a selection)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self._shown = 0  # frames advanced since play started

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def set_cursor(self, cursor: Cursor) -> None:
        self.stop()
        self.cursor = cursor

    def toggle(self) -> None:
        self.stop() if self.playing else self.play()

    def play(self) -> None:
        doc = self.cursor.doc
        if len(doc) < 2:
            return
        a, b = self.cursor.selection
        self.range = (a, b) if b > a else None
        self.direction = 1
        self._shown = 0
        self.clock.start()
        # tick twice per frame; `_tick` advances by the wall clock, so playback keeps the shot's
        # real speed (dropping frames if painting is slow) instead of drifting
        self.timer.start(max(1, int(500.0 / doc.fps)))
        self.playingChanged.emit(True)

    def stop(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self.playingChanged.emit(False)

    def _tick(self) -> None:
        due = int(self.clock.elapsed() * self.cursor.doc.fps / 1000.0)
        steps = min(due - self._shown, 4)
        self._shown = due
        for _ in range(steps):
            if self.playing:
                self.advance()

    def advance(self) -> None:
        """One frame forward (or backward in ping-pong); wraps or bounces at the ends."""
        doc = self.cursor.doc
        first, last = self.range or (0, len(doc) - 1)
        nxt = self.cursor.current + self.direction
        if nxt > last or nxt < first:
            if self.mode == LOOP:
                nxt = first
            elif self.mode == PINGPONG and last > first:
                self.direction = -self.direction
                nxt = self.cursor.current + self.direction
            else:
                self.stop()
                return
        sel = self.cursor.selection
        self.cursor.set_current(nxt)
        if self.range:  # keep the played range selected
            self.cursor.select_range(*sel)
