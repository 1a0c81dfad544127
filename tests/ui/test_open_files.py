"""`restyle FILE... [--role ROLE]` in the real window, offscreen: the files land in the panes of
the current task in its order of roles, one after another fill the next pane, a role the task
does not take switches to the one task that does (or says why not), bad files are a sentence
each in the status line while the others open, and --compare files reach the compare view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from desktop.app import RestyleWindow
from desktop.open_request import OpenRequest, request_from_arguments
from desktop.ui.open_files import OpenFiles
from tests.ui.test_window import image_file, window_factory

__all__ = ["window_factory"]  # the fixture, shared with the window tests


def started(window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
            task: str = "tryon") -> tuple[RestyleWindow, OpenFiles]:
    window = window_factory()
    loop.run_until_complete(window.start())
    assert window.task_selector.select_key(task)
    window.provider_selector.set_checked(["local"])
    return window, OpenFiles(window.workbench)


def status(window: RestyleWindow) -> str:
    return window.statusBar().currentMessage()


def sources(window: RestyleWindow) -> dict[str, list[str]]:
    return {role: pane.sources() for role, pane in window.panes.items() if pane.sources()}


def test_files_go_by_the_tasks_order_of_roles(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    window, opener = started(window_factory, loop)
    request = request_from_arguments(["person.png", shirt.as_uri()], None, [], str(tmp_path))
    text = loop.run_until_complete(opener.open(request))
    assert sources(window) == {"person": [str(person)], "garment": [str(shirt)]}
    assert text == status(window) == "Opened person.png in Person; shirt.png in Garment."
    assert window.task_selector.current_key() == "tryon"


def test_one_file_after_another_fills_the_next_pane(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    other = image_file(tmp_path / "other.png", (30, 200, 60), (300, 400))
    window, opener = started(window_factory, loop)

    async def body() -> None:
        await opener.open(OpenRequest((str(person),)))
        await opener.open(OpenRequest((str(shirt),)))
        assert sources(window) == {"person": [str(person)], "garment": [str(shirt)]}
        await opener.open(OpenRequest((str(other),)))  # all full: from the first again

    loop.run_until_complete(body())
    assert sources(window) == {"person": [str(other)], "garment": [str(shirt)]}


def test_a_role_puts_every_file_in_its_pane(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    top = image_file(tmp_path / "top.png", (90, 60, 200), (200, 200))
    window, opener = started(window_factory, loop)
    loop.run_until_complete(opener.open(OpenRequest((str(shirt), str(top)), "garment")))
    assert sources(window) == {"garment": [str(shirt)]}  # the local try-on takes one garment
    assert status(window) == ("Opened shirt.png in Garment. The Garment pane takes one "
                              "garment; only the first of the 2 dropped was used.")
    assert window.panes["garment"].error_text() in status(window)  # the drop's own sentence


def test_a_role_the_task_lacks_switches_to_the_one_task_that_takes_it(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    room = image_file(tmp_path / "room.png", (120, 100, 80), (640, 480))
    window, opener = started(window_factory, loop)
    loop.run_until_complete(opener.open(OpenRequest((str(room),), "room")))
    assert window.task_selector.current_key() == "staging"
    assert window.panes["room"].isVisibleTo(window)
    assert sources(window) == {"room": [str(room)]}
    assert status(window) == ("Switched to Staging, the task that takes room photos. "
                              "Opened room.png in Room photo.")


def test_a_role_several_tasks_take_is_a_sentence_and_changes_nothing(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    picture = image_file(tmp_path / "picture.png", (120, 100, 80))
    window, opener = started(window_factory, loop)
    loop.run_until_complete(opener.open(OpenRequest((str(picture),), "image")))
    assert window.task_selector.current_key() == "tryon"
    assert sources(window) == {}
    text = status(window)
    assert text.startswith("The current task, Try-on, takes no images; choose the task for "
                           "them (Recolor, Upscale, "), text
    assert text.endswith(") and open the files again.")


def test_bad_files_are_a_sentence_each_and_the_others_still_open(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    missing = tmp_path / "missing.jpg"
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    window, opener = started(window_factory, loop)
    loop.run_until_complete(opener.open(OpenRequest((str(corrupt), str(shirt)))))
    assert sources(window) == {"garment": [str(shirt)]}
    person_error = window.panes["person"].error_text()
    assert person_error and "corrupt.png" in person_error
    assert status(window) == f"Opened shirt.png in Garment. {person_error}"

    loop.run_until_complete(opener.open(OpenRequest((str(missing),), "person",
                                                    notes=("An argument was refused.",))))
    assert status(window) == ("An argument was refused. "
                              f"{missing} does not exist; it may have been moved or deleted.")
    assert sources(window) == {"garment": [str(shirt)]}


def test_compare_files_reach_the_compare_view(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    a = image_file(tmp_path / "a.png", (200, 40, 40))
    b = image_file(tmp_path / "b.png", (40, 40, 200))
    window, opener = started(window_factory, loop)
    loop.run_until_complete(opener.open(OpenRequest(compare=(str(a), str(b)))))
    item = window.compare_view.current_item()
    assert item is not None and item.title == "b.png"
    assert sources(window) == {}
