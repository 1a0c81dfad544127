"""The window shell: built for a data folder without showing it, lists the history."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QListWidget

from desktop.app import create_main_window
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.store import History


def test_window_lists_history_of_its_folder(tmp_path: Path, loop: asyncio.AbstractEventLoop,
                                            qtbot) -> None:  # type: ignore[no-untyped-def]
    history = History(tmp_path / "data" / "history.sqlite3")
    for i, state in enumerate([JobState.SUCCEEDED, JobState.FAILED]):
        history.save_job(Job(id=f"{i:032x}", spec=JobSpec("local", "recolor"), state=state,
                             created_at=100.0 + i, updated_at=100.0 + i))
    history.close()

    window = create_main_window(tmp_path)
    qtbot.addWidget(window)
    assert not window.isVisible()
    assert window.services.paths.database == tmp_path.resolve() / "data" / "history.sqlite3"
    loop.run_until_complete(window.load_history())
    view = window.findChild(QListWidget, "historyView")
    assert view is not None and view.count() == 2
    assert "failed" in view.item(0).text() and "succeeded" in view.item(1).text()
    window.services.close()
