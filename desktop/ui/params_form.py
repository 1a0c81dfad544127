"""The parameter form generated from a task's ParamSpecs.

Every ParamType gets its own editor (combo box, spin box, check box, line or text edit, colour
field with a picker, point field, JSON text, or a row editor for JSON lists of objects), built
from the spec's title, default, bounds and help. Every change runs `ParamSpec.coerce` (cheap, on
the GUI thread), marks invalid editors and lists all problems under the form, so the window can
keep Generate disabled while `errors()` is not empty. Tasks with `free_form_params` also get an
"Extra parameters" section of name/value rows for parameters the task does not declare.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
    QValidator,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core import jsonsafe
from desktop.core.imaging import parse_color
from desktop.core.model import InvalidInput, ParamSpec, ParamType, TaskSpec


class _Unset:
    """The value of an editor left empty (an optional parameter the provider decides)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: Dynamic property set on an editor whose value is invalid; the style sheet draws it red.
INVALID_PROPERTY = "invalid"
_INT_LIMIT = 2_147_483_647
_WIDE = 1e12
#: A border for line and text edits and combo boxes (spin boxes: see `_mark`).
_STYLE = """
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"] {
    border: 1px solid %(error)s; border-radius: 3px; padding: 1px 2px;
}
QCheckBox[invalid="true"] { color: %(error)s; }
"""


def _error_colors(widget: QWidget) -> tuple[str, str]:
    """(text and border colour, background tint) readable on the widget's palette."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    if dark:
        return "#ff6b6b", "rgba(255, 107, 107, 60)"
    return "#c62828", "rgba(198, 40, 40, 40)"


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def hint_text(spec: ParamSpec) -> str:
    """"Between 0 and 100; default 40" for a tooltip (empty when there is nothing to say)."""
    parts: list[str] = []
    if spec.minimum is not None and spec.maximum is not None:
        parts.append(f"between {_fmt(spec.minimum)} and {_fmt(spec.maximum)}")
    elif spec.minimum is not None:
        parts.append(f"at least {_fmt(spec.minimum)}")
    elif spec.maximum is not None:
        parts.append(f"at most {_fmt(spec.maximum)}")
    if spec.max_length is not None:
        parts.append(f"at most {spec.max_length} characters")
    if spec.default is not None:
        parts.append(f"default {_fmt(spec.default)}")
    elif not spec.required and spec.type != ParamType.BOOLEAN:
        parts.append("optional")
    if spec.required:
        parts.append("required")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def tooltip_text(spec: ParamSpec) -> str:
    return "\n".join(p for p in (spec.help.strip(), hint_text(spec)) if p)


def _title(spec: ParamSpec) -> str:
    return spec.title or spec.name


def friendly(message: str, spec: ParamSpec) -> str:
    """Coerce's "Parameter 'tolerance' must be ..." with the title the user sees instead."""
    prefix = f"Parameter '{spec.name}'"
    if spec.title and message.startswith(prefix):
        return spec.title + message[len(prefix):]
    return message


def missing_message(spec: ParamSpec) -> str:
    title = _title(spec)
    if spec.rows:
        return f"{title}: add at least one row."
    if spec.type == ParamType.CHOICE:
        return f"{title}: choose a value."
    return f"{title}: enter a value (it is required)."


def _mark(widget: QWidget, problem: str | None, tint: str) -> None:
    """Set or clear the invalid mark; the problem goes in front of the normal tooltip."""
    base_tooltip = widget.property("baseToolTip")
    if base_tooltip is None:
        base_tooltip = widget.toolTip()
        widget.setProperty("baseToolTip", base_tooltip)
    invalid = problem is not None
    if bool(widget.property(INVALID_PROPERTY)) != invalid:
        widget.setProperty(INVALID_PROPERTY, invalid)
        if isinstance(widget, QAbstractSpinBox):
            # Its own text field is tinted: a border rule would restyle the arrows.
            widget.lineEdit().setStyleSheet(f"background-color: {tint};" if invalid else "")
        else:
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        widget.update()
    tip = "\n\n".join(p for p in (problem, base_tooltip) if p)
    widget.setToolTip(tip)


