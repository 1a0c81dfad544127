"""The compare view in the centre of the window: before and after, zoomed and panned together.

Coordinates: everything is measured in the AFTER image's pixel space (the result currently
shown). A before of another size (the input of a 2x upscale, the 4:3 room of a 16:9 reframe) is
drawn stretched to the after's size, so side by side, wipe, toggle and difference all line up
pixel for pixel. `view_center()` and the `anchor` of `set_zoom` are points in that space. With
no result yet, the before alone defines the space.

Zoom: `zoom()` is the scale from image pixels to widget (device-independent) pixels. "100 %"
(`zoom_actual`, the percentage in the toolbar) means one image pixel per *physical* screen
pixel, so on a 2x display `zoom()` is 0.5 at 100 %: that is what judging a result's sharpness
needs.

What keeps and what re-fits: the first image fits the view. `set_mode` and `set_current` keep
the zoom and the centre. `set_outputs`, `set_before` and `set_grid` keep them too when the
space keeps its pixel size (a re-run over the same input compares the same spot), and re-fit
when it changes (a new job of another size). Until the user zooms or pans, the view stays
fitted (window resizes, the wider single pane of wipe mode); after that, scale and centre are
kept exactly.

Keys (while the view has focus): 1/2/3/4 modes, F or Ctrl+0 fit, Ctrl+1 100 %, Ctrl++ and
Ctrl+- zoom, Space flips in toggle mode (a tap flips, holding shows the other image until
release), Left/Right walk the output strip, Shift+Left/Right move the wipe divider.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QIcon,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui import qt_compat
from desktop.ui.image_canvas import BUTTON_STEP, ImageCanvas, ViewState, build_pyramid
from desktop.ui.tasks import TaskSet
from desktop.ui.video_view import VideoView

qt_compat.install()  # paints and emits all the time: needs the PySide6 6.12 refcount fix
log = logging.getLogger(__name__)

DIFF_THRESHOLD = 24  # a channel must move by more than this (of 255) to count as changed
DIFF_HIGHLIGHT = (255, 32, 144)  # changed pixels; unchanged ones become a dimmed grey
DIFF_CACHE_SIZE = 4  # (before, after) pairs kept; a 12 MP difference image is 48 MB
DIFF_CHUNK_ROWS = 256
HOLD_SECONDS = 0.25  # Space held longer than this shows the other image only while held
PYRAMID_FROM_SIDE = 1024  # images at least this large get pre-shrunk copies
THUMB_SIZE = QSize(112, 84)
WIPE_KEY_STEP = 0.05


class CompareMode(enum.StrEnum):
    SIDE_BY_SIDE = "side_by_side"
    WIPE = "wipe"
    TOGGLE = "toggle"
    DIFFERENCE = "difference"


MODE_TITLES: dict[CompareMode, tuple[str, str, str]] = {
    # mode: (button text, shortcut, object name)
    CompareMode.SIDE_BY_SIDE: ("Side by side", "1", "compareModeSideBySide"),
    CompareMode.WIPE: ("Wipe", "2", "compareModeWipe"),
    CompareMode.TOGGLE: ("Toggle", "3", "compareModeToggle"),
    CompareMode.DIFFERENCE: ("Difference", "4", "compareModeDifference"),
}


@dataclass(frozen=True)
class CompareItem:
    image: QImage  # already decoded (the window decodes in a worker); a video's poster
    title: str  # e.g. "FitInView · tryon" or "Variation 2"
    label: str = ""  # output label from the provider, may be empty
    #: A video result: the stored file, played in place of the before/after pair.
    video: str = ""
    #: The job it came from ("" for a plain file compared with File > Compare files).
    job_id: str = ""
    #: The provider's title and the variation ("Variation 2"; "" for a single output), for
    #: the grid's labels.
    provider: str = ""
    variation: str = ""


class DifferenceCancelled(Exception):
    """A newer pair replaced the one being compared."""


def _rgba_rows(image: QImage) -> np.ndarray:
    """A (height, width, 4) uint8 view of an RGBA8888 image's pixels (no copy)."""
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)


