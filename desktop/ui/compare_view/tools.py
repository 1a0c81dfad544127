"""The compare view's tools (desktop/ui/compare_tools): the loupe and the pixel inspector over
every pane shown, and the timed blink that drives toggle mode.

They follow the panes the view shows (`follow`, called after every change of page or mode); a
tool's change calls back `changed` so the status line can say what it reads.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject

from desktop.ui.compare_tools import Blinker, Loupe, PixelInspector
from desktop.ui.image_canvas import ImageCanvas


class CompareTools(QObject):
    def __init__(self, canvases: Callable[[], list[ImageCanvas]], changed: Callable[[], None],
                 flipped: Callable[[bool], None], interval_ms: int, parent: QObject) -> None:
        super().__init__(parent)
        self.loupe = Loupe(canvases, self)
        self.inspector = PixelInspector(canvases, self)
        self.blinker = Blinker(self, interval_ms)
        self._canvases = canvases
        self._followed: list[int] = []
        self.loupe.changed.connect(changed)
        self.inspector.changed.connect(changed)
        self.blinker.flipped.connect(flipped)

    def follow(self, *, force: bool = False) -> None:
        """Re-hook the loupe and the inspector when the panes shown changed (`force`: new
        panes were made, whose addresses may repeat old ones)."""
        shown = [id(canvas) for canvas in self._canvases() if shiboken6.isValid(canvas)]
        if shown == self._followed and not force:
            return
        self._followed = shown
        self.loupe.attach()
        self.inspector.attach()

    def inspector_text(self) -> str:
        return self.inspector.text() if self.inspector.is_enabled() else ""

    def loupe_factor(self) -> int | None:
        return self.loupe.factor() if self.loupe.is_enabled() else None

    def blink_interval(self) -> int | None:
        return self.blinker.interval() if self.blinker.is_running() else None
