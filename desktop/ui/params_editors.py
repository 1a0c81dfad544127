"""The single-value editors of the parameter form (params_form.py), one per ParamType: combo
box (choices shown by their names, the choice itself kept as the value), spin box, check box,
line or text edit, colour field with a picker, point field and JSON text. Each is built from
the spec's label, default, bounds, help and placeholder, and checks its value with
`ParamSpec.coerce`; params_rows.py has the list editors and `make_editor`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
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
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QWidget,
)

from desktop.core.imaging import parse_color
from desktop.core.model import InvalidInput, ParamSpec, ParamType


class _Unset:
    """The value of an editor left empty (an optional parameter the provider decides)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: Dynamic property set on an editor whose value is invalid; the style sheet draws it red.
INVALID_PROPERTY = "invalid"
_INT_LIMIT = 2_147_483_647
_WIDE = 1e12
#: A border for line and text edits and combo boxes (spin boxes: see `mark_widget`).
FORM_STYLE = """
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"] {
    border: 1px solid %(error)s; border-radius: 3px; padding: 1px 2px;
}
QCheckBox[invalid="true"] { color: %(error)s; }
"""


def error_colors(widget: QWidget) -> tuple[str, str]:
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
        shown = spec.choice_title(spec.default) if spec.choice_titles else _fmt(spec.default)
        parts.append(f"default {shown}")
    elif not spec.required and spec.type != ParamType.BOOLEAN:
        parts.append("optional")
    if spec.required:
        parts.append("required")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def tooltip_text(spec: ParamSpec) -> str:
    return "\n".join(p for p in (spec.help.strip(), hint_text(spec)) if p)


def friendly(message: str, spec: ParamSpec) -> str:
    """Coerce's "Parameter 'tolerance' must be ..." with the title the user sees instead."""
    prefix = f"Parameter '{spec.name}'"
    if message.startswith(prefix):
        return spec.label + message[len(prefix):]
    return message


def missing_message(spec: ParamSpec) -> str:
    title = spec.label
    if spec.rows:
        return f"{title}: add at least one row."
    if spec.type == ParamType.CHOICE:
        return f"{title}: choose a value."
    return f"{title}: enter a value (it is required)."


def mark_widget(widget: QWidget, problem: str | None, tint: str) -> None:
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
        widget.setAccessibleName(spec.label)
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
            self._add(spec.choice_title(choice), choice)
        self.combo.setCurrentIndex(max(0, self._index(spec.default)))
        self.combo.currentIndexChanged.connect(self.changed)

    def _add(self, text: str, value: Any) -> None:
        self._values.append(value)
        self.combo.addItem(text, None if value is UNSET else value)
        tip = text if value is UNSET or text == str(value) else f"{text} ({value})"
        self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

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


class SettableEditor(Editor):
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
        self.set_box.setAccessibleName(f"Set {spec.label}")
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


class _SpinEditor(SettableEditor):
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
            return [(self.widget, f"{self.spec.label}: enter a number.")]
        problems = super().check()
        if not problems and isinstance(raw, str):
            return [(self.widget, f"{self.spec.label}: '{raw}' is not accepted here "
                                  f"({hint_text(self.spec).lower() or 'a number'}).")]
        return problems

    def value(self) -> Any:
        raw = self.raw()
        if isinstance(raw, str):
            raise InvalidInput(f"{self.spec.label}: enter a number.")
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
        if placeholder or spec.placeholder:
            self.edit.setPlaceholderText(spec.placeholder or placeholder)
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
        self.swatch.setAccessibleName(f"Pick {spec.label}")
        self.swatch.setToolTip(f"Pick {spec.label.lower()} from a colour dialog.")
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
        dialog.setWindowTitle(f"Choose {self.spec.label.lower()}")
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


__all__ = ["INVALID_PROPERTY", "UNSET", "BooleanEditor", "ChoiceEditor", "ColorEditor", "Editor",
           "IntegerEditor", "JsonEditor", "NumberEditor", "PointEditor", "TextEditor",
           "friendly", "hint_text", "missing_message", "tooltip_text"]
