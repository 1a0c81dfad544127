"""The job queue's words and its detail area.

A row says what happened: the state and how many results, the elapsed time and progress, then
a countdown, the error's sentence, or the provider's own line (its progress words); never the
task's description, which the form shows once (`plain_words.job_line`). The detail area under
the list has the selected job's whole sentence (scrolling past a few lines), what to do, a
button to the provider's settings when they can fix it, and "Details…" for everything known
about a failure in a window of its own (error_details.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import JobState, TaskSpec
from desktop.core.plain_words import job_line
from desktop.ui.job_queue_model import (
    WAIT_TITLES,
    JobEntry,
    advice_for,
    format_countdown,
    format_elapsed,
    needs_settings,
)
from desktop.ui.job_words import attention_advice, plain, running_in

#: Lines of the detail's message shown before it scrolls.
DETAIL_LINES = 4


def elapsed_text(entry: JobEntry, now: float) -> str:
    job = entry.job
    start = job.started_at if job.started_at is not None else job.created_at
    if job.state == JobState.NEEDS_ATTENTION:
        return format_elapsed(job.updated_at - start)  # stopped: the clock does not run
    if job.state.terminal:
        end = job.finished_at if job.finished_at is not None else job.updated_at
        return format_elapsed(end - start)
    return format_elapsed(now - start)


def state_line(entry: JobEntry) -> str:
    job = entry.job
    parts = [job.state.title]
    if job.state == JobState.SUCCEEDED and job.outputs:
        count = len(job.outputs)
        parts.append(f"{count} result" + ("" if count == 1 else "s"))
    return " · ".join(parts)


def countdown_text(entry: JobEntry, now: float) -> str:
    if entry.retry_at is None or not entry.live:
        return ""
    what = WAIT_TITLES.get(entry.wait_code, "Waiting") if entry.wait_code else "Waiting"
    remaining = entry.retry_at - now
    if remaining <= 0:
        return f"{what}: trying again now…"
    return f"{what}: next try in {format_countdown(remaining)}"


def message_line(entry: JobEntry, task: TaskSpec | None) -> str:
    """The row's last line when there is no countdown or error: what the provider said."""
    job = entry.job
    if job.state == JobState.CANCELLED:
        return plain(job.error.message) if job.error is not None else "Cancelled."
    if entry.open and entry.message:
        return entry.message
    if entry.holder:
        return running_in(entry.holder)
    line = job_line(job, task)
    if job.state == JobState.QUEUED and not line:
        if job.queue and job.owner is None:
            return f"Waiting for a team worker (queue “{job.queue}”)."
        return "Waiting to start."
    return line


class JobDetail(QFrame):
    """The selected job's sentence, what to do, and its buttons (objectName `jobDetail`)."""

    settingsRequested = Signal()
    detailsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetail")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        self.title.setObjectName("jobDetailTitle")
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("jobDetailMessage")
        self.message.setAccessibleName("Job message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.message.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        # A long sentence scrolls here (and "Details…" shows it whole): the list keeps its rows.
        self.message_scroll = QScrollArea(self)
        self.message_scroll.setObjectName("jobDetailMessageScroll")
        self.message_scroll.setWidgetResizable(True)
        self.message_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.message_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.message_scroll.setWidget(self.message)
        self.advice = QLabel(self)
        self.advice.setObjectName("jobDetailAdvice")
        self.advice.setAccessibleName("What to do")
        self.advice.setWordWrap(True)
        self.advice.setTextFormat(Qt.TextFormat.PlainText)
        self.settings_button = QPushButton(self)
        self.settings_button.setObjectName("openProviderSettingsButton")
        self.settings_button.setAccessibleName("Open provider settings")
        self.settings_button.clicked.connect(self.settingsRequested)
        self.settings_button.hide()
        self.details_button = QPushButton("Details…", self)
        self.details_button.setObjectName("jobErrorDetailsButton")
        self.details_button.setAccessibleName("Show everything about this failure")
        self.details_button.setToolTip("The whole message, the provider's code and the job's "
                                       "ids, to read in full or copy")
        self.details_button.clicked.connect(self.detailsRequested)
        self.details_button.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.message_scroll)
        layout.addWidget(self.advice)
        buttons = QHBoxLayout()
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        QWidget.setTabOrder(self.message, self.settings_button)
        QWidget.setTabOrder(self.settings_button, self.details_button)

    def _fit_message(self) -> None:
        """As tall as the message, up to DETAIL_LINES lines; beyond that it scrolls."""
        line = self.message.fontMetrics().lineSpacing()
        width = max(120, self.message_scroll.width())
        needed = self.message.heightForWidth(width)
        if needed <= 0:
            needed = self.message.sizeHint().height()
        height = min(needed, DETAIL_LINES * line) + 1
        if self.message_scroll.height() != height:
            self.message_scroll.setFixedHeight(height)

    def resizeEvent(self, event: object) -> None:  # type: ignore[override]
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_message()

    def set_message(self, text: str) -> None:
        if self.message.text() != text:  # keeps a selection the user is making in the label
            self.message.setText(text)
        self._fit_message()

    def show_nothing(self) -> None:
        self.title.setText("No job selected")
        self.set_message("Select a job to see its messages and what to do when it fails.")
        self.advice.hide()
        self.settings_button.hide()
        self.details_button.hide()

    def show_entry(self, entry: JobEntry, provider_title: str, task: TaskSpec | None,
                   countdown: str, can_look_up: bool) -> None:
        job = entry.job
        self.title.setText(f"{entry.title} — {job.state.title}")
        lines: list[str] = []
        advice = ""
        show_settings = False
        if job.error is not None and job.state == JobState.NEEDS_ATTENTION:
            lines.append(plain(job.error.message))
            if job.error.provider_code:
                lines.append(f"Provider code: {job.error.provider_code}")
            advice = attention_advice(job, provider_title, can_look_up)
            show_settings = job.error.code.is_setup_problem
        elif job.error is not None and job.state.terminal:
            lines.append(plain(job.error.message))
            if job.error.provider_code:
                lines.append(f"Provider code: {job.error.provider_code}")
            advice = advice_for(job.error.code, provider_title)
            show_settings = job.state != JobState.CANCELLED and needs_settings(job.error.code)
        elif job.state.terminal:
            lines.append(job_line(job, task) or f"{state_line(entry)}.")
            if job.state == JobState.SUCCEEDED and not job.outputs:
                lines.append("The provider returned no result files.")
        else:
            if countdown:
                lines.append(countdown + ".")
            if entry.holder:
                lines.append(running_in(entry.holder) + ".")
            message = entry.message or job_line(job, task)
            if message:
                lines.append(message)
            if not lines:
                lines.append(f"{job.state.title}…")
        lines.append(f"Job {job.id}")
        self.set_message("\n".join(lines))
        self.advice.setText(advice)
        self.advice.setVisible(bool(advice))
        if show_settings:
            text = f"Open {provider_title} settings"
            if self.settings_button.text() != text:
                self.settings_button.setText(text)
                self.settings_button.setAccessibleName(text)
        self.settings_button.setVisible(show_settings)
        self.details_button.setVisible(job.error is not None)


__all__ = ["JobDetail", "countdown_text", "elapsed_text", "message_line", "state_line"]
