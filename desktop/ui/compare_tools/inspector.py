"""The pixel inspector: every pane's RGB and hex at one reference pixel, differences marked.

The pixel read is the one under the mouse in any pane, or the locked one: while the inspector
is on, a left click without a drag in any pane locks it on the clicked pixel, another click
moves the lock, and `lock(None)` (the compare view's Escape) unlocks. Each pane reads its own
full-size picture at that reference pixel (`ImageCanvas.sample`: a before of another size is
read at its own pixel under the point, a wipe at the side the point is on, a blend blended).
A reading `differs` when any channel differs from the first pane's by more than the threshold
(0 by default: any difference at all).

Painted in every pane: a small square on the pixel (at least MARKER_MIN logical px, so it shows
at a fitted zoom too) and a pill with that pane's hex and RGB next to it; differing readings
get the DIFFERS colour and a "≠".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication

from desktop.ui.compare_tools.hooks import CanvasTool
from desktop.ui.image_canvas import ImageCanvas

MARKER_MIN = 9.0  # logical px: the marker's smallest side
DIFFERS = QColor(255, 64, 160)  # the highlight of a reading that differs from the first
_PILL_GAP = 10.0  # between the marker and its pill
_PILL_PAD = 8.0
_SWATCH_ROOM = 10.0  # the colour swatch left of a reading's text


@dataclass(frozen=True)
class PixelReading:
    title: str  # the pane's label (e.g. "Before", "FitInView · Variation 1")
    rgb: tuple[int, int, int] | None  # None: outside the image
    hex: str  # "#RRGGBB", or "" outside the image
    differs: bool  # differs from the first reading by more than the threshold


def _differs(a: tuple[int, int, int] | None, b: tuple[int, int, int] | None,
             threshold: int) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) > threshold


class PixelInspector(CanvasTool):
    """See the module docstring."""

    changed = Signal()

    def __init__(self, canvases: Callable[[], list[ImageCanvas]], parent: QObject) -> None:
        super().__init__(canvases, parent)
        self._locked: QPointF | None = None
        self._threshold = 0
        self._pressed: dict[int, QPointF] = {}  # id(canvas) -> where a left press started

    # ----- state

    def set_threshold(self, threshold: int) -> None:
        """A channel must differ by more than this (0-254) for a reading to differ."""
        threshold = min(max(int(threshold), 0), 254)
        if threshold != self._threshold:
            self._threshold = threshold
            self._repaint()
            self.changed.emit()

    def threshold(self) -> int:
        return self._threshold

    def point(self) -> QPointF | None:
        """The reference pixel read (integer coordinates): the locked one, else the one under
        the mouse; None when neither."""
        point = self._locked if self._locked is not None else self.cursor()
        if point is None:
            return None
        return QPointF(math.floor(point.x()), math.floor(point.y()))

    def lock(self, point: QPointF | None) -> None:
        """Keep reading the pixel at reference `point` whatever the mouse does; None unlocks
        (back to the pixel under the mouse)."""
        self._locked = QPointF(math.floor(point.x()), math.floor(point.y())) \
            if point is not None else None
        self._repaint()
        self.changed.emit()

    def is_locked(self) -> bool:
        return self._locked is not None

    def _follows_cursor(self) -> bool:
        return self._locked is None

    def _state_changed(self) -> None:
        self.changed.emit()

    def refresh(self) -> None:
        """Repaint the readings after the pictures changed under a still pixel (a toggle, a
        new blend): they are read at paint time."""
        self._repaint()
        self.changed.emit()

    # ----- readings

    def _canvas_readings(self) -> list[tuple[ImageCanvas, PixelReading]]:
        point = self.point()
        if point is None:
            return []
        centre = QPointF(point.x() + 0.5, point.y() + 0.5)
        found: list[tuple[ImageCanvas, PixelReading]] = []
        first: tuple[int, int, int] | None = None
        for index, canvas in enumerate(self.attached()):
            rgb = canvas.sample(centre)
            if index == 0:
                first = rgb
            title = canvas.title_at(centre) or canvas.accessibleName() or f"View {index + 1}"
            hex_text = "#{:02X}{:02X}{:02X}".format(*rgb) if rgb is not None else ""
            differs = index > 0 and _differs(first, rgb, self._threshold)
            found.append((canvas, PixelReading(title, rgb, hex_text, differs)))
        return found

    def readings(self) -> list[PixelReading]:
        """One reading per pane, in pane order; empty when no pixel is read."""
        return [reading for _canvas, reading in self._canvas_readings()]

    def text(self) -> str:
        """One line for the status line: "x 120, y 88 · Before #AABBCC (170, 187, 204) ·
        FitInView #… ≠" ("≠" marks a reading that differs from the first); "" when no pixel
        is read."""
        point = self.point()
        readings = self.readings()
        if point is None or not readings:
            return ""
        parts = [f"x {int(point.x())}, y {int(point.y())}"]
        for reading in readings:
            if reading.rgb is None:
                parts.append(f"{reading.title} outside the image")
                continue
            r, g, b = reading.rgb
            mark = " ≠" if reading.differs else ""
            parts.append(f"{reading.title} {reading.hex} ({r}, {g}, {b}){mark}")
        return " · ".join(parts)

    # ----- geometry and painting

    def _reading_in(self, canvas: ImageCanvas) -> PixelReading | None:
        for owner, reading in self._canvas_readings():
            if owner is canvas:
                return reading
        return None

    def _layout(self, canvas: ImageCanvas, reading: PixelReading
                ) -> tuple[QRectF, QRectF, str] | None:
        """The marker square, the pill and its text in `canvas` (widget coordinates)."""
        point = self.point()
        if point is None or not canvas.view_state().has_reference():
            return None
        top_left = canvas.map_from_image(point)
        bottom_right = canvas.map_from_image(QPointF(point.x() + 1, point.y() + 1))
        marker = QRectF(top_left, bottom_right)
        if marker.width() < MARKER_MIN:
            centre = marker.center()
            marker = QRectF(centre.x() - MARKER_MIN / 2, centre.y() - MARKER_MIN / 2,
                            MARKER_MIN, MARKER_MIN)
        if reading.rgb is None:
            text = "outside the image"
        else:
            r, g, b = reading.rgb
            text = f"{'≠ ' if reading.differs else ''}{reading.hex}  {r}, {g}, {b}"
        metrics = QFontMetricsF(canvas.font())
        width = metrics.horizontalAdvance(text) + 2 * _PILL_PAD + \
            (_SWATCH_ROOM if reading.rgb is not None else 0)
        height = metrics.height() + 6
        x = marker.right() + _PILL_GAP
        if x + width > canvas.width() and marker.left() - _PILL_GAP - width >= 0:
            x = marker.left() - _PILL_GAP - width  # no room on the right: on the left
        y = marker.bottom() + _PILL_GAP
        if y + height > canvas.height() and marker.top() - _PILL_GAP - height >= 0:
            y = marker.top() - _PILL_GAP - height
        return marker, QRectF(x, y, width, height), text

    def _rect_in(self, canvas: ImageCanvas) -> QRect | None:
        reading = self._reading_in(canvas)
        layout = self._layout(canvas, reading) if reading is not None else None
        if layout is None:
            return None
        marker, pill, _text = layout
        return marker.united(pill).adjusted(-4, -4, 4, 4).toAlignedRect() \
            .intersected(canvas.rect())

    def _paint_in(self, painter: QPainter, canvas: ImageCanvas) -> None:
        reading = self._reading_in(canvas)
        layout = self._layout(canvas, reading) if reading is not None else None
        if reading is None or layout is None:
            return
        marker, pill, text = layout
        palette = canvas.palette()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 3.0))
        painter.drawRect(marker.adjusted(-1.5, -1.5, 1.5, 1.5))
        painter.setPen(QPen(DIFFERS if reading.differs else QColor(255, 255, 255), 1.5))
        painter.drawRect(marker.adjusted(-1.5, -1.5, 1.5, 1.5))
        if self.is_locked():  # a locked pixel gets a second, outer frame
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
            painter.drawRect(marker.adjusted(-4, -4, 4, 4))
        background = QColor(palette.color(QPalette.ColorRole.Window))
        background.setAlpha(225)
        painter.setBrush(background)
        painter.setPen(QPen(DIFFERS, 1.5) if reading.differs else Qt.PenStyle.NoPen)
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        shift = 0.0
        if reading.rgb is not None:  # a swatch of the colour read, left in the pill
            shift = _SWATCH_ROOM
            swatch = QRectF(pill.left() + 6, pill.center().y() - 4, 8, 8)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.WindowText), 0.75))
            painter.setBrush(QColor(*reading.rgb))
            painter.drawRect(swatch)
        painter.setPen(DIFFERS if reading.differs else
                       palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(pill.adjusted(_PILL_PAD + shift, 0, 0, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)

    # ----- events

    def _filter(self, canvas: ImageCanvas, event: QEvent) -> bool:
        """A left click without a drag locks on the clicked pixel (the pane still gets the
        events: a drag pans as always)."""
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease) or \
                not isinstance(event, QMouseEvent) or \
                event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = event.position()
        if kind == QEvent.Type.MouseButtonPress:
            if canvas.on_divider(pos):  # moving the wipe divider, not picking a pixel
                self._pressed.pop(id(canvas), None)
            else:
                self._pressed[id(canvas)] = QPointF(pos)
            return False
        start = self._pressed.pop(id(canvas), None)
        if start is not None and canvas.view_state().has_reference() and \
                (pos - start).manhattanLength() < QApplication.startDragDistance():
            self.lock(canvas.map_to_image(pos))
        return False
