"""A read-only table of keys and what they do: the window's Help › Keyboard shortcuts and the
compare view's own keys (F1) list their rows the same way."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


class KeysTable(QTableWidget):
    """Columns `headers`; the second one stretches, the others fit their contents. `wrap`:
    long texts wrap and rows grow to fit them."""

    def __init__(self, headers: Sequence[str], object_name: str, parent: QWidget, *,
                 wrap: bool = False) -> None:
        super().__init__(0, len(headers), parent)
        self.setObjectName(object_name)
        self.setHorizontalHeaderLabels(list(headers))
        self.verticalHeader().hide()
        if wrap:
            self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            self.setWordWrap(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.horizontalHeader()
        for column in range(len(headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if column == 1
                                        else QHeaderView.ResizeMode.ResizeToContents)

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        self.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.setItem(row, column, QTableWidgetItem(value))

    def texts(self) -> list[tuple[str, ...]]:
        """The rows as shown."""
        return [tuple(self.item(r, c).text() for c in range(self.columnCount()))
                for r in range(self.rowCount())]
