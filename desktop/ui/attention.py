"""Jobs that wait for the user, jobs other Restyle processes run, and jobs nobody runs any more.

The window's side of "a paid job is never abandoned and never paid twice":

- Retry on a job that needs attention collects it (`engine.retry`: the provider is asked again,
  nothing is submitted twice); Abandon… and Cancel on a job the provider may charge for ask
  first, in plain words, then give it up (`engine.cancel`);
- at start-up the engine's ResumeReport becomes the queue's rows and one status line: what was
  resumed, what another process is working on (left alone), what needs the user;
- every 30 s the jobs of a Restyle that stopped (a killed `restyle-cli run`) are picked up
  (`engine.resume(include_attention=False)`: one query for the unfinished jobs, run by the
  engine in its database thread), and the rows of jobs running elsewhere are refreshed;
- while the window closes with a submit on its way, the engine's "Waiting up to 10 s for … to
  confirm …" shows in the status bar of a window that stays up, greyed, until it is answered.

Dialogs are opened with `open()` and awaited through a future: a nested `exec()` inside a
coroutine would re-enter the qasync loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from desktop.core.contract import Provider
from desktop.core.engine import JobEngine, ResumeReport
from desktop.core.model import EventKind, InvalidInput, Job, JobEvent, JobState
from desktop.core.store import History
from desktop.ui.ask import answer, destructive_question
from desktop.ui.job_words import (
    abandon_question,
    adopted_summary,
    asked_to_cancel,
    holder,
    plain,
    resume_summary,
    short_sentence,
)
from desktop.ui.main_window import MainWindow
from desktop.ui.tasks import TaskSet

log = logging.getLogger(__name__)

#: How often the window looks for jobs whose Restyle stopped (and refreshes jobs run
#: elsewhere). A lease lasts 30 s, so an orphan is picked up within about a minute.
ADOPT_INTERVAL_MS = 30_000

#: How long status lines about jobs stay (ms).
STATUS_MS = 15_000


class AttentionController(QObject):
    """Retry, abandon and cancel with confirmation; start-up resume; adopting orphans; the
    closing message. The workbench holds one and hands it the window's pieces."""

    def __init__(self, window: MainWindow, engine: JobEngine, history: History,
                 provider_ids: Iterable[str], show_job: Callable[[str], None]) -> None:
        super().__init__(window)
        self.window = window
        self.engine = engine
        self.history = history
        self._provider_ids = list(provider_ids)
        self._show_job = show_job
        self._tasks = TaskSet("Jobs that need attention", self._on_task_error)
        #: engine.resume and engine.retry never run at once from this window: two resumes
        #: of one job would follow it twice.
        self._resuming = asyncio.Lock()
        self._dialog: QMessageBox | None = None
        self.closing = False
        self.timer = QTimer(self)
        self.timer.setInterval(ADOPT_INTERVAL_MS)
        self.timer.timeout.connect(self._on_timer)
        self._adopting: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # -- wiring -------------------------------------------------------------------------------
    def attach(self) -> None:
        """Tell the views who this window is and what the providers cost; take the queue's
        Cancel / Abandon and Retry-on-attention; listen for jobs that start waiting."""
        w = self.window
        owner = self.engine.ledger.owner
        w.job_queue.set_own_owner(owner)
        w.history_panel.set_own_owner(owner)
        free = [pid for pid in self._provider_ids if self._free(pid)]
        w.job_queue.set_provider_traits(
            free=free, cannot_look_up=[pid for pid in self._provider_ids
                                       if not self._can_look_up(pid)])
        w.result_panel.set_free_providers(free)
        w.job_queue.cancelRequested.connect(lambda jid: self._tasks.spawn(self.cancel(jid)))
        w.job_queue.collectRequested.connect(lambda jid: self._tasks.spawn(self.retry(jid)))
        self._unsubscribe = self.engine.subscribe(self._on_event)

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"Something went wrong: {exc}. Details are in the log.")

    async def idle(self) -> None:
        """Wait for every confirmation, retry, cancel and adoption under way (tests)."""
        await self._tasks.join()

    # -- providers ----------------------------------------------------------------------------
    def _provider(self, provider_id: str) -> Provider | None:
        try:
            return self.engine.provider(provider_id)
        except InvalidInput:
            return None

    def _title(self, provider_id: str) -> str:
        provider = self._provider(provider_id)
        return provider.title if provider is not None else provider_id

    def _free(self, provider_id: str) -> bool:
        """Running a job twice there costs nothing (the offline provider)."""
        provider = self._provider(provider_id)
        return provider is not None and provider.resubmit_safe

    def _can_look_up(self, provider_id: str) -> bool:
        provider = self._provider(provider_id)
        return provider is None or provider.supports_reconcile

    # -- start-up and adopting ----------------------------------------------------------------
    async def resume_at_start(self) -> ResumeReport:
        """Resume what was left unfinished; every job the report names gets a row, and the
        status bar says what happened."""
        async with self._resuming:
            report = await self.engine.resume()
        self._show_report_rows(report)
        summary = resume_summary(report)
        if summary:
            self.window.set_status(summary, STATUS_MS)
        return report

    def _show_report_rows(self, report: ResumeReport) -> None:
        queue = self.window.job_queue
        jobs = [*report.resumed, *(job for job, _who in report.left_alone), *report.waiting,
                *report.closed]
        for job in jobs:
            queue.update_job(job)
            self.window.history_panel.refresh_job(job)

    def start_adopting(self) -> None:
        if not self.closing:
            self.timer.start()

    def _on_timer(self) -> None:
        if self.closing or (self._adopting is not None and not self._adopting.done()):
            return
        self._adopting = self._tasks.spawn(self.adopt())

    async def adopt(self) -> ResumeReport | None:
        """Pick up the jobs of a Restyle that stopped, and refresh the rows of jobs another
        Restyle runs (they finish without telling this window)."""
        if self.closing:
            return None
        queue = self.window.job_queue
        elsewhere = {jid: queue.holder(jid) for jid in queue.job_ids() if queue.holder(jid)}
        async with self._resuming:
            if self.closing:
                return None
            report = await self.engine.resume(include_attention=False)
        if self.closing:
            return report
        seen = {job.id for job in report.resumed}
        for job, _who in report.left_alone:
            seen.add(job.id)
            if job.id in elsewhere:  # new jobs of other processes stay out of this queue
                queue.update_job(job)
                self.window.history_panel.refresh_job(job)
        for job in [*report.resumed, *report.waiting, *report.closed]:
            queue.update_job(job)
            self.window.history_panel.refresh_job(job)
        for job_id in elsewhere.keys() - seen:  # finished (or deleted) where it ran
            stored = await asyncio.to_thread(self.history.get, job_id)
            if stored is not None:
                queue.update_job(stored)
                self.window.history_panel.refresh_job(stored)
        if report.resumed:
            holders = [elsewhere.get(job.id, "") for job in report.resumed]
            text = adopted_summary(len(report.resumed), holders)
            rest = resume_summary(ResumeReport(waiting=report.waiting, closed=report.closed))
            self.window.set_status(f"{text} {rest}".strip(), STATUS_MS)
        elif report.waiting or report.closed:
            self.window.set_status(resume_summary(report), STATUS_MS)
        return report

    # -- retry --------------------------------------------------------------------------------
    async def retry(self, job_id: str) -> ResumeReport | None:
        """Collect a job that needs attention: the provider is asked again (never a second
        submit); the row follows through the engine's events."""
        job = self.window.job_queue.job(job_id)
        title = self._title(job.provider) if job is not None else "the provider"
        self.window.set_status(f"Checking the job at {title} again…", STATUS_MS)
        async with self._resuming:
            report = await self.engine.retry(job_id)
        if report.resumed:
            return report
        for stuck, who in report.left_alone:
            self.window.job_queue.update_job(stuck)
            self.window.set_status(f"{who} is working on this job; Restyle leaves it alone.",
                                   STATUS_MS)
            return report
        for waiting in report.waiting:
            self.window.job_queue.update_job(waiting)
            why = short_sentence(waiting.error.message) if waiting.error is not None else ""
            self.window.set_status(f"This job still needs your attention. {why}".strip(),
                                   STATUS_MS)
            return report
        stored = await asyncio.to_thread(self.history.get, job_id)
        if stored is not None:  # it ended meanwhile (another process, or an abandon)
            self.window.job_queue.update_job(stored)
            self.window.history_panel.refresh_job(stored)
        return report

    # -- cancel and abandon -------------------------------------------------------------------
    async def cancel(self, job_id: str) -> Job | None:
        """Cancel (or abandon) a job from the queue: ask first when the provider may charge
        for it; ask its process when another Restyle runs it."""
        job = await asyncio.to_thread(self.history.get, job_id)
        if job is None:
            self.window.set_status("That job is no longer in the history.")
            return None
        if job.state.terminal:
            self.window.job_queue.update_job(job)
            return job
        who = holder(job, self.engine.ledger.owner)
        paid = job.may_be_charged and not self._free(job.provider)
        if paid and not await self.confirm(job, who):
            return job  # "Keep": nothing changes
        if who:
            self.window.set_status(f"Asking {who} to cancel this job…", STATUS_MS)
        try:
            result = await self.engine.cancel(job_id)
        except KeyError:
            self.window.set_status("That job is no longer in the history.")
            return None
        self.window.job_queue.update_job(result)
        self.window.history_panel.refresh_job(result)
        if not result.state.terminal and who:
            self.window.job_queue.note_message(job_id, asked_to_cancel(who))
            self.window.set_status(asked_to_cancel(who), STATUS_MS)
        elif result.error is not None:
            self.window.set_status(f"{self._title(result.provider)} job: "
                                   f"{plain(result.error.message)}", STATUS_MS)
        return result

    async def confirm(self, job: Job, holder_text: str = "") -> bool:
        """Ask, in plain words, before giving up a job that may be charged. True: give it up."""
        provider = self._provider(job.provider)
        heading, text, details, button = abandon_question(
            job, self._title(job.provider),
            supports_cancel=provider is not None and provider.supports_cancel,
            holder_text=holder_text)
        if self._dialog is not None:
            self._dialog.reject()
        box, give_up = destructive_question(self.window, heading, text, details,
                                            name="abandonConfirm", buttons="abandonConfirm",
                                            yes=button, keep="Keep")
        self._dialog = box
        try:
            return await answer(box, give_up)
        finally:
            if self._dialog is box:
                self._dialog = None

    def dialog(self) -> QMessageBox | None:
        """The confirmation on screen, if any (tests, screenshots)."""
        return self._dialog

    # -- events -------------------------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        if not shiboken6.isValid(self.window):
            return  # the window is gone (closed and deleted) before its engine
        job = event.job
        if self.closing:
            # The engine is stopping: "Waiting up to 10 s for … to confirm …" and the like.
            if event.kind == EventKind.PROGRESS and event.message:
                self.window.set_status(event.message, 0)
            return
        if event.kind != EventKind.STATE:
            return
        shown = self.window.result_panel.job()
        settled = (job.state.terminal or job.state == JobState.NEEDS_ATTENTION
                   or event.previous_state == JobState.NEEDS_ATTENTION)
        if settled and shown is not None and shown.id == job.id:
            self._show_job(job.id)  # the user is looking at it: show what it came to
        if job.state == JobState.NEEDS_ATTENTION and job.error is not None:
            self.window.set_status(f"A {self._title(job.provider)} job needs your attention. "
                                   f"{short_sentence(job.error.message)}", STATUS_MS)

    # -- closing ------------------------------------------------------------------------------
    def submits_on_the_way(self) -> list[Job]:
        """Jobs being sent to a paid provider right now: closing waits for their answer."""
        jobs = []
        for job_id in self.engine.running_ids:
            job = self.engine.get(job_id)
            if job is not None and job.state == JobState.SUBMITTING \
                    and not self._free(job.provider):
                jobs.append(job)
        return jobs

    def begin_closing(self) -> None:
        """The window stays up until the submits on their way are answered: greyed (nothing
        new can start), saying what it waits for."""
        self.closing = True
        self.timer.stop()
        w = self.window
        for part in (w.centralWidget(), w.queue_dock, w.history_dock, w.menuBar()):
            if part is not None:
                part.setEnabled(False)
        titles = sorted({self._title(job.provider) for job in self.submits_on_the_way()})
        who = " and ".join(titles) or "the providers"
        w.set_status(f"Closing: waiting for {who} to confirm the jobs being sent…", 0)

    async def aclose(self) -> None:
        """Stop adopting, close a confirmation still open, end the work this controller
        started. Its event listener stays until the engine has closed, for the closing
        message."""
        self.closing = True
        if shiboken6.isValid(self):  # the window may have been deleted before it closed
            self.timer.stop()
            if self._dialog is not None and shiboken6.isValid(self._dialog):
                self._dialog.reject()
        await self._tasks.aclose()
