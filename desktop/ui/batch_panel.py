"""The Batches panel: per batch one progress bar, the counts (done, failed, need attention,
running, left), credits spent and time left, and its buttons: Pause, Resume, Cancel…, Retry
failed, Open results, Export… (files, a listing set, a lookbook or a report of its jobs). The
panel only shows and asks; the batch controller and the export workflows act."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.batch_runner import BatchProgress
from desktop.core.batches import Batch, BatchState
from desktop.ui.batch_words import (
    STATE_WORDS,
    progress_counts,
    progress_money,
    settled,
    titles_joined,
)

#: What a batch's Export… menu offers: (kind, menu text).
EXPORT_KINDS: tuple[tuple[str, str], ...] = (
    ("files", "Files…"),
    ("listing", "For a listing…"),
    ("lookbook", "Lookbook…"),
    ("report", "Report…"),
)
EMPTY_TEXT = ("No batches yet. Run › New batch… (Ctrl+B) runs a task over many images, "
              "garments or settings at once.")


class BatchRow(QFrame):
    """One batch."""

    def __init__(self, batch: Batch, panel: BatchPanel) -> None:
        super().__init__(panel)
        self.batch_id = batch.id
        self.setObjectName(f"batchRow_{batch.id[:8]}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.name = QLabel(self)
        self.name.setObjectName("batchRowName")
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.name, 1)
        self.state = QLabel(self)
        self.state.setObjectName("batchRowState")
        top.addWidget(self.state)
        self.open = self._button("Open results", "batchOpen", "Show the results grid",
                                 panel.openRequested)
        top.addWidget(self.open)
        layout.addLayout(top)
        self.what = QLabel(self)
        self.what.setObjectName("batchRowWhat")
        self.what.setWordWrap(True)
        layout.addWidget(self.what)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("batchRowProgress")
        self.bar.setAccessibleName("Batch progress")
        layout.addWidget(self.bar)
        self.counts = QLabel(self)
        self.counts.setObjectName("batchRowCounts")
        self.counts.setWordWrap(True)
        layout.addWidget(self.counts)
        self.money = QLabel(self)
        self.money.setObjectName("batchRowMoney")
        self.money.setWordWrap(True)
        layout.addWidget(self.money)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.pause = self._button("Pause", "batchPause", "Send nothing new; jobs already sent "
                                  "finish", panel.pauseRequested)
        self.resume = self._button("Resume", "batchResume", "Send the jobs left",
                                   panel.resumeRequested)
        self.cancel = self._button("Cancel…", "batchCancel", "Stop the batch (asks first)",
                                   panel.cancelRequested)
        self.retry = self._button("Retry failed", "batchRetry", "Send the failed jobs again "
                                  "as new jobs", panel.retryRequested)
        self.export = QPushButton("Export…", self)
        self.export.setObjectName("batchExport")
        self.export.setToolTip("Save this batch's results as files, a listing set, a lookbook "
                               "or a report")
        self.export.setAccessibleName("Export batch")
        menu = QMenu(self.export)
        menu.setObjectName("batchExportMenu")
        for kind, text in EXPORT_KINDS:
            action = menu.addAction(text)
            action.setObjectName(f"batchExport_{kind}")
            action.triggered.connect(
                lambda _c=False, k=kind: panel.exportRequested.emit(self.batch_id, k))
        self.export.setMenu(menu)
        for button in (self.pause, self.resume, self.cancel, self.retry, self.export):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress: BatchProgress | None = None
        self.set_batch(batch)

    def _button(self, text: str, name: str, tip: str, signal: Any) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setAccessibleName(f"{text.rstrip('…')} batch")
        button.clicked.connect(lambda _c=False: signal.emit(self.batch_id))
        return button

    def set_batch(self, batch: Batch) -> None:
        self.batch = batch
        self.name.setText(batch.name)
        self.name.setToolTip(f"Batch {batch.id}")

    def set_what(self, text: str) -> None:
        self.what.setText(text)
        self.what.setVisible(bool(text))

    def set_progress(self, progress: BatchProgress) -> None:
        self.progress = progress
        state = progress.state
        self.state.setText(STATE_WORDS.get(state, str(state)))
        self.bar.setRange(0, max(1, progress.total))
        self.bar.setValue(settled(progress))
        self.bar.setFormat(f"{progress.done} of {progress.total} done")
        self.bar.setToolTip(f"{STATE_WORDS.get(state, str(state))}: {settled(progress)} of "
                            f"{progress.total} cells settled")
        self.counts.setText(progress_counts(progress))
        money = progress_money(progress)
        self.money.setText(money)
        self.money.setVisible(bool(money))
        running = state == BatchState.RUNNING
        self.pause.setVisible(running)
        self.pause.setEnabled(running)
        can_resume = state == BatchState.PAUSED or (state == BatchState.FINISHED
                                                    and progress.left > 0)
        self.resume.setVisible(not running)
        self.resume.setEnabled(can_resume)
        self.cancel.setEnabled(state in (BatchState.RUNNING, BatchState.PAUSED))
        self.retry.setEnabled(progress.failed > 0 and state != BatchState.CANCELLED)


class BatchPanel(QWidget):
    """The list of batches, newest first."""

    pauseRequested = Signal(str)
    resumeRequested = Signal(str)
    cancelRequested = Signal(str)
    retryRequested = Signal(str)
    openRequested = Signal(str)
    #: (batch id, kind from EXPORT_KINDS)
    exportRequested = Signal(str, str)

    def __init__(self, provider_titles: Mapping[str, str], task_titles: Mapping[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchPanel")
        self.setAccessibleName("Batches")
        self._provider_titles = dict(provider_titles)
        self._task_titles = dict(task_titles)
        self._rows: dict[str, BatchRow] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("New batch…", self)
        self.new_button.setObjectName("batchPanelNew")
        self.new_button.setToolTip("Run a task over many images, garments or settings (Ctrl+B)")
        head = QHBoxLayout()
        head.setContentsMargins(6, 6, 6, 0)
        head.addStretch(1)
        head.addWidget(self.new_button)
        outer.addLayout(head)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.list = QVBoxLayout(body)
        self.list.setContentsMargins(6, 6, 6, 6)
        self.list.setSpacing(6)
        self.empty = QLabel(EMPTY_TEXT, body)
        self.empty.setObjectName("batchPanelEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list.addWidget(self.empty)
        self.list.addStretch(1)
        self.scroll.setWidget(body)
        outer.addWidget(self.scroll, 1)

    def row(self, batch_id: str) -> BatchRow | None:
        return self._rows.get(batch_id)

    def batch_ids(self) -> list[str]:
        """The batches listed, top (newest) first."""
        return list(reversed(self._rows))

    def set_batch(self, batch: Batch, progress: BatchProgress | None) -> BatchRow:
        """Add the batch (on top when new) or update its row."""
        row = self._rows.get(batch.id)
        if row is None:
            row = BatchRow(batch, self)
            self._rows[batch.id] = row
            self.list.insertWidget(0, row)
            self.empty.hide()
        else:
            row.set_batch(batch)
        task = self._task_titles.get(batch.task, batch.task)
        providers = titles_joined([self._provider_titles.get(p, p)
                                   for p in batch.matrix.providers])
        what = f"{task} on {providers}" if providers else task
        if batch.budget_credits is not None:
            what += f" · budget {batch.budget_credits:g} credits"
        row.set_what(what)
        if progress is not None:
            row.set_progress(progress)
        return row

    def remove_batch(self, batch_id: str) -> None:
        row = self._rows.pop(batch_id, None)
        if row is not None:
            self.list.removeWidget(row)
            row.deleteLater()
        self.empty.setVisible(not self._rows)
