"""The job queue's data: one entry per job (its latest version and what the last event said),
the list model the view shows, and the queue's words for times, waits and failures.

Kept apart from the painting (job_queue_delegate.py) and the widget (job_queue.py) so each part
stays small; `job_queue` re-exports what callers used to import from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from desktop.core.model import ErrorCode, Job, JobState
from desktop.ui.job_words import plain

LIVE_STATES = (JobState.PREPARING, JobState.SUBMITTING, JobState.RUNNING, JobState.DOWNLOADING)

#: What the countdown line says while the engine waits to try a provider again.
WAIT_TITLES: dict[ErrorCode, str] = {
    ErrorCode.RATE_LIMITED: "Rate limited",
    ErrorCode.PROVIDER_UNAVAILABLE: "Provider unavailable",
    ErrorCode.NETWORK: "Network problem",
}

#: After the countdown reaches zero the engine tries again; if that try changes nothing it sends
#: no event, so the "trying again" line is dropped after this many seconds.
WAIT_GRACE_S = 5.0

#: The engine ends its wait messages with "Checking again in 7 s."; the countdown replaces it.
CHECKING_AGAIN = re.compile(r"\s*Checking again in [^.]*\.\s*$")

ERROR_LINES_MAX = 3

#: What a row's change changes: its painted text, tooltip and accessible text.
ROW_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole,
             Qt.ItemDataRole.ToolTipRole]


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
class JobEntry:
    """One row: the latest job version plus what the last event said."""

    job: Job
    title: str
    seq: int
    message: str = ""
    retry_at: float | None = None
    wait_code: ErrorCode | None = None
    #: What decides the row's height; when it changes the view must lay out again.
    height_key: str | None = field(default=None)
    #: Another Restyle process working on the job ("restyle-cli run (process 4242 on
    #: studio)"); "" when this window runs it or nobody does.
    holder: str = ""

    @property
    def live(self) -> bool:
        """Queued or on its way: the clock runs, Cancel applies."""
        return self.job.state == JobState.QUEUED or self.job.state in LIVE_STATES

    @property
    def waiting_for_user(self) -> bool:
        return self.job.state == JobState.NEEDS_ATTENTION

    @property
    def open(self) -> bool:
        """Not finished: it stays in the queue until it ends (or is abandoned)."""
        return not self.job.state.terminal


def category(state: JobState) -> str:
    if state in LIVE_STATES:
        return "running"
    if state == JobState.QUEUED:
        return "queued"
    if state == JobState.NEEDS_ATTENTION:
        return "attention"
    if state in (JobState.FAILED, JobState.TIMED_OUT):
        return "failed"
    if state == JobState.CANCELLED:
        return "cancelled"
    return "succeeded"


#: The header's counts, in this order, with their words (for one, for several).
COUNT_WORDS: dict[str, tuple[str, str]] = {
    "attention": ("needs attention", "need attention"),
    "running": ("running", "running"),
    "queued": ("queued", "queued"),
    "failed": ("failed", "failed"),
    "cancelled": ("cancelled", "cancelled"),
    "succeeded": ("succeeded", "succeeded"),
}
FINISHED_CATEGORIES = ("failed", "cancelled", "succeeded")


def tooltip(entry: JobEntry) -> str:
    """The whole sentence of a row (rows show the short form of a sentence that waits)."""
    error = entry.job.error
    if error is not None:
        return plain(error.message)
    return entry.message or entry.job.note


class JobListModel(QAbstractListModel):
    """Rows newest first. Internally the entries are kept oldest first (new jobs are appended),
    so adding a job does not renumber the others; display row = count - 1 - position."""

    def __init__(self, view_text: Callable[[JobEntry], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[JobEntry] = []
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
            return tooltip(entry)
        if role == Qt.ItemDataRole.UserRole:
            return entry.job.id
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- access -------------------------------------------------------------------------
    def entry_at(self, row: int) -> JobEntry:
        return self._entries[len(self._entries) - 1 - row]

    def entry(self, job_id: str) -> JobEntry | None:
        pos = self._pos.get(job_id)
        return None if pos is None else self._entries[pos]

    def row_of(self, job_id: str) -> int:
        pos = self._pos.get(job_id)
        return -1 if pos is None else len(self._entries) - 1 - pos

    def entries(self) -> list[JobEntry]:
        """Oldest first."""
        return self._entries

    def ids_in_display_order(self) -> list[str]:
        return [e.job.id for e in reversed(self._entries)]

    # -- changes ------------------------------------------------------------------------
    def add(self, entry: JobEntry) -> None:
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
        """Rows whose painting changed: one dataChanged per row, naming the roles that change,
        so the view repaints those rows' rectangles and nothing else."""
        last = first_row if last_row is None else last_row
        for row in range(max(0, first_row), min(last, len(self._entries) - 1) + 1):
            index = self.index(row)
            self.dataChanged.emit(index, index, ROW_ROLES)

    def _reindex(self) -> None:
        self._pos = {e.job.id: i for i, e in enumerate(self._entries)}
