"""JSON parameter values that can be stored and sent: finite numbers, bounded nesting.

Python's json module reads `NaN`, `Infinity` and `1e999` (as inf) although JSON has no such
numbers, and a deeply nested text (`[[[[...`) exhausts the recursion limit. Such a value would
pass the parameter checks and fail later, when the job is stored or sent. `loads` and `check`
refuse them up front; the message is a clause the caller puts after the parameter's name.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: Deeper structures are refused; no provider's parameters come close.
MAX_DEPTH = 64


class JsonProblem(ValueError):
    """Why a JSON value is refused, as a clause: 'is not valid JSON (Expecting value ...)'."""


class _NonFinite(ValueError):
    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


def loads(text: str) -> Any:
    """Parse `text` as JSON; JsonProblem for invalid JSON, non-finite numbers (NaN, Infinity,
    1e999) and nesting deeper than MAX_DEPTH (measured before parsing)."""
    depth = text_depth(text)
    if depth > MAX_DEPTH:
        raise JsonProblem(_too_deep(depth))
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NonFinite as exc:
        raise JsonProblem(_non_finite(exc.word)) from None
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:  # the depth scan makes this unreachable; kept as a last guard
        raise JsonProblem(_too_deep(MAX_DEPTH + 1)) from None
    check(value)
    return value


def check(value: Any) -> None:
    """JsonProblem when a Python value (a form's, or parsed JSON) nests deeper than MAX_DEPTH
    (a list that contains itself included) or holds a number that is not finite."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise JsonProblem(_non_finite(repr(item)))
        if isinstance(item, (list, tuple, dict)):
            if depth > MAX_DEPTH:
                raise JsonProblem(_too_deep(depth))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def text_depth(text: str) -> int:
    """The deepest bracket nesting in JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _refuse_constant(word: str) -> Any:
    raise _NonFinite(word)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFinite(text)
    return value


def _non_finite(word: str) -> str:
    return f"contains {word}, which is not a finite number; use an ordinary number"


def _too_deep(depth: int) -> str:
    return f"nests {depth} levels deep; at most {MAX_DEPTH} levels are accepted"
