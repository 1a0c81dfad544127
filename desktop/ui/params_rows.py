"""The parameter form's editors for lists: a JSON list of objects as rows of field editors
(RowsEditor), and the name/value rows of a free-form task's extra parameters (ExtraRows);
`make_editor` picks the editor of any ParamSpec (params_editors.py has the single-value ones).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core import jsonsafe
from desktop.core.model import InvalidInput, ParamSpec, ParamType
from desktop.ui.params_editors import (
    UNSET,
    BooleanEditor,
    ChoiceEditor,
    ColorEditor,
    Editor,
    IntegerEditor,
    JsonEditor,
    NumberEditor,
    PointEditor,
    SettableEditor,
    TextEditor,
    friendly,
    missing_message,
    tooltip_text,
)


class RowsEditor(Editor):
    """A JSON list of objects, one row of field editors per object, "Add row" and a remove
    button per row. Unknown fields of a row given by `set_raw` are kept and sent back."""

    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        self.box = QFrame()
        self.box.setFrameShape(QFrame.Shape.StyledPanel)
        super().__init__(spec, self.box, name, on_change)
        self.name = name
        self.rows: list[tuple[list[Editor], dict[str, Any], QToolButton]] = []
        layout = QVBoxLayout(self.box)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(4)
        layout.addLayout(self.grid)
        self.empty = QLabel("No rows yet: use Add row.")
        self.empty.setObjectName(f"{name}_empty")
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.add_button = QPushButton("Add row")
        self.add_button.setObjectName(f"{name}_add")
        self.add_button.setAccessibleName(f"Add a row to {spec.label}")
        self.add_button.setToolTip(f"Add a row to {spec.label.lower()}.")
        self.add_button.clicked.connect(self._add_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.empty, 1)
        buttons.addStretch(1)
        layout.insertLayout(0, buttons)  # above the rows: first in the tab order too
        self._headers()
        if isinstance(spec.default, list):
            self.set_raw(spec.default)
        self._refresh()

    def _headers(self) -> None:
        for column, field in enumerate(self.spec.rows):
            label = QLabel(field.label + (" *" if field.required else ""))
            label.setToolTip(tooltip_text(field))
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            self.grid.addWidget(label, 0, column)
        self.grid.setColumnStretch(len(self.spec.rows), 0)
        for column in range(len(self.spec.rows)):
            self.grid.setColumnStretch(column, 1)

    def _add_clicked(self) -> None:
        editors = self.add_row()
        if editors:
            editors[0].widget.setFocus()
        self.changed()

    def add_row(self, values: dict[str, Any] | None = None) -> list[Editor]:
        number = len(self.rows) + 1
        editors: list[Editor] = []
        values = dict(values or {})
        for field in self.spec.rows:
            editor = make_editor(field, f"{self.name}_{number}_{field.name}", self.changed)
            editor.widget.setAccessibleName(f"{field.label}, row {number}")
            if field.name in values:
                editor.set_raw(values.pop(field.name))
            editors.append(editor)
        remove = QToolButton()
        remove.setText("✕")
        remove.setObjectName(f"{self.name}_{number}_remove")
        remove.setAccessibleName(f"Remove row {number}")
        remove.setToolTip(f"Remove row {number}")
        remove.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        row = (editors, values, remove)
        remove.clicked.connect(lambda: self.remove_row(self.rows.index(row)))
        self.rows.append(row)
        self._relayout()
        self.changed()
        return editors

    def remove_row(self, index: int) -> None:
        editors, _extra, remove = self.rows.pop(index)
        for editor in editors:
            editor.outer.deleteLater()
        remove.deleteLater()
        self._relayout()
        if self.rows:
            self.rows[min(index, len(self.rows) - 1)][0][0].widget.setFocus()
        else:
            self.add_button.setFocus()
        self.changed()

    def _relayout(self) -> None:
        """Put the rows back on the grid in order, renumbered (after a removal)."""
        for number, (editors, _extra, remove) in enumerate(self.rows, 1):
            for column, editor in enumerate(editors):
                self.grid.addWidget(editor.outer, number, column)
                editor.outer.show()  # now, not on the next event loop pass: it can take focus
                editor.widget.setAccessibleName(f"{editor.spec.label}, row {number}")
            self.grid.addWidget(remove, number, len(editors))
            remove.show()
            remove.setAccessibleName(f"Remove row {number}")
            remove.setToolTip(f"Remove row {number}")
        self._refresh()
        # Rows are created after the widgets below them: chain them right after "Add row".
        previous: QWidget = self.add_button
        for editors, _extra, remove in self.rows:
            for widget in [*(w for e in editors for w in _focusables(e)), remove]:
                QWidget.setTabOrder(previous, widget)
                previous = widget

    def _refresh(self) -> None:
        self.empty.setVisible(not self.rows)
        for column in range(self.grid.columnCount()):
            item = self.grid.itemAtPosition(0, column)
            if item is not None and item.widget() is not None:
                item.widget().setVisible(bool(self.rows))

    def raw(self) -> Any:
        if not self.rows:
            return UNSET
        result: list[dict[str, Any]] = []
        for editors, extra, _remove in self.rows:
            row = dict(extra)
            for editor in editors:
                value = editor.raw()
                if value is not UNSET:
                    row[editor.spec.name] = value
            result.append(row)
        return result

    def set_raw(self, value: Any) -> None:
        while self.rows:
            editors, _extra, remove = self.rows.pop()
            for editor in editors:
                editor.outer.deleteLater()
            remove.deleteLater()
        if isinstance(value, str):
            try:
                value = jsonsafe.loads(value)
            except jsonsafe.JsonProblem:
                value = None
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, dict):
                    self.add_row(item)
        self._relayout()

    def widgets(self) -> list[QWidget]:
        return [self.box, *(e.widget for editors, _x, _r in self.rows for e in editors)]

    def check(self) -> list[tuple[QWidget, str]]:
        if not self.rows:
            return [(self.box, missing_message(self.spec))] if self.spec.required else []
        problems: list[tuple[QWidget, str]] = []
        title = self.spec.label
        for number, (editors, _extra, _remove) in enumerate(self.rows, 1):
            for editor in editors:
                field = editor.spec
                raw = editor.raw()
                if raw is UNSET:
                    if field.required:
                        problems.append((editor.widget, f"{title}, row {number}: enter the "
                                                        f"{field.label.lower()}."))
                    continue
                try:
                    field.coerce(raw)
                except InvalidInput as exc:
                    problems.append((editor.widget,
                                     f"{title}, row {number}: {friendly(str(exc), field)}"))
        if not problems:  # the whole list too (row shapes, anything the cells cannot see)
            try:
                self.spec.coerce(self.raw())
            except InvalidInput as exc:
                problems.append((self.box, friendly(str(exc), self.spec)))
        return problems


def _focusables(editor: Editor) -> list[QWidget]:
    widgets: list[QWidget] = []
    if isinstance(editor, SettableEditor) and editor.set_box is not None:
        widgets.append(editor.set_box)
    widgets.append(editor.widget)
    if isinstance(editor, ColorEditor):
        widgets.append(editor.swatch)
    return widgets


def make_editor(spec: ParamSpec, object_name: str, on_change: Callable[[], None]) -> Editor:
    """The editor for one ParamSpec (see the module docstring for the mapping)."""
    t = spec.type
    if t == ParamType.CHOICE and spec.choices:
        return ChoiceEditor(spec, object_name, on_change)
    if t == ParamType.INTEGER:
        return IntegerEditor(spec, object_name, on_change)
    if t == ParamType.NUMBER:
        return NumberEditor(spec, object_name, on_change)
    if t == ParamType.BOOLEAN:
        return BooleanEditor(spec, object_name, on_change)
    if t == ParamType.COLOR:
        return ColorEditor(spec, object_name, on_change)
    if t == ParamType.POINT:
        return PointEditor(spec, object_name, on_change)
    if t == ParamType.JSON:
        if spec.rows:
            return RowsEditor(spec, object_name, on_change)
        return JsonEditor(spec, object_name, on_change)
    return TextEditor(spec, object_name, on_change, multiline="prompt" in spec.name.lower())


# -- extra (free-form) parameters --------------------------------------------------------------


def parse_extra(text: str) -> Any:
    """An extra parameter's value: JSON when it parses (numbers, true, lists), else the text.
    NaN, Infinity and nesting past jsonsafe.MAX_DEPTH are not JSON Restyle sends: text."""
    try:
        return jsonsafe.loads(text)
    except jsonsafe.JsonProblem:
        return text


class ExtraRows(QFrame):
    """Name/value rows for parameters a free-form task does not declare."""

    def __init__(self, on_change: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paramsExtra")
        self._on_change = on_change
        self.rows: list[tuple[QLineEdit, QLineEdit, QToolButton]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QLabel("Extra parameters")
        header.setObjectName("paramsExtraTitle")
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        layout.addWidget(header)
        hint = QLabel("Parameters this task does not list, sent as they are; a value that "
                      "reads as JSON (4, true, [1, 2]) is sent typed.")
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(hint)
        self.add_button = QPushButton("Add parameter")
        self.add_button.setObjectName("paramsExtraAdd")
        self.add_button.setAccessibleName("Add an extra parameter")
        self.add_button.clicked.connect(self._add_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(6)
        layout.addLayout(self.grid)

    def _add_clicked(self) -> None:
        name, _value = self.add_row()
        name.setFocus()
        self._on_change()

    def add_row(self, name: str = "", value: str = "") -> tuple[QLineEdit, QLineEdit]:
        name_edit = QLineEdit(name)
        name_edit.setPlaceholderText("name (e.g. Node.param)")
        value_edit = QLineEdit(value)
        value_edit.setPlaceholderText("value")
        remove = QToolButton()
        remove.setText("✕")
        remove.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        row = (name_edit, value_edit, remove)
        remove.clicked.connect(lambda: self.remove_row(self.rows.index(row)))
        name_edit.textChanged.connect(self._on_change)
        value_edit.textChanged.connect(self._on_change)
        self.rows.append(row)
        self._relayout()
        return name_edit, value_edit

    def set_value(self, name: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for name_edit, value_edit, _remove in self.rows:
            if name_edit.text().strip() == name:
                value_edit.setText(text)
                return
        self.add_row(name, text)

    def remove_row(self, index: int) -> None:
        widgets = self.rows.pop(index)
        for widget in widgets:
            widget.deleteLater()
        self._relayout()
        if self.rows:
            self.rows[min(index, len(self.rows) - 1)][0].setFocus()
        else:
            self.add_button.setFocus()
        self._on_change()

    def _relayout(self) -> None:
        previous: QWidget = self.add_button
        for number, (name_edit, value_edit, remove) in enumerate(self.rows, 1):
            name_edit.setObjectName(f"paramsExtra_{number}_name")
            value_edit.setObjectName(f"paramsExtra_{number}_value")
            remove.setObjectName(f"paramsExtra_{number}_remove")
            name_edit.setAccessibleName(f"Extra parameter {number} name")
            value_edit.setAccessibleName(f"Extra parameter {number} value")
            remove.setAccessibleName(f"Remove extra parameter {number}")
            remove.setToolTip(f"Remove extra parameter {number}")
            self.grid.addWidget(name_edit, number, 0)
            self.grid.addWidget(value_edit, number, 1)
            self.grid.addWidget(remove, number, 2)
            for widget in (name_edit, value_edit, remove):
                widget.show()  # now, so the new name field can take the focus
                QWidget.setTabOrder(previous, widget)
                previous = widget

    def entries(self) -> list[tuple[int, str, str, QLineEdit, QLineEdit]]:
        return [(n, name.text().strip(), value.text(), name, value)
                for n, (name, value, _r) in enumerate(self.rows, 1)]


__all__ = ["ExtraRows", "RowsEditor", "make_editor", "parse_extra"]
