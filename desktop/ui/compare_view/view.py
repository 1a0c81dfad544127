"""The compare view in the centre of the window: pictures compared, zoomed and panned together.

Coordinates: everything is measured in the AFTER image's pixel space (the result shown; in a
grid, the first result's). A picture of another size (the input of a 2x upscale, the 4:3 room
of a 16:9 reframe) is drawn stretched to that size, so every mode lines up pixel for pixel.
`view_center()` and the `anchor` of `set_zoom` are points in that space. With no result yet,
the before alone defines the space.

Zoom: `zoom()` is the scale from image pixels to widget (device-independent) pixels. "100 %"
(`zoom_actual`, the percentage in the toolbar) means one image pixel per *physical* screen
pixel, so on a 2x display `zoom()` is 0.5 at 100 %: that is what judging sharpness needs.

What keeps and what re-fits: the first image fits the view. `set_mode` and `set_current` keep
the zoom and the centre. `set_outputs`, `set_before` and `set_grid` keep them too when the
space keeps its pixel size, and re-fit when it changes. Until the user zooms or pans, the view
stays fitted; after that, scale and centre are kept exactly.

Pairs: every mode but side by side compares two pictures, A and B (model.py): the before and
the output shown, or in a grid the before and the selected cell, or two cells picked with
Ctrl+click (`set_pair`); Swap (X) exchanges them. In a grid, side by side shows every cell and
the other modes the pair in one large pane (Esc goes back to the grid).

Keys: actions.py lists them all (the shortcuts help, F1, shows them); they work while focus is
in the view. Space in toggle mode is read here: a tap flips, holding shows the other picture
until release.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeyEvent, QPalette
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop.ui import qt_compat
from desktop.ui.compare_view.actions import CompareActions
from desktop.ui.compare_view.analysing import Analysing
from desktop.ui.compare_view.analysis import PairAnalysis
from desktop.ui.compare_view.grid_page import GridPage
from desktop.ui.compare_view.help import ShortcutsHelp
from desktop.ui.compare_view.model import (
    BEFORE_CELL,
    BEFORE_NAME,
    HOLD_SECONDS,
    WIPE_KEY_STEP,
    CompareItem,
    CompareMode,
    Side,
    cell_name,
    usable,
)
from desktop.ui.compare_view.pair_pane import PairPane
from desktop.ui.compare_view.panes import Panes
from desktop.ui.compare_view.presenting import Presenting
from desktop.ui.compare_view.strip import OutputStrip
from desktop.ui.compare_view.toolbar import CompareToolbar
from desktop.ui.compare_view.tools import CompareTools
from desktop.ui.image_canvas import BUTTON_STEP, ImageCanvas, ViewState
from desktop.ui.tasks import TaskSet
from desktop.ui.video_view import VideoView

qt_compat.install()  # paints and emits all the time: needs the PySide6 6.12 refcount fix


class CompareView(Presenting, Analysing, Panes, QWidget):
    """Before/after comparison in six modes, an output strip and a multi-provider grid, with a
    loupe, a pixel inspector and a timed blink. See the module docstring."""

    MAX_GRID_CELLS = 9  # the before counts as a cell

    modeChanged = Signal(str)  # CompareMode value
    currentChanged = Signal(int)  # index of the output shown (strip click / keys)
    differenceReady = Signal()  # a difference or structure picture (or its error) arrived
    #: A grid cell was clicked or selected with the keys: its result's index (-1 the before).
    gridCellActivated = Signal(int)
    #: The user asked for the service's furniture mask (the button of the structure mode).
    furnitureMaskWanted = Signal()
    #: The zoom or the place looked at changed (wheel, keys, drag, fit, a resize).
    viewChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setAccessibleName("Compare view")
        self._state = ViewState()
        self._mode = CompareMode.SIDE_BY_SIDE
        self._before: QImage | None = None
        #: What the panes call the before: "Before", or a compared file's name.
        self._before_name = BEFORE_NAME
        self._items: list[CompareItem] = []
        self._current = -1
        self._grid_items: list[CompareItem] = []
        self._left_out = 0
        self._selected = 0
        self._pair: tuple[int, int] | None = None  # picked with Ctrl+click / set_pair
        self._swapped = False
        self._showing_a = False  # toggle mode shows A (the before) instead of B
        self._space_down_at: float | None = None
        self._placeholder = "Drop images on the left and press Generate"
        self._mask: QImage | None = None
        self._mask_source = ""
        self._mask_provider: str | None = None
        self._video: VideoView | None = None  # made when a video is first shown
        self._pyramids: dict[int, list[QImage]] = {}
        self._pyramid_pending: set[int] = set()
        self._display: dict[int, QImage] = {}  # picture's cacheKey -> the copy drawn
        self._tasks = TaskSet("Compare view")
        self._analysis = PairAnalysis(self._tasks, self._pyramids, self)
        self._analysis.ready.connect(self._on_analysis_ready)
        self._help: ShortcutsHelp | None = None
        self._build()
        self._state.subscribe(self._on_view_changed)
        self._refresh()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        self._actions = CompareActions(self, self._handlers())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self._toolbar = CompareToolbar(self._actions, self)
        layout.addWidget(self._toolbar)
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
        self._pair_page = PairPane(self._new_canvas, ("compareBeforePane", "compareAfterPane"),
                                   self._stack)
        self._before_canvas, self._after_canvas = self._pair_page.left, self._pair_page.right
        self._after_canvas.dividerMoved.connect(lambda _f: self._update_accessible())
        self._stack.addWidget(self._pair_page)
        self._grid_page = GridPage(self._new_canvas, self._actions["grid"], self._stack)
        self._grid_page.cellClicked.connect(self._on_cell_clicked)
        self._stack.addWidget(self._grid_page)
        layout.addWidget(self._stack, 1)
        self._strip = OutputStrip(self._tasks, self)
        self._strip.currentRowChanged.connect(lambda row: row >= 0 and self.set_current(row))
        layout.addWidget(self._strip)
        self._status = QLabel(self)
        self._status.setObjectName("compareStatus")
        self._status.setAccessibleName("Comparison figures")
        self._status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._status.setContentsMargins(6, 0, 6, 2)
        # two lines, whatever the text: a reading that comes and goes never resizes the panes
        # (a fitted view would re-fit under the mouse), a long one never widens the window
        self._status.setWordWrap(True)
        self._status.setMinimumWidth(1)
        self._status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._status.setFixedHeight(self._status.fontMetrics().lineSpacing() * 2 + 4)
        layout.addWidget(self._status)
        bar = self._toolbar
        bar.threshold.valueChanged.connect(self.set_difference_threshold)
        bar.tolerance.currentIndexChanged.connect(lambda _i: self._refresh())
        bar.heat_opacity.valueChanged.connect(lambda _v: self._refresh())
        bar.blend_opacity.valueChanged.connect(lambda _v: self._refresh())
        bar.blink_interval.valueChanged.connect(self.set_blink_interval)
        bar.ask_mask.clicked.connect(self.furnitureMaskWanted.emit)
        self._tools = CompareTools(self.canvases, self._update_status, self._on_blink,
                                   bar.blink_interval.value(), self)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFocusProxy(self._after_canvas)

    def _handlers(self) -> dict[str, Callable[[], None]]:
        handlers: dict[str, Callable[[], None]] = {
            mode.value: (lambda m=mode: self.set_mode(m)) for mode in CompareMode}
        handlers.update({
            "grid": lambda: self.set_mode(CompareMode.SIDE_BY_SIDE),
            "flip": self._flip, "swap": self.swap,
            "previous": lambda: self._step(-1), "next": lambda: self._step(1),
            "cell_up": lambda: self._step(-self._grid_page.columns()),
            "cell_down": lambda: self._step(self._grid_page.columns()),
            "wipe_left": lambda: self._move_divider(-1),
            "wipe_right": lambda: self._move_divider(1),
            "loupe": self._on_loupe, "inspector": self._on_inspector,
            "blink": self._on_blink_action,
            "loupe_smaller": lambda: self._tools.loupe.set_factor(self._tools.loupe.factor() - 1),
            "loupe_larger": lambda: self._tools.loupe.set_factor(self._tools.loupe.factor() + 1),
            "fit": self.zoom_fit, "actual": self.zoom_actual,
            "zoom_in": lambda: self._state.set_scale(self._state.scale * BUTTON_STEP),
            "zoom_out": lambda: self._state.set_scale(self._state.scale / BUTTON_STEP),
            "help": self.show_shortcuts_help,
        })
        return handlers

    def _new_canvas(self, parent: QWidget, name: str, accessible: str) -> ImageCanvas:
        canvas = ImageCanvas(self._state, parent)
        canvas.setObjectName(name)
        canvas.setAccessibleName(accessible)
        canvas.set_pyramids(self._pyramids)
        canvas.resized.connect(self._sync_viewport)
        return canvas

    def remap_keys(self, keys: dict[str, str]) -> None:
        """Move keys elsewhere, "" drops one: review mode rates with the digits and fails with
        F, so there {"1": "Alt+1", ..., "F": ""}."""
        self._actions.remap(keys)
        if self._help is not None:
            self._help.refresh()

    def action(self, name: str) -> QAction:
        """The action `compare.<name>` ("wipe", "loupe", "help", ...)."""
        return self._actions[name]

    # ------------------------------------------------------------------ content

    def set_before(self, image: QImage | None, name: str = BEFORE_NAME) -> None:
        """The picture results are compared with; `name` labels it (a compared file's name)."""
        old = self._before
        self._before = usable(image)
        self._before_name = name or BEFORE_NAME
        if self._mask is not None and (old is None or self._before is None
                                       or old.cacheKey() != self._before.cacheKey()):
            self._mask, self._mask_source = None, ""  # the mask was of the old picture
        self._grid_page.set_before(self._before)
        self._refresh(new_content=True)

    def set_outputs(self, items: list[CompareItem], current: int = 0) -> None:
        """Show a job's outputs; the strip appears for two or more."""
        self._items = list(items)
        self._current = min(max(current, 0), len(self._items) - 1) if self._items else -1
        self._showing_a = False
        self._strip.fill(self._items, self._current)
        self._refresh(new_content=True)

    def set_grid(self, items: list[CompareItem]) -> None:
        """Multi-provider grid: the before, then up to eight results, all synced; [] leaves the
        grid. More results are left out (the status line says how many). A new grid opens in
        side by side with the first result selected."""
        limit = self.MAX_GRID_CELLS - 1
        self._grid_items = list(items[:limit])
        self._left_out = max(0, len(items) - limit)
        self._selected = 0 if self._grid_items else BEFORE_CELL
        self._pair = None
        self._swapped = False
        sides = [Side(self._before, self._before_name)] if self._grid_items else []
        sides += [self._cell(i) for i in range(len(self._grid_items))]
        self._grid_page.set_cells(sides)
        if self._grid_items and self._mode != CompareMode.SIDE_BY_SIDE:
            self._mode = CompareMode.SIDE_BY_SIDE
            self.modeChanged.emit(self._mode.value)
        self._refresh(new_content=True)
        self._tools.follow(force=True)

    def set_current(self, index: int) -> None:
        if not self._items:
            return
        index = min(max(index, 0), len(self._items) - 1)
        if index == self._current:
            return
        self._current = index
        self._strip.select_quietly(index)
        self._refresh()
        self.currentChanged.emit(index)

    def current_index(self) -> int:
        return self._current

    def current_item(self) -> CompareItem | None:
        return self._items[self._current] if 0 <= self._current < len(self._items) else None

    def before_image(self) -> QImage | None:
        return self._before

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self._placeholder_label.setText(text)

    def clear(self) -> None:
        if self._video is not None:
            self._video.set_video(None)  # the file may be deleted next
        self._before = None
        self._before_name = BEFORE_NAME
        self._mask, self._mask_source = None, ""
        self._items = []
        self._current = -1
        self._showing_a = False
        self.set_grid([])  # also refreshes
        self._strip.fill([], -1)
        self._state.fitting = True
        self._refresh(new_content=True)

    # ------------------------------------------------------------------ grid cells and pairs

    def is_grid(self) -> bool:
        return bool(self._grid_items)

    def _cell(self, index: int) -> Side:
        if index == BEFORE_CELL or not 0 <= index < len(self._grid_items):
            return Side(self._before, self._before_name)
        item = self._grid_items[index]
        return Side(usable(item.image), cell_name(item), item.label)

    def select_cell(self, index: int) -> None:
        """Select a grid cell (-1 the before): it becomes B of the pair compared with the
        before; a pair picked with Ctrl+click ends. Emits gridCellActivated when it changed."""
        if self.is_grid() and self._select(index):
            self.gridCellActivated.emit(self._selected)

    def _select(self, index: int) -> bool:
        index = min(max(index, BEFORE_CELL), len(self._grid_items) - 1)
        changed = index != self._selected or self._pair is not None or self._swapped
        self._selected, self._pair, self._swapped = index, None, False
        if changed:
            self._refresh()
        return changed

    def selected_cell(self) -> int:
        return self._selected

    def set_pair(self, a: int, b: int) -> None:
        """Compare two cells (-1 the before) in the current mode, e.g. two providers."""
        if not self.is_grid():
            return
        last = len(self._grid_items) - 1
        a, b = (min(max(i, BEFORE_CELL), last) for i in (a, b))
        self._pair = None if (a, b) == self._default_pair() else (a, b)
        self._swapped = False
        self._refresh()

    def pair(self) -> tuple[int, int]:
        """The two cells compared, A first (in a job's view: (-1, current output))."""
        if not self.is_grid():
            found = (BEFORE_CELL, self._current)
        else:
            found = self._pair if self._pair is not None else self._default_pair()
        return (found[1], found[0]) if self._swapped else found

    def _default_pair(self) -> tuple[int, int]:
        if self._selected != BEFORE_CELL:
            return BEFORE_CELL, self._selected
        return BEFORE_CELL, 0

    def swap(self) -> None:
        self._swapped = not self._swapped
        self._refresh()

    def _on_cell_clicked(self, index: int, ctrl: bool) -> None:
        if ctrl and index != self._selected:
            self._pair = (self._selected, index)
            self._swapped = False
            self._refresh()
        elif not ctrl:
            self._select(index)
            self.gridCellActivated.emit(self._selected)  # a click always picks the cell's job

    def _step(self, delta: int) -> None:
        if self.is_grid():
            target = self._selected + delta
            if BEFORE_CELL <= target < len(self._grid_items):
                self.select_cell(target)
        else:
            self.set_current(self._current + delta)

    def _sides(self) -> tuple[Side, Side, bool] | None:
        """(A, B, whether A is the before image) of the pair, None when there is none."""
        if self.is_grid():
            a, b = self.pair()
            return self._cell(a), self._cell(b), a == BEFORE_CELL
        item = self.current_item()
        if self._before is None or item is None or item.video:
            return None
        before = Side(self._before, self._before_name)
        after = Side(usable(item.image), item.title or "After", item.label)
        return (after, before, False) if self._swapped else (before, after, True)

    def _pair_ready(self) -> bool:
        sides = self._sides()
        return sides is not None and sides[0].image is not None and sides[1].image is not None

    # ------------------------------------------------------------------ modes and tools

    def set_mode(self, mode: CompareMode) -> None:
        mode = CompareMode(mode)
        if mode == self._mode:
            self._check_mode()
            return
        self._mode = mode
        self._showing_a = False
        if mode != CompareMode.TOGGLE:
            self._stop_blink()
        self._refresh()
        self.modeChanged.emit(mode.value)

    def mode(self) -> CompareMode:
        return self._mode

    def _check_mode(self) -> None:
        self._actions.mode_action(self._mode).setChecked(True)

    def toggle_showing_before(self) -> bool:
        """Whether toggle mode shows A (the before, unless swapped) rather than B."""
        return self._showing_a

    def _flip(self) -> None:
        if self._mode == CompareMode.TOGGLE and self._pair_ready():
            self._showing_a = not self._showing_a
            self._refresh()

    def _move_divider(self, direction: int) -> None:
        self.set_wipe_position(self.wipe_position() + direction * WIPE_KEY_STEP)

    def _on_loupe(self) -> None:
        self._tools.loupe.set_enabled(self._actions["loupe"].isChecked())
        self._refresh()  # [ and ] work while the loupe is on

    def _on_inspector(self) -> None:
        self._tools.inspector.set_enabled(self._actions["inspector"].isChecked())
        self._update_status()

    def _on_blink_action(self) -> None:
        if self._actions["blink"].isChecked():
            self.start_blink()
        else:
            self._stop_blink()
            self._refresh()

    def start_blink(self) -> None:
        """Blink is an automatic toggle: it switches to toggle mode, shows A, then flips."""
        if not self._pair_ready():
            return
        self.set_mode(CompareMode.TOGGLE)
        self._showing_a = True
        self._tools.blinker.start()
        self._actions["blink"].setChecked(True)
        self._refresh()

    def _stop_blink(self) -> None:
        self._tools.blinker.stop()
        self._actions["blink"].setChecked(False)

    def is_blinking(self) -> bool:
        return self._tools.blinker.is_running()

    def set_blink_interval(self, ms: int) -> None:
        self._tools.blinker.set_interval(ms)
        if self._toolbar.blink_interval.value() != self._tools.blinker.interval():
            self._toolbar.blink_interval.setValue(self._tools.blinker.interval())
        self._update_status()

    def _on_blink(self, showing_b: bool) -> None:
        if self._mode == CompareMode.TOGGLE and shiboken6.isValid(self):
            self._showing_a = not showing_b
            self._refresh()

    def tools(self) -> CompareTools:
        return self._tools

    def show_shortcuts_help(self) -> ShortcutsHelp:
        if self._help is None:
            self._help = ShortcutsHelp(self._actions, self)
        self._help.refresh()
        self._help.show()
        self._help.raise_()
        return self._help

    # ------------------------------------------------------------------ keys

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and self._mode == CompareMode.TOGGLE and \
                self._actions["flip"].isEnabled():
            if not event.isAutoRepeat():
                self._stop_blink()
                self._flip()
                self._space_down_at = time.monotonic()
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and \
                self._space_down_at is not None:
            held = time.monotonic() - self._space_down_at
            self._space_down_at = None
            if held >= HOLD_SECONDS and self._mode == CompareMode.TOGGLE:
                self._flip()
            event.accept()
            return
        super().keyReleaseEvent(event)
