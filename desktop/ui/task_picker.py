"""Task and provider choice: the task selector (common tasks, tools, workflows) and the provider
list with a tick per provider and whether each is ready to use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QListWidget, QListWidgetItem, QWidget

from desktop.core.catalog import GROUP_COMMON, GROUP_TOOL, GROUP_VARIANT, CatalogEntry

_GROUP_HEADINGS = {GROUP_COMMON: "Tasks", GROUP_TOOL: "Provider tools",
                   GROUP_VARIANT: "Workflows"}


class TaskSelector(QComboBox):
    """The task combo box; items are catalogue entries under group headings."""

    entryChanged = Signal(str)  # the chosen entry's key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskSelector")
        self.setAccessibleName("Task")
        self.setToolTip("What to do with the inputs")
        self.setMaxVisibleItems(24)
        self._entries: dict[str, CatalogEntry] = {}
        self.currentIndexChanged.connect(self._emit)

    def set_entries(self, entries: Iterable[CatalogEntry], keep: str | None = None) -> None:
        """Fill the list; keep the current (or `keep`) entry selected when it still exists."""
        wanted = keep or self.current_key()
        model = QStandardItemModel(self)
        self._entries = {}
        group = None
        for entry in entries:
            if entry.group != group:
                group = entry.group
                heading = QStandardItem(_GROUP_HEADINGS.get(group, group))
                heading.setFlags(Qt.ItemFlag.NoItemFlags)
                font = heading.font()
                font.setBold(True)
                heading.setFont(font)
                model.appendRow(heading)
            item = QStandardItem(("    " if group != GROUP_COMMON else "  ") + entry.title)
            item.setData(entry.key, Qt.ItemDataRole.UserRole)
            item.setToolTip(entry.title)
            model.appendRow(item)
            self._entries[entry.key] = entry
        self.blockSignals(True)
        self.setModel(model)
        self.blockSignals(False)
        if not (wanted and self.select_key(wanted)):
            first = next(iter(self._entries), None)
            if first:
                self.select_key(first)
        self._emit()

    def entries(self) -> list[CatalogEntry]:
        return list(self._entries.values())

    def current_key(self) -> str:
        key = self.currentData(Qt.ItemDataRole.UserRole)
        return key if isinstance(key, str) else ""

    def current_entry(self) -> CatalogEntry | None:
        return self._entries.get(self.current_key())

    def select_key(self, key: str) -> bool:
        index = self.findData(key, Qt.ItemDataRole.UserRole)
        if index < 0:
            return False
        self.setCurrentIndex(index)
        return True

    def _emit(self, *_args: object) -> None:
        self.entryChanged.emit(self.current_key())


@dataclass(frozen=True)
class ProviderState:
    """What the provider list shows for one provider."""

    provider_id: str
    title: str
    ready: bool
    problem: str = ""
    cost_note: str = ""


class ProviderSelector(QListWidget):
    """One checkable row per provider able to run the task; several may be ticked."""

    selectionChanged = Signal()  # the set of ticked providers changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("providerSelector")
        self.setAccessibleName("Providers")
        self.setToolTip("Tick one or more providers; each runs the same inputs.")
        self.setUniformItemSizes(True)
        self._updating = False
        self.itemChanged.connect(self._item_changed)

    def set_providers(self, states: Iterable[ProviderState], ticked: Iterable[str]) -> None:
        wanted = set(ticked)
        self._updating = True
        self.clear()
        for state in states:
            mark = "" if state.ready else "  (" + _short_problem(state.problem) + ")"
            item = QListWidgetItem(state.title + mark)
            item.setData(Qt.ItemDataRole.UserRole, state.provider_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if state.provider_id in wanted
                               else Qt.CheckState.Unchecked)
            item.setToolTip(state.problem or f"{state.title} is ready.")
            if not state.ready:
                item.setForeground(self.palette().placeholderText())
            self.addItem(item)
        if not self.checked() and self.count():
            self.item(0).setCheckState(Qt.CheckState.Checked)
        self._updating = False
        rows = max(1, min(self.count(), 6))
        self.setFixedHeight(self.sizeHintForRow(0) * rows + 2 * self.frameWidth() + 4)
        self.selectionChanged.emit()

    def provider_ids(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def checked(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, provider_ids: Iterable[str]) -> None:
        wanted = set(provider_ids)
        self._updating = True
        for i in range(self.count()):
            item = self.item(i)
            item.setCheckState(Qt.CheckState.Checked
                               if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)
        self._updating = False
        self.selectionChanged.emit()

    def _item_changed(self, _item: QListWidgetItem) -> None:
        if not self._updating:
            self.selectionChanged.emit()


def _short_problem(problem: str) -> str:
    text = problem.lower()
    if "base url" in text:
        return "needs base URL"
    if "key" in text:
        return "needs key"
    return "not ready"


def provider_states(ids: Iterable[str], titles: Mapping[str, str],
                    problems: Mapping[str, str]) -> list[ProviderState]:
    return [ProviderState(pid, titles.get(pid, pid), not problems.get(pid), problems.get(pid, ""))
            for pid in ids]
