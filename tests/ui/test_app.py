"""The window shell: built for a data folder without showing it, lists the history."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QListView

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
    view = window.findChild(QListView, "historyView")
    assert view is not None and view.model().rowCount() == 2
    # Newest first: the failed job was created last.
    assert window.history_panel.job_ids_loaded() == [f"{1:032x}", f"{0:032x}"]
    loop.run_until_complete(window.aclose())
