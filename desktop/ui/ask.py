"""A window-modal "are you sure?" for destructive actions, answered without blocking the loop
(abandoning a job, cancelling a batch)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def destructive_question(parent: QWidget, title: str, text: str, details: str, *,
                         name: str, buttons: str, yes: str, keep: str
                         ) -> tuple[QMessageBox, QAbstractButton]:
    """The question box (objectName `name`; buttons `<buttons>Yes` and `<buttons>Keep`, Keep
    the default and Escape) and its yes button. Open it with `answer`."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setObjectName(name)
    box.setInformativeText(details)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.DestructiveRole)
    yes_button.setObjectName(f"{buttons}Yes")
    keep_button = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    keep_button.setObjectName(f"{buttons}Keep")
    box.setDefaultButton(keep_button)
    box.setEscapeButton(keep_button)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    return box, yes_button


async def answer(box: QMessageBox, yes_button: QAbstractButton) -> bool:
    """Open the box and wait, on the running loop, for whether `yes_button` was pressed; the
    box is deleted afterwards."""
    result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def done(_code: int) -> None:
        if not result.done():
            result.set_result(box.clickedButton() is yes_button)

    box.finished.connect(done)
    box.open()
    try:
        return await result
    finally:
        box.deleteLater()
