"""The result panel under the compare view: what produced the shown result (or what a job that
did not succeed is waiting for, and whether it may have been charged), the actions "copy
parameters" and "use these parameters again", and the review of the shown output (beside the
details when the panel is wide, under them when it is narrow)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.core.humanize import human_duration
from desktop.core.model import Job, JobState, TaskSpec
from desktop.core.plain_words import TaskLookup, job_line, no_tasks, output_title, param_summary
from desktop.ui.error_details import ErrorDetailsDialog, show_error_details
from desktop.ui.job_queue_model import advice_for
from desktop.ui.job_words import attention_advice, charge_line, may_have_charged, plain
from desktop.ui.review_editor import ReviewEditor

#: Wider than this, the review sits beside the details; narrower, under them.
SIDE_BY_SIDE_WIDTH = 760
EMPTY_TEXT = "Select a job in the queue or the history to see its details."


def state_words(job: Job, task: TaskSpec | None) -> str:
    """What happened, in a line: "Succeeded · 3 results", "Failed: <the sentence>", with the
    provider's own words where it has some (never the task's description)."""
    words = job.state.title
    if job.state == JobState.SUCCEEDED and len(job.outputs) > 1:
        words += f" · {len(job.outputs)} results"
    if job.error is not None:
        return f"{words}: {plain(job.error.message)}"
    line = job_line(job, task)
    return f"{words} · {line}" if line else words


def _unfinished_duration(job: Job) -> str:
    """The duration field of a job without a recorded duration."""
    if job.state == JobState.NEEDS_ATTENTION:
        return "not finished"
    if job.state.terminal:  # ended, but its finish time was never recorded (older records)
        return "not recorded"
    return "still running"


def _cost_text(job: Job) -> str:
    if job.cost_credits is None:
        return "not reported"
    value = job.cost_credits
    return (f"{int(value)}" if float(value).is_integer() else f"{value:g}") + " credits"


class ResultPanel(QWidget):
    """Provider, task, parameters, remote id, duration, cost and seed of the shown job."""

    reuseRequested = Signal(str)  # job id
    #: "Compare with other providers": the shown job's id.
    compareProvidersRequested = Signal(str)
    #: The job (or None) and the output index now shown: its review is loaded for it.
    outputShown = Signal(object, int)

    def __init__(self, provider_titles: Mapping[str, str], parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("resultPanel")
        self._titles = provider_titles
        self._job: Job | None = None
        self._free: set[str] = set()
        self._task_lookup: TaskLookup = no_tasks
        self._details_dialog: ErrorDetailsDialog | None = None
        self._fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(2)
        for key, title in (("job", "Job"), ("state", "State"), ("params", "Parameters"),
                           ("remote", "Remote id"), ("duration", "Duration"), ("cost", "Cost"),
                           ("seed", "Seed"), ("output", "Shown result")):
            label = QLabel("")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            label.setWordWrap(True)
            label.setAccessibleName(title)
            self._fields[key] = label
            if key == "state":
                # A failure's whole story is one click away, however long it is.
                self.details_button = QPushButton("Details…")
                self.details_button.setObjectName("resultErrorDetailsButton")
                self.details_button.setAccessibleName("Show everything about this failure")
                self.details_button.clicked.connect(self.show_error_details)
                state_row = QHBoxLayout()
                state_row.setContentsMargins(0, 0, 0, 0)
                state_row.addWidget(label, 1)
                state_row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
                form.addRow(title + ":", state_row)
            else:
                form.addRow(title + ":", label)
            if key == "state":
                # Right under the state: a job that did not succeed may still cost money.
                self.charge_label = QLabel("")
                self.charge_label.setObjectName("mayBeChargedLabel")
                self.charge_label.setWordWrap(True)
                self.charge_label.setAccessibleName("Charges")
                form.addRow(self.charge_label)
        self.copy_button = QPushButton("Copy parameters")
        self.copy_button.setObjectName("copyParamsButton")
        self.copy_button.setAccessibleName("Copy parameters as JSON")
        self.copy_button.clicked.connect(self.copy_parameters)
        self.reuse_button = QPushButton("Use these parameters again")
        self.reuse_button.setObjectName("reuseParamsButton")
        self.reuse_button.setAccessibleName("Use these parameters again")
        self.reuse_button.clicked.connect(self._reuse)
        self.compare_button = QPushButton("Compare with other providers")
        self.compare_button.setObjectName("resultCompareProviders")
        self.compare_button.setAccessibleName("Compare with other providers")
        self.compare_button.setToolTip("Open every job of this task made from the same photos "
                                       "as a grid")
        self.compare_button.clicked.connect(self._compare_providers)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.reuse_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        self._empty = QLabel(EMPTY_TEXT)
        self._empty.setObjectName("resultPanelEmpty")
        self._empty.setWordWrap(True)
        self._empty.setEnabled(False)
        # The panel shares the centre with the compare view: a long sentence (a job that waits
        # for the user says what to fix) scrolls rather than being cut off.
        content = QWidget()
        self.review_editor = ReviewEditor(content)
        self._columns = QBoxLayout(QBoxLayout.Direction.LeftToRight, content)
        self._columns.setContentsMargins(8, 4, 8, 4)
        self._columns.setSpacing(16)
        layout = QVBoxLayout()
        layout.addWidget(self._empty)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self._columns.addLayout(layout, 3)
        self._columns.addWidget(self.review_editor, 2, Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self)
        scroll.setObjectName("resultPanelScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._form = form
        self.show_job(None)

    def minimumSizeHint(self) -> QSize:
        """Enough for the job, its state (a sentence of two or three lines) and whether it
        may have been charged, even on a small screen; the rest scrolls."""
        lines = 7
        return QSize(200, lines * self.fontMetrics().lineSpacing() + 12)

    def resizeEvent(self, event: QResizeEvent) -> None:
        wide = event.size().width() >= SIDE_BY_SIDE_WIDTH
        self._columns.setDirection(QBoxLayout.Direction.LeftToRight if wide
                                   else QBoxLayout.Direction.TopToBottom)
        super().resizeEvent(event)

    def job(self) -> Job | None:
        return self._job

    def set_free_providers(self, provider_ids: Iterable[str]) -> None:
        """Providers that cost nothing (the offline one): never "may have charged"."""
        self._free = set(provider_ids)
        if self._job is not None:
            self.show_job(self._job)

    def set_task_lookup(self, lookup: TaskLookup) -> None:
        """How to find a job's task: its title, settings and results in plain words."""
        self._task_lookup = lookup
        if self._job is not None:
            self.show_job(self._job)

    def _task(self, job: Job) -> TaskSpec | None:
        return self._task_lookup(job.provider, job.task)

    def show_files(self, names: list[str]) -> None:
        """Plain files are compared: no job's details, and nothing to copy or reuse."""
        self.show_job(None)
        self._empty.setText("Comparing files: " + ", ".join(names))

    def show_job(self, job: Job | None, output_index: int = 0) -> None:
        self._job = job
        self._empty.setText(EMPTY_TEXT)
        self._empty.setVisible(job is None)
        self.copy_button.setEnabled(job is not None)
        self.reuse_button.setEnabled(job is not None)
        self.compare_button.setEnabled(job is not None and job.state == JobState.SUCCEEDED)
        for row in range(self._form.rowCount()):
            self._form.setRowVisible(row, job is not None)
        self.review_editor.setVisible(job is not None and bool(job.outputs))
        self.outputShown.emit(job, output_index)
        if job is None:
            return
        charged = may_have_charged(job, job.provider in self._free)
        self.charge_label.setText(charge_line(self._titles.get(job.provider, job.provider))
                                  if charged else "")
        self._form.setRowVisible(self.charge_label, charged)
        title = self._titles.get(job.provider, job.provider)
        task = self._task(job)
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
        task_title = task.title if task is not None else job.task
        self._fields["job"].setText(f"{title} · {task_title} · {created} · {job.id[:12]}")
        self._fields["state"].setText(state_words(job, task))
        self.details_button.setVisible(job.error is not None)
        self._fields["params"].setText(param_summary(task, job.spec.params) or "none")
        self._fields["params"].setToolTip(self.parameters_json())
        self._fields["remote"].setText(job.remote_id or "none")
        duration = job.duration_ms
        if duration is not None:
            self._fields["duration"].setText(human_duration(duration / 1000))
        else:
            self._fields["duration"].setText(_unfinished_duration(job))
        self._fields["cost"].setText(_cost_text(job))
        seed = job.spec.params.get("seed")
        self._fields["seed"].setText(str(seed) if seed is not None else "not set")
        if job.outputs:
            index = max(0, min(output_index, len(job.outputs) - 1))
            out = job.outputs[index]
            size = f"{out.width} × {out.height} px" if out.width and out.height else out.mime
            self._fields["output"].setText(
                f"{index + 1} of {len(job.outputs)} · {output_title(job, out, task)} · {size}")
        else:
            self._fields["output"].setText("no result")

    def show_error_details(self) -> ErrorDetailsDialog | None:
        """The shown job's failure in full (objectName `errorDetailsDialog`, non-modal)."""
        job = self._job
        if job is None or job.error is None:
            return None
        provider = self._titles.get(job.provider, job.provider)
        task = self._task(job)
        if job.state == JobState.NEEDS_ATTENTION:
            advice = attention_advice(job, provider, can_look_up=True)
        else:
            advice = advice_for(job.error.code, provider)
        title = f"{provider} · {task.title if task is not None else job.task}"
        known = self._details_dialog
        self._details_dialog = show_error_details(known, self, job, title, advice)
        if self._details_dialog is not known:
            self._details_dialog.destroyed.connect(self._details_closed)
        return self._details_dialog

    def _details_closed(self, *_args: object) -> None:
        self._details_dialog = None

    def parameters_json(self, *, compact: bool = False) -> str:
        if self._job is None:
            return ""
        params = self._job.spec.params
        if compact:
            return json.dumps(params, ensure_ascii=False, default=str)
        return json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True, default=str)

    def copy_parameters(self) -> None:
        if self._job is not None:
            QApplication.clipboard().setText(self.parameters_json())

    def _compare_providers(self) -> None:
        if self._job is not None:
            self.compareProvidersRequested.emit(self._job.id)

    def empty_text(self) -> str:
        """What the panel says when it shows no job (files compared, nothing selected)."""
        return self._empty.text() if self._empty.isVisibleTo(self) else ""

    def _reuse(self) -> None:
        if self._job is not None:
            self.reuseRequested.emit(self._job.id)
