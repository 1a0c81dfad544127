"""Python's cyclic garbage collector, run on the GUI thread only.

Automatic collection runs in whichever thread happens to allocate when a threshold is crossed:
often a worker (image decoding, SQLite). If the garbage holds a Qt object, its C++ destructor
then runs in that worker; a QObject destroyed off its thread leaves its timers registered with
the GUI thread's event dispatcher, and the next timer tick touches freed memory (a crash far
from the cause). Anki and other PyQt applications avoid it the same way: turn automatic
collection off and collect from a timer on the GUI thread, when the counts say it is due.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Collects garbage every `interval_ms` when generation 0 is over its threshold."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the generations that are due, as the automatic collector would."""
        counts = gc.get_count()
        collected = 0
        if counts[0] > self._threshold[0]:
            generation = 0
            if counts[1] > self._threshold[1]:
                generation = 1
                if counts[2] > self._threshold[2]:
                    generation = 2
            collected = gc.collect(generation)
        return collected

    def stop(self) -> None:
        """Back to automatic collection (after a last full pass here, on the GUI thread)."""
        self._timer.stop()
        gc.collect()
        gc.enable()
