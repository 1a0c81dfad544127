"""The job queue dock: every job with its state, elapsed time, progress, retry countdown and
errors, with cancel / retry / open / remove.

The list is a QListView over a small QAbstractListModel, painted by a delegate, so hundreds of
rows and dozens of engine events per second stay cheap: `update_job` is a dict lookup plus one
`dataChanged`, and a single 1 s timer repaints only the visible live rows while something is
live (running or counting down).
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import ErrorCode, Job, JobState
from desktop.ui import qt_compat

qt_compat.install()  # emits dozens of signals per second: needs the PySide6 6.12 refcount fix

_LIVE_STATES = (JobState.PREPARING, JobState.SUBMITTING, JobState.RUNNING, JobState.DOWNLOADING)

#: What the countdown line says while the engine waits to try a provider again.
_WAIT_TITLES: dict[ErrorCode, str] = {
    ErrorCode.RATE_LIMITED: "Rate limited",
    ErrorCode.PROVIDER_UNAVAILABLE: "Provider unavailable",
    ErrorCode.NETWORK: "Network problem",
}

#: After the countdown reaches zero the engine tries again; if that try changes nothing it sends
#: no event, so the "trying again" line is dropped after this many seconds.
_WAIT_GRACE_S = 5.0

#: The engine ends its wait messages with "Checking again in 7 s."; the countdown replaces it.
_CHECKING_AGAIN = re.compile(r"\s*Checking again in [^.]*\.\s*$")

_ERROR_LINES_MAX = 3


def format_elapsed(seconds: float) -> str:
    """'0:07', '12:05', '1:02:03': a clock-style duration that does not jump in width."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_countdown(seconds: float) -> str:
    """'7 s', '1 min 5 s', '2 min': whole seconds, rounded up so it never shows 0 too early."""
    total = max(1, math.ceil(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    return f"{minutes} min" + (f" {secs} s" if secs else "")


def advice_for(code: ErrorCode, provider_title: str) -> str:
    """What the user can do about a failure, in one sentence."""
    if code in (ErrorCode.AUTH_FAILED, ErrorCode.MISSING_KEY):
        return f"Check the API key in the {provider_title} settings, then retry."
    if code == ErrorCode.FORBIDDEN:
        return (f"Your {provider_title} account may not allow this; check the key and plan in "
                "its settings, then retry.")
    if code == ErrorCode.INSUFFICIENT_CREDITS:
        return (f"Top up your {provider_title} credits (see its settings for the account), "
                "then retry.")
    if code == ErrorCode.NOT_CONFIGURED:
        return f"Finish setting up {provider_title} in its settings, then retry."
    if code == ErrorCode.RATE_LIMITED:
        return "The provider asked to slow down. Wait a minute, then retry."
    if code in (ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.NETWORK, ErrorCode.JOB_FAILED):
        return "This may be temporary: retry. If it keeps failing, try another provider."
    if code == ErrorCode.TIMED_OUT:
        return (f"Retry, or give {provider_title} a longer deadline in its settings.")
    if code == ErrorCode.INVALID_INPUT:
        return "Check the inputs and parameters, then retry."
    if code == ErrorCode.RESULT_UNAVAILABLE:
        return "The result could not be downloaded in time; retry to run the job again."
    if code == ErrorCode.CANCELLED:
        return "Retry runs it again with the same inputs."
    if code == ErrorCode.INTERNAL:
        return "This is a bug in Restyle; the log file has the details. Retry may work."
    return "Retry runs the job again with the same inputs."


def needs_settings(code: ErrorCode) -> bool:
    """Failures the provider's settings can fix (keys, credits, configuration, deadline)."""
    return code.is_setup_problem or code == ErrorCode.TIMED_OUT


@dataclass
class _Entry:
    """One row: the latest job version plus what the last event said."""

    job: Job
    title: str
    seq: int
    message: str = ""
    retry_at: float | None = None
    wait_code: ErrorCode | None = None
    #: What decides the row's height; when it changes the view must lay out again.
    height_key: str | None = field(default=None)

    @property
    def live(self) -> bool:
        return not self.job.state.terminal


def _category(state: JobState) -> str:
    if state in _LIVE_STATES:
        return "running"
    if state == JobState.QUEUED:
        return "queued"
    if state in (JobState.FAILED, JobState.TIMED_OUT):
        return "failed"
    if state == JobState.CANCELLED:
        return "cancelled"
    return "succeeded"


_COUNT_ORDER = ("running", "queued", "failed", "cancelled", "succeeded")


class JobListModel(QAbstractListModel):
    """Rows newest first. Internally the entries are kept oldest first (new jobs are appended),
    so adding a job does not renumber the others; display row = count - 1 - position."""

    def __init__(self, view_text: Callable[[_Entry], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[_Entry] = []
        self._pos: dict[str, int] = {}
        self._view_text = view_text

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self.entry_at(index.row())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._view_text(entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            error = entry.job.error
            return error.message if error is not None else (entry.message or entry.job.note)
        if role == Qt.ItemDataRole.UserRole:
            return entry.job.id
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- access -------------------------------------------------------------------------
    def entry_at(self, row: int) -> _Entry:
        return self._entries[len(self._entries) - 1 - row]

    def entry(self, job_id: str) -> _Entry | None:
        pos = self._pos.get(job_id)
        return None if pos is None else self._entries[pos]

    def row_of(self, job_id: str) -> int:
        pos = self._pos.get(job_id)
        return -1 if pos is None else len(self._entries) - 1 - pos

    def entries(self) -> list[_Entry]:
        """Oldest first."""
        return self._entries

    def ids_in_display_order(self) -> list[str]:
        return [e.job.id for e in reversed(self._entries)]

    # -- changes ------------------------------------------------------------------------
    def add(self, entry: _Entry) -> None:
        """Insert by creation time (newest at the top); usually an append at the end."""
        key = (entry.job.created_at, entry.seq)
        pos = len(self._entries)
        while pos > 0 and (self._entries[pos - 1].job.created_at,
                           self._entries[pos - 1].seq) > key:
            pos -= 1
        row = len(self._entries) - pos
        self.beginInsertRows(QModelIndex(), row, row)
        self._entries.insert(pos, entry)
        if pos == len(self._entries) - 1:
            self._pos[entry.job.id] = pos
        else:
            self._reindex()
        self.endInsertRows()

    def remove(self, job_id: str) -> bool:
        pos = self._pos.get(job_id)
        if pos is None:
            return False
        row = len(self._entries) - 1 - pos
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._entries[pos]
        self._reindex()
        self.endRemoveRows()
        return True

    def changed(self, first_row: int, last_row: int | None = None) -> None:
        last = first_row if last_row is None else last_row
        self.dataChanged.emit(self.index(first_row), self.index(last))

    def _reindex(self) -> None:
        self._pos = {e.job.id: i for i, e in enumerate(self._entries)}


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def _state_color(state: JobState, dark: bool) -> QColor:
    """Dot colours that read on light and dark bases (darker shades on light themes)."""
    light_dark = {
        "running": ("#1d6fd6", "#5aa9ff"),
        "queued": ("#6b7280", "#9ca3af"),
        "failed": ("#c62828", "#ff6b6b"),
        "cancelled": ("#6b7280", "#9ca3af"),
        "succeeded": ("#1f7a45", "#4cc38a"),
    }
    if state == JobState.TIMED_OUT:
        return QColor("#ffb347" if dark else "#b45309")
    pair = light_dark[_category(state)]
    return QColor(pair[1] if dark else pair[0])


def _warning_color(dark: bool) -> QColor:
    return QColor("#f5b041" if dark else "#a35200")


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    def part(x: int, y: int) -> int:
        return round(x * (1 - t) + y * t)

    return QColor(part(a.red(), b.red()), part(a.green(), b.green()), part(a.blue(), b.blue()))


class JobDelegate(QStyledItemDelegate):
    """Paints a row: title and elapsed time; state dot, state and progress; message lines."""

    PAD = 6
    GAP = 2

    def __init__(self, queue: JobQueueView) -> None:
        super().__init__(queue)
        self._queue = queue

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        bold = QFont(option.font)
        bold.setBold(True)
        return bold, option.font

    def _wrap_width(self) -> int:
        return max(80, self._queue.list_view.viewport().width() - 2 * self.PAD)

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        fm = QFontMetrics(option.font)
        line = fm.lineSpacing()
        height = 2 * self.PAD + 3 * line + 2 * self.GAP + 2  # title, state, one message line
        model = index.model()
        if isinstance(model, JobListModel) and index.isValid():
            entry = model.entry_at(index.row())
            if entry.height_key:
                lines = self._error_line_count(fm, entry.height_key)
                height += (lines - 1) * line
        return QSize(200, height)

    def _error_line_count(self, fm: QFontMetrics, text: str) -> int:
        rect = fm.boundingRect(QRect(0, 0, self._wrap_width(), 10_000),
                               int(Qt.TextFlag.TextWordWrap), text)
        return max(1, min(_ERROR_LINES_MAX, math.ceil(rect.height() / fm.lineSpacing())))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        model = index.model()
        if not isinstance(model, JobListModel):
            return
        entry = model.entry_at(index.row())
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else self._queue.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)

        palette = option.palette
        dark = _is_dark(palette)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = (QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        text_color = palette.color(text_role)
        muted = _mix(text_color, palette.color(
            QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base), 0.35)
        bold, regular = self._fonts(option)
        fm = QFontMetrics(regular)
        line = fm.lineSpacing()
        now = self._queue.now()
        job = entry.job

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = option.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        x, y, width = rect.x(), rect.y(), rect.width()

        # Line 1: provider · task, and the elapsed time on the right.
        elapsed = self._queue.elapsed_text(entry, now)
        elapsed_w = fm.horizontalAdvance(elapsed) + 4
        painter.setFont(regular)
        painter.setPen(muted)
        painter.drawText(QRect(x, y, width, line),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), elapsed)
        painter.setFont(bold)
        painter.setPen(text_color)
        bfm = QFontMetrics(bold)
        painter.drawText(QRect(x, y, width - elapsed_w - 8, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         bfm.elidedText(entry.title, Qt.TextElideMode.ElideRight,
                                        width - elapsed_w - 8))
        y += line + self.GAP

        # Line 2: coloured dot, state, progress bar (running with known progress).
        dot = max(8, line // 2)
        waiting = entry.live and entry.retry_at is not None
        dot_color = _warning_color(dark) if waiting else _state_color(job.state, dark)
        # On a selected row a ring in the highlight's text colour keeps the dot visible.
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText) if selected
                       else Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(dot_color))
        painter.drawEllipse(x + 1, y + (line - dot) // 2, dot, dot)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setFont(regular)
        painter.setPen(text_color)
        state_text = self._queue.state_line(entry)
        tx = x + dot + 7
        state_w = min(fm.horizontalAdvance(state_text), width - (tx - x))
        painter.drawText(QRect(tx, y, state_w + 2, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         fm.elidedText(state_text, Qt.TextElideMode.ElideRight, state_w + 2))
        if job.progress is not None and entry.live:
            self._paint_progress(painter, palette, fm, job.progress, tx + state_w + 12,
                                 x + width, y, line, text_color, selected)
        y += line + self.GAP

        # Line 3 (and more for errors): countdown, error message or note.
        countdown = self._queue.countdown_text(entry, now)
        if countdown:
            painter.setPen(_warning_color(dark) if not selected else text_color)
            painter.drawText(QRect(x, y, width, line),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm.elidedText(countdown, Qt.TextElideMode.ElideRight, width))
        elif entry.height_key:
            lines = self._error_line_count(fm, entry.height_key)
            painter.setPen(text_color)
            self._draw_wrapped(painter, fm, entry.height_key, QRect(x, y, width, lines * line),
                               lines)
        else:
            message = self._queue.message_line(entry)
            if message:
                painter.setPen(muted)
                painter.drawText(QRect(x, y, width, line),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                                 fm.elidedText(message, Qt.TextElideMode.ElideRight, width))
        painter.restore()

    @staticmethod
    def _draw_wrapped(painter: QPainter, fm: QFontMetrics, text: str, rect: QRect,
                      lines: int) -> None:
        """Word-wrapped text in at most `lines` lines; the last one elided when it overflows."""
        full = fm.boundingRect(QRect(0, 0, rect.width(), 10_000),
                               int(Qt.TextFlag.TextWordWrap), text)
        if full.height() <= rect.height():
            painter.drawText(rect, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft
                                       | Qt.AlignmentFlag.AlignTop), text)
            return
        words = text.split()
        y = rect.y()
        line_h = fm.lineSpacing()
        for n in range(lines):
            if n == lines - 1:
                rest = " ".join(words)
                painter.drawText(QRect(rect.x(), y, rect.width(), line_h),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                                 fm.elidedText(rest, Qt.TextElideMode.ElideRight, rect.width()))
                break
            current: list[str] = []
            while words and fm.horizontalAdvance(" ".join([*current, words[0]])) <= rect.width():
                current.append(words.pop(0))
            if not current and words:
                current.append(words.pop(0))
            painter.drawText(QRect(rect.x(), y, rect.width(), line_h),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             fm.elidedText(" ".join(current), Qt.TextElideMode.ElideRight,
                                           rect.width()))
            y += line_h

    @staticmethod
    def _paint_progress(painter: QPainter, palette: QPalette, fm: QFontMetrics, progress: float,
                        left: int, right: int, y: int, line: int, text_color: QColor,
                        selected: bool) -> None:
        label = f"{round(progress * 100)} %"
        label_w = fm.horizontalAdvance("100 %") + 4
        bar_w = min(160, right - left - label_w - 6)
        if bar_w < 30:
            return
        bar_h = max(4, line // 3)
        bar = QRect(left, y + (line - bar_h) // 2, bar_w, bar_h)
        track = _mix(palette.color(QPalette.ColorRole.Base), text_color, 0.18)
        fill = (palette.color(QPalette.ColorRole.HighlightedText) if selected
                else palette.color(QPalette.ColorRole.Highlight))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, bar_h / 2, bar_h / 2)
        done = round(bar_w * max(0.0, min(1.0, progress)))
        if done > 0:
            painter.setBrush(fill)
            painter.drawRoundedRect(QRect(bar.x(), bar.y(), done, bar_h), bar_h / 2, bar_h / 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(text_color)
        painter.drawText(QRect(bar.right() + 6, y, label_w, line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), label)


class _JobListView(QListView):
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

    cancelRequested = Signal(str)
    retryRequested = Signal(str)
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
        self.detail = QFrame(self)
        self.detail.setObjectName("jobDetail")
        self.detail.setFrameShape(QFrame.Shape.StyledPanel)
        self._detail_title = QLabel(self.detail)
        self._detail_title.setObjectName("jobDetailTitle")
        title_font = QFont(self._detail_title.font())
        title_font.setBold(True)
        self._detail_title.setFont(title_font)
        self._detail_title.setWordWrap(True)
        self._detail_message = QLabel(self.detail)
        self._detail_message.setObjectName("jobDetailMessage")
        self._detail_message.setAccessibleName("Job message")
        self._detail_message.setWordWrap(True)
        self._detail_message.setTextFormat(Qt.TextFormat.PlainText)
        self._detail_message.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._detail_message.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._detail_message.setSizePolicy(QSizePolicy.Policy.Preferred,
                                           QSizePolicy.Policy.Minimum)
        self._detail_advice = QLabel(self.detail)
        self._detail_advice.setObjectName("jobDetailAdvice")
        self._detail_advice.setAccessibleName("What to do")
        self._detail_advice.setWordWrap(True)
        self._detail_advice.setTextFormat(Qt.TextFormat.PlainText)
        self.settings_button = QPushButton(self.detail)
        self.settings_button.setObjectName("openProviderSettingsButton")
        self.settings_button.setAccessibleName("Open provider settings")
        self.settings_button.clicked.connect(self._open_settings)
        self.settings_button.hide()
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.setContentsMargins(8, 6, 8, 8)
        detail_layout.setSpacing(4)
        detail_layout.addWidget(self._detail_title)
        detail_layout.addWidget(self._detail_message)
        detail_layout.addWidget(self._detail_advice)
        settings_row = QHBoxLayout()
        settings_row.addWidget(self.settings_button)
        settings_row.addStretch(1)
        detail_layout.addLayout(settings_row)

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
        QWidget.setTabOrder(self.remove_button, self._detail_message)
        QWidget.setTabOrder(self._detail_message, self.settings_button)
        QWidget.setTabOrder(self.settings_button, self._clear_button)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)

        self._refresh_actions()
        self._refresh_detail()

    # -- public interface -----------------------------------------------------------------
    def update_job(self, job: Job, *, message: str = "", retry_at: float | None = None,
                   error_code: ErrorCode | None = None) -> None:
        """Add or update a row (newest at the top). Called for every engine event: cheap."""
        entry = self._model.entry(job.id)
        if entry is None:
            self._seq += 1
            entry = _Entry(job=job, title=self._title(job), seq=self._seq)
            self._apply(entry, job, message, retry_at, error_code)
            self._counts[_category(job.state)] += 1
            self._model.add(entry)
            self._refresh_counts()
        else:
            old_category = _category(entry.job.state)
            old_height_key = entry.height_key
            self._apply(entry, job, message, retry_at, error_code)
            new_category = _category(job.state)
            row = self._model.row_of(job.id)
            if new_category != old_category:
                self._counts[old_category] -= 1
                self._counts[new_category] += 1
                self._refresh_counts()
            if entry.height_key != old_height_key:
                self._delegate.sizeHintChanged.emit(self._model.index(row))
            self._model.changed(row)
            if job.id == self._current_id:
                self._refresh_actions()
                self._refresh_detail()
        if (entry.live or entry.retry_at is not None) and not self._timer.isActive():
            self._timer.start()

    def remove_job(self, job_id: str) -> None:
        entry = self._model.entry(job_id)
        if entry is None:
            return
        self._counts[_category(entry.job.state)] -= 1
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
        finished = [e.job.id for e in self._model.entries() if not e.live]
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
        return f"{provider} · {task}"

    def _provider_title(self, provider_id: str) -> str:
        return self._provider_titles.get(provider_id, provider_id)

    @staticmethod
    def _apply(entry: _Entry, job: Job, message: str, retry_at: float | None,
               error_code: ErrorCode | None) -> None:
        entry.job = job
        if job.state.terminal or retry_at is None:
            entry.retry_at = None
            entry.wait_code = None
            entry.message = message
        else:
            entry.retry_at = retry_at
            entry.wait_code = error_code
            entry.message = _CHECKING_AGAIN.sub("", message) or message
        if job.state in (JobState.FAILED, JobState.TIMED_OUT):
            entry.height_key = (job.error.message if job.error is not None
                                else f"The job ended as {job.state.title.lower()}.")
        else:
            entry.height_key = None

    def elapsed_text(self, entry: _Entry, now: float) -> str:
        job = entry.job
        start = job.started_at if job.started_at is not None else job.created_at
        if job.state.terminal:
            end = job.finished_at if job.finished_at is not None else job.updated_at
            return format_elapsed(end - start)
        return format_elapsed(now - start)

    def state_line(self, entry: _Entry) -> str:
        job = entry.job
        parts = [job.state.title]
        if job.state == JobState.SUCCEEDED and job.outputs:
            count = len(job.outputs)
            parts.append(f"{count} result" + ("" if count == 1 else "s"))
        return " · ".join(parts)

    def countdown_text(self, entry: _Entry, now: float) -> str:
        if entry.retry_at is None or not entry.live:
            return ""
        what = _WAIT_TITLES.get(entry.wait_code, "Waiting") if entry.wait_code else "Waiting"
        remaining = entry.retry_at - now
        if remaining <= 0:
            return f"{what}: trying again now…"
        return f"{what}: next try in {format_countdown(remaining)}"

    def message_line(self, entry: _Entry) -> str:
        job = entry.job
        if job.state == JobState.CANCELLED:
            return job.error.message if job.error is not None else "Cancelled."
        if entry.live and entry.message:
            return entry.message
        if job.state == JobState.QUEUED and not job.note:
            return "Waiting to start."
        return job.note

    def _entry_text(self, entry: _Entry) -> str:
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
            if entry.retry_at is not None and now - entry.retry_at > _WAIT_GRACE_S:
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

    def _current_entry(self) -> _Entry | None:
        return self._model.entry(self._current_id) if self._current_id else None

    def _cancel(self) -> None:
        entry = self._current_entry()
        if entry is not None and entry.live:
            self.cancelRequested.emit(entry.job.id)

    def _retry(self) -> None:
        entry = self._current_entry()
        if entry is not None and not entry.live:
            self.retryRequested.emit(entry.job.id)

    def _open(self) -> None:
        entry = self._current_entry()
        if entry is not None and entry.job.outputs:
            self.openRequested.emit(entry.job.id)

    def _remove(self) -> None:
        entry = self._current_entry()
        if entry is None or entry.live:
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
        parts = [f"{self._counts[c]}\u00a0{c}" for c in _COUNT_ORDER if self._counts[c] > 0]
        text = " · ".join(parts) if parts else "No jobs"
        if text != self._counts_label.text():
            self._counts_label.setText(text)
        finished = sum(self._counts[c] for c in ("failed", "cancelled", "succeeded"))
        self._clear_button.setEnabled(finished > 0)
        if self._current_id and self._model.entry(self._current_id) is None:
            self._current_id = ""
            self._refresh_actions()
            self._refresh_detail()
            self.currentJobChanged.emit("")

    def _refresh_actions(self) -> None:
        entry = self._current_entry()
        live = entry is not None and entry.live
        self.cancel_action.setEnabled(live)
        self.retry_action.setEnabled(entry is not None and not live)
        self.retry_action.setText("Run again" if entry is not None
                                  and entry.job.state == JobState.SUCCEEDED else "Retry")
        self.open_action.setEnabled(entry is not None and bool(entry.job.outputs))
        self.remove_action.setEnabled(entry is not None and not live)

    def _refresh_detail(self) -> None:
        entry = self._current_entry()
        if entry is None:
            self._detail_title.setText("No job selected")
            self._set_label(self._detail_message, "Select a job to see its messages and "
                            "what to do when it fails.")
            self._detail_advice.hide()
            self.settings_button.hide()
            return
        job = entry.job
        provider_title = self._provider_title(job.provider)
        self._detail_title.setText(f"{entry.title} — {job.state.title}")
        lines: list[str] = []
        advice = ""
        show_settings = False
        if job.error is not None and job.state.terminal:
            lines.append(job.error.message)
            if job.error.provider_code:
                lines.append(f"Provider code: {job.error.provider_code}")
            advice = advice_for(job.error.code, provider_title)
            show_settings = (job.state != JobState.CANCELLED and needs_settings(job.error.code))
        elif job.state.terminal:
            lines.append(job.note or f"{job.state.title}.")
            if job.state == JobState.SUCCEEDED and not job.outputs:
                lines.append("The provider returned no result files.")
        else:
            countdown = self.countdown_text(entry, self._clock())
            if countdown:
                lines.append(countdown + ".")
            message = entry.message or job.note
            if message:
                lines.append(message)
            if not lines:
                lines.append(f"{job.state.title}…")
        lines.append(f"Job {job.id}")
        self._set_label(self._detail_message, "\n".join(lines))
        if advice:
            self._detail_advice.setText(advice)
            self._detail_advice.show()
        else:
            self._detail_advice.hide()
        if show_settings:
            text = f"Open {provider_title} settings"
            if self.settings_button.text() != text:
                self.settings_button.setText(text)
                self.settings_button.setAccessibleName(text)
            self.settings_button.show()
        else:
            self.settings_button.hide()

    @staticmethod
    def _set_label(label: QLabel, text: str) -> None:
        if label.text() != text:  # keeps a selection the user is making in the label
            label.setText(text)
