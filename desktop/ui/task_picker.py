"""Task and provider choice: the task selector (common tasks, tools, workflows) and the provider
list with a tick per provider, whether each is ready to use, and "Set up…" where it is not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

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


class _ProviderRow(QWidget):
    """A provider: its tick, what it lacks (dimmed), and "Set up…" when it is not ready."""

    def __init__(self, state: ProviderState, ticked: bool, selector: ProviderSelector) -> None:
        super().__init__(selector)
        self.provider_id = state.provider_id
        self.setObjectName(f"providerRow_{state.provider_id}")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 2, 0)
        row.setSpacing(6)
        self.box = QCheckBox(state.title, self)
        self.box.setObjectName(f"provider_{state.provider_id}")
        self.box.setChecked(ticked)
        self.box.setToolTip(state.problem or f"{state.title} is ready.")
        self.box.setAccessibleDescription(state.problem or "Ready")
        row.addWidget(self.box)
        self.problem_label = QLabel("" if state.ready else _short_problem(state.problem), self)
        self.problem_label.setObjectName(f"providerProblem_{state.provider_id}")
        self.problem_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.problem_label.setToolTip(state.problem)
        self.problem_label.setVisible(not state.ready)
        row.addWidget(self.problem_label)
        row.addStretch(1)
        self.setup_button = QToolButton(self)
        self.setup_button.setObjectName(f"providerSetup_{state.provider_id}")
        self.setup_button.setText("Set up…")
        self.setup_button.setAutoRaise(True)
        self.setup_button.setAccessibleName(f"Set up {state.title}")
        self.setup_button.setToolTip(f"Open the {state.title} settings: "
                                     + (state.problem or "key, base URL and limits."))
        self.setup_button.setVisible(not state.ready)
        self.setup_button.clicked.connect(lambda: selector.setupRequested.emit(self.provider_id))
        row.addWidget(self.setup_button)
        if not state.ready:
            self.box.setForegroundRole(QPalette.ColorRole.PlaceholderText)


class ProviderSelector(QFrame):
    """One row per provider able to run the task, each with a tick (several may be ticked);
    a provider that is not ready (no key, no base URL) says what it lacks and offers
    "Set up…", which asks for its settings page."""

    selectionChanged = Signal()  # the set of ticked providers changed
    setupRequested = Signal(str)  # a provider id: open its settings page

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("providerSelector")
        self.setAccessibleName("Providers")
        self.setToolTip("Tick one or more providers; each runs the same inputs.")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAutoFillBackground(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.setSpacing(0)
        self._rows: list[_ProviderRow] = []
        self._updating = False

    def set_providers(self, states: Iterable[ProviderState], ticked: Iterable[str]) -> None:
        wanted = set(ticked)
        self._updating = True
        for old in self._rows:
            self._layout.removeWidget(old)
            old.hide()
            old.deleteLater()
        self._rows = []
        previous: QWidget | None = None
        for state in states:
            row = _ProviderRow(state, state.provider_id in wanted, self)
            row.box.toggled.connect(self._item_changed)
            self._layout.addWidget(row)
            row.show()
            self._rows.append(row)
            for widget in (row.box, row.setup_button):
                if previous is not None:
                    QWidget.setTabOrder(previous, widget)
                previous = widget
        if not self.checked() and self._rows:
            self._rows[0].box.setChecked(True)
        self._updating = False
        self.selectionChanged.emit()

    def provider_ids(self) -> list[str]:
        return [row.provider_id for row in self._rows]

    def checked(self) -> list[str]:
        return [row.provider_id for row in self._rows if row.box.isChecked()]

    def set_checked(self, provider_ids: Iterable[str]) -> None:
        wanted = set(provider_ids)
        self._updating = True
        for row in self._rows:
            row.box.setChecked(row.provider_id in wanted)
        self._updating = False
        self.selectionChanged.emit()

    def check_box(self, provider_id: str) -> QCheckBox | None:
        """The tick of one provider (objectName `provider_<id>`)."""
        return next((r.box for r in self._rows if r.provider_id == provider_id), None)

    def setup_button(self, provider_id: str) -> QToolButton | None:
        """The "Set up…" button of one provider (objectName `providerSetup_<id>`); hidden
        while the provider is ready."""
        return next((r.setup_button for r in self._rows if r.provider_id == provider_id), None)

    def _item_changed(self, *_args: object) -> None:
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