# -- editors ---------------------------------------------------------------------------------


class Editor:
    """One parameter's editor. `widget` holds the value (objectName param_<name>); `outer` is
    what goes into a layout (the widget itself or a row around it with helper buttons)."""

    def __init__(self, spec: ParamSpec, widget: QWidget, object_name: str,
                 on_change: Callable[[], None]) -> None:
        self.spec = spec
        self.widget = widget
        self.outer: QWidget = widget
        self._on_change = on_change
        widget.setObjectName(object_name)
        widget.setAccessibleName(_title(spec))
        description = tooltip_text(spec)
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)

    def raw(self) -> Any:
        """The value as entered (UNSET when empty), for `ParamSpec.coerce`."""
        raise NotImplementedError

    def set_raw(self, value: Any) -> None:
        raise NotImplementedError

    def check(self) -> list[tuple[QWidget, str]]:
        """Problems as (widget to mark, sentence); marks nothing itself."""
        raw = self.raw()
        if raw is UNSET:
            return [(self.widget, missing_message(self.spec))] if self.spec.required else []
        try:
            self.spec.coerce(raw)
        except InvalidInput as exc:
            return [(self.widget, friendly(str(exc), self.spec))]
        return []

    def widgets(self) -> list[QWidget]:
        """Widgets that can be marked invalid."""
        return [self.widget]

    def value(self) -> Any:
        """The typed value (UNSET when empty); raises InvalidInput when invalid."""
        raw = self.raw()
        return raw if raw is UNSET else self.spec.coerce(raw)

    def changed(self, *_args: Any) -> None:
        self._on_change()


class ChoiceEditor(Editor):
    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        self.combo = QComboBox()
        super().__init__(spec, self.combo, name, on_change)
        self._values: list[Any] = []
        if not spec.required and spec.default is None:
            self._add("(provider default)", UNSET)
        for choice in spec.choices:
            self._add(str(choice), choice)
        self.combo.setCurrentIndex(max(0, self._index(spec.default)))
        self.combo.currentIndexChanged.connect(self.changed)

    def _add(self, text: str, value: Any) -> None:
        self._values.append(value)
        self.combo.addItem(text, None if value is UNSET else value)
        self.combo.setItemData(self.combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)

    def _index(self, value: Any) -> int:
        for i, known in enumerate(self._values):
            if known is not UNSET and (known == value or str(known) == str(value)):
                return i
        return -1

    def item_value(self, index: int) -> Any:
        """The choice itself behind item `index` (the item's data, kept typed)."""
        return self._values[index]

    def raw(self) -> Any:
        index = self.combo.currentIndex()
        return UNSET if index < 0 else self._values[index]

    def set_raw(self, value: Any) -> None:
        if value is None or value is UNSET:
            index = self._index(self.spec.default) if self.spec.default is not None else 0
            self.combo.setCurrentIndex(max(0, index))
            return
        index = self._index(value)
        if index < 0:  # not offered (an older job's value): shown, and reported as invalid
            self._add(f"{value} (not offered)", value)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)


class _Settable(Editor):
    """An editor with a "Set" check box in front when the parameter is optional and has no
    default: unticked means the provider decides and the value is left out."""

    def _wrap(self, field: QWidget, name: str) -> None:
        spec = self.spec
        self.set_box: QCheckBox | None = None
        if spec.required or spec.default is not None:
            self.outer = field
            return
        self.set_box = QCheckBox("Set")
        self.set_box.setObjectName(f"{name}_set")
        self.set_box.setAccessibleName(f"Set {_title(spec)}")
        self.set_box.setToolTip("Untick to leave this to the provider's default.")
        self.set_box.toggled.connect(self._toggled)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.set_box)
        layout.addWidget(field, 1)
        self.outer = row
        field.setEnabled(False)
        QWidget.setTabOrder(self.set_box, field)  # the box is left of the field

    def _toggled(self, on: bool) -> None:
        self.widget.setEnabled(on)
        if on:
            self.widget.setFocus()
        self.changed()

    def is_set(self) -> bool:
        return self.set_box is None or self.set_box.isChecked()

    def _set_enabled_value(self, present: bool) -> None:
        if self.set_box is not None:
            self.set_box.setChecked(present)


