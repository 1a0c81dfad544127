"""Batches in the window: the New batch dialog, the Batches panel and the results grid, wired to
the BatchRunner. The workbench builds one controller and calls `start` and `aclose`.

- New batch… (Run menu, Ctrl+B, the button beside Generate) opens the dialog with what the
  window holds; Start stores the batch and runs it.
- Each batch runs in a task of its own (`BatchRunner.run`); database reads and the plan run in
  worker threads, so the window never waits on them.
- Batches that were running when Restyle quit run again at start; the runner claims every cell
  before sending it, so a `restyle-cli` feeding the same batch never makes a second submit.
- Pause sends nothing new; Cancel… asks first (accepted jobs still finish and may be charged);
  Retry failed sends the failed cells again as new jobs.
- Open results shows the grid in place of the compare view (the result panel stays below it);
  a click on a cell shows its job in the result panel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMessageBox, QVBoxLayout, QWidget

from desktop.core.batch_runner import BatchProgress
from desktop.core.batches import Batch, BatchItem, BatchState, Matrix, Plan
from desktop.core.catalog import COMMON_TASKS
from desktop.core.model import EventKind, JobEvent
from desktop.ui.ask import answer, destructive_question
from desktop.ui.batch_panel import BatchPanel
from desktop.ui.batch_words import (
    CANCEL_QUESTION,
    STATE_WORDS,
    cancel_details,
    plural,
    progress_counts,
)
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.ui.batch_dialog import BatchContext, BatchDialog, BatchRequest
    from desktop.ui.batch_grid import BatchGrid
    from desktop.ui.batch_grid_data import GridData
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

#: Batches the panel lists (newest first).
LISTED = 30
#: How often running batches are looked at (another process may feed them).
POLL_MS = 2000
#: Engine events are gathered this long before the panel and grid are refreshed.
REFRESH_DELAY_MS = 250
STATUS_MS = 15_000


class BatchController(QObject):
    """See the module docstring."""

    def __init__(self, workbench: Workbench) -> None:
        super().__init__(workbench)
        self.wb = workbench
        self.window = workbench.window
        self.services = workbench.services
        self.engine = workbench.engine
        self.store = self.services.batch_store()
        self.runner = self.services.batch_runner(self.engine)
        self._tasks = TaskSet("Batches", self._on_task_error)
        self._runs: dict[str, asyncio.Task[Any]] = {}
        self._batches: dict[str, Batch] = {}
        self._progress: dict[str, BatchProgress] = {}
        self._dialog: BatchDialog | None = None
        #: The batch the grid shows (or is loading).
        self._grid_batch: str | None = None
        #: Counts cell clicks: a click's job lookup shows its job only if no click came after
        #: it (a drag's press clicks too), whichever lookup ends first.
        self._cell_clicks = 0
        self._question: QMessageBox | None = None
        self._refreshing = False
        self._dirty = False
        self.closing = False
        self.panel = BatchPanel(self._provider_titles(), self._task_titles())
        self.dock = QDockWidget("Batches", self.window)
        self.dock.setObjectName("batchDock")
        self.dock.setWidget(self.panel)
        #: Made when a batch's grid is first asked for (see `grid`): not needed for the window's
        #: first frame, where the compare view holds the place.
        self._grid: BatchGrid | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(lambda: self._tasks.spawn(self.refresh()))
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._unsubscribe = self.engine.subscribe(self._on_event)
        self._attach()

    # -- wiring -------------------------------------------------------------------------------
    def _attach(self) -> None:
        w = self.window
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        w.tabifyDockWidget(w.queue_dock, self.dock)
        w.queue_dock.raise_()
        w.view_menu.insertAction(w.find_action, self.dock.toggleViewAction())
        # The grid shares the compare view's place: a host holds both, one shown at a time.
        splitter = w.centre_splitter
        index = splitter.indexOf(w.compare_view)
        host = self.host = QWidget()  # kept: PySide leaves it to Python after replaceWidget
        host.setObjectName("centreHost")
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        host.setSizePolicy(w.compare_view.sizePolicy())  # its stretch in the splitter
        splitter.replaceWidget(max(0, index), host)
        layout.addWidget(w.compare_view)
        w.compare_view.show()
        w.new_batch_action.triggered.connect(self.open_dialog)
        w.new_batch_button.clicked.connect(self.open_dialog)
        self.panel.new_button.clicked.connect(self.open_dialog)
        self.panel.pauseRequested.connect(lambda bid: self._tasks.spawn(self.pause(bid)))
        self.panel.resumeRequested.connect(lambda bid: self._tasks.spawn(self.resume(bid)))
        self.panel.cancelRequested.connect(lambda bid: self._tasks.spawn(self.cancel(bid)))
        self.panel.retryRequested.connect(lambda bid: self._tasks.spawn(self.retry_failed(bid)))
        self.panel.openRequested.connect(lambda bid: self._tasks.spawn(self.open_results(bid)))
        # Whatever shows a job in the compare view brings the compare view back.
        for signal in (w.job_queue.openRequested, w.history_panel.openRequested):
            signal.connect(lambda *_a: self.show_compare())
        w.generate_button.clicked.connect(lambda *_a: self.show_compare())
        w.generate_action.triggered.connect(lambda *_a: self.show_compare())

    @property
    def grid(self) -> BatchGrid:
        """The batch grid, in the compare view's place (hidden until a batch is opened); made
        and wired on first use, so start-up neither imports nor builds it."""
        if self._grid is None:
            from desktop.ui.batch_grid import BatchGrid

            limits = self.services.settings.limits
            grid = self._grid = BatchGrid(
                max_pixels=max(limits.result_max_pixels, limits.input_max_pixels))
            grid.hide()
            self.host.layout().addWidget(grid)
            grid.cellActivated.connect(
                lambda row, col: self._tasks.spawn(self.show_cell(row, col)))
            grid.compareRequested.connect(lambda: self._tasks.spawn(self.compare_cell()))
            grid.closeRequested.connect(self.show_compare)
        return self._grid

    def _provider_titles(self) -> dict[str, str]:
        return {pid: p.title for pid, p in self.wb.providers.items()}

    def _task_titles(self) -> dict[str, str]:
        titles = dict(COMMON_TASKS)
        for provider in self.wb.providers.values():
            for task in provider.tasks:
                titles.setdefault(task.id, task.title)
        return titles

    def _free(self) -> set[str]:
        return {pid for pid, p in self.wb.providers.items() if p.resubmit_safe}

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"Something went wrong with a batch: {exc}. Details are in the "
                               "log.", STATUS_MS)

    async def idle(self) -> None:
        """Wait for every dialog, refresh and control under way; batch runs excepted (tests)."""
        await self._tasks.join()

    # -- start-up and shutdown ----------------------------------------------------------------
    async def start(self) -> None:
        """List the recent batches; run again those that were running when Restyle quit."""
        listed = await asyncio.to_thread(self.store.list, limit=LISTED)
        running = await asyncio.to_thread(self.store.list, states=[BatchState.RUNNING],
                                          limit=1000)
        for batch in reversed(listed):
            await self._show_batch(batch)
        for batch in running:
            if batch.id not in self._batches:
                await self._show_batch(batch)
            self.run(batch.id)
        if running:
            self.window.set_status(
                f"Carrying on with {plural(len(running), ('batch', 'batches'))} that "
                f"{'was' if len(running) == 1 else 'were'} running when Restyle quit.",
                STATUS_MS)
        self._poll.start()

    async def aclose(self) -> None:
        """Stop feeding batches (their state stays in the history: the next start carries
        on), close the dialog and the question, let the runner go."""
        self.closing = True
        self._unsubscribe()
        if shiboken6.isValid(self):  # the window may have been deleted before it closed
            self._poll.stop()
            self._refresh_timer.stop()
        for widget in (self._dialog, self._question):
            if widget is not None and shiboken6.isValid(widget):
                widget.reject()
        await self._tasks.aclose()
        if self._grid is not None and shiboken6.isValid(self._grid):
            await self._grid.aclose()
        self.runner.close()

    # -- the dialog ---------------------------------------------------------------------------
    def open_dialog(self, *_args: object) -> None:
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        self._tasks.spawn(self.new_batch())

    def open_with(self, context: BatchContext) -> None:
        """The dialog started from `context` instead of the window (Tools › stage a folder of
        photos)."""
        if self._dialog is not None and shiboken6.isValid(self._dialog):
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        self._tasks.spawn(self.new_batch(context))

    def dialog(self) -> BatchDialog | None:
        """The New batch dialog while it is open (tests, screenshots)."""
        return self._dialog

    async def context(self) -> BatchContext | None:
        """What the window holds: task, providers and their forms, the panes' images."""
        from desktop.ui.batch_dialog import BatchContext, ProviderChoice

        wb = self.wb
        entry = wb.current_entry()
        if entry is None:
            return None
        readiness = await asyncio.to_thread(
            lambda: {pid: self.services.readiness(pid) for pid in entry.providers})
        free = self._free()
        choices = tuple(ProviderChoice(pid, wb.providers[pid].title, readiness[pid].ready,
                                       readiness[pid].problem, pid in free)
                        for pid in entry.providers)
        tasks = {pid: t for pid in entry.providers if (t := wb.task_for(pid)) is not None}
        inputs = {role: [p.source for p in pane.all_previews()]
                  for role, pane in self.window.panes.items() if not pane.isHidden()}
        hidden = (entry.variant.param,) if entry.variant is not None else ()
        return BatchContext(
            task_id=entry.task_id, task_title=entry.title, providers=choices,
            ticked=tuple(wb.ticked()), tasks=tasks,
            base_params={pid: wb.params_for(pid) for pid in entry.providers},
            hidden=hidden, inputs=inputs)

    async def new_batch(self, context: BatchContext | None = None) -> Batch | None:
        """Open the dialog (non-blocking), wait for it; a confirmed batch is stored and run.
        `context` starts it from something else than the window (Tools › stage a folder)."""
        from desktop.ui.batch_dialog import BatchDialog

        context = context or await self.context()
        if context is None:
            self.window.set_status("Choose a task first: a batch runs one task many times.")
            return None
        dialog = BatchDialog(context, self.window.preview_loader, self._plan, self.window,
                             provider_titles=self._provider_titles())
        closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(result: int) -> None:
            if not closed.done():
                closed.set_result(result)

        dialog.finished.connect(finished)
        self._dialog = dialog
        dialog.open()
        dialog.begin()
        try:
            await closed
        finally:
            self._dialog = None
            await dialog.aclose()
            dialog.deleteLater()
        request = dialog.request
        if request is None or self.closing:
            return None
        return await self.start_batch(request)

    async def _plan(self, matrix: Matrix, budget: float | None
                    ) -> tuple[list[BatchItem], Plan]:
        # Prices may have changed in the settings since the runner was made.
        self.runner.prices = self.services.settings.prices(list(self.wb.providers))
        return await asyncio.to_thread(partial(self.runner.plan, matrix, budget=budget))

    async def start_batch(self, request: BatchRequest) -> Batch:
        batch = await self.runner.create(request.name, request.matrix, request.items,
                                         budget=request.budget)
        await self._show_batch(batch)
        self.dock.show()
        self.dock.raise_()
        self.run(batch.id)
        where = " to the team's workers" if self.wb.sender.team else ""
        self.window.set_status(f"Batch “{batch.name}” started: "
                               f"{plural(request.plan.jobs, ('job', 'jobs'))} to send{where}.",
                               STATUS_MS)
        return batch

    # -- running ------------------------------------------------------------------------------
    def run(self, batch_id: str) -> None:
        """Feed the batch unless this window already does."""
        task = self._runs.get(batch_id)
        if self.closing or (task is not None and not task.done()):
            return
        started = self._tasks.spawn(self._run(batch_id))
        if started is not None:
            self._runs[batch_id] = started

    def is_running(self, batch_id: str) -> bool:
        task = self._runs.get(batch_id)
        return task is not None and not task.done()

    async def _run(self, batch_id: str) -> None:
        if self.wb.sender.team:
            await self._send_to_team(batch_id)
            return
        try:
            while True:
                try:
                    progress = await self.runner.run(batch_id)
                except KeyError:
                    self.panel.remove_batch(batch_id)
                    return
                # Resumed just as the run ended: carry on rather than leave it unfed.
                if progress.state != BatchState.RUNNING or not progress.left or self.closing:
                    break
        finally:
            self._runs.pop(batch_id, None)
        if progress.state == BatchState.FINISHED:
            await self._say_after(batch_id, lambda name: f"Batch “{name}” finished: "
                                  f"{progress_counts(progress)}.")
        else:
            await self._say_after(batch_id, None)

    async def _say_after(self, batch_id: str, sentence: Callable[[str], str] | None) -> None:
        """After a run or a hand-over: the batch's row and grid again, and what happened."""
        if self.closing:
            return
        await self.refresh(batch_id)
        batch = self._batches.get(batch_id)
        if batch is not None and sentence is not None:
            self.window.set_status(sentence(batch.name), STATUS_MS)

    async def _send_to_team(self, batch_id: str) -> None:
        """Team mode: the batch's pending cells wait in the team's queue for the workers
        (as `restyle-cli batch --remote`); its progress comes back through the change feed."""
        sender = self.wb.sender
        try:
            queued = await self.runner.enqueue(batch_id, queue=sender.queue,
                                               hand_over=sender.hand_over)
        except KeyError:
            self.panel.remove_batch(batch_id)
            return
        finally:
            self._runs.pop(batch_id, None)
        await self._say_after(batch_id, (lambda name: f"Batch “{name}”: "
                                         f"{plural(queued, ('job', 'jobs'))} sent to the team's"
                                         f" workers (queue “{sender.queue}”).") if queued else None)

    # -- controls -----------------------------------------------------------------------------
    async def pause(self, batch_id: str) -> None:
        await self.runner.pause(batch_id)
        await self.refresh(batch_id)
        self.window.set_status("Batch paused: nothing new is sent; jobs already sent finish.",
                               STATUS_MS)

    async def resume(self, batch_id: str) -> None:
        await self.runner.resume(batch_id)
        self.run(batch_id)
        await self.refresh(batch_id)

    async def cancel(self, batch_id: str) -> bool:
        """Ask first, then stop the batch: cells not sent never will be; accepted jobs finish
        (and may be charged)."""
        progress = await self.runner.progress(batch_id)
        if not await self._ask_cancel(progress):
            return False
        stopped = await self.runner.cancel(batch_id)
        await self.refresh(batch_id)
        self.window.set_status(f"Batch cancelled: {plural(stopped, ('job', 'jobs'))} will not "
                               "be sent. Jobs a provider already accepted still finish.",
                               STATUS_MS)
        return True

    async def _ask_cancel(self, progress: BatchProgress) -> bool:
        if self._question is not None and shiboken6.isValid(self._question):
            self._question.reject()
        box, stop = destructive_question(self.window, "Cancel the batch", CANCEL_QUESTION,
                                         cancel_details(progress), name="batchCancelConfirm",
                                         buttons="batchCancel", yes="Cancel batch",
                                         keep="Keep running")
        self._question = box
        try:
            return await answer(box, stop)
        finally:
            if self._question is box:
                self._question = None

    def question(self) -> QMessageBox | None:
        """The Cancel… question while it is open (tests, screenshots)."""
        return self._question

    async def retry_failed(self, batch_id: str) -> int:
        again = await self.runner.retry_failed(batch_id)
        if again:
            self.run(batch_id)
            self.window.set_status(f"Sending {plural(again, ('failed job', 'failed jobs'))} "
                                   "again.", STATUS_MS)
        else:
            self.window.set_status("No failed jobs to send again.", STATUS_MS)
        await self.refresh(batch_id)
        return again

    # -- panel ----------------------------------------------------------------------------------
    async def _show_batch(self, batch: Batch) -> None:
        progress = await self.runner.progress(batch.id)
        self._put(batch, progress)

    def _put(self, batch: Batch, progress: BatchProgress) -> None:
        self._batches[batch.id] = batch
        self._progress[batch.id] = progress
        self.panel.set_batch(batch, progress)

    def progress(self, batch_id: str) -> BatchProgress | None:
        """The progress the panel shows."""
        return self._progress.get(batch_id)

    def _active(self) -> list[str]:
        return [bid for bid, p in self._progress.items()
                if p.state in (BatchState.RUNNING, BatchState.PAUSED) or p.running
                or p.waiting or self.is_running(bid)]

    def _on_event(self, event: JobEvent) -> None:
        if self.closing or event.kind != EventKind.STATE:
            return
        if self._active() or self.grid_shown():
            self._refresh_timer.start()

    def _on_poll(self) -> None:
        if self._active() and not self._refreshing:
            self._tasks.spawn(self.refresh())

    async def refresh(self, batch_id: str | None = None) -> None:
        """Read the active batches (or one) again; the grid follows the batch it shows."""
        if self._refreshing:
            self._dirty = True
            return
        self._refreshing = True
        try:
            while True:
                self._dirty = False
                ids = [batch_id] if batch_id else self._active()
                shown = self._grid_batch if self.grid_shown() else None
                if shown and shown not in ids:
                    ids.append(shown)
                for bid in ids:
                    batch = await asyncio.to_thread(self.store.get, bid)
                    if batch is None:
                        self.panel.remove_batch(bid)
                        continue
                    self._put(batch, await self.runner.progress(bid))
                if shown:
                    await self._load_grid(shown)
                if not self._dirty or self.closing:
                    break
                batch_id = None
        finally:
            self._refreshing = False

    # -- results grid -------------------------------------------------------------------------
    async def open_results(self, batch_id: str) -> GridData | None:
        if self._grid_batch != batch_id:
            self.window.result_panel.show_job(None)  # a cell of this batch will show here
        self._grid_batch = batch_id
        data = await self._load_grid(batch_id)
        if data is None:
            self.window.set_status("That batch is no longer in the history.")
            return None
        self.show_grid()
        self.window.set_status("Click a cell to show its job below; Ctrl+wheel zooms every cell "
                               "and a drag pans them all.", STATUS_MS)
        return data

    async def _load_grid(self, batch_id: str) -> GridData | None:
        from desktop.ui.batch_grid_data import load_grid

        live = {jid: job for jid in self.engine.running_ids
                if (job := self.engine.get(jid)) is not None}
        titles = self._provider_titles()
        data = await asyncio.to_thread(load_grid, self.store, self.services.assets, batch_id,
                                       titles, live)
        if data is None or self.closing or batch_id != self._grid_batch:
            return data  # the grid was asked for another batch meanwhile
        progress = self._progress.get(batch_id)
        summary = ""
        if progress is not None:
            summary = f"{STATE_WORDS.get(progress.state, '')} · {progress_counts(progress)}"
        self.grid.set_data(data, summary)
        return data

    def show_grid(self) -> None:
        self.window.compare_view.hide()
        self.grid.show()

    def show_compare(self) -> None:
        if self._grid is None or self.grid.isHidden():
            return
        self.grid.hide()
        self.window.compare_view.show()

    def grid_shown(self) -> bool:
        return self._grid is not None and not self.grid.isHidden()

    async def show_cell(self, row: int, col: int) -> None:
        """A cell was clicked: its job in the result panel (and picked in the Jobs list).
        The lookups of quick clicks run in worker threads and may end in any order: only the
        last click's job is shown, so the panel always matches the cell the grid selects."""
        self._cell_clicks += 1
        click = self._cell_clicks
        data = self.grid.data
        if data is None:
            return
        if col < 0:
            if 0 <= row < len(data.rows):
                self.window.set_status(f"Before: {data.rows[row].source}")
            return
        cell = data.cell(row, col)
        if cell is None:
            return
        if cell.job_id is None:
            self.window.set_status(f"{cell.words}. {cell.reason}".strip(" ."), STATUS_MS)
            return
        job = await asyncio.to_thread(self.services.history.get, cell.job_id)
        if click != self._cell_clicks:
            return  # another cell was clicked meanwhile: its job is the one to show
        if job is None:
            self.window.set_status("That job is no longer in the history.")
            return
        self.window.result_panel.show_job(job)
        self.window.job_queue.update_job(job)
        self.window.job_queue.select_job(job.id)

    async def compare_cell(self) -> None:
        """The picked cell's job in the compare view, with every compare mode."""
        data, picked = self.grid.data, self.grid.selected()
        cell = data.cell(*picked) if data is not None and picked is not None else None
        if cell is None or cell.job_id is None:
            return
        self.show_compare()
        await self.wb.show_job(cell.job_id)

    def titles(self) -> Mapping[str, str]:
        return self._provider_titles()
