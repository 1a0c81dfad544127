"""A failure in full: the whole sentence, what to do, the provider's own code and the ids a
support request needs, in a window of its own that can be read at any screen size, selected
and copied. The queue's and the result panel's "Details…" open it (non-modal)."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import Job
from desktop.ui.job_words import plain


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "not yet"


def details_text(job: Job, title: str, advice: str = "") -> str:
    """Everything known about a job's failure, as plain text (what the window shows and
    "Copy" puts on the clipboard). Never a key: the stored sentence is redacted already."""
    lines = [f"{title} — {job.state.title}", ""]
    if job.error is not None:
        lines += ["What happened", plain(job.error.message), ""]
    if advice:
        lines += ["What to do", advice, ""]
    if job.error is not None:
        lines.append(f"Kind of problem: {job.error.code}")
        if job.error.provider_code:
            lines.append(f"Provider's code: {job.error.provider_code}")
    lines.append(f"Job: {job.id}")
    lines.append(f"Provider's job id: {job.remote_id or 'none (nothing was accepted)'}")
    lines.append(f"Created: {_when(job.created_at)}")
    if job.finished_at:
        lines.append(f"Ended: {_when(job.finished_at)}")
    if job.attempts:
        lines.append(f"Attempts: {job.attempts}")
    return "\n".join(lines)


class ErrorDetailsDialog(QDialog):
    """See the module docstring (objectName `errorDetailsDialog`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorDetailsDialog")
        self.setWindowTitle("What went wrong")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setModal(False)
        self._job_id = ""
        self.heading = QLabel(self)
        self.heading.setObjectName("errorDetailsHeading")
        self.heading.setWordWrap(True)
        font = QFont(self.heading.font())
        font.setBold(True)
        self.heading.setFont(font)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("errorDetailsText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setAccessibleName("Everything about the failure")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("errorDetailsCopy")
        self.copy_button.setToolTip("Copy the text, e.g. for a support request")
        self.copy_button.clicked.connect(self.copy)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(560, 380)

    def show_job(self, job: Job, title: str, advice: str = "") -> None:
        self._job_id = job.id
        self.heading.setText(f"{title} — {job.state.title}")
        text = details_text(job, title, advice)
        if self.text.toPlainText() != text:
            self.text.setPlainText(text)

    def job_id(self) -> str:
        return self._job_id

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text.toPlainText())


def show_error_details(dialog: ErrorDetailsDialog | None, parent: QWidget, job: Job,
                       title: str, advice: str = "") -> ErrorDetailsDialog:
    """Show `job` in `dialog` when it is still open, else in a new one; never blocks."""
    if dialog is None:
        dialog = ErrorDetailsDialog(parent.window())
    dialog.show_job(job, title, advice)
    if not dialog.isVisible():
        dialog.show()
    return dialog


__all__ = ["ErrorDetailsDialog", "details_text", "show_error_details"]
