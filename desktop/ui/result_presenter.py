"""What the compare view shows: one job's outputs with its before image, a grid of several
jobs' results over the same input (a multi-provider run, jobs picked in the history), or any
image files. It remembers which job is shown, so exports, copies and the result panel act on
the job the user sees, and on no job at all while plain files are compared.

A job's pictures are decoded for the screen (OutputImages, `reduced`): a 24 MP result opens
as a few megapixels. When the user zooms in past the reduced copy's own pixels, the before
and the result shown are decoded at full size and swapped in, keeping the zoom and the place
looked at. Grids are decoded at full size (their cells zoom together)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from desktop.core import heap
from desktop.core.model import Job, JobState
from desktop.ui.compare_view import CompareItem
from desktop.ui.job_words import placeholder_for
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.services import Services
    from desktop.ui.main_window import MainWindow
    from desktop.ui.output_images import OutputImages

#: Result cells of a grid: the view holds nine cells and the before is one of them.
MAX_RESULT_CELLS = 8


def grid_item(item: CompareItem) -> CompareItem:
    """A result as a grid cell: the provider says whose it is, the variation which one ("FitInView"
    over "Variation 2"); a note the item carried (shown reduced) stays after them."""
    if not item.provider:
        return item
    note = item.label[item.label.find("shown at"):] if "shown at" in item.label else ""
    label = " · ".join(t for t in (item.variation, note) if t)
    return replace(item, title=item.provider, label=label)


def left_out_sentence(shown: int, total: int) -> str:
    """The status line when a grid had to leave results out."""
    left = total - shown
    return (f"Showing {shown} of {total} results: {left} "
            f"{'was' if left == 1 else 'were'} left out, a grid holds {MAX_RESULT_CELLS} "
            "results and the before. Select fewer jobs to see the others.")


async def _none() -> None:
    return None


def _trim_in_thread() -> None:
    """Give freed memory back to the system (glibc's malloc_trim), off the GUI thread."""
    threading.Thread(target=heap.trim, name="malloc_trim", daemon=True).start()


class ResultPresenter:
    """Fills the compare view and the result panel from the history, off the GUI thread."""

    def __init__(self, window: MainWindow, services: Services, images: OutputImages) -> None:
        self.window = window
        self.services = services
        self.images = images
        #: The job the compare view shows (in a grid: the job of the current cell); None while
        #: plain files are compared.
        self.shown_job: Job | None = None
        #: Files compared with File > Compare files (the first is the before); [] for jobs.
        self.shown_files: list[Path] = []
        #: In a grid: the job of each cell and which of that job's shown results it is.
        self._grid_cells: list[tuple[Job, int]] = []
        self._upgrading = False  # a full-size decode for the zoomed view is under way
        self._tasks = TaskSet("Full-size decode")
        self._items: list[CompareItem] = []  # the outputs show_job gave the view
        self._fitted_percent = -1  # the zoom show_job opened at (fitted)
        self._trim = QTimer(singleShot=True, interval=500)
        self._trim.timeout.connect(_trim_in_thread)

    @property
    def _grid_jobs(self) -> list[Job]:
        return [job for job, _index in self._grid_cells]

    def attach(self) -> None:
        view = self.window.compare_view
        view.currentChanged.connect(self._on_output_changed)
        view.gridCellActivated.connect(self._on_grid_cell)
        view.viewChanged.connect(self._on_zoom)

    def needs_full_size(self) -> bool:
        """Whether the result shown is a reduced copy zoomed in to its own pixels or past
        them (100 % of the copy or more, not merely fitted): its full size shows more."""
        view = self.window.compare_view
        item = view.current_item()
        if view.is_grid() or item is None or item.video or item.image.isNull():
            return False
        if not self.images.is_reduced(item.image):
            return False
        zoomed = view.zoom_percent()
        return zoomed >= 100 and zoomed != self._fitted_percent

    def _on_zoom(self) -> None:
        if not self._upgrading and self.needs_full_size():
            self._upgrading = True
            if self._tasks.spawn(self.show_full_size()) is None:
                self._upgrading = False

    async def show_full_size(self) -> bool:
        """Swap the reduced before and result shown for their full size, keeping the zoom and
        the place looked at. False when nothing changed (the view moved on meanwhile)."""
        try:
            view = self.window.compare_view
            item = view.current_item()
            before = view.before_image()
            if item is None:
                return False
            full, full_before = await asyncio.gather(
                self.images.full_image(item.image),
                self.images.full_image(before) if before is not None else _none())
            if full is None or view.current_item() is not item or view.is_grid():
                return False
            factor = full.width() / item.image.width()
            scale, center = view.zoom(), view.view_center()
            actual = view.zoom_percent() == 100  # "100 %" asked for: one real pixel each
            if not any(i is item for i in self._items):
                return False
            items = [replace(i, image=full) if i is item else i for i in self._items]
            self._items = items
            if full_before is not None and view.before_image() is before:
                view.set_before(full_before)
            view.set_outputs(items, view.current_index())
            if actual:
                view.zoom_actual()
            else:
                view.set_zoom(scale / factor)
            view.set_view_center(center * factor)
            return True
        finally:
            self._upgrading = False


    async def show_job(self, job_id: str, output_index: int = 0) -> Job | None:
        job = await asyncio.to_thread(self.services.history.get, job_id)
        if job is None:
            self.window.set_status("That job is no longer in the history.")
            return None
        before, items = await asyncio.gather(self.images.before_image(job, reduced=True),
                                             self.images.output_items(job, reduced=True))
        view = self.window.compare_view
        self._grid_cells = []
        self.shown_files = []
        view.set_grid([])
        view.set_before(before)
        view.set_outputs(items, min(output_index, max(0, len(items) - 1)))
        self._items = items
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
        self._fitted_percent = view.zoom_percent()
        self.window.result_panel.show_job(job, view.current_index())
        if not self._trim.isActive():
            # once the view has dropped the old pictures; not restarted by the next job, so
            # clicking quickly through the history still hands memory back twice a second
            self._trim.start()
        return job

    async def show_batch(self, batch: list[str]) -> None:
        """Several providers over the same input: a synced grid of their first results."""
        jobs = [j for jid in batch
                if (j := await asyncio.to_thread(self.services.history.get, jid)) is not None]
        done = [j for j in jobs if j.state == JobState.SUCCEEDED]
        if done:
            await self.show_grid(done, every_output=False)

    async def show_grid(self, jobs: list[Job], *, every_output: bool = True,
                        note: str = "") -> int:
        """Jobs made from the same inputs as one synced grid, with the first job's before:
        every result of each job a cell (or each job's first), at most MAX_RESULT_CELLS; the
        status line says how many were left out. Returns how many cells are shown (0: the
        jobs have no image result, nothing changed). `note` leads the status line."""
        if not jobs:
            return 0
        decoded = await asyncio.gather(self.images.before_image(jobs[0]),
                                       *(self.images.output_items(job) for job in jobs))
        before: QImage | None = decoded[0]
        cells: list[tuple[Job, int, CompareItem]] = []
        for job, items in zip(jobs, decoded[1:], strict=True):
            images = [(i, item) for i, item in enumerate(items) if not item.video]
            for index, item in images if every_output else images[:1]:
                cells.append((job, index, grid_item(item)))
        if not cells:
            return 0
        total = len(cells)
        cells = cells[:MAX_RESULT_CELLS]
        view = self.window.compare_view
        self.shown_files = []
        view.set_before(before)
        view.set_outputs([item for _j, _i, item in cells], 0)
        self._items = []
        self._grid_cells = [(job, index) for job, index, _item in cells] if len(cells) > 1 else []
        view.set_grid([item for _j, _i, item in cells] if len(cells) > 1 else [])
        first, first_index, _item = cells[0]
        self.shown_job = first
        self.window.result_panel.show_job(first, first_index)
        left_out = left_out_sentence(len(cells), total) if total > len(cells) else ""
        if note or left_out:
            self.window.set_status(" ".join(t for t in (note, left_out) if t), 20000)
        return len(cells)

    def show_files(self, paths: list[Path], before: QImage, others: list[CompareItem]) -> None:
        """Image files, not jobs: the first is the before; one other is the pair view, more
        are a grid. No job is shown, so exports and the result panel act on none."""
        view = self.window.compare_view
        self._grid_cells = []
        self.shown_job = None
        self.shown_files = list(paths)
        view.set_grid([])
        view.set_before(before, f"{paths[0].name} · before" if paths else "")
        view.set_outputs(others, 0)
        self._items = []
        if len(others) > 1:
            view.set_grid(others)
        self.window.result_panel.show_files([p.name for p in paths])

    def forget(self, job_id: str) -> None:
        """The job was deleted: clear the view if it showed it."""
        if self.shown_job is not None and self.shown_job.id == job_id:
            self.shown_job = None
            self._grid_cells = []
            self.window.compare_view.clear()
            self.window.result_panel.show_job(None)

    def output_index(self) -> int:
        """Which of the shown job's outputs the view shows (in a grid: the current cell's)."""
        if self._grid_cells:
            current = self.window.compare_view.current_index()
            return self._grid_cells[current][1] if 0 <= current < len(self._grid_cells) else 0
        return self.window.compare_view.current_index()

    def _on_grid_cell(self, index: int) -> None:
        """A result's cell in the grid was clicked: its job becomes the one shown, exported
        and described."""
        if 0 <= index < len(self._grid_cells):
            job, output = self._grid_cells[index]
            self.shown_job = job
            if self.window.compare_view.current_index() != index:
                self.window.compare_view.set_current(index)
            self.window.result_panel.show_job(job, output)
            self.window.job_queue.select_job(job.id)

    def _on_output_changed(self, index: int) -> None:
        if self._grid_cells:
            self._on_grid_cell(index)
        elif self.shown_job is not None:
            self.window.result_panel.show_job(self.shown_job, index)
