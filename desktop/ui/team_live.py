"""Team mode in the window: what other desks change shows here within about a second.

The workbench holds one TeamLive. On a team database (PostgreSQL) it starts the change feed
(desktop/core/store/changes.py), shows "Team history: <database> on <host>" in the status bar,
and for each announced change refreshes only what it touches:

- jobs: the job is read by id; its history row is updated (a job from another desk is added
  where it sorts), its Jobs-list row too when the list holds it, and the result panel when it
  shows it and the job's state or results changed. Jobs this window's engine runs are left to
  the engine's own events. Nothing here resumes, claims or adopts a job: a notice only ever
  reads.
- reviews: the result panel's reviews when it shows that job; the rankings when they show; the
  history's list when its filter is about reviews.
- votes: the rankings when they show.
- batches and their cells: that batch's row in the Batches panel, and the grid when it shows
  the batch (BatchController.refresh reads them); a batch this window feeds is left to the
  controller, which follows it through the engine's events.

Notices are gathered: each (table, key) is refreshed at most once per REFRESH_MS, the first
at once and the rest of a burst after it; database reads run in worker threads and one refresh
runs at a time, so reads land in the order they were made. When the feed loses the database,
the status bar says so; when it is back, what the window shows is read again (notices sent
meanwhile are lost).

On SQLite nothing of this runs: the window learns of other processes' writes from its timers,
as before (AttentionController every 30 s, BatchController every 2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from desktop.core.model import Job
from desktop.core.store.changes import (
    Change,
    FeedStatus,
    PostgresChangeFeed,
    needs_feed,
    team_place,
)
from desktop.core.store.filters import JobFilter
from desktop.ui.tasks import TaskSet

if TYPE_CHECKING:
    from desktop.ui.workbench import Workbench

log = logging.getLogger(__name__)

#: One refresh per (table, key) at most this often (ms).
REFRESH_MS = 250
STATUS_MS = 15_000
#: How many times a batch the Batches panel still lacks after a refresh is asked for again.
BATCH_RETRIES = 3
LOST_TEXT = "Lost the team database; reconnecting…"


def team_text(url: str) -> str:
    name, host = team_place(url)
    return f"Team history: {name} on {host}"


def filter_reads_reviews(f: JobFilter) -> bool:
    """Whether the history's filter picks jobs by their reviews (a review elsewhere may then
    add or drop a row)."""
    return bool(f.tag or f.reviewer or f.verdict)


class Throttle:
    """Which changes may be refreshed now: each at most once per `interval` seconds. Pure
    bookkeeping (no Qt), so it is tested on its own."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._pending: set[Change] = set()
        self._last: dict[Change, float] = {}

    def add(self, changes: Iterable[Change]) -> None:
        self._pending.update(changes)

    def take(self, now: float) -> list[Change]:
        """The pending changes whose last refresh is at least `interval` ago, marked as
        refreshed now."""
        ready = sorted(c for c in self._pending
                       if now - self._last.get(c, float("-inf")) >= self.interval)
        for change in ready:
            self._pending.discard(change)
            self._last[change] = now
        if len(self._last) > 4096:  # forget what is long past
            self._last = {c: t for c, t in self._last.items() if now - t < self.interval}
        return ready

    def next_due(self, now: float) -> float | None:
        """Seconds until the next pending change may be refreshed; None when none waits."""
        if not self._pending:
            return None
        return max(0.0, min(self._last.get(c, float("-inf")) + self.interval
                            for c in self._pending) - now)

    def __len__(self) -> int:
        return len(self._pending)


