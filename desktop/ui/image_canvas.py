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
photo stay smooth and free of aliasing. Pictures in `display_format` (desktop/ui/canvas_images.py)
draw several times faster than the RGBA8888 they are decoded in.

Tools hook in without subclassing: `cursorMoved` reports the reference point under the mouse,
overlays (`add_overlay`) paint last, `paint_content` draws what the pane shows at any scale
(the loupe), `sample` reads the pixel shown at a reference point (the pixel inspector), and
`set_blend` lays a second picture over the image at an opacity (onion skin).
"""

from __future__ import annotations

import math
from collections.abc import Callable

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

from desktop.ui.canvas_images import PYRAMID_MIN_SIDE, build_pyramid, display_format

__all__ = ["BUTTON_STEP", "MAX_SCALE", "MIN_SCALE", "PYRAMID_MIN_SIDE", "ImageCanvas",
           "Overlay", "ViewState", "build_pyramid", "display_format"]

MIN_SCALE = 0.01
MAX_SCALE = 64.0
WHEEL_STEP = 1.0015  # per 1/8 degree of wheel rotation: one notch (120) ~ x1.2
BUTTON_STEP = 1.25
DIVIDER_GRAB = 8.0  # widget px either side of the wipe divider that start a divider drag


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


Overlay = Callable[[QPainter, "ImageCanvas"], None]


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
    cursorMoved = Signal(object)  # reference-space QPointF under the mouse, None: it left

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
        self._overlays: list[Overlay] = []
        self._blend_top: QImage | None = None
        self._blend_opacity = 0.0
        self._title = ""
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

    def set_blend(self, top: QImage | None, opacity: float) -> None:
        """Draw `top` over the image at `opacity` 0..1 (onion skin): 0 shows only the image,
        1 only `top`. `top` is stretched to the reference space like any image; None ends the
        blend."""
        self._blend_top = top if top is not None and not top.isNull() else None
        self._blend_opacity = min(max(float(opacity), 0.0), 1.0)
        self.update()

    def blend(self) -> tuple[QImage | None, float]:
        return self._blend_top, self._blend_opacity

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

    def set_title(self, text: str) -> None:
        """What tools call this pane (the pixel inspector's readings); default: the labels."""
        self._title = text

    def title_at(self, point: QPointF) -> str:
        """The name of the picture shown at reference `point`: the title when set, else in a
        wipe the label of the side the point is on, else the labels joined."""
        if self._title:
            return self._title
        if self.is_wipe():
            return self._label_left if self._left_of_divider(point) else self._label_right
        return " · ".join(text for text in (self._label_left, self._label_right) if text)

    def view_state(self) -> ViewState:
        return self._state

    # ----- overlays

    def add_overlay(self, fn: Overlay) -> None:
        """Paint `fn(painter, canvas)` after the pane's own drawing (overlays in add order).
        The painter is in widget coordinates and already clipped to the area being
        repainted."""
        if fn not in self._overlays:
            self._overlays.append(fn)
            self.update()

    def remove_overlay(self, fn: Overlay) -> None:
        if fn in self._overlays:
            self._overlays.remove(fn)
            self.update()

    def overlays(self) -> list[Overlay]:
        return list(self._overlays)

    # ----- reading pixels

    def _left_of_divider(self, point: QPointF) -> bool:
        return self.map_from_image(point).x() < self.divider_x()

    def draws_at(self, point: QPointF) -> QImage | None:
        """The full-size picture shown at reference `point`: the wipe's before left of the
        divider, else the image, or the blend's top once it is more than half opaque. None
        outside the image."""
        if not self._inside(point):
            return None
        if self._wipe_before is not None and self._image is not None and \
                self._left_of_divider(point):
            return self._wipe_before
        if self._blend_top is not None and self._blend_opacity > 0.5:
            return self._blend_top
        return self._image

    def sample(self, point: QPointF) -> tuple[int, int, int] | None:
        """RGB of the full-size picture drawn at reference `point` (each picture read at its
        own pixel under that point, so a stretched before reads its own pixels); with a blend,
        the blended value. None outside the image."""
        if not self._inside(point) or self._image is None:
            return None
        if self._wipe_before is not None and self._left_of_divider(point):
            return self._pixel(self._wipe_before, point)
        base = self._pixel(self._image, point)
        top, opacity = self._blend_top, self._blend_opacity
        if top is None or opacity <= 0.0:
            return base
        over = self._pixel(top, point)
        if opacity >= 1.0:
            return over
        r, g, b = (round(a * (1.0 - opacity) + c * opacity)
                   for a, c in zip(base, over, strict=True))
        return r, g, b

    def _inside(self, point: QPointF) -> bool:
        ref = self._state.reference
        return self._state.has_reference() and 0.0 <= point.x() < ref.width() and \
            0.0 <= point.y() < ref.height()

    def _pixel(self, image: QImage, point: QPointF) -> tuple[int, int, int]:
        ref = self._state.reference
        x = min(max(int(point.x() * image.width() / ref.width()), 0), image.width() - 1)
        y = min(max(int(point.y() * image.height() / ref.height()), 0), image.height() - 1)
        colour = image.pixelColor(x, y)
        return colour.red(), colour.green(), colour.blue()

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
        if self._state.has_reference() and self._image is not None:
            # only the part being repainted: a moving loupe repaints two small rectangles,
            # and scaling a whole pane's picture to clip most of it away is what costs
            self.paint_content(painter, QRectF(event.rect()), self._state.center,
                               self.widget_center(), self._state.scale)
            if self._wipe_before is not None:
                self._draw_divider(painter, self.divider_x())
        self._draw_label(painter, self._label_left, left=True)
        self._draw_label(painter, self._label_right, left=False)
        if self._message:
            self._draw_message(painter, self._message)
        for overlay in list(self._overlays):
            painter.save()
            overlay(painter, self)
            painter.restore()
        painter.end()

    def paint_content(self, painter: QPainter, area: QRectF, center: QPointF, at: QPointF,
                      scale: float, *, smooth_below: float = 2.0) -> None:
        """Draw what this pane shows (wipe, image, blend) into widget rectangle `area` only,
        with reference point `center` at widget position `at` and `scale` reference -> widget
        pixels. The pane itself passes its view; the loupe a magnified one. Smooth filtering
        is used while a picture's physical zoom is below `smooth_below`, nearest neighbour
        from there on. Only the visible part of a picture is drawn (no full-size copy)."""
        if self._image is None or not self._state.has_reference() or scale <= 0.0:
            return
        mapping = (center, at, scale, smooth_below)
        if self._wipe_before is not None:
            split_ref = self.map_to_image(QPointF(self.divider_x(), 0.0)).x()
            split = at.x() + (split_ref - center.x()) * scale
            left = area.intersected(QRectF(area.left(), area.top(),
                                           max(split - area.left(), 0.0), area.height()))
            right = area.intersected(QRectF(split, area.top(),
                                            max(area.right() - split, 0.0), area.height()))
            self._draw(painter, self._wipe_before, left, mapping)
            self._draw_layers(painter, right, mapping)
        else:
            self._draw_layers(painter, area, mapping)

    def _draw_layers(self, painter: QPainter, area: QRectF,
                     mapping: tuple[QPointF, QPointF, float, float]) -> None:
        """The image, and the blend's top over it at its opacity."""
        assert self._image is not None
        top, opacity = self._blend_top, self._blend_opacity
        if top is None or opacity <= 0.0:
            self._draw(painter, self._image, area, mapping)
        elif opacity >= 1.0:
            self._draw(painter, top, area, mapping)
        else:
            self._draw(painter, self._image, area, mapping)
            painter.save()
            painter.setOpacity(opacity)
            self._draw(painter, top, area, mapping, checker=False)
            painter.restore()

    def _draw(self, painter: QPainter, image: QImage, area: QRectF,
              mapping: tuple[QPointF, QPointF, float, float], *, checker: bool = True) -> None:
        """Draw the part of `image` that falls into widget rectangle `area`."""
        if image.isNull() or area.isEmpty():
            return
        center, at, scale, smooth_below = mapping
        ref = self._state.reference
        visible_ref = QRectF(center + (area.topLeft() - at) / scale,
                             center + (area.bottomRight() - at) / scale)
        visible_ref = visible_ref.intersected(QRectF(0, 0, ref.width(), ref.height()))
        if visible_ref.isEmpty():
            return
        target = QRectF((visible_ref.topLeft() - center) * scale + at,
                        (visible_ref.bottomRight() - center) * scale + at)
        dpr = self.devicePixelRatioF()
        source_image = self._level_for(image, target.width() * dpr,
                                       visible_ref.width() * image.width() / ref.width())
        sx = source_image.width() / ref.width()
        sy = source_image.height() / ref.height()
        source = QRectF(visible_ref.x() * sx, visible_ref.y() * sy,
                        visible_ref.width() * sx, visible_ref.height() * sy)
        if checker and image.hasAlphaChannel():
            if self._checker is None:
                self._checker = _checker_brush(self.palette())
            painter.fillRect(target, self._checker)
        physical_zoom = scale * dpr * ref.width() / image.width()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              physical_zoom < smooth_below)
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

    def on_divider(self, pos: QPointF) -> bool:
        """Whether widget position `pos` grabs the wipe divider."""
        return self.is_wipe() and abs(pos.x() - self.divider_x()) <= DIVIDER_GRAB

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            event.ignore()
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self.on_divider(pos):
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
        elif self.on_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.ArrowCursor)
        self.cursorMoved.emit(self.map_to_image(pos) if self._state.has_reference() else None)
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:
        self.cursorMoved.emit(None)
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging_divider = False
        self._drag_last = None
        self.setCursor(Qt.CursorShape.SplitHCursor if self.on_divider(event.position())
                       else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click: 100 % around the clicked point, or back to fit when not fitted."""
        if event.button() != Qt.MouseButton.LeftButton or not self._state.has_reference() \
                or self.on_divider(event.position()):
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
