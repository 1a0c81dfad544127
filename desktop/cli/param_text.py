"""A task parameter's type, allowed values and default as `restyle-cli providers` prints them:
in words people read ("whole number from 1 to 10", "any number from 0 to 255"), never a
float's exponent form (`2.14748e+09`).

The JSON form keeps the raw numbers; `allowed_text` and `default_text` are what it adds, so
a script can show the same words.
"""

from __future__ import annotations

from typing import Any

from desktop.core.model import ParamSpec, ParamType

#: Limits at or above the largest 32-bit signed integer are a service's way of writing "no
#: limit" (an API field's integer type), not a bound anybody means to approach.
NO_PRACTICAL_LIMIT = 2**31 - 1



def number(value: float) -> str:
    """A bound or default as people write it: thousands separated, no exponent, no `.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.6f}".rstrip("0")
    return text.rstrip(".")


def _range(spec: ParamSpec, what: str) -> str:
    """"whole number from 1 to 10", "any number from 0", "whole number up to 20"."""
    low, high = spec.minimum, spec.maximum
    huge = high is not None and high >= NO_PRACTICAL_LIMIT
    if low is None and (high is None or huge):
        return f"any {what}"
    if high is None or huge:
        limit = f"; the largest is {number(high)}" if huge and high is not None else ""
        return f"{what} from {number(low)} up (no upper limit{limit})"  # type: ignore[arg-type]
    if low is None:
        return f"{what} up to {number(high)}"
    return f"{what} from {number(low)} to {number(high)}"


def _value(spec: ParamSpec, value: Any, *, titled: bool = False) -> str:
    """A value as typed; with `titled`, a choice's name beside it where the name says more
    ("living (Living room)", "1:1 (square)"; "2k", not "2k (2K)")."""
    if isinstance(value, (int, float)):  # booleans too: `number` writes true and false
        return number(value)
    text = str(value)
    if not titled:
        return text
    title = spec.choice_title(value)
    if title.casefold() == text.casefold():
        return text
    if title.startswith(f"{text} ("):  # "1:1 (square)" names 1:1 already
        return title
    return f"{text} ({title})"


def allowed_text(spec: ParamSpec) -> str:
    """What the parameter takes, in words."""
    t = spec.type
    if spec.choices:
        return "one of: " + ", ".join(_value(spec, c, titled=True) for c in spec.choices)
    if t == ParamType.INTEGER:
        return _range(spec, "whole number")
    if t == ParamType.NUMBER:
        return _range(spec, "number") + (", decimals allowed" if spec.minimum is not None
                                         or spec.maximum is not None else "")
    if t == ParamType.BOOLEAN:
        return "true or false (also yes/no, 1/0)"
    if t == ParamType.COLOR:
        return "a colour: #rrggbb or a CSS name such as teal"
    if t == ParamType.POINT:
        return "x,y in pixels, or fractions of width and height when both are below 1"
    if t == ParamType.JSON:
        if spec.rows:
            fields = ", ".join(r.name for r in spec.rows)
            return f"a JSON list of objects with {fields}"
        return "JSON (starts with [ or {)"
    if spec.max_length is not None:
        return f"text, at most {number(spec.max_length)} characters"
    return "text"


def default_text(spec: ParamSpec) -> str | None:
    """The default in words, or None when the parameter has none."""
    if spec.default is None:
        return None
    if isinstance(spec.default, (list, dict)):
        import json

        return json.dumps(spec.default)
    return _value(spec, spec.default)


def summary(spec: ParamSpec) -> str:
    """One line: what it takes, the default, whether it is required."""
    parts = [allowed_text(spec)]
    default = default_text(spec)
    if default is not None:
        parts.append(f"default {default}")
    if spec.required:
        parts.append("required")
    return "; ".join(parts)
