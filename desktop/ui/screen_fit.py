"""The window's first layout for the screen it opens on, from a 1366 x 768 laptop (also a
2732 x 1536 one at 2x scale) to a large monitor: the pictures get the width, the docks keep at
least `QUEUE_ROWS` rows of the job queue in view, and on a short screen the History dock
becomes a tab beside Jobs and Batches rather than squeezing the queue to two rows.

A layout the user saved (window.ini) is restored as it was, except that docks stacked on a
screen too short for them are put side by side as tabs again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

#: Rows of the job queue the Jobs dock keeps in view.
QUEUE_ROWS = 6
#: Below this much height (logical pixels) Jobs and History share the right side as tabs.
SHORT_SCREEN = 960
#: Below this much width the side panel and the docks are narrower, for the pictures.
NARROW_SCREEN = 1500


def _available(window: MainWindow) -> tuple[int, int]:
    screen = window.screen()
    if screen is None:
        return window.width(), window.height()
    area = screen.availableGeometry()
    return area.width(), area.height()


def queue_rows_height(window: MainWindow, rows: int = QUEUE_ROWS) -> int:
    """The height of the Jobs dock with `rows` rows in view: ordinary rows as its delegate
    paints them (title, state, a line), one of them a failure two lines longer, then its
    header, buttons and the detail of a failure (message, advice, buttons)."""
    line = window.job_queue.list_view.fontMetrics().lineSpacing()
    listed = rows * (3 * line + 18) + 2 * line + 8
    chrome = 12 * line + 110
    return listed + chrome


def _tabify_history(window: MainWindow) -> None:
    """History (and Rankings) become tabs beside Jobs; Jobs stays in front."""
    w = window
    for dock in (w.history_dock, w.rankings_dock):
        if dock not in w.tabifiedDockWidgets(w.queue_dock):
            w.tabifyDockWidget(w.queue_dock, dock)
    w.queue_dock.raise_()


def history_tabbed(window: MainWindow) -> bool:
    return window.history_dock in window.tabifiedDockWidgets(window.queue_dock)


def fit_to_screen(window: MainWindow, *, restored: bool) -> None:
    """Lay the window out for its screen (see the module docstring)."""
    w = window
    width, height = _available(w)
    short = height < SHORT_SCREEN
    if restored:
        if short and not history_tabbed(w) and not w.history_dock.isFloating() and (
                w.dockWidgetArea(w.history_dock) == w.dockWidgetArea(w.queue_dock)):
            _tabify_history(w)
        return
    # A first start fills most of a large screen and fits a small one (a title bar too).
    w.resize(min(width, max(w.width(), int(width * 0.85))),
             min(height - 32, max(w.height(), int(height * 0.9))))
    narrow = width < NARROW_SCREEN
    side = 330 if narrow else 370
    docks = 330 if narrow else 420
    w.main_splitter.setSizes([side, max(400, w.width() - side - docks)])
    w.resizeDocks([w.queue_dock], [docks], Qt.Orientation.Horizontal)
    if short:
        _tabify_history(w)
    else:  # once the shown window is laid out (earlier, the docks' split is not kept)
        QTimer.singleShot(0, w, lambda: _split_docks(w))


def _split_docks(window: MainWindow) -> None:
    """Jobs over History: the queue's rows, its header, buttons and detail; the rest below."""
    w = window
    queue = queue_rows_height(w)
    rest = max(260, w.height() - 60 - queue)
    w.resizeDocks([w.queue_dock, w.history_dock], [queue, rest], Qt.Orientation.Vertical)


__all__ = ["QUEUE_ROWS", "fit_to_screen", "history_tabbed", "queue_rows_height"]
