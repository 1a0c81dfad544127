"""The generated parameter form: editors per ParamType, validation marks, rows, extra rows."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.core.model import ParamSpec, ParamType, TaskSpec
from desktop.providers.local.provider import TASKS as LOCAL_TASKS
from desktop.providers.vistoure import manifest_param, parse_manifest
from desktop.providers.vtryon import TASKS as VTRYON_TASKS
from desktop.ui.params_form import INVALID_PROPERTY, ParamsForm

EVERY_TYPE = TaskSpec(
    id="all", title="All types", inputs=(),
    params=(
        ParamSpec("mode", ParamType.CHOICE, "Mode", default=4, choices=(2, 4, 8),
                  help="How many."),
        ParamSpec("steps", ParamType.INTEGER, "Steps", default=20, minimum=1, maximum=50,
                  help="Sampling steps."),
        ParamSpec("seed_value", ParamType.INTEGER, "Seed"),
        ParamSpec("strength", ParamType.NUMBER, "Strength", default=0.75, minimum=0,
                  maximum=1, help="How strong."),
        ParamSpec("tolerance", ParamType.NUMBER, "Tolerance", default=40.0, minimum=0,
                  maximum=100),
        ParamSpec("shadow", ParamType.BOOLEAN, "Shadow", default=True),
        ParamSpec("upscale", ParamType.BOOLEAN, "Upscale"),
        ParamSpec("name", ParamType.STRING, "Name", default="look"),
        ParamSpec("negative_prompt", ParamType.STRING, "Negative prompt"),
        ParamSpec("color", ParamType.COLOR, "New colour", required=True),
        ParamSpec("point", ParamType.POINT, "Point"),
        ParamSpec("config", ParamType.JSON, "Config"),
    ),
    note="A task that has everything.",
)

ROWS = ParamSpec(
    "color_changes", ParamType.JSON, "Colour changes", required=True,
    rows=(ParamSpec("target", ParamType.STRING, "Garment", required=True),
          ParamSpec("color", ParamType.COLOR, "Colour", required=True)),
)


def make_form(qtbot: QtBot, task: TaskSpec | None, values: dict[str, Any] | None = None,
              **kw: Any) -> ParamsForm:
    form = ParamsForm()
    qtbot.addWidget(form)
    form.set_task(task, values, **kw)
    form.resize(480, 600)
    form.show()
    return form


def marked(widget: QWidget | None) -> bool:
    assert widget is not None
    return bool(widget.property(INVALID_PROPERTY))


def local_task(task_id: str) -> TaskSpec:
    return next(t for t in LOCAL_TASKS if t.id == task_id)


def test_every_param_type_gets_its_editor_with_default_bounds_and_tooltip(qtbot: QtBot) -> None:
    form = make_form(qtbot, EVERY_TYPE)
    assert form.objectName() == "paramsForm" and form.task() is EVERY_TYPE

    mode = form.editor("mode")
    assert isinstance(mode, QComboBox) and mode.objectName() == "param_mode"
    assert [mode.itemText(i) for i in range(mode.count())] == ["2", "4", "8"]
    assert mode.currentText() == "4"
    assert [mode.itemData(i) for i in range(mode.count())] == [2, 4, 8]
    assert mode.toolTip() == "How many.\nDefault 4"

    steps = form.editor("steps")
    assert isinstance(steps, QSpinBox)
    assert (steps.minimum(), steps.maximum(), steps.value()) == (1, 50, 20)
    assert "Between 1 and 50; default 20" in steps.toolTip()

    strength = form.editor("strength")
    assert isinstance(strength, QDoubleSpinBox)
    assert (strength.minimum(), strength.maximum(), strength.value()) == (0.0, 1.0, 0.75)
    assert strength.decimals() >= 2 and strength.singleStep() <= 0.1
    tolerance = form.editor("tolerance")
    assert isinstance(tolerance, QDoubleSpinBox) and tolerance.singleStep() == 1.0
    assert "Between 0 and 100; default 40" in tolerance.toolTip()

    shadow, upscale = form.editor("shadow"), form.editor("upscale")
    assert isinstance(shadow, QCheckBox) and shadow.isChecked()
    assert isinstance(upscale, QCheckBox) and upscale.isTristate()
    assert upscale.checkState() == Qt.CheckState.PartiallyChecked

    name = form.editor("name")
    assert isinstance(name, QLineEdit) and name.text() == "look"
    assert isinstance(form.editor("negative_prompt"), QPlainTextEdit)
    color = form.editor("color")
    assert isinstance(color, QLineEdit)
    assert form.findChild(QToolButton, "param_color_pick") is not None
    assert isinstance(form.editor("point"), QLineEdit)
    assert isinstance(form.editor("config"), QPlainTextEdit)
    assert form.editor("nonexistent") is None

    # Labels: titles, required marked with " *", buddies for keyboard access.
    label = form.findChild(QLabel, "label_color")
    assert label is not None and label.text() == "New colour *" and label.buddy() is color
    assert "Required" in color.accessibleDescription()
    assert color.accessibleName() == "New colour"
    note = form.findChild(QLabel, "paramsNote")
    assert note is not None and note.isVisible() and note.text() == "A task that has everything."


def test_values_are_typed_and_unset_optionals_are_omitted(qtbot: QtBot) -> None:
    form = make_form(qtbot, EVERY_TYPE)
    color = form.editor("color")
    assert isinstance(color, QLineEdit)
    qtbot.keyClicks(color, "crimson")
    assert form.is_valid(), form.errors()
    assert form.values() == {"mode": 4, "steps": 20, "strength": 0.75, "tolerance": 40.0,
                             "shadow": True, "name": "look", "color": "crimson"}
    # The optional integer without a default has to be switched on with its "Set" box.
    seed = form.editor("seed_value")
    set_box = form.findChild(QCheckBox, "param_seed_value_set")
    assert isinstance(seed, QSpinBox) and set_box is not None and not seed.isEnabled()
    qtbot.mouseClick(set_box, Qt.MouseButton.LeftButton)
    assert seed.isEnabled()
    seed.setValue(1234)
    mode = form.editor("mode")
    assert isinstance(mode, QComboBox)
    mode.setCurrentIndex(2)
    upscale = form.editor("upscale")
    assert isinstance(upscale, QCheckBox)
    upscale.setCheckState(Qt.CheckState.Unchecked)
    point = form.editor("point")
    config = form.editor("config")
    assert isinstance(point, QLineEdit) and isinstance(config, QPlainTextEdit)
    point.setText("0.5, 0.25")
    config.setPlainText('{"a": [1, 2]}')
    values = form.values()
    assert values["seed_value"] == 1234 and values["mode"] == 8
    assert values["upscale"] is False
    assert values["point"] == (0.5, 0.25) and values["config"] == {"a": [1, 2]}
    assert type(values["steps"]) is int and type(values["strength"]) is float


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("color", "blurple", "'blurple' is not a hex colour"),
    ("point", "12;x", "Point must be a point written as x,y"),
    ("config", '{"a": ', "Config must be JSON"),
])
def test_invalid_text_is_an_error_and_marks_the_editor(qtbot: QtBot, name: str, text: str,
                                                       needle: str) -> None:
    form = make_form(qtbot, EVERY_TYPE, {"color": "#102030"})
    assert form.is_valid()
    editor = form.editor(name)
    assert editor is not None and not marked(editor)
    with qtbot.waitSignal(form.changed):
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(text)
        else:
            assert isinstance(editor, QLineEdit)
            editor.setText(text)
    assert needle in form.errors()[name]
    assert marked(editor) and needle in editor.toolTip()
    errors_label = form.findChild(QLabel, "paramsErrors")
    assert errors_label is not None and errors_label.isVisible()
    assert needle in errors_label.text()
    assert not form.is_valid() and name not in form.values()


def test_a_number_field_left_empty_is_an_error_and_stays_empty(qtbot: QtBot) -> None:
    form = make_form(qtbot, EVERY_TYPE, {"color": "red"})
    steps = form.editor("steps")
    assert isinstance(steps, QSpinBox)
    steps.setFocus()
    steps.selectAll()
    qtbot.keyClick(steps, Qt.Key.Key_Delete)
    assert form.errors()["steps"] == "Steps: enter a number."
    assert marked(steps) and "steps" not in form.values()
    # Leaving the field does not snap silently back to a number.
    form.editor("name").setFocus()  # type: ignore[union-attr]
    assert steps.text() == "" and "steps" in form.errors()
    qtbot.keyClicks(steps, "35")
    assert form.is_valid() and form.values()["steps"] == 35 and not marked(steps)


def test_required_values_missing_are_errors(qtbot: QtBot) -> None:
    form = make_form(qtbot, VTRYON_TASKS[0])
    errors = form.errors()
    assert set(errors) == {"pose_image_generation_id", "models_image_generation_task_id",
                           "color_changes"}
    assert errors["pose_image_generation_id"] == "Base pose task: enter a number."
    assert errors["color_changes"] == "Colour changes: add at least one row."
    # Nothing was entered for the user: a required ID without a default starts empty.
    pose = form.editor("pose_image_generation_id")
    assert isinstance(pose, QSpinBox) and pose.text() == ""
    assert form.values() == {"image_quality": "2k"}


def test_rows_editor_adds_rows_with_the_button_and_sends_a_list(qtbot: QtBot) -> None:
    task = TaskSpec("recolor", "Recolour", (), params=(ROWS,))
    form = make_form(qtbot, task)
    add = form.findChild(QPushButton, "param_color_changes_add")
    assert add is not None and add.isVisible()
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    targets = [form.findChild(QLineEdit, f"param_color_changes_{n}_target") for n in (1, 2)]
    colors = [form.findChild(QLineEdit, f"param_color_changes_{n}_color") for n in (1, 2)]
    assert all(isinstance(w, QLineEdit) for w in targets + colors)
    assert "row 2: enter the garment" in form.errors()["color_changes"]
    for target, color, (t, c) in zip(targets, colors, [("blouse", "#1f4e9c"),
                                                       ("lehenga", "royal blue")], strict=True):
        assert target is not None and color is not None
        qtbot.keyClicks(target, t)
        qtbot.keyClicks(color, c)
    assert form.is_valid(), form.errors()
    assert form.values()["color_changes"] == [{"target": "blouse", "color": "#1f4e9c"},
                                              {"target": "lehenga", "color": "royal blue"}]

    # A bad colour in row 2 is an error naming row 2, and that cell is marked.
    assert colors[1] is not None
    colors[1].setText("#12345")
    message = form.errors()["color_changes"]
    assert "row 2" in message and "'#12345' is not a hex colour" in message
    assert marked(colors[1]) and not marked(colors[0])
    assert "color_changes" not in form.values()

    # Removing row 2 leaves a valid single row.
    remove = form.findChild(QToolButton, "param_color_changes_2_remove")
    assert remove is not None
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert form.is_valid()
    assert form.values()["color_changes"] == [{"target": "blouse", "color": "#1f4e9c"}]


def test_rows_editor_is_keyboard_reachable(qtbot: QtBot) -> None:
    task = TaskSpec("recolor", "Recolour", (), params=(ROWS,))
    form = make_form(qtbot, task)
    add = form.findChild(QPushButton, "param_color_changes_add")
    assert add is not None and add.focusPolicy() & Qt.FocusPolicy.TabFocus
    add.setFocus()
    qtbot.keyClick(add, Qt.Key.Key_Space)
    target = form.findChild(QLineEdit, "param_color_changes_1_target")
    assert target is not None
    # The new row's first field takes the focus.
    qtbot.waitUntil(lambda: form.window().focusWidget() is target)
    qtbot.keyClicks(target, "skirt")
    qtbot.keyClick(target, Qt.Key.Key_Tab)
    color = form.findChild(QLineEdit, "param_color_changes_1_color")
    assert color is not None
    qtbot.waitUntil(lambda: form.window().focusWidget() is color)
    qtbot.keyClicks(color, "teal")
    assert form.values()["color_changes"] == [{"target": "skirt", "color": "teal"}]
    assert target.accessibleName() == "Garment, row 1"


def test_set_values_round_trip_and_unknown_names(qtbot: QtBot) -> None:
    form = make_form(qtbot, EVERY_TYPE)
    given = {"mode": 2, "steps": 7, "seed_value": 99, "strength": 0.5, "tolerance": 12.0,
             "shadow": False, "upscale": True, "name": "x", "negative_prompt": "blurry",
             "color": "#abcdef", "point": (10.0, 20.0), "config": {"k": "v"}}
    form.set_values({**given, "nonsense": 1})
    assert form.is_valid(), form.errors()
    assert form.values() == given
    assert form.ignored_names() == ["nonsense"]

    other = make_form(qtbot, EVERY_TYPE, form.values())
    assert other.values() == given and other.ignored_names() == []

    rows = TaskSpec("recolor", "Recolour", (), params=(ROWS,))
    changes = [{"target": "a", "color": "red"}, {"target": "b", "color": "#000", "x": 1}]
    rows_form = make_form(qtbot, rows, {"color_changes": changes})
    assert rows_form.values()["color_changes"] == changes  # unknown row fields kept


def test_a_value_no_longer_offered_is_shown_and_reported(qtbot: QtBot) -> None:
    form = make_form(qtbot, local_task("upscale"), {"factor": 8})
    factor = form.editor("factor")
    assert isinstance(factor, QComboBox) and factor.currentText() == "8 (not offered)"
    assert "must be one of: 2, 4" in form.errors()["factor"]


def test_free_form_tasks_offer_extra_parameter_rows(qtbot: QtBot) -> None:
    task = TaskSpec("workflow", "Saved workflow", (),
                    params=(ParamSpec("workflow", ParamType.STRING, "Workflow", required=True),),
                    free_form_params=True)
    form = make_form(qtbot, task, {"workflow": "Studio", "Upscale.upscale_factor": 4,
                                   "Model_Gen.gender": "male"})
    assert form.ignored_names() == []
    assert form.values() == {"workflow": "Studio", "Upscale.upscale_factor": 4,
                             "Model_Gen.gender": "male"}
    add = form.findChild(QPushButton, "paramsExtraAdd")
    assert add is not None
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    name = form.findChild(QLineEdit, "paramsExtra_3_name")
    value = form.findChild(QLineEdit, "paramsExtra_3_value")
    assert name is not None and value is not None
    qtbot.keyClicks(value, "[1, 2]")
    assert form.errors() == {"extra 3": "Extra parameter 3: enter its name."} and marked(name)
    qtbot.keyClicks(name, "Node.sizes")
    assert form.is_valid()
    assert form.values()["Node.sizes"] == [1, 2]
    value.setText("plain words")
    assert form.values()["Node.sizes"] == "plain words"
    name.setText("workflow")  # already a declared parameter
    assert "already set" in form.errors()["workflow"]
    # A task without free-form parameters has no extra section.
    plain = make_form(qtbot, local_task("upscale"))
    assert plain.findChild(QPushButton, "paramsExtraAdd") is None


def test_hidden_params_are_not_shown_but_keep_their_value(qtbot: QtBot) -> None:
    task = TaskSpec("workflow", "Workflow", (), params=(
        ParamSpec("workflow", ParamType.CHOICE, "Workflow", default="Studio",
                  choices=("Studio",), required=True),
        ParamSpec("Upscale.upscale_factor", ParamType.INTEGER, "upscale_factor", default=2)))
    form = make_form(qtbot, task, hidden=("workflow",))
    assert form.editor("workflow") is None
    assert form.values() == {"workflow": "Studio", "Upscale.upscale_factor": 2}
    form.set_values({"workflow": "Other"})
    assert form.values()["workflow"] == "Other" and form.ignored_names() == []


def test_a_task_without_parameters_says_so(qtbot: QtBot) -> None:
    form = make_form(qtbot, local_task("background_removal"))
    empty = form.findChild(QLabel, "paramsEmpty")
    assert empty is not None and not empty.isVisible()
    form.set_task(TaskSpec("x", "Nothing to set", ()))
    assert empty.isVisible() and empty.text() == "This task has no settings."
    assert form.values() == {} and form.is_valid()
    form.set_task(None)
    assert not empty.isVisible() and form.task() is None


def test_the_colour_picker_is_non_modal_and_writes_hex(qtbot: QtBot) -> None:
    form = make_form(qtbot, local_task("recolor"))
    color = form.editor("color")
    pick = form.findChild(QToolButton, "param_color_pick")
    assert isinstance(color, QLineEdit) and pick is not None
    assert pick.accessibleName() == "Pick New colour"
    qtbot.mouseClick(pick, Qt.MouseButton.LeftButton)
    dialog = form.window().findChild(QColorDialog)
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.windowModality() != Qt.WindowModality.ApplicationModal
    dialog.setCurrentColor(QColor(18, 52, 86))
    dialog.accept()
    assert color.text() == "#123456"
    assert form.is_valid() and form.values()["color"] == "#123456"


def test_changed_is_emitted_after_validation(qtbot: QtBot) -> None:
    form = make_form(qtbot, local_task("recolor"))
    seen: list[bool] = []
    form.changed.connect(lambda: seen.append(form.is_valid()))
    color = form.editor("color")
    assert isinstance(color, QLineEdit)
    color.setText("crimson")
    assert seen and seen[-1] is True


def test_local_recolor_form(qtbot: QtBot) -> None:
    form = make_form(qtbot, local_task("recolor"))
    assert isinstance(form.editor("color"), QLineEdit)
    assert isinstance(form.editor("seed"), QLineEdit)  # a point; picked elsewhere, still shown
    assert form.errors() == {"color": "New colour: enter a value (it is required)."}
    assert marked(form.editor("color"))
    form.set_values({"color": "crimson", "seed": "0.5,0.5"})
    assert form.values() == {"color": "crimson", "seed": (0.5, 0.5), "tolerance": 40.0}
    # What the form produces passes the task's own validation.
    assert local_task("recolor").validate({"image": ["a.png"]}, form.values())


def test_vtryon_recolor_form_builds_valid_params(qtbot: QtBot) -> None:
    task = VTRYON_TASKS[0]
    form = make_form(qtbot, task)
    quality = form.editor("image_quality")
    assert isinstance(quality, QComboBox) and quality.currentText() == "2K"
    assert quality.currentData() == "2k"  # the name is shown, the API's value is sent
    form.set_values({"pose_image_generation_id": 11, "models_image_generation_task_id": 12,
                     "color_changes": '[{"target": "blouse", "color": "royal blue"}]'})
    assert form.is_valid(), form.errors()
    params = form.values()
    assert params["color_changes"] == [{"target": "blouse", "color": "royal blue"}]
    assert task.validate({}, params) == params


def test_workflow_form_from_a_parsed_manifest(qtbot: QtBot) -> None:
    body = {"name": "Studio", "inputs": {
        "mandatory": {"User_Garment.garment_image": "<type:image , default value : null>",
                      "Model_Gen.prompt": "<type:str , default value : null>"},
        "optional": {"User_Garment.category": "<type:str , default value : 'tops'>",
                     "Upscale.upscale_factor": "<type:int , default value : 2>",
                     "Vton.strength": "<type:float , default value : 0.8>",
                     "Vton.keep_face": "<type:bool , default value : True>"},
        "linked": {"Upscale.image": "<type:image , default value : null>"}}}
    manifest = parse_manifest(body, "Studio")
    params = [ParamSpec("workflow", ParamType.CHOICE, "Workflow", default="Studio",
                        choices=("Studio",), required=True)]
    params += [manifest_param(e) for e in manifest.inputs if e.group != "linked"]
    task = TaskSpec("workflow", "Workflow: Studio", (), params=tuple(params))
    form = make_form(qtbot, task, hidden=("workflow",))
    assert isinstance(form.editor("Upscale.upscale_factor"), QSpinBox)
    assert isinstance(form.editor("Vton.strength"), QDoubleSpinBox)
    assert isinstance(form.editor("Vton.keep_face"), QCheckBox)
    assert isinstance(form.editor("Model_Gen.prompt"), QPlainTextEdit)
    assert isinstance(form.editor("User_Garment.garment_image"), QLineEdit)
    assert form.editor("Upscale.image") is None
    assert set(form.errors()) == {"Model_Gen.prompt"}
    prompt = form.editor("Model_Gen.prompt")
    assert isinstance(prompt, QPlainTextEdit)
    qtbot.keyClicks(prompt, "a model in a studio")
    assert form.is_valid()
    assert form.values() == {"workflow": "Studio", "Model_Gen.prompt": "a model in a studio",
                             "User_Garment.category": "tops", "Upscale.upscale_factor": 2,
                             "Vton.strength": 0.8, "Vton.keep_face": True}
    assert task.validate({}, form.values())


def test_a_text_limit_is_in_the_tooltip_and_too_long_text_is_an_error(qtbot: QtBot) -> None:
    task = TaskSpec("t", "T", (), params=(
        ParamSpec("prompt", ParamType.STRING, "Prompt", max_length=10, help="What to make."),))
    form = make_form(qtbot, task)
    editor = form.editor("prompt")
    assert isinstance(editor, QPlainTextEdit)  # a prompt gets room to write
    assert "At most 10 characters; optional" in editor.toolTip()
    with qtbot.waitSignal(form.changed):
        editor.setPlainText("x" * 11)
    assert "at most 10 characters long (got 11)" in form.errors()["prompt"]
    assert marked(editor) and not form.is_valid()
