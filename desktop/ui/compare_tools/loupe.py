"""A magnifier that follows the mouse in every synced pane at once.

The loupe is a circle of LOUPE_DIAMETER logical pixels centred, in each pane, on the reference
point under the mouse (the same spot of every picture, wherever the mouse is). It shows that
pane's own content (its image, the wipe's sides, a blend) around the point at `factor` times
the current zoom, through `ImageCanvas.paint_content` into a small picture of the circle's size
that then fills the circle: only the small source rectangle under the circle is drawn,
magnified, with nearest-neighbour sampling so single pixels stay sharp squares (smooth only
while the loupe still shrinks the picture, at a fitted view of a very large one). A crosshair
marks the point, a pill the factor.

Keys are the compare view's (`[` and `]` call `set_factor`); Shift+wheel over a pane changes
the factor while the loupe is on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QImage,
    QPainter,
    QPalette,
    QPen,
    QTransform,
    QWheelEvent,
)

from desktop.ui.compare_tools.hooks import CanvasTool
from desktop.ui.image_canvas import ImageCanvas

LOUPE_DIAMETER = 180.0  # logical px
MIN_FACTOR = 2
MAX_FACTOR = 8
DEFAULT_FACTOR = 4
CROSSHAIR_GAP = 6.0  # logical px left free around the centre, so the pixel itself shows
_RING = 3.0  # width of the ring; the repainted rectangle leaves room for it
_PILL_HEIGHT = 18.0
WHEEL_NOTCH = 120  # angle delta of one wheel notch: one factor step


class Loupe(CanvasTool):
    """See the module docstring. `point()` is the reference point under the mouse."""

    changed = Signal()

    def __init__(self, canvases: Callable[[], list[ImageCanvas]], parent: QObject) -> None:
        super().__init__(canvases, parent)
        self._factor = DEFAULT_FACTOR
        self._wheel = 0  # wheel angle not yet turned into a step (touchpads send little)
        self._decorations: tuple[tuple[object, ...], QImage] | None = None

    def factor(self) -> int:
        return self._factor

    def set_factor(self, factor: int) -> None:
        """Magnification relative to the current zoom, clamped to 2..8."""
        factor = min(max(int(factor), MIN_FACTOR), MAX_FACTOR)
        if factor == self._factor:
            return
        self._factor = factor
        self._repaint()
        self.changed.emit()

    def point(self) -> QPointF | None:
        return self.cursor()

    def _state_changed(self) -> None:
        self.changed.emit()

    # ----- geometry

    def _centre_in(self, canvas: ImageCanvas) -> QPointF | None:
        point = self.cursor()
        if point is None or not canvas.view_state().has_reference():
            return None
        return canvas.map_from_image(point)

    def _rect_in(self, canvas: ImageCanvas) -> QRect | None:
        centre = self._centre_in(canvas)
        if centre is None:
            return None
        half = LOUPE_DIAMETER / 2 + _RING + 2
        return QRectF(centre.x() - half, centre.y() - half, 2 * half, 2 * half) \
            .toAlignedRect().intersected(canvas.rect())

    # ----- painting

    def _paint_in(self, painter: QPainter, canvas: ImageCanvas) -> None:
        centre = self._centre_in(canvas)
        point = self.cursor()
        if centre is None or point is None:
            return
        radius = LOUPE_DIAMETER / 2
        circle = QRectF(centre.x() - radius, centre.y() - radius, LOUPE_DIAMETER, LOUPE_DIAMETER)
        # The magnified square is drawn into a small picture of its own, which then fills the
        # circle as a brush: clipping the pane's drawing to a round path is several times
        # slower (Qt rasterises the path into a mask and blends through it).
        dpr = canvas.devicePixelRatioF()
        side = math.ceil(LOUPE_DIAMETER * dpr)
        square = QImage(side, side, QImage.Format.Format_RGB32)
        square.setDevicePixelRatio(dpr)
        square.fill(canvas.palette().color(QPalette.ColorRole.Dark))
        inner = QPainter(square)
        canvas.paint_content(inner, QRectF(0, 0, LOUPE_DIAMETER, LOUPE_DIAMETER), point,
                             QPointF(radius, radius) + (centre - circle.center()),
                             canvas.view_state().scale * self._factor, smooth_below=1.0)
        inner.end()
        brush = QBrush(square)
        brush.setTransform(QTransform.fromTranslate(circle.left(), circle.top()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(brush)
        painter.drawEllipse(circle)
        margin = _RING + 2
        painter.drawImage(QPointF(circle.left() - margin, circle.top() - margin),
                          self._decoration(canvas, dpr))

    def _decoration(self, canvas: ImageCanvas, dpr: float) -> QImage:
        """The ring, the crosshair and the factor pill, drawn once into a transparent picture
        (per factor, pixel ratio and palette) and blended over the magnified square on each
        paint: Qt's antialiased strokes cost milliseconds a frame, a blend of the picture a
        fraction of one."""
        palette = canvas.palette()
        key = (self._factor, dpr, palette.color(QPalette.ColorRole.Window).rgba(),
               palette.color(QPalette.ColorRole.WindowText).rgba(), canvas.font().key())
        if self._decorations is not None and self._decorations[0] == key:
            return self._decorations[1]
        margin = _RING + 2
        side = LOUPE_DIAMETER + 2 * margin
        image = QImage(math.ceil(side * dpr), math.ceil(side * dpr),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setFont(canvas.font())
        radius = LOUPE_DIAMETER / 2
        centre = QPointF(margin + radius, margin + radius)
        circle = QRectF(margin, margin, LOUPE_DIAMETER, LOUPE_DIAMETER)
        self._paint_crosshair(painter, centre, radius)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 160), _RING))
        painter.drawEllipse(circle)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.25))
        painter.drawEllipse(circle)
        self._paint_pill(painter, canvas, centre, radius)
        painter.end()
        self._decorations = (key, image)
        return image

    def _paint_crosshair(self, painter: QPainter, centre: QPointF, radius: float) -> None:
        arm = radius * 0.35
        segments = [(QPointF(centre.x() - CROSSHAIR_GAP - arm, centre.y()),
                     QPointF(centre.x() - CROSSHAIR_GAP, centre.y())),
                    (QPointF(centre.x() + CROSSHAIR_GAP, centre.y()),
                     QPointF(centre.x() + CROSSHAIR_GAP + arm, centre.y())),
                    (QPointF(centre.x(), centre.y() - CROSSHAIR_GAP - arm),
                     QPointF(centre.x(), centre.y() - CROSSHAIR_GAP)),
                    (QPointF(centre.x(), centre.y() + CROSSHAIR_GAP),
                     QPointF(centre.x(), centre.y() + CROSSHAIR_GAP + arm))]
        for colour, width in ((QColor(0, 0, 0, 150), 3.0), (QColor(255, 255, 255, 220), 1.0)):
            painter.setPen(QPen(colour, width))
            for start, end in segments:
                painter.drawLine(start, end)

    def _paint_pill(self, painter: QPainter, canvas: ImageCanvas, centre: QPointF,
                    radius: float) -> None:
        text = f"{self._factor}×"
        metrics = QFontMetricsF(canvas.font())
        width = metrics.horizontalAdvance(text) + 14
        pill = QRectF(centre.x() - width / 2, centre.y() + radius - _PILL_HEIGHT - 8, width,
                      _PILL_HEIGHT)
        palette = canvas.palette()
        background = QColor(palette.color(QPalette.ColorRole.Window))
        background.setAlpha(220)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(pill, _PILL_HEIGHT / 2, _PILL_HEIGHT / 2)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)

    # ----- events

    def _filter(self, canvas: ImageCanvas, event: QEvent) -> bool:
        """Shift+wheel changes the factor (one step a notch) instead of zooming."""
        if event.type() != QEvent.Type.Wheel or not isinstance(event, QWheelEvent) or \
                not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return False
        # some platforms turn Shift+wheel into a horizontal scroll
        self._wheel += event.angleDelta().y() or event.angleDelta().x()
        steps = int(self._wheel / WHEEL_NOTCH)  # towards zero: a partial notch waits
        if steps:
            self._wheel -= steps * WHEEL_NOTCH
            self.set_factor(self._factor + steps)
        event.accept()
        return True
