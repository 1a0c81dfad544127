"""Zoomable, pannable image panes that share one view (the compare view's building blocks).

Coordinates: every pane of a compare view draws into one *reference space*, the pixel grid of
the "after" image (the result). An image of another size (the before of a 2x upscale, the 4:3
input of a 16:9 reframe) is drawn stretched onto that grid, so that the same reference point
is the same spot in every pane and in every mode. `ViewState` holds the zoom (`scale`: reference
pixels -> widget logical pixels) and the reference point shown at each pane's centre; all panes
of a view share one `ViewState`, which is what keeps them synced.

Painting draws only the visible part of an image (`QPainter.drawImage(target, image, source)`),
never a full-size rescale per frame; smooth filtering below 200 % (physical pixels), nearest
neighbour above, so zoomed-in pixels stay crisp. Large images get a small pyramid of
pre-shrunk copies (built in a worker by the compare view) so that fitted views of a 4000 x 3000
photo stay smooth and free of aliasing.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

MIN_SCALE = 0.01
MAX_SCALE = 64.0
WHEEL_STEP = 1.0015  # per 1/8 degree of wheel rotation: one notch (120) ~ x1.2
BUTTON_STEP = 1.25
DIVIDER_GRAB = 8.0  # widget px either side of the wipe divider that start a divider drag
PYRAMID_MIN_SIDE = 512  # stop halving once a copy's longer side falls below this


class ViewState:
    """Zoom and position shared by every pane of one compare view.

    `scale` maps reference pixels to widget logical pixels; `center` is the reference point at
    the centre of every pane. While `fitting` is true (nothing zoomed or panned since the last
    fit) the view re-fits when the viewport or the reference size changes; any zoom or pan ends
    that, and from then on scale and centre are kept exactly.
    """

    def __init__(self) -> None:
        self.scale = 1.0
        self.center = QPointF(0.0, 0.0)
        self.reference = QSize()
        self.viewport = QSizeF()
        self.fitting = True
        self._listeners: list[object] = []

    # listeners are plain callables; a QObject signal would drag a QObject lifetime along
    def subscribe(self, callback: object) -> None:
        self._listeners.append(callback)

    def unsubscribe(self, callback: object) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            try:
                callback()  # type: ignore[operator]
            except RuntimeError:  # a pane whose C++ side is already gone
                self._listeners.remove(callback)

    def has_reference(self) -> bool:
        return self.reference.width() > 0 and self.reference.height() > 0

    def set_reference(self, size: QSize, *, refit: bool) -> None:
        """The after image's size. `refit` starts over with a fitted view; otherwise the
        current scale and centre are kept (clamped into the new image)."""
        self.reference = QSize(size)
        if refit:
            self.fitting = True
        if self.fitting:
            self._fit()
        else:
            self.center = self._clamped(self.center)
        self._changed()

    def set_viewport(self, size: QSizeF) -> None:
        """Size of the pane that 'fit' fits into (the after pane, or a grid cell)."""
        if size == self.viewport:
            return
        self.viewport = QSizeF(size)
        if self.fitting:
            self._fit()
            self._changed()

    def fit_scale(self) -> float:
        if not self.has_reference() or self.viewport.isEmpty():
            return 1.0
        return min(self.viewport.width() / self.reference.width(),
                   self.viewport.height() / self.reference.height())

    def fit(self) -> None:
        self.fitting = True
        self._fit()
        self._changed()

    def _fit(self) -> None:
        if not self.has_reference():
            return
        self.scale = max(MIN_SCALE, min(MAX_SCALE, self.fit_scale()))
        self.center = QPointF(self.reference.width() / 2, self.reference.height() / 2)

    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom so that the reference point `anchor` (default: the centre) keeps its place on
        screen."""
        scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        if anchor is None:
            anchor = QPointF(self.center)
        ratio = self.scale / scale
        self.center = self._clamped(anchor - (anchor - self.center) * ratio)
        self.scale = scale
        self.fitting = False
        self._changed()

    def zoom_at_widget(self, scale: float, pos: QPointF, widget_center: QPointF) -> None:
        """Zoom keeping the reference point under widget position `pos` where it is."""
        anchor = self.center + (pos - widget_center) / self.scale
        self.set_scale(scale, anchor)

    def pan_widget(self, delta: QPointF) -> None:
        """Move the content by `delta` widget pixels (a drag)."""
        self.center = self._clamped(self.center - delta / self.scale)
        self.fitting = False
        self._changed()

    def set_center(self, center: QPointF) -> None:
        self.center = self._clamped(center)
        self.fitting = False
        self._changed()

    def _clamped(self, point: QPointF) -> QPointF:
        """Keep the centre inside the image so it can never be panned out of sight."""
        if not self.has_reference():
            return QPointF(point)
        return QPointF(min(max(point.x(), 0.0), float(self.reference.width())),
                       min(max(point.y(), 0.0), float(self.reference.height())))