def compute_difference(before: QImage, after: QImage, threshold: int = DIFF_THRESHOLD,
                       cancelled: Callable[[], bool] | None = None) -> tuple[QImage, float]:
    """The after in dimmed grey with every changed pixel in DIFF_HIGHLIGHT, and the fraction of
    pixels that changed. The before is first scaled to the after's size. Runs in a worker: row
    chunks keep memory bounded on 12 MP images and let a newer request stop this one."""
    fmt = QImage.Format.Format_RGBA8888
    width, height = after.width(), after.height()
    if before.size() != after.size():
        before = before.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)
    # keep the converted images referenced: the arrays below are views into their memory
    after_rgba = after.convertToFormat(fmt)
    before_rgba = before.convertToFormat(fmt)
    after_px = _rgba_rows(after_rgba)
    before_px = _rgba_rows(before_rgba)
    out = np.empty((height, width, 4), dtype=np.uint8)
    highlight = np.array([*DIFF_HIGHLIGHT, 255], dtype=np.uint8)
    changed_count = 0
    for top in range(0, height, DIFF_CHUNK_ROWS):
        if cancelled is not None and cancelled():
            raise DifferenceCancelled
        a = after_px[top : top + DIFF_CHUNK_ROWS].astype(np.int16)
        b = before_px[top : top + DIFF_CHUNK_ROWS].astype(np.int16)
        changed = np.abs(a - b).max(axis=2) > threshold
        changed_count += int(changed.sum())
        wide = a.astype(np.int32)  # 228 * 150 does not fit an int16
        luma = (wide[..., 0] * 77 + wide[..., 1] * 150 + wide[..., 2] * 29) >> 8
        grey = (40 + luma * 45 // 100).astype(np.uint8)
        chunk = out[top : top + DIFF_CHUNK_ROWS]
        chunk[..., 0] = grey
        chunk[..., 1] = grey
        chunk[..., 2] = grey
        chunk[..., 3] = 255
        chunk[changed] = highlight
    image = QImage(out.data, width, height, width * 4, fmt).copy()
    return image, changed_count / max(width * height, 1)


def _usable(image: QImage | None) -> QImage | None:
    return image if image is not None and not image.isNull() else None


def _make_thumbnail(image: QImage, size: QSize) -> QImage:
    return image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


class CompareView(QWidget):
    """Before/after comparison with four modes, an output strip and a multi-provider grid.

    See the module docstring for coordinates, what "100 %" means and when the view re-fits."""

    modeChanged = Signal(str)  # CompareMode value
    currentChanged = Signal(int)  # index of the output shown (strip click / keys)
    differenceReady = Signal()
    #: A grid cell was clicked: the index of its result item (-1 for the before cell).
    gridCellActivated = Signal(int)  # a difference image (or its error) arrived from the worker

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare view")
        self._state = ViewState()
        self._mode = CompareMode.SIDE_BY_SIDE
        self._before: QImage | None = None
        self._items: list[CompareItem] = []
        self._current = -1
        self._grid_items: list[CompareItem] = []
        self._grid_cells: list[ImageCanvas] = []
        self._showing_before = False
        self._space_down_at: float | None = None
        self._placeholder = "Drop images on the left and press Generate"
        self._threshold = DIFF_THRESHOLD
        self._diff_cache: OrderedDict[tuple[int, int, int], tuple[QImage, float]] = \
            OrderedDict()
        self._diff_errors: dict[tuple[int, int, int], str] = {}
        self._diff_key: tuple[int, int, int] | None = None
        self._diff_task: asyncio.Task[None] | None = None
        self._diff_stop = threading.Event()
        self._video: VideoView | None = None  # made when a video is first shown
        self._pyramids: dict[int, list[QImage]] = {}
        self._pyramid_pending: set[int] = set()
        self._thumbs: dict[int, QPixmap] = {}
        self._thumb_pending: set[int] = set()
        self._tasks = TaskSet("Compare view")
        self._shortcuts: list[QShortcut] = []
        self._build()
        self._state.subscribe(self._on_view_changed)
        self._refresh()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._build_toolbar())

        self._stack = QStackedWidget(self)
        self._stack.setObjectName("compareStack")
        self._placeholder_label = QLabel(self._placeholder, self._stack)
        self._placeholder_label.setObjectName("comparePlaceholder")
        self._placeholder_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder_label.setWordWrap(True)
        self._placeholder_label.setMargin(24)
        self._placeholder_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        font = self._placeholder_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self._placeholder_label.setFont(font)
        self._stack.addWidget(self._placeholder_label)

        self._pair_page = QWidget(self._stack)
        pair = QHBoxLayout(self._pair_page)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.setSpacing(3)
        self._before_canvas = self._new_canvas(self._pair_page, "compareBeforePane",
                                               "Before image")
        self._after_canvas = self._new_canvas(self._pair_page, "compareAfterPane",
                                              "Result image")
        self._after_canvas.dividerMoved.connect(lambda _f: self._update_accessible())
        pair.addWidget(self._before_canvas, 1)
        pair.addWidget(self._after_canvas, 1)
        self._stack.addWidget(self._pair_page)

        self._grid_page = QWidget(self._stack)
        self._grid_page.setObjectName("compareGrid")
        self._grid_layout = QGridLayout(self._grid_page)
        self._grid_layout.setContentsMargins(0, 0, 0, 0)
        self._grid_layout.setSpacing(3)
        self._stack.addWidget(self._grid_page)
        layout.addWidget(self._stack, 1)

        self._strip = QListWidget(self)
        self._strip.setObjectName("compareStrip")
        self._strip.setAccessibleName("Outputs of this job")
        self._strip.setViewMode(QListView.ViewMode.IconMode)
        self._strip.setFlow(QListView.Flow.LeftToRight)
        self._strip.setWrapping(False)
        self._strip.setMovement(QListView.Movement.Static)
        self._strip.setResizeMode(QListView.ResizeMode.Adjust)
        self._strip.setIconSize(THUMB_SIZE)
        self._strip.setUniformItemSizes(True)
        self._strip.setWordWrap(False)
        self._strip.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._strip.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        line = self._strip.fontMetrics().height()
        self._strip.setGridSize(QSize(THUMB_SIZE.width() + 24, THUMB_SIZE.height() + line + 14))
        scrollbar = self._strip.horizontalScrollBar().sizeHint().height()
        self._strip.setFixedHeight(THUMB_SIZE.height() + line + 24 + scrollbar)
        self._strip.currentRowChanged.connect(self._on_strip_row)
        self._strip.hide()
        layout.addWidget(self._strip)

        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocusProxy(self._after_canvas)
        self._add_shortcuts()

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.setSpacing(2)
        self._mode_group = QButtonGroup(self)
        self._mode_group.setExclusive(True)
        self._mode_buttons: dict[CompareMode, QToolButton] = {}
        for mode, (text, key, name) in MODE_TITLES.items():
            button = QToolButton(self)
            button.setText(text)
            button.setObjectName(name)
            button.setAccessibleName(f"{text} compare mode")
            button.setToolTip(f"{text} ({key})")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _c=False, m=mode: self.set_mode(m))
            self._mode_group.addButton(button)
            self._mode_buttons[mode] = button
            bar.addWidget(button)
        bar.addSpacing(12)
        self._threshold_spin = QSpinBox(self)
        self._threshold_spin.setObjectName("compareThreshold")
        self._threshold_spin.setAccessibleName("Difference threshold")
        self._threshold_spin.setPrefix("Threshold ")
        self._threshold_spin.setRange(0, 254)
        self._threshold_spin.setValue(DIFF_THRESHOLD)
        self._threshold_spin.setToolTip(
            "A pixel counts as changed when a channel differs by more than this (0-254)")
        self._threshold_spin.valueChanged.connect(self.set_difference_threshold)
        self._threshold_spin.setVisible(False)
        bar.addWidget(self._threshold_spin)
        bar.addStretch(1)
        self._fit_button = self._tool_button("Fit", "compareFit", "Fit the image in the view",
                                             "Fit (F, Ctrl+0)", self.zoom_fit)
        self._actual_button = self._tool_button("1:1", "compareActual",
                                                "Zoom to 100 percent",
                                                "100 %: one image pixel per screen pixel (Ctrl+1)",
                                                self.zoom_actual)
        self._zoom_out_button = self._tool_button("−", "compareZoomOut", "Zoom out",
                                                  "Zoom out (Ctrl+-)", self._zoom_out)
        self._zoom_in_button = self._tool_button("+", "compareZoomIn", "Zoom in",
                                                 "Zoom in (Ctrl++)", self._zoom_in)
        self._zoom_label = QLabel("100 %", self)
        self._zoom_label.setObjectName("compareZoomLabel")
        self._zoom_label.setAccessibleName("Zoom level")
        self._zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._zoom_label.setMinimumWidth(self._zoom_label.fontMetrics().horizontalAdvance(
            "10000 %") + 8)
        for widget in (self._zoom_out_button, self._zoom_label, self._zoom_in_button):
            bar.addWidget(widget)
        bar.addSpacing(8)
        bar.addWidget(self._fit_button)
        bar.addWidget(self._actual_button)
        return bar

    def _tool_button(self, text: str, name: str, accessible: str, tip: str,
                     slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(lambda _c=False: slot())
        return button

    def _add_shortcuts(self) -> None:
        """Shortcuts live while focus is in the compare view, so the digits and F never fight
        text fields elsewhere in the window."""
        bindings: list[tuple[QKeySequence | str, Callable[[], None]]] = [
            (mode_key, lambda m=mode: self.set_mode(m))
            for mode, (_t, mode_key, _n) in MODE_TITLES.items()
        ]
        bindings += [
            ("F", self.zoom_fit), ("Ctrl+0", self.zoom_fit), ("Ctrl+1", self.zoom_actual),
            (QKeySequence.StandardKey.ZoomIn, self._zoom_in), ("Ctrl+=", self._zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self._zoom_out),
        ]
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            self._shortcuts.append(shortcut)

    def remap_keys(self, keys: dict[str, str]) -> None:
        """Move shortcuts to other keys, "" drops one: review mode rates with the digits and
        fails with F, so there {"1": "Alt+1", ..., "F": ""}."""
        for shortcut in self._shortcuts:
            old = shortcut.key().toString()
            if old in keys:
                shortcut.setKey(QKeySequence(keys[old]))
        for mode, (text, key, _name) in MODE_TITLES.items():
            shown = keys.get(key, key)
            self._mode_buttons[mode].setToolTip(f"{text} ({shown})" if shown else text)

    def _new_canvas(self, parent: QWidget, name: str, accessible: str) -> ImageCanvas:
        canvas = ImageCanvas(self._state, parent)
        canvas.setObjectName(name)
        canvas.setAccessibleName(accessible)
        canvas.set_pyramids(self._pyramids)
        canvas.resized.connect(self._sync_viewport)
        return canvas

    # ------------------------------------------------------------------ public interface

    def set_before(self, image: QImage | None) -> None:
        self._before = _usable(image)
        if self._grid_cells:
            first = self._grid_cells[0]
            first.set_image(self._before)
            first.set_message("" if self._before is not None else "No input image to show.")
        self._refresh(new_content=True)

    def set_outputs(self, items: list[CompareItem], current: int = 0) -> None:
        """Show a job's outputs; the strip appears for two or more."""
        self._items = list(items)
        self._current = min(max(current, 0), len(self._items) - 1) if self._items else -1
        self._showing_before = False
        self._fill_strip()
        self._refresh(new_content=True)

    def set_grid(self, items: list[CompareItem]) -> None:
        """Multi-provider grid: the before, then each result, all synced; [] leaves the grid."""
        for cell in self._grid_cells:
            cell.detach()
            self._grid_layout.removeWidget(cell)
            cell.deleteLater()
        self._grid_cells = []
        self._grid_items = list(items)
        if items:
            entries: list[tuple[QImage | None, str, str]] = [(self._before, "Before", "")]
            entries += [(_usable(item.image), item.title, item.label) for item in items]
            columns = math.ceil(math.sqrt(len(entries)))
            for index, (image, title, label) in enumerate(entries):
                cell = self._new_canvas(self._grid_page, f"compareGridCell{index}",
                                        f"{title} in the comparison grid")
                cell.set_image(image)
                cell.set_labels(title, label)
                if image is None:
                    cell.set_message("No input image to show." if index == 0 else
                                     "This result has no image to show: it is empty or could "
                                     "not be decoded. Open it from history or run it again.")
                cell.activated.connect(
                    lambda i=index: self.gridCellActivated.emit(i - 1))
                self._grid_layout.addWidget(cell, index // columns, index % columns)
                self._grid_cells.append(cell)
            for column in range(columns):
                self._grid_layout.setColumnStretch(column, 1)
            for row in range(math.ceil(len(entries) / columns)):
                self._grid_layout.setRowStretch(row, 1)
        self._refresh(new_content=True)

    def set_current(self, index: int) -> None:
        if not self._items:
            return
        index = min(max(index, 0), len(self._items) - 1)
        if index == self._current:
            return
        self._current = index
        if self._strip.currentRow() != index:
            self._strip.blockSignals(True)
            self._strip.setCurrentRow(index)
            self._strip.blockSignals(False)
        self._refresh()
        self.currentChanged.emit(index)

    def current_index(self) -> int:
        return self._current

    def current_item(self) -> CompareItem | None:
        return self._items[self._current] if 0 <= self._current < len(self._items) else None

    def before_image(self) -> QImage | None:
        return self._before

    def set_mode(self, mode: CompareMode) -> None:
        mode = CompareMode(mode)
        if mode == self._mode:
            self._check_mode_button()
            return
        self._mode = mode
        self._showing_before = False
        self._refresh()
        self.modeChanged.emit(mode.value)

    def mode(self) -> CompareMode:
        return self._mode

    def zoom_fit(self) -> None:
        self._state.fit()

    def zoom_actual(self) -> None:
        """100 %: one image pixel per physical screen pixel (see the module docstring)."""
        self._state.set_scale(1.0 / self._main_canvas().devicePixelRatioF())

    def zoom(self) -> float:
        return self._state.scale

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Set the scale (image px -> widget px). `anchor` is an after-image point that keeps
        its place on screen (default: the view centre)."""
        self._state.set_scale(factor, anchor)

    def view_center(self) -> QPointF:
        return QPointF(self._state.center)

    def set_view_center(self, point: QPointF) -> None:
        self._state.set_center(point)

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self._placeholder_label.setText(text)

    def clear(self) -> None:
        if self._video is not None:
            self._video.set_video(None)  # the file may be deleted next
        self._before = None
        self._items = []
        self._current = -1
        self._showing_before = False
        self.set_grid([])  # also refreshes
        self._fill_strip()
        self._state.fitting = True
        self._refresh(new_content=True)

    def toggle_showing_before(self) -> bool:
        return self._showing_before

    # ----- additions (for the window and tests)

    def is_grid(self) -> bool:
        return bool(self._grid_items)

    def canvases(self) -> list[ImageCanvas]:
        """The panes on screen: [before, after] side by side, [combined] otherwise, or the
        grid cells."""
        if self.is_grid():
            return list(self._grid_cells)
        return [c for c in (self._before_canvas, self._after_canvas) if not c.isHidden()]

    def strip(self) -> QListWidget:
        return self._strip

    def wipe_position(self) -> float:
        """Divider position as a fraction of the pane's width (0 = all after, 1 = all
        before)."""
        return self._after_canvas.divider()

    def set_wipe_position(self, fraction: float) -> None:
        self._after_canvas.set_divider(fraction)

    def set_difference_threshold(self, threshold: int) -> None:
        self._threshold = max(0, min(254, int(threshold)))
        if self._threshold_spin.value() != self._threshold:
            self._threshold_spin.setValue(self._threshold)  # calls back here once, unchanged
        self._refresh()

    def difference_image(self) -> QImage | None:
        """The difference of the pair shown, once computed (None while computing)."""
        found = self._diff_cache.get(self._pair_key()) if self._pair_key() else None
        return found[0] if found else None

    def difference_fraction(self) -> float | None:
        found = self._diff_cache.get(self._pair_key()) if self._pair_key() else None
        return found[1] if found else None

    def zoom_percent(self) -> int:
        return round(self._state.scale * self._main_canvas().devicePixelRatioF() * 100)

    # ------------------------------------------------------------------ state -> widgets

    def _after(self) -> QImage | None:
        item = self.current_item()
        return _usable(item.image) if item is not None else None

    def _pair_key(self) -> tuple[int, int, int] | None:
        after = self._after()
        if self._before is None or after is None:
            return None
        return (self._before.cacheKey(), after.cacheKey(), self._threshold)

    def _main_canvas(self) -> ImageCanvas:
        if self.is_grid() and self._grid_cells:
            return self._grid_cells[0]
        return self._after_canvas

    def _reference_size(self) -> QSize:
        if self.is_grid():
            for item in self._grid_items:
                if _usable(item.image) is not None:
                    return item.image.size()
        after = self._after()
        if after is not None:
            return after.size()
        return self._before.size() if self._before is not None else QSize()

    def _refresh(self, *, new_content: bool = False) -> None:
        """Bring every child in line with the model (mode, images, grid)."""
        reference = self._reference_size()
        if reference != self._state.reference:
            self._state.set_reference(reference, refit=new_content or
                                      not self._state.has_reference())
        self._sync_viewport()
        before, after = self._before, self._after()
        grid = self.is_grid()
        item = self.current_item()
        video = not grid and item is not None and bool(item.video)
        both = before is not None and after is not None and not video
        for mode, button in self._mode_buttons.items():
            button.setEnabled((both and not grid) or (mode == CompareMode.SIDE_BY_SIDE and grid))
        self._check_mode_button()
        for button in (self._fit_button, self._actual_button, self._zoom_in_button,
                       self._zoom_out_button):
            button.setEnabled(self._state.has_reference() and not video)
        self._strip.setVisible(not grid and len(self._items) >= 2)

        if grid:
            self._stack.setCurrentWidget(self._grid_page)
            self.setFocusProxy(self._grid_cells[0] if self._grid_cells else None)
        elif video:
            assert item is not None
            view = self.video_view()
            view.set_video(Path(item.video), " · ".join(t for t in (item.title, item.label) if t),
                           item.image)
            self._stack.setCurrentWidget(view)
            self.setFocusProxy(view)
        elif before is None and after is None:
            self._stack.setCurrentWidget(self._placeholder_label)
            self.setFocusProxy(None)
        else:
            self._stack.setCurrentWidget(self._pair_page)
            self.setFocusProxy(self._after_canvas)
            self._show_pair(before, after)
        for image in self._shown_images():
            self._ensure_pyramid(image)
        self._update_zoom_label()
        self._update_accessible()

    def video_view(self) -> VideoView:
        """The page that plays a video result (made on first use)."""
        if self._video is None:
            self._video = VideoView(self._stack)
            self._stack.addWidget(self._video)
        return self._video

    def is_showing_video(self) -> bool:
        return self._video is not None and self._stack.currentWidget() is self._video

    def _check_mode_button(self) -> None:
        shown = CompareMode.SIDE_BY_SIDE if self.is_grid() else self._mode
        self._mode_buttons[shown].setChecked(True)
        self._threshold_spin.setVisible(shown == CompareMode.DIFFERENCE)

    def _show_pair(self, before: QImage | None, after: QImage | None) -> None:
        item = self.current_item()
        title = (item.title if item is not None and item.title else "After")
        label = item.label if item is not None else ""
        left, right = self._before_canvas, self._after_canvas
        right.set_wipe_before(None)
        right.set_message("")
        if after is None and item is not None:
            right.set_message("This result has no image to show: it is empty or could not be "
                              "decoded. Open it from history or run the job again.")
        if before is None or after is None:
            left.hide()
            right.set_image(after or before)
            right.set_labels(title if after is not None else "Before · no result yet", label)
            return
        mode = self._mode
        left.setVisible(mode == CompareMode.SIDE_BY_SIDE)
        if mode == CompareMode.SIDE_BY_SIDE:
            left.set_image(before)
            left.set_labels("Before")
            right.set_image(after)
            right.set_labels(title, label)
        elif mode == CompareMode.WIPE:
            right.set_image(after)
            right.set_wipe_before(before)
            right.set_labels("Before", f"After · {title}" if item and item.title else "After")
        elif mode == CompareMode.TOGGLE:
            showing = before if self._showing_before else after
            right.set_image(showing)
            right.set_labels("Before" if self._showing_before else title,
                             "Space: show after" if self._showing_before else
                             "Space: show before")
        else:
            self._show_difference(after, title)

    def _show_difference(self, after: QImage, title: str) -> None:
        key = self._pair_key()
        assert key is not None and self._before is not None
        right = self._after_canvas
        found = self._diff_cache.get(key)
        if found is not None:
            self._diff_cache.move_to_end(key)
            right.set_image(found[0])
            right.set_labels(f"Difference · {found[1] * 100:.1f} % of pixels changed", title)
            return
        right.set_image(after)
        right.set_labels("Difference", title)
        error = self._diff_errors.get(key)
        if error:
            right.set_message(error)
            return
        right.set_message("Computing difference…")
        if self._diff_key != key or self._diff_task is None or self._diff_task.done():
            self._start_difference(key, self._before, after)

    def _shown_images(self) -> list[QImage]:
        if self.is_grid():
            return [c.image() for c in self._grid_cells if c.image() is not None]  # type: ignore[misc]
        images = [self._before, self._after()]
        found = self._diff_cache.get(self._pair_key()) if self._pair_key() else None
        if found is not None and self._mode == CompareMode.DIFFERENCE:
            images.append(found[0])
        return [image for image in images if image is not None]

    def _sync_viewport(self) -> None:
        canvas = self._main_canvas()
        self._state.set_viewport(QSizeF(canvas.size()))

    def _on_view_changed(self) -> None:
        self._update_zoom_label()

    def _update_zoom_label(self) -> None:
        self._zoom_label.setText(f"{self.zoom_percent()} %" if self._state.has_reference()
                                 and not self.is_showing_video() else "")

    def _update_accessible(self) -> None:
        self._after_canvas.setAccessibleDescription(
            f"{self._mode.value.replace('_', ' ')}, zoom {self.zoom_percent()} percent")

    def _zoom_in(self) -> None:
        self._state.set_scale(self._state.scale * BUTTON_STEP)

    def _zoom_out(self) -> None:
        self._state.set_scale(self._state.scale / BUTTON_STEP)

    # ------------------------------------------------------------------ strip

    def _fill_strip(self) -> None:
        self._strip.blockSignals(True)
        self._strip.clear()
        for index, item in enumerate(self._items):
            entry = QListWidgetItem(item.title or f"Output {index + 1}")
            entry.setToolTip(" · ".join(t for t in (item.title, item.label) if t))
            entry.setData(Qt.ItemDataRole.AccessibleTextRole, item.title or f"Output {index + 1}")
            entry.setIcon(self._blank_thumbnail())  # the layout needs the size from the start
            self._strip.addItem(entry)
            if len(self._items) >= 2:  # the strip is hidden otherwise
                self._ensure_thumbnail(index)
        if self._items:
            self._strip.setCurrentRow(self._current)
        self._strip.blockSignals(False)

    def _blank_thumbnail(self) -> QIcon:
        ratio = self.devicePixelRatioF()
        blank = QPixmap(round(THUMB_SIZE.width() * ratio), round(THUMB_SIZE.height() * ratio))
        blank.setDevicePixelRatio(ratio)
        blank.fill(self.palette().color(QPalette.ColorRole.Midlight))
        return QIcon(blank)

    def _on_strip_row(self, row: int) -> None:
        if row >= 0:
            self.set_current(row)

    def _ensure_thumbnail(self, index: int) -> None:
        image = _usable(self._items[index].image)
        if image is None:
            return
        key = image.cacheKey()
        if key in self._thumbs:
            self._apply_thumbnail(key)
        elif key not in self._thumb_pending:
            self._thumb_pending.add(key)
            self._tasks.spawn(self._make_thumbnail(key, image))

    async def _make_thumbnail(self, key: int, image: QImage) -> None:
        ratio = self.devicePixelRatioF()
        size = QSize(round(THUMB_SIZE.width() * ratio), round(THUMB_SIZE.height() * ratio))
        try:
            thumb = await asyncio.to_thread(_make_thumbnail, image, size)
        finally:
            self._thumb_pending.discard(key)
        if not shiboken6.isValid(self):
            return
        pixmap = QPixmap.fromImage(thumb)  # QPixmap only here, on the GUI thread
        pixmap.setDevicePixelRatio(ratio)
        self._thumbs[key] = pixmap
        self._apply_thumbnail(key)

    def _apply_thumbnail(self, key: int) -> None:
        for row, item in enumerate(self._items):
            if item.image.cacheKey() == key and row < self._strip.count():
                icon = QIcon(self._thumbs[key])
                # no selection tint over the picture: the highlight is the caption's colour
                icon.addPixmap(self._thumbs[key], QIcon.Mode.Selected)
                self._strip.item(row).setIcon(icon)

    # ------------------------------------------------------------------ workers

    def _start_difference(self, key: tuple[int, int, int], before: QImage,
                          after: QImage) -> None:
        if self._diff_task is not None and not self._diff_task.done():
            self._diff_stop.set()
            self._diff_task.cancel()
        self._diff_stop = threading.Event()
        self._diff_key = key
        self._diff_task = self._tasks.spawn(self._compute_difference(key, before, after,
                                                               self._diff_stop))

    async def _compute_difference(self, key: tuple[int, int, int], before: QImage,
                                  after: QImage, stop: threading.Event) -> None:
        def work() -> tuple[QImage, float, list[QImage]]:
            image, fraction = compute_difference(before, after, key[2], stop.is_set)
            levels = build_pyramid(image) if max(image.width(), image.height()) >= \
                PYRAMID_FROM_SIDE else []
            return image, fraction, levels

        try:
            image, fraction, levels = await asyncio.to_thread(work)
        except DifferenceCancelled:
            return
        except MemoryError:
            self._diff_errors[key] = ("Not enough memory to compute the difference of these "
                                      "images. Close other programs or compare them in "
                                      "another mode.")
        except Exception as exc:  # any failure becomes a sentence, never a traceback
            log.exception("difference failed")
            self._diff_errors[key] = (f"Could not compute the difference ({exc}). Compare the "
                                      "images in another mode.")
        else:
            self._diff_cache[key] = (image, fraction)
            self._pyramids[image.cacheKey()] = levels
            while len(self._diff_cache) > DIFF_CACHE_SIZE:
                _old, (old_image, _f) = self._diff_cache.popitem(last=False)
                self._pyramids.pop(old_image.cacheKey(), None)
        if shiboken6.isValid(self):
            self._refresh()
            self.differenceReady.emit()

    def _ensure_pyramid(self, image: QImage) -> None:
        key = image.cacheKey()
        if key in self._pyramids or key in self._pyramid_pending or \
                max(image.width(), image.height()) < PYRAMID_FROM_SIDE:
            return
        self._pyramid_pending.add(key)
        self._tasks.spawn(self._build_pyramid(key, image))

    async def _build_pyramid(self, key: int, image: QImage) -> None:
        try:
            levels = await asyncio.to_thread(build_pyramid, image)
        finally:
            self._pyramid_pending.discard(key)
        if not shiboken6.isValid(self):
            return
        self._pyramids[key] = levels
        self._prune_pyramids()
        for canvas in self.canvases():
            canvas.update()

    def _prune_pyramids(self) -> None:
        """Drop copies of images no longer in the view (the dict is shared by the panes)."""
        keep = {image.cacheKey() for image in self._shown_images()}
        keep |= {item.image.cacheKey() for item in self._items + self._grid_items}
        keep |= {image.cacheKey() for image, _f in self._diff_cache.values()}
        for key in [k for k in self._pyramids if k not in keep]:
            del self._pyramids[key]

    # ------------------------------------------------------------------ keys

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        togglable = (self._mode == CompareMode.TOGGLE and not self.is_grid()
                     and self._before is not None and self._after() is not None)
        if key == Qt.Key.Key_Space and togglable:
            if not event.isAutoRepeat():
                self._showing_before = not self._showing_before
                self._space_down_at = time.monotonic()
                self._refresh()
            event.accept()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and \
                mods == Qt.KeyboardModifier.ShiftModifier and self._mode == CompareMode.WIPE:
            step = WIPE_KEY_STEP if key == Qt.Key.Key_Right else -WIPE_KEY_STEP
            self.set_wipe_position(self.wipe_position() + step)
            event.accept()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and \
                mods == Qt.KeyboardModifier.NoModifier and len(self._items) >= 2 \
                and not self.is_grid():
            self.set_current(self._current + (1 if key == Qt.Key.Key_Right else -1))
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and \
                self._space_down_at is not None:
            held = time.monotonic() - self._space_down_at
            self._space_down_at = None
            if held >= HOLD_SECONDS and self._mode == CompareMode.TOGGLE:
                self._showing_before = not self._showing_before
                self._refresh()
            event.accept()
            return
        super().keyReleaseEvent(event)
