"""Timed A/B blink: flips between two sides at a settable interval.

The eye catches a change best when the two pictures replace each other in place at a steady
pace. The timer is a precise one (Qt.TimerType.PreciseTimer: within a millisecond, where a
coarse timer may be 5 % late) and the interval is clamped to MIN_INTERVAL..MAX_INTERVAL ms.
The compare view shows the A or B side on `flipped`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

MIN_INTERVAL = 100  # ms
MAX_INTERVAL = 5000
DEFAULT_INTERVAL = 500


class Blinker(QObject):
    """Emits `flipped(True)` (show the B side now) and `flipped(False)` (the A side)
    alternately every `interval()` ms while running. It starts on the A side."""

    flipped = Signal(bool)

    def __init__(self, parent: QObject, interval_ms: int = DEFAULT_INTERVAL) -> None:
        super().__init__(parent)
        self._showing_b = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._flip)
        self.set_interval(interval_ms)

    def set_interval(self, ms: int) -> None:
        """Milliseconds between flips, clamped to 100..5000; a running blink keeps going at
        the new pace."""
        self._timer.setInterval(min(max(int(ms), MIN_INTERVAL), MAX_INTERVAL))

    def interval(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        """Start (or restart) blinking from the A side; emits flipped(False) if the B side was
        showing."""
        if self._showing_b:
            self._showing_b = False
            self.flipped.emit(False)
        self._timer.start()

    def stop(self) -> None:
        """Stop blinking; the side shown stays (showing_b() says which)."""
        self._timer.stop()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def showing_b(self) -> bool:
        return self._showing_b

    def _flip(self) -> None:
        self._showing_b = not self._showing_b
        self.flipped.emit(self._showing_b)
