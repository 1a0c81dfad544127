"""Which panes `restyle FILE... [--role ROLE]` puts files in, and which task it switches to."""

from __future__ import annotations

from desktop.ui.open_plan import Slot, TaskChoice, choose_task, distribute, slots_for

TRYON = [Slot("person", 1), Slot("garment", 3)]
TASKS = [
    TaskChoice("tryon", "Try-on", ("person", "garment"), True),
    TaskChoice("staging", "Staging", ("room",), True),
    TaskChoice("recolor", "Recolor", ("image",), True),
    TaskChoice("upscale", "Upscale", ("image",), True),
    TaskChoice("vistoure:fabric", "VistoureAI: Fabric", ("garment", "image"), False),
    TaskChoice("vistoure:model", "VistoureAI: Model", ("person",), False),
]


def test_files_follow_the_tasks_order_of_roles() -> None:
    assert distribute(["p"], TRYON) == [("person", ["p"])]
    assert distribute(["p", "g"], TRYON) == [("person", ["p"]), ("garment", ["g"])]
    assert distribute(["p", "g1", "g2"], TRYON) == [("person", ["p"]), ("garment", ["g1", "g2"])]
    # More than the panes hold: the last takes the rest (and refuses them with its sentence).
    assert distribute(list("pabcd"), TRYON) == [("person", ["p"]),
                                                ("garment", ["a", "b", "c", "d"])]
    # One pane: every file goes to it (it keeps the first and says so).
    assert distribute(["r1", "r2"], [Slot("room", 1)]) == [("room", ["r1", "r2"])]
    assert distribute([], TRYON) == [] and distribute(["x"], []) == []


def test_filled_panes_are_skipped_while_one_is_not() -> None:
    person_given = [Slot("person", 1, 1), Slot("garment", 1)]
    assert distribute(["g"], person_given) == [("garment", ["g"])]
    some_garments = [Slot("person", 1, 0), Slot("garment", 3, 2)]
    assert distribute(["p", "g", "h"], some_garments) == [("person", ["p"]),
                                                         ("garment", ["g", "h"])]
    # Everything full: replace from the first again, as a drop on that pane would.
    full = [Slot("person", 1, 1), Slot("garment", 1, 1)]
    assert distribute(["p", "g"], full) == [("person", ["p"]), ("garment", ["g"])]


def test_a_role_picks_the_panes_of_that_kind() -> None:
    assert slots_for("garment", TRYON) == [Slot("garment", 3)]
    assert slots_for(None, TRYON) == TRYON
    assert slots_for("room", TRYON) == []
    workflow = [Slot("Dress_Model.model_image", 1), Slot("Dress_Model.garment_image", 1),
                Slot("Backdrop.background_image", 1)]
    assert slots_for("garment", workflow) == [Slot("Dress_Model.garment_image", 1)]
    assert slots_for("person", workflow) == [Slot("Dress_Model.model_image", 1)]


def test_the_one_task_that_takes_the_role_is_chosen() -> None:
    assert choose_task("room", "Try-on", TASKS) == (TASKS[1], "")
    # A common task wins over providers' own tools that also take it.
    assert choose_task("person", "Staging", TASKS) == (TASKS[0], "")


def test_several_or_no_tasks_are_a_sentence() -> None:
    choice, why = choose_task("image", "The current task, Try-on,", TASKS)
    assert choice is None
    assert why == ("The current task, Try-on, takes no images; choose the task for them "
                   "(Recolor or Upscale) and open the files again.")
    only_tools = [t for t in TASKS if not t.common]
    choice, why = choose_task("garment", "Staging", only_tools)
    assert choice == TASKS[4] and why == ""
    tools_twice = [*only_tools, TaskChoice("x:y", "X: Y", ("person",), False)]
    choice, why = choose_task("person", "Staging", tools_twice)
    assert choice is None and "(VistoureAI: Model or X: Y)" in why
    choice, why = choose_task("room", "Try-on", [TASKS[0]])
    assert choice is None and why.startswith("No task here takes room photos")
