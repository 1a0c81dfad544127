"""The results grid of a batch: the matrix's rows x columns, the before image first, column
headers "variant · provider", row headers the input's name.

Every cell is an `ImageCanvas` (the compare view's pane) with its own `ViewState`; a
`SyncedViews` keeps them showing the same spot: zoom relative to each cell's fit, and the
centre as a fraction of each image, so rows of different sizes still line up. Ctrl+wheel (or
the toolbar) zooms every cell, a drag pans them all, the plain wheel scrolls the grid. Cells
that have no result yet show their state (waiting, running, failed, needs attention, over
budget, cannot run) with the reason on hover; a click picks the cell (`cellActivated`).

Pictures are decoded off the GUI thread, two at a time, and only for the cells on screen: a
small copy sized for the cell, a larger one for the cells in view once zoomed in; copies of
cells far off screen are dropped when the grid holds more than `CACHE_PIXELS`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import shiboken6
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontMetrics,
    QHelpEvent,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop.core import imaging
from desktop.core.model import JobState
from desktop.ui.batch_grid_data import CellData, CellImage, GridData, RowData
from desktop.ui.batch_words import CellKind
from desktop.ui.image_canvas import BUTTON_STEP, MAX_SCALE, MIN_SCALE, ImageCanvas, ViewState
from desktop.ui.qimages import qimage_from_bytes
from desktop.ui.state_colors import is_dark, state_color
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: The grid's picture decodes run in threads of their own: a big grid queues dozens, and in
#: asyncio's shared pool they would hold up the quick history lookups a click on a cell makes.
_DECODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="grid-decode")

HELP = ("Click a cell to show its job below. Ctrl+wheel (or − and +) zooms every cell, a drag "
        "pans them all, the wheel scrolls the grid, a double-click switches between fit and "
        "100 %.")
#: Cells' sides in logical pixels (the slider's range) and the gap between them.
MIN_CELL = 120
MAX_CELL = 480
DEFAULT_CELL = 220
GAP = 4
ROW_HEADER = 120
#: Decodes at the same time (the machine has other work too).
DECODES_AT_ONCE = 2
#: Decoded pixels the grid keeps in all (RGBA: 4 bytes each); beyond, far cells let go.
CACHE_PIXELS = 48_000_000
#: The most pixels one zoomed-in cell decodes.
MAX_CELL_PIXELS = 8_000_000

KIND_STATES: dict[str, JobState] = {
    CellKind.PENDING: JobState.QUEUED,
    CellKind.RUNNING: JobState.RUNNING,
    CellKind.FAILED: JobState.FAILED,
    CellKind.ATTENTION: JobState.NEEDS_ATTENTION,
    CellKind.OVER_BUDGET: JobState.TIMED_OUT,
    CellKind.REFUSED: JobState.FAILED,
    CellKind.CANCELLED: JobState.CANCELLED,
    CellKind.DONE: JobState.SUCCEEDED,
}


# -- synced views ------------------------------------------------------------------------------
@dataclass
class RelativeView:
    """Where every cell looks: fitted, or a zoom relative to each cell's fit and a centre as
    a fraction of each image."""

    fitting: bool = True
    zoom: float = 1.0
    fx: float = 0.5
    fy: float = 0.5


class SyncedViews:
    """Many ViewStates that follow each other in relative terms."""

    def __init__(self) -> None:
        self.view = RelativeView()
        self._states: list[ViewState] = []
        self._busy = False
        self.listeners: list[object] = []

    def add(self, state: ViewState) -> None:
        self._states.append(state)
        state.subscribe(lambda s=state: self._on_changed(s))
        self.apply(state)

    def clear(self) -> None:
        self._states = []

    def states(self) -> list[ViewState]:
        return list(self._states)

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Changes made inside (a new picture's size, a resized cell) are not the user's:
        they do not move the other cells."""
        was, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = was

    def _on_changed(self, state: ViewState) -> None:
        if self._busy or not state.has_reference() or state.viewport.isEmpty():
            return
        ref = state.reference
        fit = state.fit_scale()
        self.view = RelativeView(state.fitting, state.scale / fit if fit else 1.0,
                                 state.center.x() / ref.width(), state.center.y() / ref.height())
        self._push(skip=state)

    def set_view(self, view: RelativeView) -> None:
        self.view = view
        self._push()

    def _push(self, skip: ViewState | None = None) -> None:
        self._busy = True
        try:
            for other in self._states:
                if other is not skip:
                    self.apply(other)
        finally:
            self._busy = False
        for listener in list(self.listeners):
            listener()  # type: ignore[operator]

    def apply(self, state: ViewState) -> None:
        if not state.has_reference() or state.viewport.isEmpty():
            return
        was, self._busy = self._busy, True
        try:
            view = self.view
            if view.fitting:
                state.fit()
                return
            scale = max(MIN_SCALE, min(MAX_SCALE, view.zoom * state.fit_scale()))
            ref = state.reference
            state.scale = scale
            state.fitting = False
            state.set_center(QPointF(view.fx * ref.width(), view.fy * ref.height()))
        finally:
            self._busy = was


