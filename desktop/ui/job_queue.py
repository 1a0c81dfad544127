"""The job queue dock: every job with its state, elapsed time, progress, retry countdown and
errors, with cancel / retry / open / remove; a job that needs attention with its sentence,
Retry (collect it) and Abandon…; a job another Restyle process runs, saying which.

The list is a QListView over a small QAbstractListModel (job_queue_model.py), painted by a
delegate (job_queue_delegate.py), so hundreds of rows and dozens of engine events per second
stay cheap: `update_job` is a dict lookup plus one `dataChanged`, and a single 1 s timer
repaints only the visible live rows while something is live (running or counting down).

The view only emits requests; the window decides (and asks first) what to do with them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from PySide6.QtCore import QItemSelection, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import ErrorCode, Job, JobState, TaskSpec
from desktop.core.plain_words import TaskLookup, no_tasks
from desktop.ui import qt_compat
from desktop.ui.error_details import ErrorDetailsDialog, show_error_details
from desktop.ui.job_queue_delegate import JobDelegate
from desktop.ui.job_queue_detail import (
    JobDetail,
    countdown_text,
    elapsed_text,
    message_line,
    state_line,
)
from desktop.ui.job_queue_model import (
    CHECKING_AGAIN,
    COUNT_WORDS,
    FINISHED_CATEGORIES,
    WAIT_GRACE_S,
    JobEntry,
    JobListModel,
    advice_for,
    category,
    format_countdown,
    format_elapsed,
    needs_settings,
    tooltip,
)
from desktop.ui.job_words import (
    can_retry,
    holder,
    plain,
    short_sentence,
)
from desktop.ui.row_repaint import RowRepaintListView

qt_compat.install()  # emits dozens of signals per second: needs the PySide6 6.12 refcount fix

__all__ = ["JobQueueView", "advice_for", "format_countdown", "format_elapsed", "needs_settings"]


class _JobListView(RowRepaintListView):
    """The list, with a sentence instead of a blank area when there are no jobs."""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            color = self.palette().color(QPalette.ColorRole.PlaceholderText)
            painter.setPen(color)
            painter.drawText(self.viewport().rect().adjusted(12, 12, -12, -12),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                 | Qt.TextFlag.TextWordWrap),
                             "No jobs yet. Jobs you start with Generate appear here.")
            painter.end()


class JobQueueView(QWidget):
    """The job queue: a live list of jobs, actions for the selected one and its full error."""

    #: Cancel a running job, or abandon one that needs attention (the window asks first when
    #: the job may be charged).
    cancelRequested = Signal(str)
    #: Run a finished job again: a new job with the same inputs.
    retryRequested = Signal(str)
    #: Retry on a job that needs attention: check it at the provider again and collect it
    #: (never a second submit).
    collectRequested = Signal(str)
    #: Show the job's result in the compare view (button, double-click, Enter).
    openRequested = Signal(str)
    #: The job left the queue view (Remove, Delete, Clear finished): the view has already
    #: dropped the row; the window forgets it too (it stays in history). `remove_job` on an id
    #: that is gone does nothing, so the window may also call it.
    removeRequested = Signal(str)
    settingsRequested = Signal(str)
    currentJobChanged = Signal(str)

    def __init__(self, provider_titles: Mapping[str, str],
                 task_titles: Mapping[tuple[str, str], str] | None = None,
                 parent: QWidget | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.setObjectName("jobQueue")
        self.setAccessibleName("Job queue")
        self._provider_titles = dict(provider_titles)
        self._task_titles = dict(task_titles or {})
        self._clock = clock
        self._seq = 0
        self._counts: Counter[str] = Counter()
        self._current_id = ""
        #: This window's engine (its jobs are "ours"; others' are running elsewhere).
        self._own_owner: str | None = None
        #: Providers that cost nothing (the offline one): cancelling there never asks.
        self._free: set[str] = set()
        #: Providers without a job list: a lost submit cannot be looked up there.
        self._cannot_look_up: set[str] = set()
        self._task_lookup: TaskLookup = no_tasks

        self._model = JobListModel(self._entry_text, self)

        # Header: counts and "Clear finished".
        self._counts_label = QLabel("No jobs", self)
        self._counts_label.setObjectName("jobQueueCounts")
        self._counts_label.setAccessibleName("Job counts")
        self._counts_label.setWordWrap(True)
        self._clear_button = QPushButton("Clear finished", self)
        self._clear_button.setObjectName("clearFinishedButton")
        self._clear_button.setAccessibleName("Clear finished jobs")
        self._clear_button.setToolTip("Remove finished jobs from the queue (they stay in history)")
        self._clear_button.setEnabled(False)
        self._clear_button.clicked.connect(self.clear_finished)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self._counts_label, 1)
        header.addWidget(self._clear_button)

        # The list.
        self.list_view = _JobListView(self)
        self.list_view.setObjectName("jobList")
        self.list_view.setAccessibleName("Jobs")
        self.list_view.setModel(self._model)
        self._delegate = JobDelegate(self)
        self.list_view.setItemDelegate(self._delegate)
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setAlternatingRowColors(True)
        self.list_view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.customContextMenuRequested.connect(self._show_menu)
        self.list_view.doubleClicked.connect(self._on_double_click)
        self.list_view.selectionModel().selectionChanged.connect(self._on_selection)
        self.list_view.setMinimumHeight(120)

        # Actions (buttons, context menu, shortcuts share them).
        self.cancel_action = self._action("Cancel", "Cancel the selected job", self._cancel,
                                          None)
        self.retry_action = self._action("Retry", "Run the selected job again with the same "
                                         "inputs (Ctrl+R)", self._retry,
                                         QKeySequence("Ctrl+R"))
        self.open_action = self._action("Open result", "Show the result in the compare view "
                                        "(Enter)", self._open,
                                        [QKeySequence(Qt.Key.Key_Return),
                                         QKeySequence(Qt.Key.Key_Enter)])
        self.remove_action = self._action("Remove", "Remove the finished job from the queue; it "
                                          "stays in history (Delete)", self._remove,
                                          QKeySequence(QKeySequence.StandardKey.Delete))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        self.cancel_button = self._tool_button(self.cancel_action, "cancelJobButton",
                                               "Cancel job")
        self.retry_button = self._tool_button(self.retry_action, "retryJobButton", "Retry job")
        self.open_button = self._tool_button(self.open_action, "openResultButton",
                                             "Open result")
        self.remove_button = self._tool_button(self.remove_action, "removeJobButton",
                                               "Remove job from queue")
        for button in (self.cancel_button, self.retry_button, self.open_button,
                       self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        # Detail of the selected job: the engine's full message, provider code, what to do.
        self.detail = JobDetail(self)
        self.settings_button = self.detail.settings_button
        self.detail.settingsRequested.connect(self._open_settings)
        self.detail.detailsRequested.connect(self.show_error_details)
        self._details_dialog: ErrorDetailsDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.detail)

        QWidget.setTabOrder(self.list_view, self.cancel_button)
        QWidget.setTabOrder(self.cancel_button, self.retry_button)
        QWidget.setTabOrder(self.retry_button, self.open_button)
        QWidget.setTabOrder(self.open_button, self.remove_button)
        QWidget.setTabOrder(self.remove_button, self.detail.message)
        QWidget.setTabOrder(self.detail.details_button, self._clear_button)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)

        self._refresh_actions()
        self._refresh_detail()

    # -- public interface -----------------------------------------------------------------
    def set_own_owner(self, owner: str | None) -> None:
        """Which owner id is this window's engine: jobs owned by another are shown as running
        in that process."""
        self._own_owner = owner

    def set_provider_traits(self, *, free: Iterable[str] = (),
                            cannot_look_up: Iterable[str] = ()) -> None:
        """What the buttons need to know about providers: which cost nothing (Cancel never
        asks) and which cannot look up a lost submit (Retry cannot help there)."""
        self._free = set(free)
        self._cannot_look_up = set(cannot_look_up)
        self._refresh_actions()
        self._refresh_detail()

    def set_task_lookup(self, lookup: TaskLookup) -> None:
        """How to find a job's task description: its note is the form's, never a row's."""
        self._task_lookup = lookup
        if self._model.rowCount():
            self._model.changed(0, self._model.rowCount() - 1)
        self._refresh_detail()

    def _task(self, job: Job) -> TaskSpec | None:
        return self._task_lookup(job.provider, job.task)

    def is_free(self, provider_id: str) -> bool:
        return provider_id in self._free

    def holder(self, job_id: str) -> str:
        """Who else works on the job ("restyle-cli run (process 4242 on studio)"), or ""."""
        entry = self._model.entry(job_id)
        return "" if entry is None else entry.holder

    def note_message(self, job_id: str, message: str) -> None:
        """Show a line the window has to say about an open job ("Asked … to cancel it.")."""
        entry = self._model.entry(job_id)
        if entry is None or not entry.open:
            return
        entry.message = message
        self._model.changed(self._model.row_of(job_id))
        if job_id == self._current_id:
            self._refresh_detail()

    def running_count(self) -> int:
        """Jobs queued or on their way (not those waiting for the user)."""
        return sum(1 for e in self._model.entries() if e.live)

    def update_job(self, job: Job, *, message: str = "", retry_at: float | None = None,
                   error_code: ErrorCode | None = None) -> None:
        """Add or update a row (newest at the top). Called for every engine event: cheap."""
        entry = self._model.entry(job.id)
        if entry is None:
            self._seq += 1
            entry = JobEntry(job=job, title=self._title(job), seq=self._seq)
            self._apply(entry, job, message, retry_at, error_code)
            self._counts[category(job.state)] += 1
            self._model.add(entry)
            self._refresh_counts()
        else:
            old_category = category(entry.job.state)
            old_height_key = entry.height_key
            before = self._painted(entry)
            self._apply(entry, job, message, retry_at, error_code)
            new_category = category(job.state)
            row = self._model.row_of(job.id)
            if new_category != old_category:
                self._counts[old_category] -= 1
                self._counts[new_category] += 1
                self._refresh_counts()
            if entry.height_key != old_height_key:
                self._delegate.sizeHintChanged.emit(self._model.index(row))
            if self._painted(entry) != before:
                self._model.changed(row)  # that row only, and only when it looks different
            if job.id == self._current_id:
                self._refresh_actions()
                self._refresh_detail()
        if (entry.live or entry.retry_at is not None) and not self._timer.isActive():
            self._timer.start()

    def remove_job(self, job_id: str) -> None:
        entry = self._model.entry(job_id)
        if entry is None:
            return
        self._counts[category(entry.job.state)] -= 1
        self._model.remove(job_id)
        self._refresh_counts()

    def job_ids(self) -> list[str]:
        return self._model.ids_in_display_order()

    def job(self, job_id: str) -> Job | None:
        entry = self._model.entry(job_id)
        return None if entry is None else entry.job

    def row_text(self, job_id: str) -> str:
        """The row's visible text, line by line (what the delegate paints)."""
        entry = self._model.entry(job_id)
        return "" if entry is None else self._entry_text(entry)

    def select_job(self, job_id: str) -> None:
        row = self._model.row_of(job_id)
        if row < 0:
            self.list_view.clearSelection()
            return
        index = self._model.index(row)
        self.list_view.setCurrentIndex(index)
        self.list_view.scrollTo(index)

    def current_job_id(self) -> str:
        return self._current_id

    def clear_finished(self) -> None:
        """Drop terminal jobs from the queue view (they stay in history)."""
        finished = [e.job.id for e in self._model.entries() if not e.open]
        for job_id in finished:
            self.remove_job(job_id)
        for job_id in finished:
            self.removeRequested.emit(job_id)

    def now(self) -> float:
        return self._clock()

    # -- texts -----------------------------------------------------------------------------
    def _title(self, job: Job) -> str:
        provider = self._provider_titles.get(job.provider, job.provider)
        task = self._task_titles.get((job.provider, job.task))
        if task is None:
            task = job.task.replace("_", " ").capitalize()
        workflow = job.spec.params.get("workflow")  # a saved workflow: its own name
        if job.task == "workflow" and isinstance(workflow, str) and workflow.strip():
            task = workflow.strip()
        return f"{provider} · {task}"

    def _provider_title(self, provider_id: str) -> str:
        return self._provider_titles.get(provider_id, provider_id)

    def _apply(self, entry: JobEntry, job: Job, message: str, retry_at: float | None,
               error_code: ErrorCode | None) -> None:
        entry.job = job
        previous_holder, entry.holder = entry.holder, holder(job, self._own_owner)
        if not entry.live or retry_at is None:
            entry.retry_at = None
            entry.wait_code = None
            if message or not (entry.holder and entry.holder == previous_holder):
                entry.message = message  # a fresh look at a job run elsewhere keeps the line
        else:
            entry.retry_at = retry_at
            entry.wait_code = error_code
            entry.message = CHECKING_AGAIN.sub("", message) or message
        if job.state in (JobState.FAILED, JobState.TIMED_OUT):
            entry.height_key = (plain(job.error.message) if job.error is not None
                                else f"The job ended as {job.state.title.lower()}.")
        elif job.state == JobState.NEEDS_ATTENTION:
            # The first sentence in the row; the whole one in the tooltip and the detail.
            entry.height_key = (short_sentence(job.error.message) if job.error is not None
                                else "This job needs your attention.")
        else:
            entry.height_key = None

    def _painted(self, entry: JobEntry) -> tuple[object, ...]:
        """Everything a row's painting depends on: its text lines, its tooltip and the exact
        progress (the bar moves by less than the rounded percentage)."""
        return (self._entry_text(entry), tooltip(entry), entry.job.progress, entry.live)

    def elapsed_text(self, entry: JobEntry, now: float) -> str:
        return elapsed_text(entry, now)

    def state_line(self, entry: JobEntry) -> str:
        return state_line(entry)

    def countdown_text(self, entry: JobEntry, now: float) -> str:
        return countdown_text(entry, now)

    def message_line(self, entry: JobEntry) -> str:
        return message_line(entry, self._task(entry.job))

    def _entry_text(self, entry: JobEntry) -> str:
        now = self._clock()
        job = entry.job
        second = f"{self.state_line(entry)} · {self.elapsed_text(entry, now)}"
        if job.progress is not None and entry.live:
            second += f" · {round(job.progress * 100)} %"
        lines = [entry.title, second]
        countdown = self.countdown_text(entry, now)
        if countdown:
            lines.append(countdown)
        elif entry.height_key:
            lines.append(entry.height_key)
        else:
            message = self.message_line(entry)
            if message:
                lines.append(message)
        return "\n".join(lines)

    # -- timer -----------------------------------------------------------------------------
    def tick(self) -> None:
        """Once a second: repaint the visible live rows (elapsed, countdowns); stop when idle."""
        now = self._clock()
        any_live = False
        entries = self._model.entries()
        count = len(entries)
        for entry in entries:
            if entry.retry_at is not None and now - entry.retry_at > WAIT_GRACE_S:
                # The engine tried again and had nothing new to say: the wait is over.
                entry.retry_at = None
                entry.wait_code = None
                entry.message = ""
            any_live = any_live or entry.live
        first, last = self._visible_rows()
        run_start = -1
        for row in range(first, last + 1):
            live = entries[count - 1 - row].live
            if live and run_start < 0:
                run_start = row
            if not live and run_start >= 0:
                self._model.changed(run_start, row - 1)
                run_start = -1
        if run_start >= 0:
            self._model.changed(run_start, last)
        current = self._model.entry(self._current_id) if self._current_id else None
        if current is not None and current.live:
            self._refresh_detail()
        if not any_live:
            self._timer.stop()

    def timer_active(self) -> bool:
        return self._timer.isActive()

    def _visible_rows(self) -> tuple[int, int]:
        count = self._model.rowCount()
        if count == 0:
            return 0, -1
        viewport = self.list_view.viewport().rect()
        top = self.list_view.indexAt(QPoint(1, 1))
        bottom = self.list_view.indexAt(QPoint(1, max(1, viewport.height() - 2)))
        first = top.row() if top.isValid() else 0
        last = bottom.row() if bottom.isValid() else count - 1
        return first, last

    # -- actions ---------------------------------------------------------------------------
    def _action(self, text: str, tip: str, slot: Callable[[], None],
                keys: QKeySequence | list[QKeySequence] | None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if keys is not None:
            action.setShortcuts(keys if isinstance(keys, list) else [keys])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            # Shortcuts work while the list (or any child) has focus.
            self.list_view.addAction(action)
        action.triggered.connect(slot)
        return action

    def _tool_button(self, action: QAction, name: str, accessible: str) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.setAutoRaise(False)
        return button

    def _current_entry(self) -> JobEntry | None:
        return self._model.entry(self._current_id) if self._current_id else None

    def _cancel(self) -> None:
        entry = self._current_entry()
        if entry is not None and entry.open:
            self.cancelRequested.emit(entry.job.id)

    def _retry(self) -> None:
        entry = self._current_entry()
        if entry is None:
            return
        if entry.waiting_for_user:
            if self._can_retry(entry):
                self.collectRequested.emit(entry.job.id)
        elif not entry.open:
            self.retryRequested.emit(entry.job.id)

    def _can_retry(self, entry: JobEntry) -> bool:
        return can_retry(entry.job, entry.job.provider not in self._cannot_look_up)

    def _open(self) -> None:
        entry = self._current_entry()
        if entry is not None and entry.job.outputs:
            self.openRequested.emit(entry.job.id)

    def _remove(self) -> None:
        entry = self._current_entry()
        if entry is None or entry.open:
            return
        job_id = entry.job.id
        row = self._model.row_of(job_id)
        self.remove_job(job_id)
        if self._model.rowCount():
            self.list_view.setCurrentIndex(self._model.index(min(row, self._model.rowCount() - 1)))
        self.removeRequested.emit(job_id)

    def _open_settings(self) -> None:
        entry = self._current_entry()
        if entry is not None:
            self.settingsRequested.emit(entry.job.provider)

    def _on_double_click(self, index: QModelIndex) -> None:
        if index.isValid():
            self.list_view.setCurrentIndex(index)
            self._open()

    def _show_menu(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        if not index.isValid():
            return
        self.list_view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setAccessibleName("Job actions")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for action in (self.open_action, self.retry_action, self.cancel_action,
                       self.remove_action):
            menu.addAction(action)
        entry = self._current_entry()
        if entry is not None and self.settings_button.isVisible():
            menu.addSeparator()
            menu.addAction(self.settings_button.text(), self._open_settings)
        menu.popup(self.list_view.viewport().mapToGlobal(pos))

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = self.list_view.selectionModel().selectedIndexes()
        job_id = ""
        if indexes:
            job_id = str(self._model.data(indexes[0], Qt.ItemDataRole.UserRole) or "")
        if job_id != self._current_id:
            self._current_id = job_id
            self._refresh_actions()
            self._refresh_detail()
            self.currentJobChanged.emit(job_id)

    # -- refreshers ------------------------------------------------------------------------
    def _refresh_counts(self) -> None:
        # No-break spaces keep "1 failed" together when a narrow dock wraps the line.
        parts = [f"{n}\u00a0{one if n == 1 else several}"
                 for c, (one, several) in COUNT_WORDS.items() if (n := self._counts[c]) > 0]
        text = " · ".join(parts) if parts else "No jobs"
        if text != self._counts_label.text():
            self._counts_label.setText(text)
        finished = sum(self._counts[c] for c in FINISHED_CATEGORIES)
        self._clear_button.setEnabled(finished > 0)
        if self._current_id and self._model.entry(self._current_id) is None:
            self._current_id = ""
            self._refresh_actions()
            self._refresh_detail()
            self.currentJobChanged.emit("")

    def _refresh_actions(self) -> None:
        entry = self._current_entry()
        is_open = entry is not None and entry.open
        self.cancel_action.setEnabled(is_open)
        self._set_cancel_words(entry)
        if entry is not None and entry.waiting_for_user:
            self.retry_action.setEnabled(self._can_retry(entry))
            self.retry_action.setText("Retry")
            title = self._provider_title(entry.job.provider)
            tip = (f"Check the job at {title} again and collect its result (Ctrl+R)"
                   if self.retry_action.isEnabled()
                   else f"{title} cannot be asked about this job; abandon it instead")
        else:
            self.retry_action.setEnabled(entry is not None and not is_open)
            self.retry_action.setText("Run again" if entry is not None
                                      and entry.job.state == JobState.SUCCEEDED else "Retry")
            tip = "Run the selected job again with the same inputs (Ctrl+R)"
        self.retry_action.setToolTip(tip)
        self.retry_action.setStatusTip(tip)
        self.open_action.setEnabled(entry is not None and bool(entry.job.outputs))
        self.remove_action.setEnabled(entry is not None and not is_open)

    def _set_cancel_words(self, entry: JobEntry | None) -> None:
        """"Abandon…" for a job that waits for the user, "Cancel…" where the window will ask
        first (the job may be charged), else "Cancel"."""
        if entry is not None and entry.waiting_for_user:
            text, name = "Abandon…", "Abandon job"
            tip = "Stop following this job; the provider may still charge for it"
        elif entry is not None and entry.open and (
                entry.holder or (entry.job.may_be_charged
                                 and entry.job.provider not in self._free)):
            text, name = "Cancel…", "Cancel job"
            tip = "Cancel the selected job (Restyle asks first: it may be charged)"
        else:
            text, name, tip = "Cancel", "Cancel job", "Cancel the selected job"
        if self.cancel_action.text() != text:
            self.cancel_action.setText(text)
            self.cancel_action.setIconText(text)  # the button keeps the "…" (asks first)
            self.cancel_action.setToolTip(tip)
            self.cancel_action.setStatusTip(tip)
            self.cancel_button.setAccessibleName(name)

    def _refresh_detail(self) -> None:
        entry = self._current_entry()
        if entry is None:
            self.detail.show_nothing()
            return
        job = entry.job
        self.detail.show_entry(entry, self._provider_title(job.provider), self._task(job),
                               self.countdown_text(entry, self._clock()),
                               job.provider not in self._cannot_look_up)
        if self._details_dialog is not None and self._details_dialog.job_id() == job.id:
            self.show_error_details()  # an open details window follows the job

    def show_error_details(self) -> ErrorDetailsDialog | None:
        """Everything known about the selected job's failure, in a window of its own
        (non-modal; objectName `errorDetailsDialog`)."""
        entry = self._current_entry()
        if entry is None or entry.job.error is None:
            return None
        advice = self.detail.advice.text() if self.detail.advice.isVisible() else ""
        known = self._details_dialog
        self._details_dialog = show_error_details(known, self, entry.job, entry.title, advice)
        if self._details_dialog is not known:
            self._details_dialog.destroyed.connect(self._details_closed)
        return self._details_dialog

    def _details_closed(self, *_args: object) -> None:
        self._details_dialog = None

    def details_dialog(self) -> ErrorDetailsDialog | None:
        return self._details_dialog
