"""The one sentence a crash report leaves for the user (desktop/crash_reports.py writes the
report): a small non-modal box over the window, never a traceback. The reporter may call from
any thread; a queued Qt signal brings the sentence to the GUI thread. One box at a time: a
second report replaces the sentence in the box already showing."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget


class CrashNotice(QObject):
    """`notify(sentence)` is safe from any thread; `box` is the box last shown."""

    posted = Signal(str)

    def __init__(self, parent: QWidget, open_log_folder: Callable[[], object]) -> None:
        super().__init__(parent)
        self._parent = parent
        self._open_log_folder = open_log_folder
        self.box: QMessageBox | None = None
        self.posted.connect(self._show)

    def notify(self, sentence: str) -> None:
        self.posted.emit(sentence)

    def _show(self, sentence: str) -> None:
        if self.box is None:
            box = QMessageBox(QMessageBox.Icon.Warning, "Unexpected error", sentence,
                              QMessageBox.StandardButton.Close, self._parent)
            box.setObjectName("crashNotice")
            box.setModal(False)
            folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
            folder.setObjectName("crashNoticeOpenLogs")
            # An action button would close the box first; the folder opens, the box stays.
            folder.clicked.disconnect()
            folder.clicked.connect(lambda _checked=False: self._open_log_folder())
            self.box = box
        self.box.setText(sentence)
        self.box.show()
        self.box.raise_()
