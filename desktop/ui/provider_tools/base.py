"""What every provider tool dialog shares: a status line that says what is happening or what
went wrong (a sentence, never a traceback), its own background tasks, cancelled on close, and
a table of results with pictures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QWidget,
)

from desktop.core.contract import ProviderError
from desktop.core.model import InvalidInput
from desktop.ui.job_words import failure_sentence
from desktop.ui.provider_tools.thumbs import ICON_SIZE
from desktop.ui.state_colors import is_dark
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: What a tool's remote call may raise with a sentence for the user.
EXPECTED = (ProviderError, InvalidInput, TimeoutError)


class ToolDialog(QDialog):
    """A non-modal dialog with a status line and a set of background tasks."""

    def __init__(self, title: str, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWindowTitle(title)
        self.setModal(False)
        self.work = TaskSet(title, self._unexpected)
        self.status = QLabel("")
        self.status.setObjectName("toolStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Status")
        self._problem = False

    def run(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        return self.work.spawn(coro)

    async def settled(self) -> None:
        """Wait until everything the dialog started has finished (tests, screenshots)."""
        await self.work.join()

    def say(self, text: str, *, problem: bool = False) -> None:
        """The status line: what is happening, or (problem) what failed and what to do."""
        self._problem = problem
        self.status.setText(text)
        color = ("#ff6b6b" if is_dark(self.palette()) else "#c62828") if problem else ""
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setVisible(bool(text))

    def said_problem(self) -> bool:
        return self._problem and bool(self.status.text())

    def fail(self, what: str, exc: BaseException) -> None:
        """`what` failed: say so with the provider's sentence."""
        self.say(f"{what}: {failure_sentence(exc)}", problem=True)

    def _unexpected(self, exc: BaseException) -> None:
        self.say(f"Something went wrong ({type(exc).__name__}); the details are in the log.",
                 problem=True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.work.cancel_all()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.work.cancel_all()
        super().done(result)

    async def aclose(self) -> None:
        await self.work.aclose()


def picture_table(columns: list[str], object_name: str, *, pictures: bool = True
                  ) -> QTableWidget:
    """A read-only table of rows (with a picture in the first column), one row selected at a
    time (or several, where the caller allows it)."""
    table = QTableWidget(0, len(columns))
    table.setObjectName(object_name)
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    if pictures:
        table.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        table.verticalHeader().setDefaultSectionSize(ICON_SIZE + 8)
        table.setColumnWidth(0, ICON_SIZE + 12)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
    return table
