"""Review mode's tag list: the task's defect tags over the review panel, picked by typing."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

TYPE_AHEAD_S = 1.0  # letters typed within this time of each other make one prefix


class TagPicker(QFrame):
    """The task's tags as a list over the review panel: typing the first letters moves to a
    tag, Enter ticks or unticks it and closes, Space ticks and stays, 1-9 tick the n-th, Esc
    closes."""

    toggled = Signal(str)
    closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("reviewTagPicker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        title = QLabel("Tags: type the first letters, Enter ticks, Esc closes", self)
        title.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setObjectName("reviewTagList")
        self.list.setAccessibleName("Defect tags")
        self.list.installEventFilter(self)
        self._typed = ""
        self._typed_at = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(self.list)
        self.hide()

    def open_with(self, tags: Sequence[str], chosen: Sequence[str]) -> None:
        self.list.clear()
        for n, tag in enumerate(tags, start=1):
            item = QListWidgetItem(f"{n}  {tag}" if n <= 9 else tag)
            item.setData(Qt.ItemDataRole.UserRole, tag)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.list.addItem(item)
        self.set_chosen(chosen)
        if self.list.count():
            self.list.setCurrentRow(0)
        rows = min(self.list.count(), 12)
        self.list.setFixedHeight(rows * self.list.sizeHintForRow(0) + 2 * self.list.frameWidth()
                                 + 4)
        self.adjustSize()
        self.show()
        self.raise_()
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_chosen(self, chosen: Sequence[str]) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            ticked = item.data(Qt.ItemDataRole.UserRole) in chosen
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def current_tag(self) -> str:
        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def close_picker(self) -> None:
        if not self.isHidden():
            self.hide()
            self.closed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.list and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.current_tag():
                    self.toggled.emit(self.current_tag())
                self.close_picker()
                return True
            if key == Qt.Key.Key_Space:
                if self.current_tag():
                    self.toggled.emit(self.current_tag())
                return True
            if key == Qt.Key.Key_Escape:
                self.close_picker()
                return True
            if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and \
                    not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                row = key - Qt.Key.Key_1
                if row < self.list.count():
                    self.list.setCurrentRow(row)
                    self.toggled.emit(self.current_tag())
                return True
            text = event.text()
            if text and text.isprintable() and not text.isspace():
                self.type_ahead(text)
                return True
        return super().eventFilter(watched, event)

    def type_ahead(self, text: str) -> None:
        """Move to the first tag that starts with what was typed in the last second (or
        has a word that does)."""
        now = time.monotonic()
        typed = (self._typed if now - self._typed_at < TYPE_AHEAD_S else "") + text.lower()
        self._typed_at = now
        for prefix in (typed, text.lower()):
            row = match_tag([self.list.item(r).data(Qt.ItemDataRole.UserRole)
                             for r in range(self.list.count())], prefix)
            if row >= 0:
                self._typed = prefix
                self.list.setCurrentRow(row)
                return
        self._typed = ""


def match_tag(tags: Sequence[str], prefix: str) -> int:
    """The row of the first tag starting with `prefix`, else of one with a word that does;
    -1 when none."""
    lowered = [t.lower() for t in tags]
    for row, tag in enumerate(lowered):
        if tag.startswith(prefix):
            return row
    for row, tag in enumerate(lowered):
        if any(word.startswith(prefix) for word in tag.replace("/", " ").split()):
            return row
    return -1