class TeamLive(QObject):
    """See the module docstring."""

    def __init__(self, workbench: Workbench) -> None:
        super().__init__(workbench)
        self.wb = workbench
        self.window = workbench.window
        self.services = workbench.services
        url = self.services.settings.database_url
        self.url = url if url and needs_feed(url) else None
        self.feed: PostgresChangeFeed | None = None
        #: The feed's last word (None until it has connected once).
        self.status: FeedStatus | None = None
        self.closing = False
        self.throttle = Throttle(REFRESH_MS / 1000)
        self._tasks = TaskSet("Team changes", self._on_task_error)
        self._applying = False
        self._batch_retries: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self.label: QLabel | None = None
        if self.url is not None:
            self.label = QLabel(team_text(self.url))
            self.label.setObjectName("teamLabel")
            self.label.setAccessibleName("Team history")
            self.label.setToolTip(f"This window shares its history with the team: "
                                  f"{self.services.history.where}. What other desks change "
                                  "shows here within about a second.")
            self.window.statusBar().addPermanentWidget(self.label)

    @property
    def active(self) -> bool:
        """Whether the window is on a team database (and so follows the change feed)."""
        return self.url is not None

    def _on_task_error(self, exc: BaseException) -> None:
        self.window.set_status(f"Showing a change from the team went wrong: {exc}. Details are "
                               "in the log.", STATUS_MS)

    # -- start and stop -----------------------------------------------------------------------
    def start(self) -> None:
        """Listen (team mode only); called on the running loop once the window has started."""
        if self.url is None or self.feed is not None or self.closing:
            return
        self._loop = asyncio.get_running_loop()
        self.feed = PostgresChangeFeed(self.url, self._changes_from_feed, self._status_from_feed)
        self.feed.start()

    async def idle(self) -> None:
        """Wait for the refreshes under way (tests)."""
        await self._tasks.join()

    async def aclose(self) -> None:
        self.closing = True
        feed, self.feed = self.feed, None
        if feed is not None:
            await asyncio.to_thread(feed.close)
        if shiboken6.isValid(self):
            self._timer.stop()
        await self._tasks.aclose()

    # -- from the feed's thread ---------------------------------------------------------------
    def _call_soon(self, fn: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None or self.closing:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the window is gone
            loop.call_soon_threadsafe(fn, *args)

    def _changes_from_feed(self, changes: list[Change]) -> None:
        self._call_soon(self._arrived, changes)

    def _status_from_feed(self, status: FeedStatus, sentence: str) -> None:
        self._call_soon(self._status_changed, status, sentence)

    # -- on the GUI thread --------------------------------------------------------------------
    def _alive(self) -> bool:
        return not self.closing and shiboken6.isValid(self) and shiboken6.isValid(self.window)

    def _status_changed(self, status: FeedStatus, sentence: str) -> None:
        if not self._alive() or self.url is None or self.label is None:
            return
        self.status = status
        if status == FeedStatus.LOST:
            self.label.setText(LOST_TEXT)
            self.label.setStyleSheet("color: #b3261e;")
            self.window.set_status(sentence or LOST_TEXT, 0)
            return
        self.label.setText(team_text(self.url))
        self.label.setStyleSheet("")
        if status == FeedStatus.BACK:
            self.window.set_status("Back on the team database; showing what changed meanwhile.",
                                   STATUS_MS)
            self._tasks.spawn(self.refresh_visible())

    def _arrived(self, changes: list[Change]) -> None:
        if not self._alive():
            return
        self.throttle.add(changes)
        self._flush()

    def _flush(self) -> None:
        if not self._alive() or self._applying:
            return  # the refresh under way flushes again when it ends
        ready = self.throttle.take(time.monotonic())
        if ready:
            self._applying = True
            self._tasks.spawn(self._apply_then_flush(ready))
            return
        due = self.throttle.next_due(time.monotonic())
        if due is not None:
            self._timer.start(max(1, int(due * 1000) + 1))

    async def _apply_then_flush(self, changes: list[Change]) -> None:
        try:
            await self.apply(changes)
        finally:
            self._applying = False
            if self._alive():
                self._flush()

    # -- refreshing what changed --------------------------------------------------------------
    async def apply(self, changes: list[Change]) -> None:
        """Refresh what `changes` touch (see the module docstring)."""
        jobs = {c.key for c in changes if c.table == "jobs"}
        reviewed = {c.key for c in changes if c.table == "reviews"}
        voted = any(c.table == "votes" for c in changes)
        batches = sorted({c.key for c in changes if c.table in ("batches", "batch_items")})
        if jobs:
            await self._refresh_jobs(jobs)
        if reviewed or voted:
            self.wb.reviews.reviews_changed(reviewed)
            if reviewed and filter_reads_reviews(self.window.history_panel.job_filter()):
                await self.window.history_panel.reload()
        for batch_id in batches:
            if self.closing:
                return
            await self._refresh_batch(batch_id)

    async def _refresh_batch(self, batch_id: str) -> None:
        """The batch's row and grid. The controller drops the id when it is refreshing
        already (it then reads its running batches again, which a batch new to this window is
        not among): a batch still missing is asked for again, a few times (a deleted one stays
        missing)."""
        controller = self.wb.batches
        if controller.is_running(batch_id):
            return  # this window feeds it: the controller follows it through the engine
        await controller.refresh(batch_id)
        if batch_id in controller.panel.batch_ids():
            self._batch_retries.pop(batch_id, None)
            return
        tries = self._batch_retries.get(batch_id, 0)
        if tries < BATCH_RETRIES:
            self._batch_retries[batch_id] = tries + 1
            self.throttle.add([Change("batches", batch_id)])
        else:
            self._batch_retries.pop(batch_id, None)

    async def _refresh_jobs(self, job_ids: Iterable[str]) -> None:
        own = set(self.wb.engine.running_ids)  # followed through the engine's events
        wanted = sorted(set(job_ids) - own)
        if not wanted:
            return
        history = self.services.history
        found = await asyncio.to_thread(lambda: {jid: history.get(jid) for jid in wanted})
        if not self._alive():
            return
        for job_id, job in found.items():
            if job_id in self.wb.engine.running_ids:
                continue  # taken up by this window meanwhile: its events are newer
            self._show(job_id, job)

    def _show(self, job_id: str, job: Job | None) -> None:
        w = self.window
        queue = w.job_queue
        if job is None:  # deleted on another desk
            w.history_panel.remove_job(job_id)
            if queue.job(job_id) is not None:
                queue.remove_job(job_id)
            return
        w.history_panel.refresh_job(job)
        before = queue.job(job_id)
        if before is not None:  # other desks' jobs stay out of this list
            queue.update_job(job)
            self.wb.update_running_label()
            if job.queue and job.state.terminal and not before.state.terminal:
                self.wb.on_finished(job)  # one this window sent to the team's workers
        shown = w.result_panel.job()
        if shown is not None and shown.id == job_id and (
                shown.state != job.state or shown.outputs != job.outputs):
            self.wb.spawn(self.wb.show_job(job_id))

    async def refresh_visible(self) -> None:
        """After the feed was lost: read again what the window shows (the history's first page,
        the Jobs-list rows not run here, the reviews shown, the rankings, the batches)."""
        w = self.window
        await w.history_panel.reload()
        await self._refresh_jobs(w.job_queue.job_ids())
        shown = w.result_panel.job()
        self.wb.reviews.reviews_changed({shown.id} if shown is not None else set())
        await self.wb.batches.refresh()