class _BlankSpin:
    """A spin box that may be empty: a required number nobody entered yet, or one the user
    cleared, stays empty (and is reported) instead of silently snapping back to a value."""

    blank = False

    def validate(self, text: str, pos: int) -> object:
        if not text.strip():
            return (QValidator.State.Acceptable, text, pos)
        return super().validate(text, pos)  # type: ignore[misc]

    def valueFromText(self, text: str) -> Any:
        self.blank = not text.strip()
        if self.blank:
            return self.value()  # type: ignore[attr-defined]
        return super().valueFromText(text)  # type: ignore[misc]

    def textFromValue(self, value: Any) -> str:
        return "" if self.blank else super().textFromValue(value)  # type: ignore[misc]

    def stepBy(self, steps: int) -> None:
        self.blank = False
        super().stepBy(steps)  # type: ignore[misc]

    def set_number(self, value: float) -> None:
        """Show `value` (also when the box was empty and the value is unchanged)."""
        self.blank = False
        self.setValue(value)  # type: ignore[attr-defined]
        self.lineEdit().setText(self.textFromValue(self.value()))  # type: ignore[attr-defined]

    def clear_number(self) -> None:
        self.blank = True
        self.lineEdit().clear()  # type: ignore[attr-defined]


class IntSpinBox(_BlankSpin, QSpinBox):
    pass


class DoubleSpinBox(_BlankSpin, QDoubleSpinBox):
    pass


class _SpinEditor(_Settable):
    """Shared by the integer and number editors: an empty box or text the spin box cannot
    accept yet (a lone '-', a value below the minimum while typing) is a problem, never a
    silent revert."""

    spin: IntSpinBox | DoubleSpinBox

    def _setup(self, name: str, low: float, high: float) -> None:
        spec = self.spec
        self.spin.setRange(low, max(low, high))
        self.spin.setAccelerated(True)
        if spec.default is not None and not isinstance(spec.default, bool):
            try:
                self.spin.set_number(spec.default)
            except TypeError:
                self.spin.clear_number()
        elif spec.required:
            self.spin.clear_number()  # nothing is entered for the user (an ID of 1 would be)
        else:
            self.spin.set_number(max(low, min(high, 0)))
        self.spin.lineEdit().textChanged.connect(self.changed)  # also while not acceptable
        self.spin.valueChanged.connect(self.changed)
        self._wrap(self.spin, name)

    def raw(self) -> Any:
        if not self.is_set():
            return UNSET
        if self.spin.blank or not self.spin.hasAcceptableInput():
            return self.spin.cleanText().strip()
        return self.spin.value()

    def set_raw(self, value: Any) -> None:
        present = value is not None and value is not UNSET
        self._set_enabled_value(present)
        if not present:
            return
        try:
            self.spin.set_number(self._number(value))
        except (TypeError, ValueError):
            self.spin.blank = False
            self.spin.lineEdit().setText(str(value))

    def _number(self, value: Any) -> float:
        raise NotImplementedError

    def check(self) -> list[tuple[QWidget, str]]:
        raw = self.raw()
        if raw == "":
            return [(self.widget, f"{_title(self.spec)}: enter a number.")]
        problems = super().check()
        if not problems and isinstance(raw, str):
            return [(self.widget, f"{_title(self.spec)}: '{raw}' is not accepted here "
                                  f"({hint_text(self.spec).lower() or 'a number'}).")]
        return problems

    def value(self) -> Any:
        raw = self.raw()
        if isinstance(raw, str):
            raise InvalidInput(f"{_title(self.spec)}: enter a number.")
        return raw


class IntegerEditor(_SpinEditor):
    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        self.spin = IntSpinBox()
        super().__init__(spec, self.spin, name, on_change)
        low = -_INT_LIMIT if spec.minimum is None else max(-_INT_LIMIT, math.ceil(spec.minimum))
        high = _INT_LIMIT if spec.maximum is None else min(_INT_LIMIT, math.floor(spec.maximum))
        self._setup(name, low, high)

    def _number(self, value: Any) -> float:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return int(value)


