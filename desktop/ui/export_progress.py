"""The part of an export the user watches: a progress bar with Cancel while it runs, then one
status line (what was written, what was skipped and why) with a "Show folder" button.
`ExportRunPanel` sits at the bottom of the export dialog; `ExportTaskDialog` holds one for the
exports made without the dialog (lookbook, report, bundles, import)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_OK = ""
_BAD = "color: #d23c32;"


class ExportRunPanel(QWidget):
    """Progress, then the outcome. Signals: cancelRequested, showFolderRequested(folder)."""

    cancelRequested = Signal()
    showFolderRequested = Signal(str)
    #: The text or what is shown changed (a window holding the panel may fit it again).
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportRunPanel")
        self.folder: Path | None = None
        self.bar = QProgressBar(self)
        self.bar.setObjectName("exportProgress")
        self.bar.setAccessibleName("Export progress")
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel export", self)
        self.cancel_button.setObjectName("exportCancel")
        self.cancel_button.setAccessibleName("Cancel the export after the file being written")
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self.status = QLabel("", self)
        self.status.setObjectName("exportStatus")
        self.status.setAccessibleName("Export status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_folder = QPushButton("Show folder", self)
        self.show_folder.setObjectName("exportShowFolder")
        self.show_folder.setAccessibleName("Show the folder the files were written to")
        self.show_folder.clicked.connect(self._show_folder_clicked)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.bar, 1)
        top.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.show_folder, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(bottom)
        self.reset()

    @property
    def running(self) -> bool:
        return self.bar.isVisible()

    def reset(self) -> None:
        self.bar.hide()
        self.cancel_button.hide()
        self.status.setText("")
        self.status.hide()
        self.show_folder.hide()
        self.folder = None

    def start(self, text: str, total: int = 0, *, cancellable: bool = True) -> None:
        """Running: `total` steps (0: a busy bar without steps)."""
        self.bar.setRange(0, total)
        self.bar.setValue(0)
        self.bar.setFormat(f"0 of {total}" if total else "")
        self.bar.show()
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel export")
        self.show_folder.hide()
        self._set_status(text, ok=True)

    def set_progress(self, done: int, total: int, text: str) -> None:
        if not self.running:
            return
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} of {total}")
        self._set_status(text, ok=True)

    def finish(self, text: str, folder: Path | None = None, *, ok: bool = True) -> None:
        """Done: the outcome in a sentence, and Show folder when there is one to show."""
        self.bar.hide()
        self.cancel_button.hide()
        self.folder = folder
        self.show_folder.setVisible(folder is not None)
        self._set_status(text, ok=ok)

    def _set_status(self, text: str, *, ok: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(_OK if ok else _BAD)
        self.status.setProperty("ok", ok)
        self.status.setVisible(bool(text))
        self._fit_text()
        self.changed.emit()

    def _fit_text(self) -> None:
        """The status as tall as its lines at the width it gets (a word-wrapped label's own
        size hint assumes a narrower width, and a long sentence would be cut)."""
        width = self.width()
        if self.show_folder.isVisibleTo(self):
            width -= self.show_folder.sizeHint().width() + 8
        self.status.setMinimumHeight(max(0, self.status.heightForWidth(max(200, width))))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def _cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancelRequested.emit()

    def _show_folder_clicked(self) -> None:
        if self.folder is not None:
            self.showFolderRequested.emit(str(self.folder))


class ExportTaskDialog(QDialog):
    """A small non-modal window for one export made without the export dialog: what it is
    doing, then what came of it."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setMinimumWidth(600)
        self.panel = ExportRunPanel(self)
        self.panel.changed.connect(self._fit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.close_button = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName(f"{name}Close")
        self.close_button.setAccessibleName("Close")
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(self.buttons)

    def _fit(self) -> None:
        """As tall as the sentence needs (the panel sets its status' minimum height)."""
        self.resize(max(self.width(), self.minimumWidth()), self.minimumSizeHint().height())
