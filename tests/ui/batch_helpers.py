"""What the batch window tests share: windows on one data folder, pictures, the dialog opened
the way the user opens it, and answers to its questions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop.app import RestyleWindow, create_main_window
from desktop.core.batch_runner import BatchProgress
from desktop.ui.batch_dialog import BatchDialog
from tests.ui.test_window import until

__all__ = ["BatchProgress", "Windows", "answer", "open_dialog", "people", "progress_of",
           "until"]

Windows = Callable[[], RestyleWindow]


@pytest.fixture
def windows(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop) -> Iterator[Windows]:
    """Windows on the same data folder, shown (the grid lays its cells out), closed after."""
    made: list[RestyleWindow] = []

    def make() -> RestyleWindow:
        window = create_main_window(home)
        qtbot.addWidget(window)
        window.resize(1360, 860)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        loop.run_until_complete(window.aclose())


def people(folder: Path, count: int, size: tuple[int, int] = (300, 400)) -> list[Path]:
    """`count` person-like photos (a figure on a plain wall), each a little different."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        img = Image.new("RGB", size, (236, 232, 226))
        w, h = size
        shade = (60 + 50 * i, 90, 140 - 20 * i)
        img.paste((225, 180, 150), (w * 2 // 5, h // 10, w * 3 // 5, h // 4))
        img.paste(shade, (w // 3, h // 4, w * 2 // 3, h * 2 // 3))
        img.paste((40, 45, 70), (w * 3 // 8, h * 2 // 3, w * 5 // 8, h * 19 // 20))
        path = folder / f"person-{i + 1}.png"
        img.save(path)
        paths.append(path)
    return paths


def garments(folder: Path, colours: list[tuple[int, int, int]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, colour in enumerate(colours):
        img = Image.new("RGB", (200, 200), (250, 250, 250))
        img.paste(colour, (40, 30, 160, 170))
        path = folder / f"garment-{i + 1}.png"
        img.save(path)
        paths.append(path)
    return paths


async def open_dialog(window: RestyleWindow) -> BatchDialog:
    """Run › New batch…, as the user does; the dialog with its first plan."""
    window.new_batch_action.trigger()
    controller = window.workbench.batches
    await until(lambda: controller.dialog() is not None, 10, "the New batch dialog")
    dialog = controller.dialog()
    assert dialog is not None and dialog.isVisible()
    await dialog.settled()
    return dialog


async def answer(get_box: Callable[[], QMessageBox | None], button: str) -> str:
    """Wait for a question, press the button with that object name, return the question's
    words."""
    await until(lambda: get_box() is not None, 10, "the question")
    box = get_box()
    assert box is not None
    text = f"{box.text()}\n{box.informativeText()}"
    pressed = box.findChild(QPushButton, button)
    assert pressed is not None, button
    pressed.click()
    await until(lambda: get_box() is None, 10, "the question to close")
    return text


def progress_of(window: RestyleWindow, batch_id: str) -> BatchProgress:
    progress = window.workbench.batches.progress(batch_id)
    assert progress is not None
    return progress
