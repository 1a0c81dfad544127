"""The parameter form generated from a task's ParamSpecs.

Every parameter gets its editor (params_editors.py, params_rows.py) under its plain label, with
its one-line help as a tooltip and choices shown by their names. Parameters a person rarely
needs (`ParamSpec.advanced`: free-form JSON, a webhook, a download mode, a deprecated field, a
seed) sit in a folded "Advanced" section, with a free-form task's "Extra parameters". A
parameter that does not apply to the current choice of another (`ParamSpec.visible_when`: the
sky only for day-to-dusk) is hidden, left out of `values()` and never reported as a problem.

Every change runs `ParamSpec.coerce` (cheap, on the GUI thread), marks invalid editors and
lists all problems under the form, so the window can keep Generate disabled while `errors()` is
not empty. The API names of the parameters never change: only what people read does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.model import InvalidInput, ParamSpec, TaskSpec
from desktop.ui.params_editors import (
    FORM_STYLE,
    INVALID_PROPERTY,
    UNSET,
    Editor,
    error_colors,
    hint_text,
    mark_widget,
    tooltip_text,
)
from desktop.ui.params_rows import ExtraRows, make_editor, parse_extra


def _form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return form


class _Row:
    """Where one parameter sits: its layout, label and editor."""

    def __init__(self, form: QFormLayout, label: QLabel, editor: Editor) -> None:
        self.form = form
        self.label = label
        self.editor = editor

    def set_visible(self, visible: bool) -> None:
        self.form.setRowVisible(self.label, visible)
        if self.editor.spec.rows:  # a list editor has a row of its own under its label
            self.form.setRowVisible(self.editor.outer, visible)


class ParamsForm(QWidget):
    """The generated parameter form of one task (objectName `paramsForm`)."""

    #: Any value changed; validation has run (errors() is current).
    changed = Signal()
    #: "Choose…" beside a parameter whose spec names a chooser: (parameter, chooser).
    chooseRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paramsForm")
        self.setAccessibleName("Parameters")
        self._task: TaskSpec | None = None
        self._editors: dict[str, Editor] = {}
        self._rows: dict[str, _Row] = {}
        self._hidden: dict[str, Any] = {}
        self._hidden_specs: dict[str, ParamSpec] = {}
        self._errors: dict[str, str] = {}
        self._ignored: list[str] = []
        self._building = False
        self._extra: ExtraRows | None = None
        self._styling = False
        #: Whether the Advanced section is unfolded; kept from one task to the next.
        self._advanced_open = False
        self.advanced_toggle: QToolButton | None = None
        self.advanced_box: QWidget | None = None

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self.note_label = QLabel()
        self.note_label.setObjectName("paramsNote")
        self.note_label.setWordWrap(True)
        self.note_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.note_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_label.hide()
        self._layout.addWidget(self.note_label)
        self.empty_label = QLabel("This task has no settings.")
        self.empty_label.setObjectName("paramsEmpty")
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._layout.addWidget(self.empty_label)
        self._body = QWidget()
        self._layout.addWidget(self._body)
        self.error_label = QLabel()
        self.error_label.setObjectName("paramsErrors")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setAccessibleName("Parameter problems")
        self.error_label.hide()
        self._layout.addWidget(self.error_label)
        self._layout.addStretch(1)
        self._apply_style()
        self.set_task(None)

    def _apply_style(self) -> None:
        color, tint = error_colors(self)
        self._tint = tint
        self.setStyleSheet(FORM_STYLE % {"error": color, "tint": tint})
        self.error_label.setStyleSheet(f"color: {color};")

    # -- building ------------------------------------------------------------------------
    def set_task(self, task: TaskSpec | None, values: dict[str, Any] | None = None, *,
                 hidden: Iterable[str] = ()) -> None:
        """Rebuild the form for `task`; `values` pre-fills it (reuse parameters), `hidden`
        names parameters not shown (their given value or default still goes to values())."""
        self._building = True
        self._task = task
        self._editors = {}
        self._rows = {}
        self._errors = {}
        self._ignored = []
        hidden_names = set(hidden)
        self._hidden = {}
        self._hidden_specs = {}
        old = self._body
        body = QWidget()
        body.setObjectName("paramsBody")
        self._layout.replaceWidget(old, body)
        old.hide()
        old.deleteLater()
        self._body = body
        outer = QVBoxLayout(body)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        main = _form_layout()
        outer.addLayout(main)
        advanced_box = QWidget()
        advanced_box.setObjectName("paramsAdvanced")
        advanced_layout = QVBoxLayout(advanced_box)
        advanced_layout.setContentsMargins(12, 0, 0, 0)
        advanced_layout.setSpacing(8)
        advanced = _form_layout()
        advanced_layout.addLayout(advanced)
        shown = folded = 0
        for spec in task.params if task else ():
            if spec.name in hidden_names:
                self._hidden_specs[spec.name] = spec
                if spec.default is not None:
                    self._hidden[spec.name] = spec.default
                continue
            is_advanced = spec.advanced and not spec.required
            self._add_row(spec, advanced if is_advanced else main)
            shown += 1
            folded += is_advanced
        self._extra = None
        if task is not None and task.free_form_params:
            self._extra = ExtraRows(self._changed)
            advanced_layout.addWidget(self._extra)
            folded += 1
        self.advanced_toggle = self.advanced_box = None
        if folded:
            toggle = QToolButton()
            toggle.setObjectName("paramsAdvancedToggle")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setAutoRaise(True)
            toggle.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            toggle.setToolTip("Settings most jobs do not need: raw JSON, webhooks, download "
                              "mode, seeds.")
            toggle.setChecked(self._advanced_open)
            toggle.toggled.connect(self._fold)
            outer.addWidget(toggle)
            outer.addWidget(advanced_box)
            self.advanced_toggle, self.advanced_box = toggle, advanced_box
            self._fold(self._advanced_open)
        else:
            advanced_box.deleteLater()
        self.note_label.setText(task.note if task else "")
        self.note_label.setVisible(bool(task and task.note))
        self.empty_label.setVisible(task is not None and shown == 0 and self._extra is None)
        self._body.setVisible(shown > 0 or self._extra is not None)
        self._building = False
        if values:
            self.set_values(values)
        else:
            self._validate()

    def _add_row(self, spec: ParamSpec, form: QFormLayout) -> None:
        editor = make_editor(spec, f"param_{spec.name}", self._changed)
        self._editors[spec.name] = editor
        label = QLabel(spec.label + (" *" if spec.required else ""))
        label.setObjectName(f"label_{spec.name}")
        label.setToolTip(tooltip_text(spec))
        label.setBuddy(editor.widget)
        label.setWordWrap(True)
        if spec.required:
            editor.widget.setAccessibleDescription(
                "Required. " + editor.widget.accessibleDescription())
        if spec.chooser:
            self._add_chooser(spec, editor)
        if spec.rows:
            form.addRow(label)
            form.addRow(editor.outer)
        else:
            form.addRow(label, editor.outer)
        self._rows[spec.name] = _Row(form, label, editor)

    def _fold(self, open_: bool) -> None:
        """Unfold or fold the Advanced section (the choice is kept for the next task)."""
        self._advanced_open = open_
        if self.advanced_toggle is None or self.advanced_box is None:
            return
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if open_
                                          else Qt.ArrowType.RightArrow)
        self.advanced_box.setVisible(open_)
        self._update_toggle_text()

    def _update_toggle_text(self) -> None:
        toggle = self.advanced_toggle
        if toggle is None:
            return
        changed = self.advanced_changed()
        text = "Advanced" + (f" · {len(changed)} set" if changed else "")
        if toggle.text() != text:
            toggle.setText(text)
            toggle.setAccessibleName(text)

    def set_advanced_open(self, open_: bool) -> None:
        if self.advanced_toggle is not None:
            self.advanced_toggle.setChecked(open_)
        else:
            self._advanced_open = open_

    def advanced_open(self) -> bool:
        return self._advanced_open

    def _add_chooser(self, spec: ParamSpec, editor: Editor) -> None:
        """A "Choose…" button beside the editor: the value is picked from the provider's
        account (the window's provider tools answer `chooseRequested`)."""
        button = QPushButton("Choose…")
        button.setObjectName(f"choose_{spec.name}")
        button.setAccessibleName(f"Choose {spec.label}")
        button.setToolTip(f"Pick the {spec.label.lower()} from your account")
        button.clicked.connect(lambda: self.chooseRequested.emit(spec.name, spec.chooser))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(editor.outer, 1)
        layout.addWidget(button)
        editor.outer = row

    def task(self) -> TaskSpec | None:
        return self._task

    def editor(self, name: str) -> QWidget | None:
        """The editor widget of one parameter (objectName `param_<name>`), None if not shown."""
        found = self._editors.get(name)
        return found.widget if found else None

    def field(self, name: str) -> Editor | None:
        """The Editor object behind a parameter (its row, swatch and helper buttons)."""
        return self._editors.get(name)

    def label(self, name: str) -> QLabel | None:
        """The label of one parameter (objectName `label_<name>`)."""
        row = self._rows.get(name)
        return row.label if row else None

    def extra_rows(self) -> ExtraRows | None:
        """The "Extra parameters" section of a free-form task (None otherwise)."""
        return self._extra

    def is_advanced(self, name: str) -> bool:
        """Whether the parameter sits in the Advanced section."""
        row = self._rows.get(name)
        return row is not None and self.advanced_box is not None and (
            self.advanced_box.isAncestorOf(row.label))

    def applies(self, name: str) -> bool:
        """Whether the parameter applies to the other values now (`visible_when`)."""
        editor = self._editors.get(name)
        if editor is None or self._task is None:
            return False
        return editor.spec.applies(self._current(), self._task.defaults())

    def advanced_changed(self) -> list[str]:
        """Advanced parameters set away from their default (the toggle counts them)."""
        found = []
        for name, editor in self._editors.items():
            if not self.is_advanced(name):
                continue
            raw = editor.raw()
            if raw is not UNSET and raw != editor.spec.default:
                found.append(name)
        if self._extra is not None:
            found += [name for _n, name, _t, _ne, _ve in self._extra.entries() if name]
        return found

    # -- values ----------------------------------------------------------------------------
    def _current(self) -> dict[str, Any]:
        """The values as entered (before checks), for deciding what applies."""
        values = dict(self._hidden)
        for name, editor in self._editors.items():
            raw = editor.raw()
            if raw is not UNSET:
                values[name] = raw
        return values

    def values(self) -> dict[str, Any]:
        """Typed values for JobSpec.params: set fields and defaults; empty optionals and
        fields that do not apply omitted; invalid fields left out (check `errors()` first);
        extra rows included."""
        result: dict[str, Any] = dict(self._hidden)
        current = self._current()
        defaults = self._task.defaults() if self._task is not None else {}
        for name, editor in self._editors.items():
            if not editor.spec.applies(current, defaults):
                continue
            try:
                value = editor.value()
            except InvalidInput:
                continue
            if value is not UNSET:
                result[name] = value
        if self._extra is not None:
            for _n, name, text, _ne, _ve in self._extra.entries():
                if name and name not in result:
                    result[name] = parse_extra(text)
        return result

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the form (reuse parameters). Unknown names go to the extra rows of a free-form
        task; otherwise they are ignored and listed by `ignored_names()`. An advanced value
        away from its default unfolds the Advanced section, so nothing set is out of sight."""
        self._building = True
        self._ignored = []
        try:
            for name, value in values.items():
                editor = self._editors.get(name)
                if editor is not None:
                    editor.set_raw(value)
                elif name in self._hidden_specs:
                    if value is None:
                        self._hidden.pop(name, None)
                    else:
                        self._hidden[name] = value
                elif self._extra is not None:
                    self._extra.set_value(name, value)
                else:
                    self._ignored.append(name)
        finally:
            self._building = False
        if any(name in values for name in self.advanced_changed()):
            self.set_advanced_open(True)
        self._validate()

    def ignored_names(self) -> list[str]:
        """Names the last `set_values` could not place (the task has no such parameter)."""
        return list(self._ignored)

    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def is_valid(self) -> bool:
        return not self._errors

    # -- validation ------------------------------------------------------------------------
    def _changed(self, *_args: Any) -> None:
        if not self._building:
            self._validate()

    def _validate(self) -> None:
        errors: dict[str, str] = {}
        lines: list[str] = []
        marks: dict[int, tuple[QWidget, str | None]] = {}
        current = self._current()
        defaults = self._task.defaults() if self._task is not None else {}
        for name, editor in self._editors.items():
            applies = editor.spec.applies(current, defaults)
            self._rows[name].set_visible(applies)
            for widget in editor.widgets():
                marks.setdefault(id(widget), (widget, None))
            if not applies:
                continue  # hidden and not sent: nothing to fix there
            problems = editor.check()
            if problems:
                errors[name] = " ".join(message for _w, message in problems)
                lines += [message for _w, message in problems]
            for widget, message in problems:
                _old, known = marks.get(id(widget), (widget, None))
                marks[id(widget)] = (widget, message if known is None else f"{known}\n{message}")
        if self._extra is not None:
            seen: set[str] = set(self._editors) | set(self._hidden_specs)
            for number, name, text, name_edit, value_edit in self._extra.entries():
                marks.setdefault(id(name_edit), (name_edit, None))
                marks.setdefault(id(value_edit), (value_edit, None))
                if not name:
                    if text.strip():
                        message = f"Extra parameter {number}: enter its name."
                        errors[f"extra {number}"] = message
                        lines.append(message)
                        marks[id(name_edit)] = (name_edit, message)
                    continue
                if name in seen:
                    message = (f"Extra parameter {number}: '{name}' is already set "
                               "above; remove one of them.")
                    errors[name] = message
                    lines.append(message)
                    marks[id(name_edit)] = (name_edit, message)
                seen.add(name)
        for widget, message in marks.values():
            mark_widget(widget, message, self._tint)
        self._errors = errors
        if lines:
            unique = dict.fromkeys(lines)
            self.error_label.setText("\n".join(f"• {line}" for line in unique))
        self.error_label.setVisible(bool(errors))
        self._update_toggle_text()
        self.changed.emit()

    def changeEvent(self, event: QEvent) -> None:
        """Follow a theme switch (light/dark) with the error colour."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._styling:
            self._styling = True
            try:
                self._apply_style()
            finally:
                self._styling = False


__all__ = ["INVALID_PROPERTY", "UNSET", "Editor", "ParamsForm", "hint_text", "make_editor"]
