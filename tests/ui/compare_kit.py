"""Helpers for the compare view's tests: pictures, waiting on the qasync loop, real events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication

from desktop.ui.compare_view import CompareItem, CompareView
from desktop.ui.image_canvas import ImageCanvas

BEFORE_COLOUR = QColor(200, 40, 40)
CELL_COLOURS = [QColor(40, 60, 200), QColor(40, 180, 60), QColor(230, 200, 40)]


def solid(width: int, height: int, colour: QColor) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(colour)
    return image


def with_rect(image: QImage, rect: QRect, colour: QColor) -> QImage:
    changed = image.copy()
    painter = QPainter(changed)
    painter.fillRect(rect, colour)
    painter.end()
    return changed


def from_array(rgb: np.ndarray) -> QImage:
    height, width = rgb.shape[:2]
    data = np.ascontiguousarray(rgb[..., :3])
    return QImage(data.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def same_colour(a: QColor, b: QColor, tolerance: int = 3) -> bool:
    return all(abs(x - y) <= tolerance for x, y in
               ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue())))


def rendered(canvas: ImageCanvas, image_point: QPointF) -> QColor:
    """The colour the pane shows at a point of the reference pixel space."""
    shot = canvas.grab().toImage()
    at = canvas.map_from_image(image_point)
    return shot.pixelColor(int(at.x()), int(at.y()))


def hover(canvas: ImageCanvas, image_point: QPointF) -> QPoint:
    """Move the mouse (a real move event) over the reference point; the widget position."""
    at = canvas.map_from_image(image_point).toPoint()
    event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(at), canvas.mapToGlobal(QPointF(at)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)
    return at


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the qasync loop run (workers, their callbacks) until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def three_providers() -> list[CompareItem]:
    names = ["FitInView", "TryonAPI", "Local"]
    return [CompareItem(solid(400, 300, colour), f"{name} · tryon", f"label {i}",
                        job_id=f"job-{i}", provider=name, variation="Variation 1")
            for i, (name, colour) in enumerate(zip(names, CELL_COLOURS, strict=True))]


def open_view(qtbot) -> Iterator[CompareView]:  # type: ignore[no-untyped-def]
    """A shown compare view (the body of each test module's `view` fixture)."""
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.tools().blinker.stop()
    for task in list(widget._tasks):
        task.cancel()


def fill_grid(view: CompareView) -> CompareView:
    """The before and three providers' results in a grid."""
    view.set_before(solid(200, 150, BEFORE_COLOUR))
    items = three_providers()
    view.set_outputs(items)
    view.set_grid(items)
    return view


def focus(qtbot, view: CompareView) -> None:  # type: ignore[no-untyped-def]
    """Put the keyboard focus into the view (its keys work only there)."""
    view.activateWindow()
    target = view.canvases()[-1]
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