def _step_and_decimals(spec: ParamSpec) -> tuple[float, int]:
    if spec.minimum is not None and spec.maximum is not None and spec.maximum > spec.minimum:
        span = spec.maximum - spec.minimum
        step = min(10.0 ** math.floor(math.log10(span / 50)), 1.0)
    else:
        step = 0.1
    decimals = max(1, -math.floor(math.log10(step)))
    for value in (spec.default, spec.minimum, spec.maximum):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = repr(float(value))
            if "e" not in text:
                decimals = max(decimals, len(text.split(".")[1].rstrip("0")))
    return step, min(decimals, 6)


class NumberEditor(_SpinEditor):
    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        self.spin = DoubleSpinBox()
        super().__init__(spec, self.spin, name, on_change)
        step, decimals = _step_and_decimals(spec)
        self.spin.setDecimals(decimals)
        self.spin.setSingleStep(step)
        low = -_WIDE if spec.minimum is None else float(spec.minimum)
        high = _WIDE if spec.maximum is None else float(spec.maximum)
        self._setup(name, low, high)

    def _number(self, value: Any) -> float:
        return float(value)


class BooleanEditor(Editor):
    """A check box; an optional boolean without a default is three-state (middle = unset)."""

    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        self.box = QCheckBox()
        super().__init__(spec, self.box, name, on_change)
        self.tristate = not spec.required and spec.default is None
        self.box.setTristate(self.tristate)
        if self.tristate:
            self.box.setCheckState(Qt.CheckState.PartiallyChecked)
        else:
            self.box.setChecked(bool(spec.default))
        self.box.checkStateChanged.connect(self._state_changed)
        self._update_text()

    def _state_changed(self, *_args: Any) -> None:
        self._update_text()
        self.changed()

    def _update_text(self) -> None:
        if self.tristate:
            state = self.box.checkState()
            self.box.setText({Qt.CheckState.PartiallyChecked: "Provider default",
                              Qt.CheckState.Checked: "On"}.get(state, "Off"))

    def raw(self) -> Any:
        state = self.box.checkState()
        if state == Qt.CheckState.PartiallyChecked:
            return UNSET
        return state == Qt.CheckState.Checked

    def set_raw(self, value: Any) -> None:
        if value is None or value is UNSET:
            if self.tristate:
                self.box.setCheckState(Qt.CheckState.PartiallyChecked)
            else:
                self.box.setChecked(bool(self.spec.default))
            return
        try:
            on = self.spec.coerce(value)
        except InvalidInput:
            on = bool(value)
        self.box.setChecked(bool(on))


class TextEditor(Editor):
    """A line edit (or a multi-line edit for prompts); empty means unset."""

    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None], *,
                 multiline: bool = False, placeholder: str = "") -> None:
        self.multiline = multiline
        self.edit: QLineEdit | QPlainTextEdit
        if multiline:
            self.edit = QPlainTextEdit()
            self.edit.setTabChangesFocus(True)
            self.edit.setFixedHeight(_lines_height(self.edit, 4))
        else:
            self.edit = QLineEdit()
            self.edit.setClearButtonEnabled(True)
        super().__init__(spec, self.edit, name, on_change)
        if placeholder:
            self.edit.setPlaceholderText(placeholder)
        if spec.default is not None:
            self._set_text(self._as_text(spec.default))
        self.edit.textChanged.connect(self.changed)

    def _as_text(self, value: Any) -> str:
        return value if isinstance(value, str) else _fmt(value)

    def text(self) -> str:
        if isinstance(self.edit, QPlainTextEdit):
            return self.edit.toPlainText()
        return self.edit.text()

    def _set_text(self, text: str) -> None:
        if isinstance(self.edit, QPlainTextEdit):
            self.edit.setPlainText(text)
        else:
            self.edit.setText(text)

    def raw(self) -> Any:
        text = self.text()
        return UNSET if not text.strip() else text

    def set_raw(self, value: Any) -> None:
        self._set_text("" if value is None or value is UNSET else self._as_text(value))


