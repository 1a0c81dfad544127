"""Any image files in the compare view: RestyleWindow.compare_files with two files (the pair
view), four (a grid), a missing and a corrupt one (a sentence each, the others open), none
usable (nothing changes), and File > Compare files… through its key."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from desktop.app import RestyleWindow
from tests.ui.compare_support import Seeder, cell_text, compare_window, pixel, until

__all__ = ["compare_window"]

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)]


def picture(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (240, 160), colour).save(path)
    return path


def test_two_files_are_the_pair_view_and_no_job_is_acted_on(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = compare_window
    job = Seeder(window).job("f1", "fitinview", outputs=[(1, 2, 3)])
    a, b = picture(tmp_path / "a.jpg", COLOURS[0]), picture(tmp_path / "b.png", COLOURS[1])

    async def body() -> object:
        await window.workbench.show_job(job.id)  # a job was shown first
        assert window.workbench.results.shown_job is not None
        outcome = await window.compare_files(a, str(b))
        window.save_action.trigger()  # File > Save result: must not save the old job
        return outcome

    outcome = loop.run_until_complete(body())
    view = window.compare_view
    assert outcome.shown == [a, b] and outcome.problems == []  # type: ignore[attr-defined]
    assert not view.is_grid()
    assert pixel(view.before_image())[0] > 150  # a.jpg (JPEG: near its colour) is the before
    assert view.canvases()[0].labels()[0] == "a.jpg · before"  # which file, and its role
    assert "a.jpg · before vs b.png" in view.status_text()
    item = view.current_item()
    assert item is not None and item.title == "b.png" and pixel(item.image) == COLOURS[1]
    assert item.job_id == "" and item.provider == ""
    assert window.workbench.results.shown_job is None
    assert window.result_panel.job() is None
    assert window.result_panel.empty_text() == "Comparing files: a.jpg, b.png"
    assert window.statusBar().currentMessage().startswith("Show a result first")


def test_four_files_are_a_grid_labelled_with_their_names(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = compare_window
    files = [picture(tmp_path / f"edit-{i}.png", c) for i, c in enumerate(COLOURS)]
    loop.run_until_complete(window.compare_files(*files))
    view = window.compare_view
    assert view.is_grid()
    cells = view.canvases()
    assert len(cells) == 4
    assert pixel(cells[0].image()) == COLOURS[0]
    assert cell_text(window, 0).startswith("edit-0.png · before")
    for index in (1, 2, 3):
        assert f"edit-{index}.png" in cell_text(window, index)
        assert pixel(cells[index].image()) == COLOURS[index]
    assert window.result_panel.empty_text() == ("Comparing files: edit-0.png, edit-1.png, "
                                                "edit-2.png, edit-3.png")


def test_a_missing_and_a_corrupt_file_are_one_sentence_each_and_the_rest_open(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = compare_window
    a, b = picture(tmp_path / "a.png", COLOURS[0]), picture(tmp_path / "b.png", COLOURS[1])
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # a JPEG's start, nothing more
    missing = tmp_path / "gone.png"
    outcome = loop.run_until_complete(window.compare_files(a, missing, corrupt, b))
    assert outcome.shown == [a, b]
    assert len(outcome.problems) == 2
    gone, broken = outcome.problems
    assert gone == f"{missing} does not exist; it may have been moved or deleted."
    assert broken.startswith("broken.jpg ") and ("damaged" in broken or "read" in broken)
    status = window.statusBar().currentMessage()
    assert gone in status and broken in status and "Traceback" not in status
    view = window.compare_view
    assert not view.is_grid() and view.current_item().title == "b.png"  # type: ignore[union-attr]


def test_no_usable_file_changes_nothing(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = compare_window
    job = Seeder(window).job("f1", "fitinview", outputs=[(1, 2, 3)])
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all")
    big = tmp_path / "huge.png"
    Image.new("RGB", (300, 300), (9, 9, 9)).save(big)

    async def body() -> object:
        await window.workbench.show_job(job.id)
        settings = window.services.settings  # the limits a user set in Settings
        window.services.settings = replace(settings, limits=replace(
            settings.limits, input_max_megapixels=0.05, result_max_megapixels=0.05))
        return await window.compare_files(text, big, tmp_path / "folder-missing" / "x.png")

    outcome = loop.run_until_complete(body())
    assert outcome.shown == []  # type: ignore[attr-defined]
    notes, huge, gone = outcome.problems  # type: ignore[attr-defined]
    assert notes.startswith("notes.png is not an image Restyle can read")
    assert huge.startswith("huge.png has 0.09 megapixels") and "downscale" in huge
    assert gone == (f"{tmp_path / 'folder-missing' / 'x.png'} does not exist; it may have been "
                    "moved or deleted.")
    assert window.statusBar().currentMessage().startswith("Nothing to compare: notes.png")
    assert window.workbench.results.shown_job is not None  # the job stays shown
    assert window.workbench.results.shown_job.id == job.id
    assert pixel(window.compare_view.current_item().image) == (1, 2, 3)  # type: ignore[union-attr]


def test_file_compare_files_opens_a_dialog_by_its_key(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = compare_window
    files = [picture(tmp_path / f"{n}.png", c) for n, c in zip("abc", COLOURS, strict=False)]
    action = window.compare_files_action
    assert action.objectName() == "fileCompareFiles"
    assert action.shortcut().toString() == "Ctrl+Shift+O"
    assert action in window.menuBar().actions()[0].menu().actions()
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_O,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    if window.workbench.compare_files.dialog is None:  # the platform gave no key focus
        action.trigger()
    dialog = window.workbench.compare_files.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    dialog.filesSelected.emit([str(f) for f in files])  # what choosing them and Open does
    dialog.close()

    async def body() -> None:
        await until(window.compare_view.is_grid, 10, "the grid")

    loop.run_until_complete(body())
    assert len(window.compare_view.canvases()) == 3


def test_a_file_over_the_size_limit_or_a_folder_is_refused_before_decoding(
        tmp_path: Path) -> None:
    from desktop.ui.compare_files import FileRefused, read_image

    photo = picture(tmp_path / "photo.png", COLOURS[0])
    size = photo.stat().st_size
    assert read_image(photo, max_bytes=size, max_pixels=10**6).width() == 240
    try:
        read_image(photo, max_bytes=size - 1, max_pixels=10**6)
    except FileRefused as exc:
        assert str(exc).startswith("photo.png is ") and "downscale or compress it first" \
            in str(exc)
    else:
        raise AssertionError("a file over the limit was read")
    folder = tmp_path / "shoot.png"
    folder.mkdir()
    try:
        read_image(folder, max_bytes=size, max_pixels=10**6)
    except FileRefused as exc:
        assert str(exc) == f"{folder} is a folder, not an image file; choose the images in it."
    else:
        raise AssertionError("a folder was read")


def test_a_named_pipe_or_a_file_over_the_result_limit_is_refused_without_waiting(
        tmp_path: Path) -> None:
    """A pipe given to `restyle --compare` would block a plain read for ever; the size
    sentence names the setting the limit came from."""
    import os
    import threading

    from desktop.ui.compare_files import FileRefused, read_image

    pipe = tmp_path / "dashboard.png"
    os.mkfifo(pipe)
    found: list[str] = []

    def read() -> None:
        try:
            read_image(pipe, max_bytes=10**6, max_pixels=10**6, timeout_s=5)
        except FileRefused as exc:
            found.append(str(exc))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the read so the test run can end, then fail
        with open(pipe, "wb"):
            pass
        raise AssertionError("reading a named pipe blocked")
    assert found == [f"{pipe} is a named pipe (FIFO), not an image file; save the image to a "
                     "file first."]
    photo = picture(tmp_path / "photo.png", COLOURS[0])
    try:
        read_image(photo, max_bytes=10, max_pixels=10**6, limit_setting="result_max_bytes")
    except FileRefused as exc:
        assert "limits.result_max_bytes in settings.json" in str(exc)
    else:
        raise AssertionError("a file over the limit was read")
