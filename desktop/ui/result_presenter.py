"""What the compare view shows: one job's outputs with its before image, or a grid of several
providers' first results over the same input. It remembers which job is shown, so exports,
copies and the result panel act on the job the user sees."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from desktop.core.model import Job, JobState
from desktop.ui.job_words import placeholder_for

if TYPE_CHECKING:
    from desktop.services import Services
    from desktop.ui.main_window import MainWindow
    from desktop.ui.output_images import OutputImages


class ResultPresenter:
    """Fills the compare view and the result panel from the history, off the GUI thread."""

    def __init__(self, window: MainWindow, services: Services, images: OutputImages) -> None:
        self.window = window
        self.services = services
        self.images = images
        #: The job the compare view shows (in a grid: the job of the current cell).
        self.shown_job: Job | None = None
        self._grid_jobs: list[Job] = []  # in a multi-provider grid: the job of each cell

    def attach(self) -> None:
        view = self.window.compare_view
        view.currentChanged.connect(self._on_output_changed)
        view.gridCellActivated.connect(self._on_grid_cell)

    async def show_job(self, job_id: str, output_index: int = 0) -> Job | None:
        job = await asyncio.to_thread(self.services.history.get, job_id)
        if job is None:
            self.window.set_status("That job is no longer in the history.")
            return None
        before, items = await asyncio.gather(self.images.before_image(job),
                                             self.images.output_items(job))
        view = self.window.compare_view
        self._grid_jobs = []
        view.set_grid([])
        view.set_before(before)
        view.set_outputs(items, min(output_index, max(0, len(items) - 1)))
        if not items:
            if job.outputs:
                paths = ", ".join(
                    str(self.services.assets.path_for(o.sha256, o.mime)) for o in job.outputs)
                view.set_placeholder(f"This job's result is not an image; it is saved at {paths}.")
            elif job.error is not None:
                view.set_placeholder(placeholder_for(job))
            else:
                view.set_placeholder(f"This job is {job.state}; its result shows here when it is"
                                     " ready.")
        self.shown_job = job
        self.window.result_panel.show_job(job, view.current_index())
        return job

    async def show_batch(self, batch: list[str]) -> None:
        """Several providers over the same input: a synced grid of their first results."""
        jobs = [j for jid in batch
                if (j := await asyncio.to_thread(self.services.history.get, jid)) is not None]
        done = [j for j in jobs if j.state == JobState.SUCCEEDED]
        if not done:
            return
        before = await self.images.before_image(done[0])
        cells, shown = [], []
        for job in done:
            items = await self.images.output_items(job)
            if items:
                cells.append(items[0])
                shown.append(job)
        if not shown:
            return
        view = self.window.compare_view
        view.set_before(before)
        view.set_outputs(cells, 0)
        self._grid_jobs = shown if len(cells) > 1 else []
        if len(cells) > 1:
            view.set_grid(cells)
        self.shown_job = shown[0]
        self.window.result_panel.show_job(shown[0])

    def forget(self, job_id: str) -> None:
        """The job was deleted: clear the view if it showed it."""
        if self.shown_job is not None and self.shown_job.id == job_id:
            self.shown_job = None
            self._grid_jobs = []
            self.window.compare_view.clear()
            self.window.result_panel.show_job(None)

    def output_index(self) -> int:
        """Which of the shown job's outputs the view shows (in a grid: each job's first)."""
        return 0 if self._grid_jobs else self.window.compare_view.current_index()

    def _on_grid_cell(self, index: int) -> None:
        """A provider's cell in the grid was clicked: its job becomes the one shown, exported
        and described."""
        if 0 <= index < len(self._grid_jobs):
            job = self._grid_jobs[index]
            self.shown_job = job
            if self.window.compare_view.current_index() != index:
                self.window.compare_view.set_current(index)
            self.window.result_panel.show_job(job, 0)
            self.window.job_queue.select_job(job.id)

    def _on_output_changed(self, index: int) -> None:
        if self._grid_jobs:
            self._on_grid_cell(index)
        elif self.shown_job is not None:
            self.window.result_panel.show_job(self.shown_job, index)
