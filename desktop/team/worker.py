"""One team worker: jobs taken from a task queue in the team database and run to their end.

`TeamWorker.run()` serves until `stop()` (the CLI wires SIGTERM and SIGINT to it):

- procrastinate hands it `run_job(job_id)` tasks, up to `concurrency` at once; each is claimed
  through the engine's ledger (`JobEngine.start_queued`), so two workers never run one job,
  and a job the provider accepted is only polled, never sent again;
- the engine's slot gate (slots.py) keeps each provider within its `concurrency` setting
  across all workers;
- every few seconds the sweep (sweep.py) hands jobs whose worker is gone back to the queue;
- stopping: nothing new is taken, the engine stops (a submit on its way is given its answer;
  accepted jobs stay as they are, jobs never sent go back to their queue), leases are released
  and the jobs this worker held are handed to the queue again for another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable

from procrastinate.jobs import Status
from psycopg_pool import AsyncConnectionPool

from desktop.core.batches import BatchState
from desktop.core.engine import JobEngine
from desktop.core.engine.base import HeldBack
from desktop.core.engine.outcomes import CancelRequested
from desktop.core.model import Job, JobState
from desktop.providers.registry import PROVIDER_CLASSES
from desktop.services import Services
from desktop.team.queue import RUNNER_KEY, TASK_NAME, defer_job, make_app
from desktop.team.schema import ensure_schema
from desktop.team.slots import TeamSlots
from desktop.team.sweep import sweep

log = logging.getLogger(__name__)

#: How often a worker looks for jobs whose worker is gone.
SWEEP_EVERY_S = 3.0
#: A job whose provider is not set up on this worker goes back to the queue for this long.
NOT_HERE_DELAY_S = 2
#: A job let go for want of a free slot is taken again after this long.
REQUEUE_AFTER_S = 1
#: What a job of a paused batch says when a worker holds it back.
PAUSED = "Not sent: its batch is paused. It is sent when the batch is resumed."
#: procrastinate's own worker heartbeat, and when a silent worker's tasks count as stalled.
HEARTBEAT_S = 5.0
STALLED_AFTER_S = 30.0


@dataclasses.dataclass
class WorkerStats:
    """What a worker did, for its last words."""

    ran: int = 0
    handed_back: int = 0


class TeamWorker:
    def __init__(self, services: Services, *, queue: str, concurrency: int,
                 label: str = "restyle-cli worker",
                 say: Callable[[str], None] = lambda _text: None) -> None:
        url = services.settings.database_url
        if not url:
            raise ValueError("A team worker needs a team database.")
        self.url = url
        self.services = services
        self.queue = queue
        self.concurrency = max(1, concurrency)
        self.say = say
        self.stats = WorkerStats()
        self.app = make_app(url, pool_size=self.concurrency + 2)
        self.slots = TeamSlots(url)
        self._pool = AsyncConnectionPool(url, min_size=1, max_size=2, open=False,
                                         kwargs={"connect_timeout": 10})
        policy = services.settings.engine_policy(list(PROVIDER_CLASSES))
        # This worker's own cap is --concurrency; each provider's limit is the team's (slots).
        policy = dataclasses.replace(policy, global_limit=self.concurrency)
        self.engine = JobEngine(services.history, services.assets, services.create_provider,
                                policy=policy, load_url=services.url_loader(), label=label,
                                limits=services.settings.limits, slot_gate=self.slots,
                                queues=frozenset({queue}), send_check=self._batch_allows)
        self.runner = services.batch_runner(self.engine)
        self._stopping = asyncio.Event()
        self._held: set[str] = set()
        #: Jobs held back because their batch is paused: not handed to the queue again (the
        #: batch's resume does that).
        self._paused: set[str] = set()

    def stop(self) -> None:
        """Ask the worker to stop (a signal handler may call this)."""
        self._stopping.set()

    # -- one job -----------------------------------------------------------------------------
    async def run_job(self, job_id: str) -> None:
        """procrastinate's task: run one queued job to its end (or until this worker stops)."""
        if self._stopping.is_set():
            await self._hand_back(job_id)
            return
        stored = await asyncio.to_thread(self.services.history.get, job_id)
        if stored is None or stored.state.terminal:
            return
        if not self.services.readiness(stored.provider).ready:
            log.warning("Job %s is for %s, which is not set up on this worker; it goes back to"
                        " the queue", job_id, stored.provider)
            await defer_job(self.app, job_id, self.queue,
                            schedule_in={"seconds": NOT_HERE_DELAY_S})
            return
        try:
            job = await self.engine.start_queued(job_id)
        except RuntimeError:  # the engine closed meanwhile: another worker takes it
            await self._hand_back(job_id)
            return
        if job is None:
            return
        self._held.add(job_id)
        try:
            job = await self.engine.wait(job_id)
        finally:
            self._held.discard(job_id)
        if job_id in self._paused:
            self._paused.discard(job_id)
            log.info("Job %s waits: its batch is paused", job_id)
        elif job.state.terminal or job.state == JobState.NEEDS_ATTENTION:
            self.stats.ran += 1
            await self._settle_batch(job_id)
        elif job.owner is None and not self._stopping.is_set():
            # Let go because every slot of its provider was taken: back to the queue, to be
            # taken again in a moment (by whichever worker is free then).
            await defer_job(self.app, job_id, self.queue, sent=_sent(job),
                            schedule_in={"seconds": REQUEUE_AFTER_S})

    async def _batch_allows(self, job: Job) -> None:
        """The engine asks this right before it sends a queued job: a job of a paused batch
        is held back (queued; the batch's resume hands it to the queue again), one of a
        cancelled batch closed unsent. Jobs already sent are followed whatever the batch."""
        state = await asyncio.to_thread(self.runner.store.state_of_job_batch, job.id)
        if state == BatchState.PAUSED:
            self._paused.add(job.id)
            raise HeldBack(PAUSED)
        if state == BatchState.CANCELLED:
            raise CancelRequested()

    async def _settle_batch(self, job_id: str) -> None:
        """A team batch is marked finished by the worker that ends its last job."""
        found = await asyncio.to_thread(self.runner.store.batch_of_job, job_id)
        if found is not None:
            with contextlib.suppress(KeyError):
                await self.runner.settle(found[0])

    async def _hand_back(self, job_id: str, job: Job | None = None) -> None:
        if await defer_job(self.app, job_id, self.queue, sent=job is not None and _sent(job)):
            self.stats.handed_back += 1

    # -- the worker --------------------------------------------------------------------------
    async def run(self) -> WorkerStats:
        await asyncio.to_thread(ensure_schema, self.url)
        await self.slots.open()
        await self._pool.open(wait=True, timeout=30)
        try:
            async with self.app.open_async():
                await self._serve()
        finally:
            self.runner.close()
            await self.engine.aclose()
            await self.slots.close()
            await self._pool.close()
        return self.stats

    async def _serve(self) -> None:
        worker = asyncio.create_task(self.app.run_worker_async(
            queues=[self.queue], concurrency=self.concurrency, install_signal_handlers=False,
            additional_context={RUNNER_KEY: self.run_job}, name="restyle-worker",
            fetch_job_polling_interval=2.0, abort_job_polling_interval=5.0,
            update_heartbeat_interval=HEARTBEAT_S, stalled_worker_timeout=STALLED_AFTER_S,
            delete_jobs="successful"))
        sweeper = asyncio.create_task(self._sweep_loop())
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await self._stop_serving(worker)

    async def _stop_serving(self, worker: asyncio.Task[None]) -> None:
        """Take nothing new, let the engine go (accepted jobs stay as they are, jobs never
        sent go back to their queue, leases released), then hand this worker's jobs to the
        queue again."""
        self._stopping.set()
        held = set(self._held)
        if not worker.done():
            worker.cancel()  # procrastinate stops fetching, then waits for its running tasks
        await self.engine.aclose()  # ... which end here: their jobs are let go
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        if worker.done() and not worker.cancelled() and worker.exception() is not None:
            raise worker.exception()  # type: ignore[misc]
        for job_id in held:
            job = await asyncio.to_thread(self.services.history.get, job_id)
            if job is not None and not job.state.terminal and \
                    job.state != JobState.NEEDS_ATTENTION:
                await self._hand_back(job_id, job)

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await sweep(self._pool, [self.queue],
                            lambda job_id, queue, sent: defer_job(self.app, job_id, queue,
                                                                  sent=sent))
                await self._close_stalled_tasks()
            except Exception:
                log.exception("Looking for jobs whose worker is gone failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def _close_stalled_tasks(self) -> None:
        """procrastinate tasks of a worker that went silent (killed) stay "doing": they are
        closed as aborted; the sweep has already handed their jobs to the queue again."""
        stalled = await self.app.job_manager.get_stalled_jobs(
            queue=self.queue, task_name=TASK_NAME, seconds_since_heartbeat=STALLED_AFTER_S)
        for task in stalled:
            if task.id is not None:
                await self.app.job_manager.finish_job_by_id_async(
                    job_id=task.id, status=Status.ABORTED, delete_job=False)


def _sent(job: Job) -> bool:
    """Whether the provider may have the job (it holds a slot until collected)."""
    return bool(job.remote_id) or job.submitted_at is not None or job.may_be_charged