def build_pyramid(image: QImage) -> list[QImage]:
    """Halved copies of `image` (largest first) down to PYRAMID_MIN_SIDE; run in a worker.

    Drawing a strongly shrunk image with bilinear filtering aliases; drawing from the copy
    nearest above the needed size looks like a proper downscale and is cheaper."""
    levels: list[QImage] = []
    current = image
    while max(current.width(), current.height()) // 2 >= PYRAMID_MIN_SIDE:
        current = current.scaled(max(1, current.width() // 2), max(1, current.height() // 2),
                                 Qt.AspectRatioMode.IgnoreAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        levels.append(current)
    return levels


def _checker_brush(palette: QPalette) -> QBrush:
    tile = QPixmap(16, 16)
    light = palette.color(QPalette.ColorRole.Light)
    dark = palette.color(QPalette.ColorRole.Midlight).darker(115)
    tile.fill(light)
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, dark)
    painter.fillRect(8, 8, 8, 8, dark)
    painter.end()
    return QBrush(tile)


class ImageCanvas(QWidget):
    """One pane: draws an image (or a before|after wipe) into the shared reference space.

    Mouse: wheel zooms around the cursor, left or middle drag pans, in wipe mode a drag that
    starts on the divider moves it, double-click switches between fit and 100 %. Keys are left
    to the parent (the compare view handles them)."""

    dividerMoved = Signal(float)
    resized = Signal()
    activated = Signal()  # pressed with the mouse (a grid cell or a pane got picked)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._image: QImage | None = None
        self._wipe_before: QImage | None = None
        self._pyramids: dict[int, list[QImage]] = {}
        self._divider = 0.5
        self._label_left = ""
        self._label_right = ""
        self._message = ""
        self._drag_last: QPointF | None = None
        self._dragging_divider = False
        self._checker: QBrush | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(80, 60)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        state.subscribe(self.update)

    def detach(self) -> None:
        """Stop following the shared view (before the pane is thrown away)."""
        self._state.unsubscribe(self.update)

    # ----- content

    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self.update()

    def set_wipe_before(self, image: QImage | None) -> None:
        """Set the before image drawn left of the divider; None ends the wipe."""
        self._wipe_before = image
        self.setCursor(Qt.CursorShape.ArrowCursor)
        self.update()

    def is_wipe(self) -> bool:
        return self._wipe_before is not None

    def set_pyramids(self, pyramids: dict[int, list[QImage]]) -> None:
        """Pre-shrunk copies by QImage.cacheKey(), shared with the compare view."""
        self._pyramids = pyramids

    def divider(self) -> float:
        return self._divider

    def set_divider(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction != self._divider:
            self._divider = fraction
            self.update()
            self.dividerMoved.emit(fraction)

    def divider_x(self) -> float:
        return self._divider * self.width()

    def set_labels(self, left: str, right: str = "") -> None:
        self._label_left, self._label_right = left, right
        self.update()

    def labels(self) -> tuple[str, str]:
        return self._label_left, self._label_right

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def message(self) -> str:
        return self._message

    # ----- mapping

    def widget_center(self) -> QPointF:
        return QPointF(self.width() / 2, self.height() / 2)

    def map_to_image(self, pos: QPointF) -> QPointF:
        """Widget position -> reference (after image) pixel coordinates."""
        return self._state.center + (pos - self.widget_center()) / self._state.scale

    def map_from_image(self, point: QPointF) -> QPointF:
        """Reference pixel coordinates -> widget position."""
        return (point - self._state.center) * self._state.scale + self.widget_center()

    def image_rect_in_widget(self) -> QRectF:
        ref = self._state.reference
        return QRectF(self.map_from_image(QPointF(0, 0)),
                      self.map_from_image(QPointF(ref.width(), ref.height())))

    # ----- painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Dark))
        whole = QRectF(self.rect())
        if self._state.has_reference():
            if self._wipe_before is not None and self._image is not None:
                split = self.divider_x()
                self._draw(painter, self._wipe_before, QRectF(0, 0, split, self.height()))
                self._draw(painter, self._image,
                           QRectF(split, 0, self.width() - split, self.height()))
                self._draw_divider(painter, split)
            elif self._image is not None:
                self._draw(painter, self._image, whole)
        self._draw_label(painter, self._label_left, left=True)
        self._draw_label(painter, self._label_right, left=False)
        if self._message:
            self._draw_message(painter, self._message)
        painter.end()

    def _draw(self, painter: QPainter, image: QImage, area: QRectF) -> None:
        """Draw the part of `image` that falls into widget rectangle `area`."""
        if image.isNull() or area.isEmpty():
            return
        ref = self._state.reference
        visible_ref = QRectF(self.map_to_image(area.topLeft()),
                             self.map_to_image(area.bottomRight()))
        visible_ref = visible_ref.intersected(QRectF(0, 0, ref.width(), ref.height()))
        if visible_ref.isEmpty():
            return
        target = QRectF(self.map_from_image(visible_ref.topLeft()),
                        self.map_from_image(visible_ref.bottomRight()))
        source_image = self._level_for(image, target.width() * self.devicePixelRatioF(),
                                       visible_ref.width() * image.width() / ref.width())
        sx = source_image.width() / ref.width()
        sy = source_image.height() / ref.height()
        source = QRectF(visible_ref.x() * sx, visible_ref.y() * sy,
                        visible_ref.width() * sx, visible_ref.height() * sy)
        if image.hasAlphaChannel():
            if self._checker is None:
                self._checker = _checker_brush(self.palette())
            painter.fillRect(target, self._checker)
        physical_zoom = self._state.scale * self.devicePixelRatioF() * ref.width() / image.width()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, physical_zoom < 2.0)
        painter.drawImage(target, source_image, source)

    def _level_for(self, image: QImage, target_px: float, source_px: float) -> QImage:
        """The smallest pyramid copy still at least as detailed as the screen needs."""
        levels = self._pyramids.get(image.cacheKey())
        if not levels or source_px <= 0:
            return image
        chosen = image
        needed = target_px / source_px  # fraction of full resolution the screen shows
        for level in levels:
            if level.width() / image.width() >= needed:
                chosen = level
            else:
                break
        return chosen

    def _draw_divider(self, painter: QPainter, x: float) -> None:
        palette = self.palette()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 3))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1.5))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        knob = QRectF(x - 14, self.height() / 2 - 14, 28, 28)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 2))
        painter.drawEllipse(knob)
        arrow = QPainterPath()
        cy = knob.center().y()
        arrow.moveTo(x - 3, cy - 5)
        arrow.lineTo(x - 9, cy)
        arrow.lineTo(x - 3, cy + 5)
        arrow.moveTo(x + 3, cy - 5)
        arrow.lineTo(x + 9, cy)
        arrow.lineTo(x + 3, cy + 5)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.HighlightedText), 2))
        painter.drawPath(arrow)
        painter.restore()

    def _pill(self, painter: QPainter, text: str, rect: QRectF) -> None:
        palette = self.palette()
        background = QColor(palette.color(QPalette.ColorRole.Window))
        background.setAlpha(215)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_label(self, painter: QPainter, text: str, *, left: bool) -> None:
        if not text:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetricsF(self.font())
        limit = self.width() / 2 - 20 if self._label_left and self._label_right else \
            self.width() - 20
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(limit, 30.0))
        width = metrics.horizontalAdvance(shown) + 16
        height = metrics.height() + 8
        x = 8.0 if left else self.width() - 8 - width
        self._pill(painter, shown, QRectF(x, 8, width, height))
        painter.restore()

    def _draw_message(self, painter: QPainter, text: str) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetricsF(self.font())
        max_width = max(self.width() - 40, 60)
        bounds = metrics.boundingRect(QRectF(0, 0, max_width, 10_000),
                                      int(Qt.TextFlag.TextWordWrap), text)
        rect = QRectF(0, 0, bounds.width() + 28, bounds.height() + 18)
        rect.moveCenter(self.widget_center())
        palette = self.palette()
        background = QColor(palette.color(QPalette.ColorRole.Window))
        background.setAlpha(230)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 8, 8)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        painter.drawText(rect.adjusted(14, 9, -14, -9),
                         int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text)
        painter.restore()

    # ----- interaction

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._checker = None  # made from the palette: rebuild on the next paint
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() or event.angleDelta().x()
        if not steps or not self._state.has_reference():
            event.ignore()
            return
        self._state.zoom_at_widget(self._state.scale * math.pow(WHEEL_STEP, steps),
                                   event.position(), self.widget_center())
        event.accept()

    def _on_divider(self, pos: QPointF) -> bool:
        return self.is_wipe() and abs(pos.x() - self.divider_x()) <= DIVIDER_GRAB

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            event.ignore()
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._on_divider(pos):
            self._dragging_divider = True
        else:
            self._drag_last = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._dragging_divider:
            self.set_divider(pos.x() / max(self.width(), 1))
        elif self._drag_last is not None:
            delta = pos - self._drag_last
            self._drag_last = pos
            if self._state.has_reference():
                self._state.pan_widget(delta)
        elif self._on_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging_divider = False
        self._drag_last = None
        self.setCursor(Qt.CursorShape.SplitHCursor if self._on_divider(event.position())
                       else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click: 100 % around the clicked point, or back to fit when not fitted."""
        if event.button() != Qt.MouseButton.LeftButton or not self._state.has_reference() \
                or self._on_divider(event.position()):
            event.ignore()
            return
        if self._state.fitting:
            self._state.zoom_at_widget(1.0 / self.devicePixelRatioF(), event.position(),
                                       self.widget_center())
        else:
            self._state.fit()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.ignore()  # the compare view owns the keys

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        event.ignore()