# -- decoding ------------------------------------------------------------------------------------
def natural_size(data: bytes) -> tuple[int, int] | None:
    """An image's upright size from its header, without decoding it."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
            return width, height
    except Exception:  # the decode that follows says what is wrong
        return None


def decode_cell(path: str, budget: int, max_pixels: int
                ) -> tuple[QImage, tuple[int, int]]:
    """A copy of the image at `path` of at most `budget` pixels, and its full size (runs in a
    worker)."""
    with open(path, "rb") as handle:
        data = handle.read()
    image = qimage_from_bytes(data, os.path.basename(path), max_pixels=max_pixels,
                              display_pixels=budget)
    size = natural_size(data) or (image.width(), image.height())
    return image, size


# -- cells ---------------------------------------------------------------------------------------
class GridCell(ImageCanvas):
    """One cell: a result, the before image, or the state of a job without a result."""

    def __init__(self, row: int, col: int, parent: QWidget) -> None:
        self.view_state = ViewState()
        super().__init__(self.view_state, parent)
        self.row = row
        self.col = col  # -1: the before column
        self.kind = CellKind.DONE if col < 0 else CellKind.PENDING
        self.data: CellData | None = None
        self.source: CellImage | None = None
        self.budget = 0  # pixels of the copy shown (0: none)
        self.wanted = 0  # pixels of the copy being decoded
        self.failed = ""
        self.selected = False
        self.seen_at = 0.0
        self.setMinimumSize(MIN_CELL // 2, MIN_CELL // 2)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms (every cell follows); the plain wheel scrolls the grid."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
        else:
            event.ignore()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        dark = is_dark(self.palette())
        if self.kind != CellKind.DONE:
            painter.fillRect(QRect(0, 0, self.width(), 4),
                             state_color(KIND_STATES.get(self.kind, JobState.QUEUED), dark))
        if self.selected:
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 3)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))
        painter.end()


class _Headers(QWidget):
    """Column titles (horizontal) or row names (vertical), painted at the grid's scroll
    offset so they stay in place while the cells scroll."""

    def __init__(self, horizontal: bool, parent: QWidget) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.titles: list[tuple[str, str]] = []  # (first line, second line)
        self.tips: list[str] = []
        self.step = DEFAULT_CELL + GAP
        self.offset = 0
        self.setMouseTracking(True)

    def set_titles(self, titles: list[tuple[str, str]], tips: list[str]) -> None:
        self.titles, self.tips = titles, tips
        self.update()

    def set_geometry(self, step: int, offset: int) -> None:
        self.step, self.offset = step, offset
        self.update()

    def index_at(self, pos: QPoint) -> int:
        along = (pos.x() if self.horizontal else pos.y()) + self.offset
        index = along // self.step
        return index if 0 <= index < len(self.titles) else -1

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.index_at(event.pos())
            if index >= 0 and self.tips[index]:
                QToolTip.showText(event.globalPos(), self.tips[index], self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        metrics = QFontMetrics(self.font())
        bold = self.font()
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        line = metrics.height()
        for index, (first, second) in enumerate(self.titles):
            start = index * self.step - self.offset
            if self.horizontal:
                box = QRect(start + 4, 2, self.step - GAP - 8, self.height() - 4)
                if box.right() < 0 or box.left() > self.width():
                    continue
            else:
                box = QRect(6, start + 4, self.width() - 12, self.step - GAP - 8)
                if box.bottom() < 0 or box.top() > self.height():
                    continue
            painter.setFont(bold)
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            align = Qt.AlignmentFlag.AlignHCenter if self.horizontal else \
                Qt.AlignmentFlag.AlignLeft
            top = box.top()
            for text in _two_lines(first, bold_metrics, box.width()):
                painter.drawText(QRect(box.left(), top, box.width(), line),
                                 align | Qt.AlignmentFlag.AlignTop, text)
                top += line
            if second:
                painter.setFont(self.font())
                painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                shown = metrics.elidedText(second, Qt.TextElideMode.ElideRight, box.width())
                painter.drawText(QRect(box.left(), top + 1, box.width(), line),
                                 align | Qt.AlignmentFlag.AlignTop, shown)
        painter.end()


def _two_lines(text: str, metrics: QFontMetrics, width: int) -> list[str]:
    """`text` on one line, or broken after a comma onto two, each elided to `width`."""
    if metrics.horizontalAdvance(text) <= width or ", " not in text:
        return [metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, width)]
    parts = text.split(", ")
    best = 1
    for cut in range(1, len(parts)):
        if metrics.horizontalAdvance(", ".join(parts[:cut]) + ",") <= width:
            best = cut
    first, rest = ", ".join(parts[:best]) + ",", ", ".join(parts[best:])
    return [metrics.elidedText(first, Qt.TextElideMode.ElideMiddle, width),
            metrics.elidedText(rest, Qt.TextElideMode.ElideMiddle, width)]


class BatchGrid(QWidget):
    """See the module docstring."""

    #: A cell was clicked: (row, column of the matrix; -1 for the before column).
    cellActivated = Signal(int, int)
    closeRequested = Signal()
    compareRequested = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 max_pixels: int = imaging.DEFAULT_MAX_PIXELS) -> None:
        super().__init__(parent)
        self.setObjectName("batchGrid")
        self.setAccessibleName("Batch results grid")
        self._max_pixels = max_pixels
        self.data: GridData | None = None
        self.cells: list[list[GridCell]] = []  # [row][0] is the before cell
        self.sync = SyncedViews()
        self.sync.listeners.append(self._on_view_changed)
        self._cell_size = QSize(DEFAULT_CELL, DEFAULT_CELL)
        self._sized_by_user = False
        self._selected: tuple[int, int] | None = None
        self._tasks = TaskSet("Batch grid")
        self._slots = asyncio.Semaphore(DECODES_AT_ONCE)
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(60)
        self._visible_timer.timeout.connect(self._load_visible)
        self._build()

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        self.title = QLabel(self)
        self.title.setObjectName("batchGridTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setToolTip(HELP)
        bar.addWidget(self.title, 1)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setObjectName("batchGridCellSize")
        self.size_slider.setAccessibleName("Cell size")
        self.size_slider.setRange(MIN_CELL, MAX_CELL)
        self.size_slider.setValue(DEFAULT_CELL)
        self.size_slider.setFixedWidth(90)
        self.size_slider.setToolTip("Cell size")
        self.size_slider.valueChanged.connect(self._size_changed)
        bar.addWidget(self.size_slider)
        bar.addSpacing(8)
        self.zoom_out = self._tool("−", "batchGridZoomOut", "Zoom out (every cell)",
                                   lambda: self.zoom_by(1 / BUTTON_STEP))
        self.zoom_label = QLabel("", self)
        self.zoom_label.setObjectName("batchGridZoom")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance(
            "10000 %") + 6)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in = self._tool("+", "batchGridZoomIn", "Zoom in (every cell)",
                                  lambda: self.zoom_by(BUTTON_STEP))
        self.fit_button = self._tool("Fit", "batchGridFit", "Fit every image in its cell",
                                     self.zoom_fit)
        self.actual_button = self._tool("1:1", "batchGridActual",
                                        "100 %: one image pixel per screen pixel",
                                        self.zoom_actual)
        for widget in (self.zoom_out, self.zoom_label, self.zoom_in, self.fit_button,
                       self.actual_button):
            bar.addWidget(widget)
        bar.addSpacing(8)
        self.compare_button = QToolButton(self)
        self.compare_button.setText("Compare")
        self.compare_button.setObjectName("batchGridCompare")
        self.compare_button.setToolTip("Show the picked cell's job in the compare view")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self.compareRequested.emit)
        bar.addWidget(self.compare_button)
        self.close_button = QToolButton(self)
        self.close_button.setText("Close")
        self.close_button.setObjectName("batchGridClose")
        self.close_button.setToolTip("Back to the compare view")
        self.close_button.clicked.connect(self.closeRequested.emit)
        bar.addWidget(self.close_button)
        layout.addLayout(bar)
        second = QHBoxLayout()
        second.setContentsMargins(6, 0, 6, 0)
        self.summary = QLabel(self)
        self.summary.setObjectName("batchGridSummary")
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        second.addWidget(self.summary, 1)
        layout.addLayout(second)

        body = QGridLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.column_header = _Headers(True, self)
        self.column_header.setObjectName("batchGridColumns")
        line = self.fontMetrics().height()
        self.column_header.setFixedHeight(3 * line + 8)
        self.row_header = _Headers(False, self)
        self.row_header.setObjectName("batchGridRows")
        self.row_header.setFixedWidth(ROW_HEADER)
        corner = QWidget(self)
        corner.setFixedSize(ROW_HEADER, 3 * line + 8)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("batchGridScroll")
        self.scroll.setWidgetResizable(False)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.page = QWidget()
        self.page.setObjectName("batchGridPage")
        self.grid_layout = QGridLayout(self.page)
        self.grid_layout.setContentsMargins(0, 0, 0, 0)
        self.grid_layout.setSpacing(GAP)
        self.scroll.setWidget(self.page)
        self.scroll.horizontalScrollBar().valueChanged.connect(self._scrolled)
        self.scroll.verticalScrollBar().valueChanged.connect(self._scrolled)
        body.addWidget(corner, 0, 0)
        body.addWidget(self.column_header, 0, 1)
        body.addWidget(self.row_header, 1, 0)
        body.addWidget(self.scroll, 1, 1)
        body.setRowStretch(1, 1)
        body.setColumnStretch(1, 1)
        layout.addLayout(body, 1)
        self.placeholder = QLabel("", self)
        self.placeholder.setObjectName("batchGridPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.hide()
        layout.addWidget(self.placeholder)

    def _tool(self, text: str, name: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.clicked.connect(lambda _c=False: slot())  # type: ignore[operator]
        return button

    # -- content ---------------------------------------------------------------------------------
    def batch_id(self) -> str | None:
        return self.data.batch.id if self.data is not None else None

    def set_data(self, data: GridData, summary: str = "") -> None:
        """Show a batch's grid; the same batch again updates the cells that changed."""
        same = (self.data is not None and self.data.batch.id == data.batch.id
                and len(self.data.rows) == len(data.rows)
                and len(self.data.columns) == len(data.columns))
        self.data = data
        self.title.setText(data.batch.name)
        self.summary.setText(summary)
        self.summary.setToolTip(f"{summary}\n{HELP}" if summary else HELP)
        if not same:
            self._rebuild(data)
        for r, row in enumerate(data.rows):
            self._set_before(self.cells[r][0], row)
            for c, cell in enumerate(data.cells[r]):
                self._set_cell(self.cells[r][c + 1], cell)
        self._schedule_visible()

    def _rebuild(self, data: GridData) -> None:
        for row in self.cells:
            for cell in row:
                cell.detach()
                self.grid_layout.removeWidget(cell)
                cell.deleteLater()
        self.cells = []
        self.sync.clear()
        self.sync.view = RelativeView()
        self._selected = None
        self.compare_button.setEnabled(False)
        if not self._sized_by_user:
            self._auto_size(data)
        for r in range(len(data.rows)):
            row_cells = []
            for c in range(len(data.columns) + 1):
                cell = GridCell(r, c - 1, self.page)
                cell.setObjectName(f"batchCell_{r}_{c - 1}")
                cell.setFixedSize(self._cell_size)
                self._set_viewport(cell, self._cell_size)
                cell.activated.connect(lambda r=r, c=c - 1: self._activated(r, c))
                cell.resized.connect(lambda cell=cell: self._cell_resized(cell))
                self.grid_layout.addWidget(cell, r, c)
                cell.show()
                self.sync.add(cell.view_state)
                row_cells.append(cell)
            self.cells.append(row_cells)
        self._size_page()
        self.row_header.set_titles([(row.name, "") for row in data.rows],
                                   [row.source for row in data.rows])
        self.column_header.set_titles(
            [("Before", "")] + [(variant, provider) for variant, provider in data.columns],
            ["The input of each row", *data.column_titles()])
        self._scrolled()
        self.placeholder.setVisible(not data.rows)
        self.placeholder.setText("This batch has no rows." if not data.rows else "")
        self._update_zoom_label()

    def _auto_size(self, data: GridData) -> None:
        """A first cell size that fits the columns in the width where it can."""
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        width = max(1, self.scroll.width() - bar)
        columns = len(data.columns) + 1
        side = (width - GAP * columns) // max(1, columns)
        side = max(MIN_CELL, min(DEFAULT_CELL + 60, side))
        aspect = 4 / 3 if data.batch.matrix.role == "person" else 3 / 4
        self._cell_size = QSize(side, max(MIN_CELL // 2, round(side * aspect)))
        self.size_slider.blockSignals(True)
        self.size_slider.setValue(side)
        self.size_slider.blockSignals(False)

    def _size_changed(self, side: int) -> None:
        self._sized_by_user = True
        aspect = self._cell_size.height() / max(1, self._cell_size.width())
        self._apply_size(QSize(side, max(MIN_CELL // 2, round(side * aspect))))

    def _apply_size(self, size: QSize) -> None:
        if size == self._cell_size and all(c.size() == size for r in self.cells for c in r):
            return
        self._cell_size = size
        for row in self.cells:
            for cell in row:
                cell.setFixedSize(self._cell_size)
                self._set_viewport(cell, self._cell_size)
        self._size_page()
        self._scrolled()

    def _size_page(self) -> None:
        """The page holds every cell: its size follows from the cell size (the layout of
        cells just made is not done yet)."""
        rows = len(self.cells)
        columns = len(self.cells[0]) if self.cells else 0
        width = columns * (self._cell_size.width() + GAP) - GAP if columns else 0
        height = rows * (self._cell_size.height() + GAP) - GAP if rows else 0
        self.page.setFixedSize(max(0, width), max(0, height))

    def _set_before(self, cell: GridCell, row: RowData) -> None:
        cell.kind = CellKind.DONE
        cell.setToolTip(row.source)
        cell.set_labels("", "")
        if row.before is None:
            self._drop_image(cell)
            cell.source = None
            cell.set_message(row.note or "No input image to show.")
            return
        if cell.source != row.before:
            cell.source = row.before
            self._reset_image(cell, row.before)
        cell.set_message(cell.failed)

    def _set_cell(self, cell: GridCell, data: CellData) -> None:
        cell.data = data
        cell.kind = data.kind
        cell.setToolTip(data.reason)
        more = f"×{data.outputs}" if data.outputs > 1 else ""
        cell.set_labels("", more)
        if more and not data.reason:
            cell.setToolTip(f"{data.outputs} results: the cell shows the first; the result "
                            "panel and the compare view show them all.")
        if data.image is None:
            self._drop_image(cell)
            cell.source = None
            cell.set_message(data.words)
            return
        if cell.source != data.image:
            cell.source = data.image
            self._reset_image(cell, data.image)
        cell.set_message(cell.failed or ("" if cell.image() is not None else "Loading…"))
        cell.update()

    def _reset_image(self, cell: GridCell, source: CellImage) -> None:
        self._drop_image(cell)
        cell.failed = ""
        if source.size is not None:
            with self.sync.quiet():
                cell.view_state.set_reference(QSize(*source.size), refit=False)
            self.sync.apply(cell.view_state)

    def _drop_image(self, cell: GridCell) -> None:
        cell.set_image(None)
        cell.budget = 0
        cell.wanted = 0

    # -- picking ---------------------------------------------------------------------------------
    def _activated(self, row: int, col: int) -> None:
        self.select(row, col)
        self.cellActivated.emit(row, col)

    def select(self, row: int, col: int) -> None:
        if self._selected is not None:
            old = self.cell(*self._selected)
            if old is not None:
                old.set_selected(False)
        cell = self.cell(row, col)
        self._selected = (row, col) if cell is not None else None
        if cell is not None:
            cell.set_selected(True)
        data = cell.data if cell is not None else None
        self.compare_button.setEnabled(data is not None and data.job_id is not None)

    def selected(self) -> tuple[int, int] | None:
        return self._selected

    def cell(self, row: int, col: int) -> GridCell | None:
        """The cell of a row and a matrix column (-1: the before image)."""
        if 0 <= row < len(self.cells) and -1 <= col < len(self.cells[row]) - 1:
            return self.cells[row][col + 1]
        return None

    def column_titles(self) -> list[str]:
        return [" · ".join(p for p in t if p) for t in self.column_header.titles]

    def row_titles(self) -> list[str]:
        return [t[0] for t in self.row_header.titles]

    # -- zoom ------------------------------------------------------------------------------------
    def zoom_fit(self) -> None:
        self.sync.set_view(RelativeView())

    def zoom_by(self, factor: float) -> None:
        view = self.sync.view
        self.sync.set_view(RelativeView(False, view.zoom * factor, view.fx, view.fy))

    def zoom_actual(self) -> None:
        """One image pixel per screen pixel in the first result cell (the others follow)."""
        state = self._reference_state()
        if state is None:
            return
        view = self.sync.view
        target = 1.0 / self.devicePixelRatioF()
        self.sync.set_view(RelativeView(False, target / max(1e-9, state.fit_scale()),
                                        view.fx, view.fy))

    def _reference_state(self) -> ViewState | None:
        ordered = [c for row in self.cells for c in row[1:]] + [row[0] for row in self.cells]
        for cell in ordered:
            if cell.view_state.has_reference() and not cell.view_state.viewport.isEmpty():
                return cell.view_state
        return None

    def zoom_percent(self) -> int | None:
        state = self._reference_state()
        if state is None:
            return None
        return round(state.scale * self.devicePixelRatioF() * 100)

    def _on_view_changed(self) -> None:
        self._update_zoom_label()
        self._schedule_visible()

    def _update_zoom_label(self) -> None:
        percent = self.zoom_percent()
        self.zoom_label.setText("" if percent is None else f"{percent} %")

    def _cell_resized(self, cell: GridCell) -> None:
        self._set_viewport(cell, cell.size())

    def _set_viewport(self, cell: GridCell, size: QSize) -> None:
        with self.sync.quiet():
            cell.view_state.set_viewport(QSizeF(size))
        self.sync.apply(cell.view_state)

    # -- scrolling and loading -------------------------------------------------------------------
    def _scrolled(self, *_args: object) -> None:
        step_x = self._cell_size.width() + GAP
        step_y = self._cell_size.height() + GAP
        self.column_header.set_geometry(step_x, self.scroll.horizontalScrollBar().value())
        self.row_header.set_geometry(step_y, self.scroll.verticalScrollBar().value())
        self._schedule_visible()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.data is not None and not self._sized_by_user:
            self._auto_size(self.data)
            self._apply_size(self._cell_size)
        self._schedule_visible()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.data is not None and not self._sized_by_user:
            self._auto_size(self.data)
            self._apply_size(self._cell_size)
        self._schedule_visible()

    def _schedule_visible(self) -> None:
        self._visible_timer.start()

    def visible_cells(self) -> list[GridCell]:
        """The cells on screen, and a row or column of margin around them."""
        step_x = self._cell_size.width() + GAP
        step_y = self._cell_size.height() + GAP
        size = self.scroll.viewport().size()
        left = self.scroll.horizontalScrollBar().value()
        top = self.scroll.verticalScrollBar().value()
        first_col = max(0, left // step_x - 1)
        last_col = (left + size.width()) // step_x + 1
        first_row = max(0, top // step_y - 1)
        last_row = (top + size.height()) // step_y + 1
        return [cell for row in self.cells[first_row:last_row + 1]
                for cell in row[first_col:last_col + 1]]

    def _budget(self, cell: GridCell) -> int:
        ratio = self.devicePixelRatioF()
        area = cell.width() * cell.height() * ratio * ratio
        zoom = 1.0 if self.sync.view.fitting else max(1.0, self.sync.view.zoom)
        return int(min(MAX_CELL_PIXELS, max(256 * 256, 2 * area * zoom * zoom)))

    def _load_visible(self) -> None:
        if not shiboken6.isValid(self):
            return
        now = time.monotonic()
        for cell in self.visible_cells():
            cell.seen_at = now
            if cell.source is None or cell.failed:
                continue
            budget = self._budget(cell)
            if max(cell.budget, cell.wanted) < budget * 0.8 or (
                    cell.budget == 0 and cell.wanted == 0):
                cell.wanted = budget
                self._tasks.spawn(self._decode(cell, cell.source, budget))
        self._trim()

    async def _decode(self, cell: GridCell, source: CellImage, budget: int) -> None:
        async with self._slots:
            if not shiboken6.isValid(cell) or cell.source != source or cell.wanted != budget:
                return  # replaced meanwhile
            try:
                image, size = await asyncio.get_running_loop().run_in_executor(
                    _DECODERS, decode_cell, source.path, budget, self._max_pixels)
            except (OSError, imaging.ImageError) as exc:
                if shiboken6.isValid(cell) and cell.source == source:
                    cell.failed = f"Cannot show it: {getattr(exc, 'strerror', None) or exc}"
                    cell.wanted = 0
                    cell.set_message(cell.failed)
                return
        if not shiboken6.isValid(cell) or cell.source != source or cell.wanted != budget:
            return
        state = cell.view_state
        if state.reference != QSize(*size):
            with self.sync.quiet():
                state.set_reference(QSize(*size), refit=False)
        cell.set_image(image)
        cell.budget = image.width() * image.height()
        cell.wanted = 0
        cell.set_message("")
        self.sync.apply(state)
        self._update_zoom_label()

    def _trim(self) -> None:
        """Let go of the copies of cells far off screen once the grid holds too much."""
        held = [c for row in self.cells for c in row if c.image() is not None]
        total = sum(c.budget for c in held)
        if total <= CACHE_PIXELS:
            return
        visible = set(map(id, self.visible_cells()))
        for cell in sorted(held, key=lambda c: c.seen_at):
            if total <= CACHE_PIXELS * 0.8:
                break
            if id(cell) in visible:
                continue
            total -= cell.budget
            self._drop_image(cell)

    def decoded_pixels(self) -> int:
        return sum(c.budget for row in self.cells for c in row if c.image() is not None)

    async def idle(self) -> None:
        """Wait for the pictures on screen (tests, screenshots)."""
        while self._visible_timer.isActive() or len(self._tasks):
            await self._tasks.join()
            await asyncio.sleep(0.02)

    async def aclose(self) -> None:
        self._visible_timer.stop()
        await self._tasks.aclose()
