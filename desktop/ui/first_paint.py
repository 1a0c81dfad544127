"""Waiting for a widget's next paint, so start-up work that can wait (asking the keyring,
importing what later steps need) runs after the window has drawn what the user looks at."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class _PaintWatch(QObject):
    def __init__(self, painted: asyncio.Future[None]) -> None:
        super().__init__()
        self._painted = painted

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._painted.done():
            self._painted.set_result(None)
        return False


async def next_paint(widget: QWidget, timeout: float = 1.0) -> None:
    """Return once `widget` has painted again, at once when it is not shown (nothing will paint
    it), and after `timeout` seconds at most (a minimised window paints nothing)."""
    if not widget.isVisible():
        return
    painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    watch = _PaintWatch(painted)
    widget.installEventFilter(watch)
    try:
        await asyncio.wait_for(painted, timeout)
    except TimeoutError:
        pass
    finally:
        widget.removeEventFilter(watch)
