"""The multi-provider grid: the before and up to eight results in synced cells.

The grid has a selected cell, marked with a 3-pixel frame in the theme's highlight colour and
announced through its accessible description, and a pair (A and B: the before and the
selected cell, or two cells picked with Ctrl+click). Side by side shows every cell; the other
modes show the pair in one large pane on this page, under a bar that names the pair and leads
back to the grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.compare_view.model import BEFORE_CELL, Side
from desktop.ui.compare_view.pair_pane import PairPane
from desktop.ui.image_canvas import ImageCanvas

FRAME = 3  # px of the selection frame

NO_IMAGE = {True: "No input image to show.",
            False: "This result has no image to show: it is empty or could not be decoded. "
                   "Open it from history or run it again."}


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" to the width it gets, never widening its
    window; the whole text is its tooltip."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(1)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                                   max(self.width(), 40)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()


class CellFrame(QWidget):
    """A grid cell: a pane inside a frame that turns the highlight colour when selected."""

    def __init__(self, canvas: ImageCanvas, parent: QWidget) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._selected = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(FRAME, FRAME, FRAME, FRAME)
        layout.addWidget(canvas)

    def set_selected(self, on: bool) -> None:
        if on != self._selected:
            self._selected = on
            self.update()

    def is_selected(self) -> bool:
        return self._selected

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._selected:
            return
        painter = QPainter(self)
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FRAME)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.drawRect(QRectF(self.rect()).adjusted(FRAME / 2, FRAME / 2, -FRAME / 2,
                                                      -FRAME / 2))
        painter.end()


class GridPage(QWidget):
    """See the module docstring. `cellClicked(index, ctrl)`: index -1 is the before."""

    cellClicked = Signal(int, bool)

    def __init__(self, make_canvas: Callable[[QWidget, str, str], ImageCanvas],
                 back: QAction, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("compareGrid")
        self.setAccessibleName("Comparison grid")
        self._make_canvas = make_canvas
        self._frames: list[CellFrame] = []
        self._columns = 1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)

        self.bar = QWidget(self)
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(4, 0, 4, 0)
        self.back_button = QToolButton(self.bar)
        self.back_button.setObjectName("compareBackToGrid")
        self.back_button.setDefaultAction(back)
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.back_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        bar.addWidget(self.back_button)
        self.caption = ElidedLabel(self.bar)
        self.caption.setObjectName("compareGridPairCaption")
        bar.addWidget(self.caption, 1)
        layout.addWidget(self.bar)

        self.stack = QStackedWidget(self)
        self.cells_page = QWidget(self.stack)
        self.cells_layout = QGridLayout(self.cells_page)
        self.cells_layout.setContentsMargins(0, 0, 0, 0)
        self.cells_layout.setSpacing(0)
        self.stack.addWidget(self.cells_page)
        self.pair = PairPane(make_canvas, ("compareGridPairA", "compareGridPairB"), self.stack)
        self.stack.addWidget(self.pair)
        layout.addWidget(self.stack, 1)
        self.bar.hide()

    # ----- cells

    def set_cells(self, sides: list[Side]) -> None:
        """Replace the cells: sides[0] is the before, then each result."""
        for frame in self._frames:
            frame.canvas.detach()
            self.cells_layout.removeWidget(frame)
            frame.deleteLater()
        self._frames = []
        if not sides:
            return
        self._columns = math.ceil(math.sqrt(len(sides)))
        for position, side in enumerate(sides):
            canvas = self._make_canvas(self.cells_page, f"compareGridCell{position}",
                                       f"{side.name} in the comparison grid")
            canvas.set_image(side.image)
            canvas.set_labels(side.name, side.note)
            canvas.set_title(side.name)
            if side.image is None:
                canvas.set_message(NO_IMAGE[position == 0])
            canvas.installEventFilter(self)
            frame = CellFrame(canvas, self.cells_page)
            self.cells_layout.addWidget(frame, position // self._columns,
                                        position % self._columns)
            self._frames.append(frame)
        for column in range(self.cells_layout.columnCount()):
            self.cells_layout.setColumnStretch(column, 1 if column < self._columns else 0)
        rows = math.ceil(len(sides) / self._columns)
        for row in range(self.cells_layout.rowCount()):
            self.cells_layout.setRowStretch(row, 1 if row < rows else 0)

    def set_before(self, image: QImage | None) -> None:
        if self._frames:
            first = self._frames[0].canvas
            first.set_image(image)
            first.set_message("" if image is not None else NO_IMAGE[True])

    def set_images(self, images: list[QImage | None]) -> None:
        """The pictures the cells draw (their display copies once made)."""
        for frame, image in zip(self._frames, images, strict=False):
            if frame.canvas.image() is not image:
                frame.canvas.set_image(image)

    def cells(self) -> list[ImageCanvas]:
        return [frame.canvas for frame in self._frames]

    def frames(self) -> list[CellFrame]:
        return list(self._frames)

    def columns(self) -> int:
        return self._columns

    def mark(self, selected: int, pair: tuple[int, int], notes: list[str]) -> None:
        """Frame the selected cell, tag the pair's cells A and B, describe them for screen
        readers. Indices are cell indices (-1 the before)."""
        count = len(self._frames)
        for position, frame in enumerate(self._frames):
            index = position - 1
            frame.set_selected(index == selected)
            role = "A" if index == pair[0] else "B" if index == pair[1] else ""
            note = notes[position] if position < len(notes) else ""
            left, _right = frame.canvas.labels()
            frame.canvas.set_labels(left, " · ".join(t for t in (role, note) if t))
            state = ["selected"] if index == selected else []
            if role:
                state.append(f"compared as {role}")
            frame.canvas.setAccessibleDescription(
                f"Cell {position + 1} of {count}" + (f", {', '.join(state)}" if state else ""))
        if 0 <= selected + 1 < count:
            name = self._frames[selected + 1].canvas.labels()[0]
            self.setAccessibleDescription(f"Selected: {name}, cell {selected + 2} of {count}")

    # ----- pages

    def show_cells(self) -> None:
        self.bar.hide()
        self.stack.setCurrentWidget(self.cells_page)

    def show_pair_page(self, a: str, b: str) -> None:
        self.caption.set_full_text(f"Comparing {a} (A) with {b} (B). Ctrl+click cells in the "
                                   "grid to compare two others.")
        self.bar.show()
        self.stack.setCurrentWidget(self.pair)

    def showing_pair(self) -> bool:
        return self.stack.currentWidget() is self.pair

    # ----- clicks

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent) \
                and event.button() == Qt.MouseButton.LeftButton:
            for position, frame in enumerate(self._frames):
                if frame.canvas is watched:
                    ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                    self.cellClicked.emit(position - 1, ctrl)
                    break
        return False


def highlight_colour(widget: QWidget) -> QColor:
    return widget.palette().color(QPalette.ColorRole.Highlight)


__all__ = ["BEFORE_CELL", "FRAME", "CellFrame", "GridPage", "highlight_colour"]
