"""The history panel (a dock's content): past jobs as thumbnails, newest first, with search,
filters and the actions on a job (open, re-run, reuse parameters, favourite, delete, reveal).

Everything that touches the database or the disk runs in a worker; the list is a paged model
(see history_model.py) so a history of 10,000 jobs opens with one count and one page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.assets import AssetStore
from desktop.core.model import Job, JobState
from desktop.core.plain_words import TaskLookup
from desktop.core.store import History, JobFilter
from desktop.ui import history_actions, qt_compat
from desktop.ui.history_delegate import HistoryDelegate, detail_text
from desktop.ui.history_model import (
    FAILED_STATES,
    UNFINISHED_STATES,
    HistoryModel,
    JobRole,
    ThumbnailCache,
    filter_is_empty,
    in_worker,
    thumb_source,
    when_text,
)
from desktop.ui.history_review import HistoryReviewBar
from desktop.ui.row_repaint import RowRepaintListView
from desktop.ui.state_colors import is_dark, state_color
from desktop.ui.tasks import TaskSet

qt_compat.install()  # paints many rows and emits often: needs the PySide6 6.12 refcount fix

log = logging.getLogger(__name__)

EMPTY_TEXT = "No jobs yet. Results you generate appear here."
EMPTY_FILTERED_TEXT = "No jobs match the filter."
SEARCH_DEBOUNCE_MS = 250
#: The count label while the count runs (it comes after the first page).
COUNTING_TEXT = "Counting jobs…"

#: State filter choices: label -> states (empty: all).
STATE_CHOICES: tuple[tuple[str, tuple[JobState, ...]], ...] = (
    ("All states", ()),
    ("Succeeded", (JobState.SUCCEEDED,)),
    ("Failed", FAILED_STATES),
    ("Cancelled", (JobState.CANCELLED,)),
    ("Needs attention", (JobState.NEEDS_ATTENTION,)),
    ("Unfinished", UNFINISHED_STATES),
)
#: Date filter choices: label -> days back (None: any time; 0: since local midnight).
DATE_CHOICES: tuple[tuple[str, int | None], ...] = (
    ("Any time", None),
    ("Today", 0),
    ("Last 7 days", 7),
    ("Last 30 days", 30),
)


def since_for(days: int | None, now: float | None = None) -> float | None:
    """The `since` bound of a date choice: midnight today for 0, now minus N days else."""
    if days is None:
        return None
    now = time.time() if now is None else now
    if days == 0:
        t = time.localtime(now)
        return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    return now - days * 86400


def count_text(count: int) -> str:
    return f"{count:,} job" + ("" if count == 1 else "s")


class HistoryPanel(QWidget):
    """Past jobs with search and filters; emits requests the window carries out."""

    openRequested = Signal(str)
    rerunRequested = Signal(str)
    reuseRequested = Signal(str)
    deleteRequested = Signal(str)
    #: "Compare selected": the selected jobs' ids, in list order (two or more).
    compareRequested = Signal(list)
    #: "Compare with other providers" on the current job.
    compareProvidersRequested = Signal(str)

    # built by history_actions.build_actions
    open_action: QAction
    rerun_action: QAction
    reuse_action: QAction
    favorite_action: QAction
    delete_action: QAction
    reveal_action: QAction
    copy_path_action: QAction
    compare_selected_action: QAction
    compare_providers_action: QAction

    def __init__(self, history: History, assets: AssetStore, provider_titles: Mapping[str, str],
                 task_titles: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.setAccessibleName("History")
        self._history = history
        self._assets = assets
        self._provider_titles = dict(provider_titles)
        self._task_titles = dict(task_titles)
        self._tasks = TaskSet("History panel", self._on_task_error)
        self._reload_task: asyncio.Task[None] | None = None
        self._confirm: QMessageBox | None = None
        self._menu: QMenu | None = None
        self._restore_id = ""
        #: Export, lookbook, report and bundle actions (export_workflows adds them).
        self.export_menu: QMenu | None = None

        self.model = HistoryModel(history, self._provider_titles, self._task_titles, self)
        self.thumbnails = ThumbnailCache(history, assets, parent=self)
        self.model.set_thumbnails(self.thumbnails)
        self.delegate = HistoryDelegate(self.model, self.thumbnails, self)

        self._build_filter_bar()
        self._build_view()
        history_actions.build_actions(self)
        self._build_layout()

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._filter_widgets_changed)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self._show_message(""))

        self.model.modelReset.connect(self._after_reset)
        self.model.rowsInserted.connect(self._update_state)
        self.model.rowsRemoved.connect(self._update_state)
        self.model.dataChanged.connect(self._update_actions)
        self.model.loadingChanged.connect(self._update_state)
        self.model.totalChanged.connect(self._update_state)
        self.model.loadFailed.connect(lambda text: self._show_message(text, error=True))
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self._update_state()
        self._update_actions()

    # -- construction -------------------------------------------------------------------------
    def _build_filter_bar(self) -> None:
        self.search = QLineEdit(self)
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText("Search jobs (Ctrl+F)")
        self.search.setAccessibleName("Search jobs")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.installEventFilter(self)

        self.favorites_only = QToolButton(self)
        self.favorites_only.setObjectName("historyFavoritesOnly")
        self.favorites_only.setText("★ Favourites")
        self.favorites_only.setCheckable(True)
        self.favorites_only.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.favorites_only.setToolTip("Show favourites only")
        self.favorites_only.setAccessibleName("Favourites only")
        self.favorites_only.toggled.connect(self._filter_widgets_changed)

        self.provider_combo = self._combo(
            "historyProviderFilter", "Filter by provider",
            [("All providers", None), *sorted(((t, k) for k, t in self._provider_titles.items()),
                                              key=lambda p: p[0].lower())])
        self.task_combo = self._combo(
            "historyTaskFilter", "Filter by task",
            [("All tasks", None), *sorted(((t, k) for k, t in self._task_titles.items()),
                                          key=lambda p: p[0].lower())])
        self.state_combo = self._combo("historyStateFilter", "Filter by state",
                                       [(label, states) for label, states in STATE_CHOICES])
        self.date_combo = self._combo("historyDateFilter", "Filter by date",
                                      [(label, days) for label, days in DATE_CHOICES])

        self.review_bar = HistoryReviewBar(self)
        self.review_bar.changed.connect(self._filter_widgets_changed)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("historyCount")
        self.count_label.setAccessibleName("Number of jobs")

    def _combo(self, name: str, accessible: str, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setToolTip(accessible)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(8)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for label, data in items:
            combo.addItem(label, data)
        combo.currentIndexChanged.connect(self._filter_widgets_changed)
        return combo

    def _build_view(self) -> None:
        self.view = RowRepaintListView(self)
        self.view.setObjectName("historyView")
        self.view.setAccessibleName("Job history")
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.setViewMode(QListView.ViewMode.ListMode)
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setMouseTracking(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(
            lambda pos: history_actions.show_context_menu(self, pos))
        self.view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_actions())
        self.view.doubleClicked.connect(self._open_index)
        self.view.selectionModel().currentChanged.connect(lambda *_: self._update_actions())

        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setObjectName("historyEmpty")
        self.empty_label.setAccessibleName("History is empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(24, 24, 24, 24)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)

        self.message = QLabel(self)
        self.message.setObjectName("historyMessage")
        self.message.setAccessibleName("History message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

    def _build_layout(self) -> None:
        filters = QGridLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.setHorizontalSpacing(6)
        filters.setVerticalSpacing(4)
        filters.addWidget(self.search, 0, 0, 1, 2)
        filters.addWidget(self.favorites_only, 0, 2)
        filters.addWidget(self.provider_combo, 1, 0)
        filters.addWidget(self.task_combo, 1, 1, 1, 2)
        filters.addWidget(self.state_combo, 2, 0)
        filters.addWidget(self.date_combo, 2, 1, 1, 2)
        filters.addWidget(self.review_bar, 3, 0, 1, 3)
        filters.setColumnStretch(0, 1)
        filters.setColumnStretch(1, 1)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(0)
        self.toolbar_buttons = [
            history_actions.tool_button(self, self.open_action, "Open", "historyOpenButton"),
            history_actions.tool_button(self, self.rerun_action, "Re-run", "historyRerunButton"),
            history_actions.tool_button(self, self.reuse_action, "Reuse", "historyReuseButton"),
            history_actions.tool_button(self, self.favorite_action, "☆", "historyFavoriteButton"),
            history_actions.tool_button(self, self.reveal_action, "Reveal", "historyRevealButton"),
            history_actions.tool_button(self, self.delete_action, "Delete…", "historyDeleteButton"),
        ]
        for button in self.toolbar_buttons:
            bar.addWidget(button)
        self.compare_button = history_actions.tool_button(
            self, self.compare_selected_action, "Compare", "historyCompareButton")
        bar.addWidget(self.compare_button)
        bar.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(filters)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.stack, 1)
        footer = self.footer = QHBoxLayout()
        footer.addWidget(self.count_label, 1)
        footer.addWidget(self.review_bar.review_button)
        footer.addWidget(self.review_bar.arena_button)
        layout.addLayout(footer)

        QWidget.setTabOrder(self.search, self.favorites_only)
        QWidget.setTabOrder(self.favorites_only, self.provider_combo)
        QWidget.setTabOrder(self.provider_combo, self.task_combo)
        QWidget.setTabOrder(self.task_combo, self.state_combo)
        QWidget.setTabOrder(self.state_combo, self.date_combo)
        review = self.review_bar
        for first, second in ((self.date_combo, review.verdict_combo),
                              (review.verdict_combo, review.tag_combo),
                              (review.tag_combo, review.mine), (review.mine, self.view)):
            QWidget.setTabOrder(first, second)

    # -- public interface ---------------------------------------------------------------------
    async def reload(self) -> None:
        """Count and first page with the current filter; a newer call supersedes this one."""
        self._restore_id = self.current_job_id() or self._restore_id
        self._show_message("")
        await self.model.reload()

    def refresh_job(self, job: Job) -> None:
        self.model.update_job(job)
        self._update_actions()

    def remove_job(self, job_id: str) -> None:
        self.model.remove(job_id)
        self._update_actions()

    def job_ids_loaded(self) -> list[str]:
        return self.model.job_ids()

    def total_count(self) -> int:
        return self.model.total

    def set_filter(self, job_filter: JobFilter) -> None:
        """Show `job_filter` in the widgets (choices are added for values they lack) and reload."""
        widgets: list[QObject] = [self.search, self.favorites_only, self.provider_combo,
                                  self.task_combo, self.state_combo, self.date_combo]
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self._search_timer.stop()
            self.search.setText(job_filter.text or "")
            self.favorites_only.setChecked(job_filter.favorite is True)
            _select_data(self.provider_combo, job_filter.provider,
                         lambda v: self._provider_titles.get(v, v))
            _select_data(self.task_combo, job_filter.task, lambda v: self._task_titles.get(v, v))
            _select_data(self.state_combo, tuple(job_filter.states),
                         lambda v: ", ".join(str(s) for s in v))
            self._select_date(job_filter)
            self.review_bar.show_filter(job_filter)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.model.set_job_filter(job_filter)
        self._schedule_reload()

    def job_filter(self) -> JobFilter:
        return self.model.job_filter

    def current_job_id(self) -> str:
        index = self.view.currentIndex()
        job = index.data(JobRole) if index.isValid() else None
        return job.id if job is not None else ""

    def selected_job_ids(self) -> list[str]:
        """The selected rows' jobs, in list order."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [job.id for r in rows if (job := self.model.job_at(r)) is not None]

    def current_job(self) -> Job | None:
        return self.model.job(self.current_job_id()) if self.current_job_id() else None

    def select_job(self, job_id: str) -> None:
        row = self.model.row_of(job_id)
        if row < 0:
            return
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    def add_export_menu(self, menu: QMenu) -> QToolButton:
        """An "Export" button in the footer opening `menu`; its actions also end the list's
        context menu. They act on the selection, else on everything the filter shows."""
        self.export_menu = menu
        button = QToolButton(self)
        button.setObjectName("historyExportButton")
        button.setText("Export")
        button.setAccessibleName("Export the selected jobs, or all the history shows")
        button.setToolTip("Files, a listing set, a lookbook, a report or a bundle of the "
                          "selected jobs (else of all the history shows)")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setMenu(menu)
        self.footer.insertWidget(1, button)
        return button

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_own_owner(self, owner: str | None) -> None:
        """This window's engine: unfinished jobs another Restyle process owns say where they
        run ("Running in restyle-cli run (process 4242 on studio)")."""
        self.model.own_owner = owner
        self.delegate.invalidate()
        self.view.viewport().update()

    def set_task_lookup(self, lookup: TaskLookup) -> None:
        """How to find a job's task: rows say its settings in plain words, not API names."""
        self.model.task_lookup = lookup
        self.delegate.invalidate()
        self.view.viewport().update()

    def reveal_path(self, job_id: str) -> Path | None:
        """The first result file of a loaded job (whether or not it still exists)."""
        job = self.model.job(job_id)
        if job is None or not job.outputs:
            return None
        first = min(job.outputs, key=lambda o: o.position)
        return self._assets.path_for(first.sha256, first.mime)

    def _on_task_error(self, _exc: BaseException) -> None:
        self._show_message("Something went wrong in the history panel; details are in the log.",
                           error=True)

    def cancel_tasks(self) -> None:
        """Stop every worker call this panel started (before closing the loop)."""
        for task in list(self._tasks):
            task.cancel()
        self.model.cancel()
        self.thumbnails.cancel()

    async def settle(self) -> None:
        """Wait for every reload, page, favourite write and thumbnail under way."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.model.settle()
        await self.thumbnails.settle()

    # -- filter widgets -----------------------------------------------------------------------
    def _select_date(self, job_filter: JobFilter) -> None:
        combo = self.date_combo
        custom = combo.findText("Custom range")
        if job_filter.since is None and job_filter.until is None:
            combo.setCurrentIndex(0)
            return
        now = time.time()
        for i, (_label, days) in enumerate(DATE_CHOICES):
            bound = since_for(days, now)
            if (days is not None and job_filter.until is None and bound is not None
                    and job_filter.since is not None and abs(job_filter.since - bound) < 120):
                combo.setCurrentIndex(i)
                return
        if custom < 0:
            combo.addItem("Custom range", "custom")
            custom = combo.count() - 1
        combo.setCurrentIndex(custom)

    def _filter_from_widgets(self) -> JobFilter:
        text = self.search.text().strip() or None
        states = self.state_combo.currentData() or ()
        date = self.date_combo.currentData()
        current = self.model.job_filter
        if date == "custom":
            since, until = current.since, current.until
        else:
            since, until = since_for(date), None
        return self.review_bar.apply(JobFilter(
            provider=self.provider_combo.currentData() or None,
            task=self.task_combo.currentData() or None,
            states=tuple(states),
            text=text,
            favorite=True if self.favorites_only.isChecked() else None,
            since=since,
            until=until,
        ))

    def _filter_widgets_changed(self) -> None:
        self._search_timer.stop()
        job_filter = self._filter_from_widgets()
        if job_filter == self.model.job_filter and self.model.loaded_once:
            return
        self.model.set_job_filter(job_filter)
        self._schedule_reload()

    def _schedule_reload(self) -> None:
        if self._reload_task is not None and not self._reload_task.done():
            self._reload_task.cancel()
        self._reload_task = self._tasks.spawn(self.reload())

    # -- state --------------------------------------------------------------------------------
    def _after_reset(self) -> None:
        if self._restore_id:
            self.select_job(self._restore_id)
            self._restore_id = ""
        self._update_state()
        self._update_actions()

    def _update_state(self) -> None:
        model = self.model
        if not model.loaded_once:
            self.count_label.setText("Loading…")
            return
        self.count_label.setText(count_text(model.total) if model.counted else COUNTING_TEXT)
        if model.rowCount() == 0 and not model.loading:
            self.empty_label.setText(EMPTY_TEXT if filter_is_empty(model.job_filter)
                                     else EMPTY_FILTERED_TEXT)
            self.stack.setCurrentWidget(self.empty_label)
        else:
            self.stack.setCurrentWidget(self.view)

    def _thumbnail_ready(self, sha256: str) -> None:
        """Repaint the visible rows showing this thumbnail, not the whole list."""
        viewport = self.view.viewport()
        top = self.view.indexAt(QPoint(1, 1))
        if not top.isValid():
            return
        bottom = self.view.indexAt(QPoint(1, max(1, viewport.height() - 2)))
        last = bottom.row() if bottom.isValid() else self.model.rowCount() - 1
        for row in range(top.row(), last + 1):
            job = self.model.job_at(row)
            source = thumb_source(job) if job is not None else None
            if source is not None and source.sha256 == sha256:
                viewport.update(self.view.visualRect(self.model.index(row)))

    def _update_actions(self, *_args: object) -> None:
        job = self.current_job()
        has_job = job is not None
        for action in (self.open_action, self.rerun_action, self.reuse_action,
                       self.favorite_action, self.delete_action):
            action.setEnabled(has_job)
        self.compare_selected_action.setEnabled(len(self.selected_job_ids()) > 1)
        self.compare_providers_action.setEnabled(job is not None
                                                 and job.state == JobState.SUCCEEDED)
        has_file = job is not None and bool(job.outputs)
        self.reveal_action.setEnabled(has_file)
        self.copy_path_action.setEnabled(has_file)
        favourite = job is not None and job.favorite
        self.favorite_action.setChecked(favourite)
        self.favorite_action.setText("Unfavourite" if favourite else "Favourite")
        self.toolbar_buttons[3].setText("★" if favourite else "☆")

    def say(self, text: str, *, error: bool = False) -> None:
        """A sentence above the list (a refused comparison, a missing file); "" hides it."""
        self._show_message(text, error=error)

    def message_text(self) -> str:
        return self.message.text() if self.message.isVisibleTo(self) else ""

    def _show_message(self, text: str, *, error: bool = False) -> None:
        self._message_timer.stop()
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if error:
            colour = state_color(JobState.FAILED, is_dark(self.palette())).name()
            self.message.setStyleSheet(f"color: {colour};")
        else:
            self.message.setStyleSheet("")
            if text:
                self._message_timer.start(4000)

    # -- actions ------------------------------------------------------------------------------
    def _open_index(self, index: QModelIndex) -> None:
        job = index.data(JobRole)
        if job is not None:
            self.openRequested.emit(job.id)

    def _open_current(self) -> None:
        if job_id := self.current_job_id():
            self.openRequested.emit(job_id)

    def _rerun_current(self) -> None:
        if job_id := self.current_job_id():
            self.rerunRequested.emit(job_id)

    def _reuse_current(self) -> None:
        if job_id := self.current_job_id():
            self.reuseRequested.emit(job_id)

    def _compare_selected(self) -> None:
        ids = self.selected_job_ids()
        if len(ids) > 1:
            self.compareRequested.emit(ids)
        else:
            self._show_message("Select two or more jobs made from the same photos (Ctrl or "
                               "Shift and click), then Compare selected.", error=True)

    def _compare_providers_current(self) -> None:
        if job_id := self.current_job_id():
            self.compareProvidersRequested.emit(job_id)

    def _toggle_favorite_current(self) -> None:
        job = self.current_job()
        if job is None:
            return
        self.toggle_favorite(job.id)

    def toggle_favorite(self, job_id: str) -> None:
        """Flip the star now; store it in a worker; put it back if storing fails."""
        job = self.model.job(job_id)
        if job is None:
            return
        changed = job.evolve(favorite=not job.favorite)
        self.model.update_job(changed)
        self._update_actions()
        self._tasks.spawn(self._store_favorite(job, changed))

    async def _store_favorite(self, before: Job, after: Job) -> None:
        try:
            await in_worker(self._history.set_favorite, after.id, after.favorite)
        except Exception as exc:
            log.exception("Storing a favourite failed")
            self.model.update_job(before)
            self._update_actions()
            self._show_message(f"The favourite could not be saved ({exc}). Try again.",
                               error=True)

    def _delete_current(self) -> None:
        job = self.current_job()
        if job is None:
            return
        self.confirm_delete(job.id)

    def confirm_delete(self, job_id: str) -> None:
        """Ask (without blocking) and emit deleteRequested only when the user says Yes."""
        job = self.model.job(job_id)
        if job is None:
            return
        if self._confirm is not None:
            self._confirm.close()
        box = QMessageBox(QMessageBox.Icon.Question, "Delete job",
                          f"Delete the {self.model.title(job)} job from"
                          f" {_in_sentence(when_text(job.created_at))}?", parent=self)
        box.setObjectName("historyDeleteConfirm")
        box.setInformativeText("Its input and result files that no other job uses are removed"
                               " too. This cannot be undone.")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Delete")
        box.button(QMessageBox.StandardButton.No).setText("Keep")
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def done(_result: int) -> None:
            confirmed = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
            if self._confirm is box:
                self._confirm = None
            box.deleteLater()
            if confirmed:
                self.deleteRequested.emit(job_id)

        box.finished.connect(done)
        self._confirm = box
        box.open()

    def _reveal_current(self) -> None:
        if job_id := self.current_job_id():
            self._tasks.spawn(self.reveal(job_id))

    async def reveal(self, job_id: str) -> bool:
        """Open the folder holding the result file (no portable 'select file' on Linux)."""
        path = self.reveal_path(job_id)
        if path is None:
            self._show_message("This job has no result file to show.", error=True)
            return False
        if not await in_worker(path.exists):
            self._show_message(f"The result file {path.name} is missing from {path.parent}. It"
                               " was removed outside Restyle; re-run the job to make it again.",
                               error=True)
            return False
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))):
            self._show_message(f"No file manager could open {path.parent}. Copy the path"
                               " instead (Ctrl+Shift+C).", error=True)
            return False
        return True

    def _copy_path_current(self) -> None:
        path = self.reveal_path(self.current_job_id()) if self.current_job_id() else None
        if path is None:
            self._show_message("This job has no result file to copy.", error=True)
            return
        QGuiApplication.clipboard().setText(str(path))
        self._show_message(f"Copied {path}")

    # -- events -------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the search field, Down and Enter move to the list (typing stays in the field)."""
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._search_timer.isActive():
                    self._filter_widgets_changed()
                self.view.setFocus(Qt.FocusReason.TabFocusReason)
                if not self.view.currentIndex().isValid() and self.model.rowCount() > 0:
                    self.view.setCurrentIndex(self.model.index(0))
                return True
        return super().eventFilter(watched, event)

    # -- tasks --------------------------------------------------------------------------------


def _in_sentence(when: str) -> str:
    """'Today 14:02' -> 'today 14:02' inside a sentence; weekdays and months keep capitals."""
    if when.startswith(("Today", "Yesterday")):
        return when[0].lower() + when[1:]
    return when


def _select_data(combo: QComboBox, value: Any, label: Callable[[Any], str]) -> None:
    """Select the item whose data is `value` (None/empty: the first, 'All'); add it if new."""
    if not value:
        combo.setCurrentIndex(0)
        return
    for i in range(combo.count()):
        if combo.itemData(i) == value:
            combo.setCurrentIndex(i)
            return
    combo.addItem(label(value), value)
    combo.setCurrentIndex(combo.count() - 1)


__all__ = ["HistoryPanel", "detail_text", "since_for"]