def _lines_height(edit: QPlainTextEdit, lines: int) -> int:
    metrics = edit.fontMetrics()
    margins = edit.contentsMargins()
    return (metrics.lineSpacing() * lines + 2 * int(edit.document().documentMargin())
            + margins.top() + margins.bottom() + 4)


class PointEditor(TextEditor):
    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        super().__init__(spec, name, on_change, placeholder="x,y (e.g. 120,80 or 0.5,0.4)")

    def _as_text(self, value: Any) -> str:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return f"{_fmt(value[0])},{_fmt(value[1])}"
        return super()._as_text(value)


class JsonEditor(TextEditor):
    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        super().__init__(spec, name, on_change, multiline=True, placeholder="JSON")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.edit.setFont(font)
        assert isinstance(self.edit, QPlainTextEdit)
        self.edit.setFixedHeight(_lines_height(self.edit, 3))

    def _as_text(self, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ColorEditor(TextEditor):
    """A colour as text ("#1f4e9c" or "crimson") with a swatch button that opens a non-modal
    colour dialog writing "#rrggbb"."""

    def __init__(self, spec: ParamSpec, name: str, on_change: Callable[[], None]) -> None:
        super().__init__(spec, name, on_change, placeholder="#RRGGBB or a colour name")
        self.swatch = QToolButton()
        self.swatch.setObjectName(f"{name}_pick")
        self.swatch.setAccessibleName(f"Pick {_title(spec)}")
        self.swatch.setToolTip(f"Pick {_title(spec).lower()} from a colour dialog.")
        self.swatch.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.swatch.setIconSize(QSize(18, 18))
        self.swatch.clicked.connect(self.pick)
        self.dialog: QColorDialog | None = None
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.swatch)
        self.outer = row
        self.edit.textChanged.connect(self._update_swatch)
        self._update_swatch()

    def current_color(self) -> QColor | None:
        text = self.text().strip()
        if not text:
            return None
        try:
            r, g, b = parse_color(text)
        except InvalidInput:
            try:
                r, g, b = parse_color("".join(text.split()))
            except InvalidInput:
                return None
        return QColor(r, g, b)

    def _update_swatch(self, *_args: Any) -> None:
        color = self.current_color()
        ratio = self.swatch.devicePixelRatioF() or 1.0
        size = self.swatch.iconSize()
        pixmap = QPixmap(round(size.width() * ratio), round(size.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.swatch.palette().color(QPalette.ColorRole.Mid))
        rect = QRectF(0.5, 0.5, size.width() - 1.0, size.height() - 1.0)
        if color is None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 3, 3)
            painter.drawLine(rect.bottomLeft(), rect.topRight())
        else:
            painter.setBrush(color)
            painter.drawRoundedRect(rect, 3, 3)
        painter.end()
        self.swatch.setIcon(QIcon(pixmap))

    def pick(self) -> None:
        """Open the colour dialog without blocking (never exec inside a coroutine)."""
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        dialog = QColorDialog(self.current_color() or QColor("#808080"), self.swatch.window())
        dialog.setWindowTitle(f"Choose {_title(self.spec).lower()}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.colorSelected.connect(self._picked)
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _picked(self, color: QColor) -> None:
        if color.isValid():
            self._set_text(color.name(QColor.NameFormat.HexRgb))

    def _dialog_closed(self, *_args: Any) -> None:
        self.dialog = None


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
        self.add_button.setAccessibleName(f"Add a row to {_title(spec)}")
        self.add_button.setToolTip(f"Add a row to {_title(spec).lower()}.")
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
            label = QLabel(_title(field) + (" *" if field.required else ""))
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
            editor.widget.setAccessibleName(f"{_title(field)}, row {number}")
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
                editor.widget.setAccessibleName(f"{_title(editor.spec)}, row {number}")
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
        title = _title(self.spec)
        for number, (editors, _extra, _remove) in enumerate(self.rows, 1):
            for editor in editors:
                field = editor.spec
                raw = editor.raw()
                if raw is UNSET:
                    if field.required:
                        problems.append((editor.widget, f"{title}, row {number}: enter the "
                                                        f"{_title(field).lower()}."))
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
    if isinstance(editor, _Settable) and editor.set_box is not None:
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


def _parse_extra(text: str) -> Any:
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


# -- the form ---------------------------------------------------------------------------------


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
        self._hidden: dict[str, Any] = {}
        self._hidden_specs: dict[str, ParamSpec] = {}
        self._errors: dict[str, str] = {}
        self._ignored: list[str] = []
        self._building = False
        self._extra: ExtraRows | None = None
        self._styling = False

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
        self.empty_label = QLabel("This task has no parameters.")
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
        color, tint = _error_colors(self)
        self._tint = tint
        self.setStyleSheet(_STYLE % {"error": color, "tint": tint})
        self.error_label.setStyleSheet(f"color: {color};")

    # -- building ------------------------------------------------------------------------
    def set_task(self, task: TaskSpec | None, values: dict[str, Any] | None = None, *,
                 hidden: Iterable[str] = ()) -> None:
        """Rebuild the form for `task`; `values` pre-fills it (reuse parameters), `hidden`
        names parameters not shown (their given value or default still goes to values())."""
        self._building = True
        self._task = task
        self._editors = {}
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
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        outer.addLayout(form)
        shown = 0
        for spec in task.params if task else ():
            if spec.name in hidden_names:
                self._hidden_specs[spec.name] = spec
                if spec.default is not None:
                    self._hidden[spec.name] = spec.default
                continue
            editor = make_editor(spec, f"param_{spec.name}", self._changed)
            self._editors[spec.name] = editor
            label = QLabel(_title(spec) + (" *" if spec.required else ""))
            label.setObjectName(f"label_{spec.name}")
            label.setToolTip(tooltip_text(spec))
            label.setBuddy(editor.widget)
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
            shown += 1
        self._extra = None
        if task is not None and task.free_form_params:
            self._extra = ExtraRows(self._changed)
            outer.addWidget(self._extra)
        self.note_label.setText(task.note if task else "")
        self.note_label.setVisible(bool(task and task.note))
        self.empty_label.setVisible(task is not None and shown == 0 and self._extra is None)
        self._body.setVisible(shown > 0 or self._extra is not None)
        self._building = False
        if values:
            self.set_values(values)
        else:
            self._validate()

    def _add_chooser(self, spec: ParamSpec, editor: Editor) -> None:
        """A "Choose…" button beside the editor: the value is picked from the provider's
        account (the window's provider tools answer `chooseRequested`)."""
        button = QPushButton("Choose…")
        button.setObjectName(f"choose_{spec.name}")
        button.setAccessibleName(f"Choose {_title(spec)}")
        button.setToolTip(f"Pick the {_title(spec).lower()} from your account")
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

    def extra_rows(self) -> ExtraRows | None:
        """The "Extra parameters" section of a free-form task (None otherwise)."""
        return self._extra

    # -- values ----------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Typed values for JobSpec.params: set fields and defaults; empty optionals omitted;
        invalid fields left out (check `errors()` first); extra rows included."""
        result: dict[str, Any] = dict(self._hidden)
        for name, editor in self._editors.items():
            try:
                value = editor.value()
            except InvalidInput:
                continue
            if value is not UNSET:
                result[name] = value
        if self._extra is not None:
            for _n, name, text, _ne, _ve in self._extra.entries():
                if name and name not in result:
                    result[name] = _parse_extra(text)
        return result

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the form (reuse parameters). Unknown names go to the extra rows of a free-form
        task; otherwise they are ignored and listed by `ignored_names()`."""
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
        for name, editor in self._editors.items():
            for widget in editor.widgets():
                marks.setdefault(id(widget), (widget, None))
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
            _mark(widget, message, self._tint)
        self._errors = errors
        if lines:
            unique = dict.fromkeys(lines)
            self.error_label.setText("\n".join(f"• {line}" for line in unique))
        self.error_label.setVisible(bool(errors))
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
