"""What the loupe and the pixel inspector share: hooking onto a changing set of image panes.

A tool follows the reference point under the mouse in any of its panes (`ImageCanvas.cursorMoved`)
and paints an overlay in every pane at that same reference point. When the point moves, only the
rectangles the overlay covered before and covers now are repainted in each pane
(`QWidget.update(QRect)`), never whole panes: a 24 MP pane repaints in a few ms, its loupe
rectangle in a fraction of that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, QRect
from PySide6.QtGui import QPainter

from desktop.ui.image_canvas import ImageCanvas


class CanvasTool(QObject):
    """Base of a tool painted over every pane of a compare view (see the module docstring).

    Subclasses implement `_paint_in(painter, canvas)` and `_rect_in(canvas)` (the widget
    rectangle the overlay covers in that pane, None when nothing is painted there), and may
    override `_filter(canvas, event)` to see the panes' events first."""

    def __init__(self, canvases: Callable[[], list[ImageCanvas]], parent: QObject) -> None:
        super().__init__(parent)
        self._canvases = canvases
        self._attached: list[ImageCanvas] = []
        self._painted: dict[int, QRect] = {}  # id(canvas) -> rectangle last covered there
        self._enabled = False
        self._cursor: QPointF | None = None

    # ----- hooking

    def attach(self) -> None:
        """(Re)hook the current panes: call whenever the set of panes changes."""
        self._detach()
        for canvas in self._canvases():
            canvas.cursorMoved.connect(self._on_cursor)
            canvas.add_overlay(self._paint)
            canvas.installEventFilter(self)
            self._attached.append(canvas)

    def _detach(self) -> None:
        for canvas in self._attached:
            if not shiboken6.isValid(canvas):
                continue
            with contextlib.suppress(RuntimeError, TypeError):  # its C++ side is going
                canvas.cursorMoved.disconnect(self._on_cursor)
            canvas.remove_overlay(self._paint)
            canvas.removeEventFilter(self)
        self._attached = []
        self._painted = {}

    def attached(self) -> list[ImageCanvas]:
        return [canvas for canvas in self._attached if shiboken6.isValid(canvas)]

    # ----- state

    def set_enabled(self, on: bool) -> None:
        if on == self._enabled:
            return
        self._enabled = on
        self._repaint()
        self._state_changed()

    def is_enabled(self) -> bool:
        return self._enabled

    def cursor(self) -> QPointF | None:
        """The reference point under the mouse in any attached pane, None outside them."""
        return QPointF(self._cursor) if self._cursor is not None else None

    def _on_cursor(self, point: QPointF | None) -> None:
        if point == self._cursor:
            return
        self._cursor = QPointF(point) if point is not None else None
        if self._enabled and self._follows_cursor():
            self._repaint()
            self._state_changed()

    def _follows_cursor(self) -> bool:
        """Whether a mouse move changes what is painted (the locked inspector: no)."""
        return True

    def _state_changed(self) -> None:
        """Called after anything shown changed; subclasses emit their `changed` here."""

    # ----- painting

    def _repaint(self) -> None:
        """Repaint, in every pane, the rectangle the overlay covered and the one it covers
        now (nothing else)."""
        for canvas in self.attached():
            old = self._painted.pop(id(canvas), None)
            new = self._rect_in(canvas) if self._enabled else None
            if old is not None:
                canvas.update(old)
            if new is not None:
                canvas.update(new)
                self._painted[id(canvas)] = new

    def _paint(self, painter: QPainter, canvas: ImageCanvas) -> None:
        if not self._enabled:
            return
        rect = self._rect_in(canvas)
        if rect is None:
            return
        self._painted[id(canvas)] = rect
        self._paint_in(painter, canvas)

    def _paint_in(self, painter: QPainter, canvas: ImageCanvas) -> None:
        raise NotImplementedError

    def _rect_in(self, canvas: ImageCanvas) -> QRect | None:
        raise NotImplementedError

    # ----- events

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._enabled and isinstance(watched, ImageCanvas):
            return self._filter(watched, event)
        return False

    def _filter(self, canvas: ImageCanvas, event: QEvent) -> bool:
        return False
