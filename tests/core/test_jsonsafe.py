"""jsonsafe and the JSON parameters built on it: finite numbers and bounded nesting only,
whether the value arrives as text (the CLI, a form's JSON field) or as a Python value (a form,
a re-run of stored parameters)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from desktop.core import jsonsafe
from desktop.core.jsonsafe import MAX_DEPTH, JsonProblem
from desktop.core.model import InputRole, InvalidInput, ParamSpec, ParamType, TaskSpec


def test_ordinary_json_passes() -> None:
    assert jsonsafe.loads('{"a": [1, 2.5, -3e10, true, null, "x"]}') == {
        "a": [1, 2.5, -3e10, True, None, "x"]}
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert jsonsafe.loads(nested) is not None
    jsonsafe.check({"a": [1.5, {"b": (2, 3)}]})


@pytest.mark.parametrize(("text", "clause"), [
    ("[NaN]", "contains NaN, which is not a finite number"),
    ('{"a": Infinity}', "contains Infinity"),
    ("[-Infinity]", "contains -Infinity"),
    ("[1e999]", "contains 1e999"),
    ("-1e400", "contains -1e400"),
    ("[" * 65 + "]" * 65, "nests 65 levels deep; at most 64 levels are accepted"),
    ("[" * 10_000 + "]" * 10_000, "nests 10000 levels deep"),
    ("[" * 100_000, "nests 100000 levels deep"),  # unclosed: refused before parsing
    ("{bad", "is not valid JSON (Expecting property name enclosed in double quotes at "
             "position 1)"),
])
def test_text_is_refused_with_a_clause(text: str, clause: str) -> None:
    with pytest.raises(JsonProblem) as info:
        jsonsafe.loads(text)
    assert str(info.value).startswith(clause)


def test_brackets_inside_strings_do_not_count() -> None:
    text = '["' + "[" * 1000 + '", "\\"]]]]"]'
    assert jsonsafe.text_depth(text) == 1
    assert jsonsafe.loads(text)[0] == "[" * 1000


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(("value", "clause"), [
    (math.nan, "contains nan"),
    ({"a": [1, float("inf")]}, "contains inf"),
    ((1, -math.inf), "contains -inf"),
    (deep(MAX_DEPTH + 1), "nests 65 levels deep"),
    (deep(50_000), "nests 65 levels deep"),
])
def test_python_values_are_checked(value: Any, clause: str) -> None:
    with pytest.raises(JsonProblem) as info:
        jsonsafe.check(value)
    assert str(info.value).startswith(clause)


def test_a_list_that_contains_itself_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(JsonProblem, match="levels deep"):
        jsonsafe.check(loop)


META = ParamSpec("metadata", ParamType.JSON, "Metadata")


@pytest.mark.parametrize(("raw", "message"), [
    ('{"a": NaN}', "Parameter 'metadata' contains NaN, which is not a finite number; use an "
                   "ordinary number."),
    ({"a": math.nan}, "Parameter 'metadata' contains nan, which is not a finite number; use an "
                      "ordinary number."),
    (deep(100), "Parameter 'metadata' nests 65 levels deep; at most 64 levels are accepted."),
    ("[" * 10_000 + "]" * 10_000, "Parameter 'metadata' nests 10000 levels deep; at most 64 "
                                  "levels are accepted."),
    ("{", "Parameter 'metadata' must be JSON (Expecting property name enclosed in double "
          "quotes at position 1)."),
])
def test_json_parameters_refuse_them(raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        META.coerce(raw)
    assert str(info.value) == message


def test_free_form_parameters_must_be_sendable_too() -> None:
    task = TaskSpec("tool", "Tool", (InputRole("image", "Image"),), free_form_params=True)
    assert task.validate({"image": ["a.png"]}, {"steps": 4, "mix": [0.5]}) == {
        "steps": 4, "mix": [0.5]}
    for value, clause in [(math.inf, "contains inf"), ([[math.nan]], "contains nan"),
                          (deep(80), "nests 65 levels deep")]:
        with pytest.raises(InvalidInput) as info:
            task.validate({"image": ["a.png"]}, {"extra": value})
        assert str(info.value).startswith(f"Parameter 'extra' {clause}")
