"""ParamSpec coercion: JSON parameters made of rows (a list of objects with typed fields)."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.core.model import InputRole, InvalidInput, ParamSpec, ParamType, TaskSpec

ROWS = (
    ParamSpec("target", ParamType.STRING, "Garment", required=True),
    ParamSpec("color", ParamType.COLOR, "Colour", required=True),
    ParamSpec("strength", ParamType.NUMBER, "Strength", default=1.0, minimum=0, maximum=1),
)
CHANGES = ParamSpec("color_changes", ParamType.JSON, "Colour changes", required=True, rows=ROWS)


def test_rows_from_json_text_and_from_a_list_are_coerced_field_by_field() -> None:
    text = '[{"target": "blouse", "color": "#112233", "strength": "0.5"}, ' \
           '{"target": "skirt", "color": "crimson"}]'
    expected = [{"target": "blouse", "color": "#112233", "strength": 0.5},
                {"target": "skirt", "color": "crimson", "strength": 1.0}]
    assert CHANGES.coerce(text) == expected
    assert CHANGES.coerce([{"target": "blouse", "color": "#112233", "strength": 0.5},
                           {"target": "skirt", "color": "crimson"}]) == expected
    # Tuples of rows work too, and the input list is not modified.
    given = ({"target": "a", "color": "red"},)
    assert CHANGES.coerce(given) == [{"target": "a", "color": "red", "strength": 1.0}]
    assert given == ({"target": "a", "color": "red"},)


def test_unknown_fields_in_a_row_are_kept_as_they_are() -> None:
    assert CHANGES.coerce([{"target": "a", "color": "red", "shade": [1, 2]}]) == [
        {"target": "a", "color": "red", "shade": [1, 2], "strength": 1.0}]


@pytest.mark.parametrize(("raw", "needles"), [
    ([], ["'color_changes'", "at least one row", "non-empty list"]),
    ('{"target": "a", "color": "red"}', ["'color_changes'", "non-empty list", "'target'"]),
    ("[1, ", ["'color_changes'", "must be JSON"]),
    (["red"], ["row 1:", "must be an object"]),
    ([{"target": "a", "color": "red"}, {"target": "b"}], ["row 2:", "needs a 'color'", "Colour"]),
    ([{"target": "  ", "color": "red"}], ["row 1:", "needs a 'target'"]),
    ([{"target": "a", "color": None}], ["row 1:", "needs a 'color'"]),
    ([{"target": "a", "color": "red"}, {"target": "b", "color": "#12345"}],
     ["Parameter 'color_changes', row 2: 'color'", "not a hex colour"]),
    ([{"target": "a", "color": "blurple"}], ["row 1: 'color'", "'blurple'"]),
    ([{"target": "a", "color": "red", "strength": 3}], ["row 1: 'strength' must be at most 1"]),
    ([{"target": 5, "color": "red"}], ["row 1: 'target' must be text"]),
])
def test_bad_rows_are_refused_with_a_sentence_naming_row_and_field(
        raw: Any, needles: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        CHANGES.coerce(raw)
    message = str(caught.value)
    for needle in needles:
        assert needle in message, message


def test_an_optional_rows_parameter_may_be_empty_but_must_be_a_list() -> None:
    optional = ParamSpec("changes", ParamType.JSON, rows=ROWS)
    assert optional.coerce("[]") == []
    with pytest.raises(InvalidInput, match=r"'changes' must be a list of objects"):
        optional.coerce({"target": "a"})


def test_a_json_parameter_without_rows_is_unchanged() -> None:
    plain = ParamSpec("config", ParamType.JSON)
    assert plain.coerce('{"a": 1}') == {"a": 1}
    assert plain.coerce([1, "x"]) == [1, "x"]


def test_colour_names_written_as_words_are_accepted_and_kept_as_typed() -> None:
    color = ParamSpec("color", ParamType.COLOR)
    assert color.coerce(" royal blue ") == "royal blue"
    assert color.coerce("Crimson") == "Crimson"
    with pytest.raises(InvalidInput, match="'royal blu' is not a hex colour"):
        color.coerce("royal blu")
    with pytest.raises(InvalidInput, match="not a hex colour"):
        color.coerce("#12 34 56")


def test_task_validate_coerces_rows_and_reports_the_row() -> None:
    task = TaskSpec("recolor", "Recolour", (), params=(CHANGES,))
    assert task.validate({}, {"color_changes": '[{"target": "a", "color": "#abc"}]'}) == {
        "color_changes": [{"target": "a", "color": "#abc", "strength": 1.0}]}
    with pytest.raises(InvalidInput, match="row 1: needs a 'target'"):
        task.validate({}, {"color_changes": [{"color": "red"}]})


def test_vtryon_colour_changes_declare_target_and_colour_rows() -> None:
    from desktop.providers.vtryon import TASKS

    spec = TASKS[0].param("color_changes")
    assert spec is not None and spec.type == ParamType.JSON and spec.required
    assert [(r.name, r.type, r.required) for r in spec.rows] == [
        ("target", ParamType.STRING, True), ("color", ParamType.COLOR, True)]
    assert spec.coerce([{"target": "blouse", "color": "royal blue"}]) == [
        {"target": "blouse", "color": "royal blue"}]


def test_param_errors_lists_every_problem_and_agrees_with_validate() -> None:
    task = TaskSpec("recolor", "Recolour", (InputRole("image", "Image"),), params=(
        ParamSpec("color", ParamType.COLOR, required=True),
        ParamSpec("tolerance", ParamType.NUMBER, default=40.0, minimum=0, maximum=255),
        ParamSpec("seed", ParamType.POINT),
    ))
    errors = task.param_errors({"tolerance": 300, "seed": "left"})
    assert errors == ["Task 'recolor' needs the parameter 'color'.",
                      "Parameter 'tolerance' must be at most 255 (got 300.0).",
                      "Parameter 'seed' must be a point written as x,y (got 'left')."]
    assert task.param_errors({"color": "teal"}) == []
    task.validate({"image": ["x"]}, {"color": "teal"})  # what passes here passes there


def test_every_state_has_a_title() -> None:
    from desktop.core.model import JobState

    assert {s: s.title for s in JobState}[JobState.TIMED_OUT] == "Timed out"
    assert all(s.title and s.title[0].isupper() for s in JobState)


def test_text_longer_than_max_length_is_refused_with_the_limit() -> None:
    prompt = ParamSpec("prompt", ParamType.STRING, max_length=5)
    assert prompt.coerce("12345") == "12345"
    with pytest.raises(InvalidInput) as caught:
        prompt.coerce("123456")
    assert str(caught.value) == "Parameter 'prompt' must be at most 5 characters long (got 6)."
    task = TaskSpec("t", "T", (), params=(prompt,))
    assert task.param_errors({"prompt": "123456"}) == [str(caught.value)]


def test_required_text_must_not_be_blank() -> None:
    name = ParamSpec("workflow", ParamType.STRING, required=True)
    task = TaskSpec("workflow", "Workflow", (), params=(name,))
    for blank in ("", "   "):
        with pytest.raises(InvalidInput,
                           match="Parameter 'workflow' is required and must not be empty"):
            task.validate({}, {"workflow": blank})
    assert task.validate({}, {"workflow": " Studio "}) == {"workflow": " Studio "}
    assert ParamSpec("note", ParamType.STRING).coerce("") == ""  # optional text may be empty
