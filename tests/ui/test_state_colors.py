"""One colour per job state, shared by the job queue and the history: a job looks the same in
both docks, and "Needs attention" has a colour of its own."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtGui import QColor, QImage

from desktop.core.assets import AssetStore
from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.store import History
from desktop.ui.history_view import HistoryPanel
from desktop.ui.job_queue import JobQueueView
from desktop.ui.state_colors import STATE_COLORS, is_dark, state_color

STATES = (JobState.NEEDS_ATTENTION, JobState.SUCCEEDED, JobState.FAILED, JobState.RUNNING)


def test_every_state_has_a_colour_and_needs_attention_its_own() -> None:
    assert set(STATE_COLORS) == set(JobState)
    for dark in (False, True):
        attention = state_color(JobState.NEEDS_ATTENTION, dark)
        others = {state_color(s, dark).name() for s in JobState
                  if s != JobState.NEEDS_ATTENTION}
        assert attention.name() not in others


def pixels_of(image: QImage, colour: QColor) -> int:
    """How many pixels have exactly this colour (the dot's inside, the state word's stems)."""
    rgb = colour.rgb()
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if image.pixel(x, y) == rgb)


def test_the_queue_and_the_history_paint_a_state_in_the_same_colour(
        qtbot, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history = History(tmp_path / "history.sqlite3")
    now = time.time()
    jobs = []
    for i, state in enumerate(STATES):
        error = (JobError(ErrorCode.UNKNOWN_OUTCOME, "FitInView did not answer.")
                 if state in (JobState.NEEDS_ATTENTION, JobState.FAILED) else None)
        job = Job(id=f"{i:032x}", spec=JobSpec("fitinview", "tryon"), state=state,
                  created_at=now - i, updated_at=now, error=error)
        history.save_job(job)
        jobs.append(job)
    queue = JobQueueView({"fitinview": "FitInView"}, {("fitinview", "tryon"): "Try-on"})
    panel = HistoryPanel(history, AssetStore(tmp_path / "assets"), {"fitinview": "FitInView"},
                         {"tryon": "Try-on"})
    for widget in (queue, panel):
        qtbot.addWidget(widget)
        widget.resize(420, 600)
        widget.show()
        qtbot.waitExposed(widget)
    for job in jobs:
        queue.update_job(job)
    loop.run_until_complete(panel.reload())
    loop.run_until_complete(panel.settle())
    qtbot.wait(50)
    try:
        for job in jobs:
            colour = state_color(job.state, is_dark(queue.list_view.palette()))
            queue_row = queue.list_view.visualRect(
                queue.list_view.model().index(queue.job_ids().index(job.id), 0))
            history_row = panel.view.visualRect(panel.model.index(panel.model.row_of(job.id)))
            in_queue = queue.list_view.viewport().grab(queue_row).toImage()
            in_history = panel.view.viewport().grab(history_row).toImage()
            assert pixels_of(in_queue, colour) > 4, (job.state, "queue")
            assert pixels_of(in_history, colour) > 4, (job.state, "history")
    finally:
        loop.run_until_complete(panel.settle())
        history.close()
