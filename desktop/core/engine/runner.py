"""JobEngine: prepares inputs, submits, polls, downloads, and keeps every step in history.

The engine runs on an asyncio loop (qasync's in the window, asyncio.run's in the CLI) and never
blocks it: image work runs in its own thread pool, database writes in one dedicated thread so
they keep their order. Every state change is stored before observers hear of it, so a crash at
any point leaves a record, and a job that has a remote id is never submitted again: `resume()`
picks it up by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from desktop.core.assets import AssetStore
from desktop.core.contract import (
    PreparedJob,
    Provider,
    ProviderError,
    RemoteRef,
    RemoteState,
    RemoteStatus,
)
from desktop.core.engine.collecting import verify_and_store
from desktop.core.engine.policy import EnginePolicy
from desktop.core.engine.preparing import (
    PreparedSpec,
    Preparer,
    SourceLoader,
    rebuild_prepared,
    store_inputs,
)
from desktop.core.humanize import human_duration
from desktop.core.model import (
    Asset,
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobError,
    JobEvent,
    JobSpec,
    JobState,
    Output,
)
from desktop.core.store import History

log = logging.getLogger(__name__)

T = TypeVar("T")

ProviderFactory = Callable[[str], Provider]
Observer = Callable[[JobEvent], None]

#: Errors during polling that say "try again later", not "this job is lost".
TRANSIENT_POLL_ERRORS = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.NETWORK, ErrorCode.PROVIDER_UNAVAILABLE,
     ErrorCode.TIMED_OUT}
)


class _JobFailed(Exception):
    def __init__(self, error: JobError, state: JobState = JobState.FAILED) -> None:
        super().__init__(error.message)
        self.error = error
        self.state = state


class JobEngine:
    def __init__(
        self,
        history: History,
        assets: AssetStore,
        providers: ProviderFactory,
        *,
        policy: EnginePolicy | None = None,
        load_url: SourceLoader | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        workers: int | None = None,
    ) -> None:
        self.history = history
        self.assets = assets
        self.policy = policy or EnginePolicy()
        self._provider_factory = providers
        self._providers: dict[str, Provider] = {}
        self._retired: list[Provider] = []
        self._preparer = Preparer(self._cpu_run, load_url)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._cpu = ThreadPoolExecutor(
            max_workers=workers or max(2, os.cpu_count() or 2), thread_name_prefix="restyle-cpu"
        )
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restyle-db")
        self._global_slots: asyncio.Semaphore | None = None
        self._provider_slots: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._current: dict[str, Job] = {}
        self._cancel_requested: set[str] = set()
        self._detaching = False
        self._observers: list[Observer] = []
        self._closed = False

    # -- observers ---------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` with every event; returns a function that unsubscribes."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    async def events(self) -> AsyncIterator[JobEvent]:
        """Every event from now on, as an async iterator (stops when the engine closes)."""
        queue: asyncio.Queue[JobEvent | None] = asyncio.Queue()
        unsubscribe = self.subscribe(_QueueObserver(queue))
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            unsubscribe()

    def _announce(self, event: JobEvent) -> None:
        for observer in list(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("A job observer failed on %s", event.kind)

    # -- helpers -----------------------------------------------------------------------------
    def provider(self, provider_id: str) -> Provider:
        """The engine's instance of a provider (made once); InvalidInput for an unknown id."""
        if provider_id not in self._providers:
            try:
                self._providers[provider_id] = self._provider_factory(provider_id)
            except KeyError:
                raise InvalidInput(f"There is no provider '{provider_id}'.") from None
        return self._providers[provider_id]

    def reconfigure(self, policy: EnginePolicy) -> None:
        """Apply changed settings: new limits and deadlines, and fresh provider instances (a new
        base URL) for jobs submitted from now on. Running jobs keep the instance they started
        with; retired instances are closed with the engine."""
        self.policy = policy
        self._provider_slots = {}
        self._global_slots = None
        self._retired.extend(self._providers.values())
        self._providers = {}

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, functools.partial(fn, *args, **kwargs))

    async def _cpu_run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cpu, functools.partial(fn, *args, **kwargs))

    async def _save(self, job: Job, *, assets: tuple[Asset, ...] | list[Asset] = (),
                    previous: JobState | None = None, kind: EventKind = EventKind.STATE,
                    message: str = "", retry_at: float | None = None,
                    error_code: ErrorCode | None = None) -> Job:
        """Store, then announce. The only way a job's state changes."""
        job = job.evolve(updated_at=self._clock())
        await self._db(self.history.save_job, job, assets=tuple(assets))
        self._current[job.id] = job
        self._announce(JobEvent(kind=kind, job=job, previous_state=previous, message=message,
                                retry_at=retry_at, error_code=error_code))
        return job

    async def _transition(self, job: Job, state: JobState, **changes: Any) -> Job:
        assets = changes.pop("assets", ())
        message = changes.pop("message", "")
        return await self._save(job.evolve(state=state, **changes), assets=assets,
                                previous=job.state, message=message)

    def get(self, job_id: str) -> Job | None:
        """The latest version this engine knows of a job it is running."""
        return self._current.get(job_id)

    @property
    def running_ids(self) -> list[str]:
        return [jid for jid, task in self._tasks.items() if not task.done()]

    # -- preparing ---------------------------------------------------------------------------
    async def prepare(self, spec: JobSpec) -> PreparedSpec:
        """Validate the spec and read, check and encode every input. Stores nothing; raises
        InvalidInput (or ProviderError for a URL that cannot be fetched) on bad input."""
        return await self._preparer.prepare(self.provider(spec.provider), spec)

    async def _rebuilt(self, job: Job) -> PreparedJob:
        pjob = await self._cpu_run(rebuild_prepared, self.history, self.assets, job)
        if pjob is None:
            raise _JobFailed(JobError(
                ErrorCode.RESULT_UNAVAILABLE,
                "An input of this job is no longer in the asset store; run it again.",
            ))
        return pjob

    # -- submitting --------------------------------------------------------------------------
    async def submit(self, spec: JobSpec, prepared: PreparedSpec | None = None) -> Job:
        """Queue a job and start it. Returns the stored `queued` job at once."""
        if self._closed:
            raise RuntimeError("The job engine is closed.")
        prepared = prepared or await self.prepare(spec)
        provider = self.provider(prepared.spec.provider)
        task = provider.task(prepared.spec.task)
        now = self._clock()
        job = Job(
            id=uuid.uuid4().hex, spec=prepared.spec, state=JobState.QUEUED, created_at=now,
            updated_at=now, note=task.note if task else "",
        )
        job = await self._save(job)
        self._start(job, self._run_new(job, prepared))
        return job

    async def run(self, spec: JobSpec, prepared: PreparedSpec | None = None) -> Job:
        """Submit and wait for the terminal state."""
        job = await self.submit(spec, prepared)
        return await self.wait(job.id)

    async def wait(self, job_id: str) -> Job:
        """Wait until this engine stops working on the job; return it as stored."""
        task = self._tasks.get(job_id)
        if task is not None:
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise  # the caller is being cancelled (Ctrl+C): not the job's end
        job = await self._db(self.history.get, job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def _start(self, job: Job, coro: Awaitable[None]) -> None:
        self._current[job.id] = job
        task = asyncio.ensure_future(self._guard(job.id, coro))
        self._tasks[job.id] = task
        task.add_done_callback(lambda _t, jid=job.id: self._tasks.pop(jid, None))

    async def _run_new(self, job: Job, prepared: PreparedSpec) -> None:
        provider = self.provider(job.provider)
        async with self._slots(job.provider):
            now = self._clock()
            deadline_s = job.spec.deadline_s or self.policy.deadline(job.provider)
            job = await self._transition(job, JobState.PREPARING, started_at=now,
                                         deadline_at=now + deadline_s)
            assets, inputs = await self._cpu_run(store_inputs, self.assets, prepared)
            job = await self._transition(job, JobState.SUBMITTING, attempts=job.attempts + 1,
                                         inputs=inputs, assets=assets)
            pjob = PreparedJob(job_id=job.id, task=job.task, inputs=prepared.inputs,
                               params=job.spec.params)
            async with self._deadline(job):
                ref = await self._submit_remote(provider, pjob)
                job = await self._transition(
                    job, JobState.RUNNING, remote_id=ref.remote_id, remote_data=ref.data,
                    cost_credits=ref.cost_credits if ref.cost_credits is not None
                    else job.cost_credits,
                )
                status = await self._poll_until_done(provider, job, ref)
            await self._collect(provider, self._current[job.id], status)

    async def _submit_remote(self, provider: Provider, pjob: PreparedJob) -> RemoteRef:
        try:
            return await provider.submit(pjob)
        except ProviderError as exc:
            if exc.unknown_outcome and provider.supports_reconcile:
                log.info("Submit of %s had an unknown outcome; reconciling", pjob.job_id)
                ref = await provider.reconcile(pjob)
                if ref is not None:
                    return ref
            raise

    # -- running -----------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _slots(self, provider_id: str) -> AsyncIterator[None]:
        if self._global_slots is None:
            self._global_slots = asyncio.Semaphore(max(1, self.policy.global_limit))
        slots = self._provider_slots.get(provider_id)
        if slots is None:
            slots = asyncio.Semaphore(self.policy.provider_limit(provider_id))
            self._provider_slots[provider_id] = slots
        async with slots, self._global_slots:
            yield

    @contextlib.asynccontextmanager
    async def _deadline(self, job: Job) -> AsyncIterator[None]:
        """Bound submit and polling by the job's deadline (downloads are not: a finished,
        paid result is always fetched)."""
        assert job.deadline_at is not None
        remaining = job.deadline_at - self._clock()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + max(remaining, 0.0)) as scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise
            current = self._current.get(job.id, job)
            allowed = (current.deadline_at or 0) - (current.started_at or current.created_at)
            raise _JobFailed(
                JobError(ErrorCode.TIMED_OUT,
                         f"The job did not finish within {human_duration(allowed)}."),
                JobState.TIMED_OUT,
            ) from None

    async def _poll_until_done(self, provider: Provider, job: Job, ref: RemoteRef
                               ) -> RemoteStatus:
        interval = self.policy.poll_intervals.get(job.provider, provider.poll_interval)
        failures = 0
        resubmitted = False
        while True:
            stored = await self._db(self.history.get, job.id)
            if stored is not None and stored.state == JobState.CANCELLED:
                raise _JobFailed(stored.error or JobError(ErrorCode.CANCELLED, "Cancelled."),
                                 JobState.CANCELLED)
            try:
                status = await provider.poll(ref)
            except ProviderError as exc:
                if exc.code == ErrorCode.NOT_FOUND and provider.resubmit_safe and not resubmitted:
                    ref = await self._resubmit(provider, job)
                    job = self._current[job.id]
                    resubmitted = True
                    continue
                if exc.code not in TRANSIENT_POLL_ERRORS:
                    raise
                failures += 1
                wait = exc.retry_after if exc.retry_after is not None else min(
                    self.policy.poll_backoff_cap,
                    self.policy.poll_backoff_base * 2 ** (failures - 1),
                )
                job = await self._save(
                    self._current[job.id], kind=EventKind.PROGRESS,
                    message=f"{exc.message} Checking again in {human_duration(wait)}.",
                    retry_at=self._clock() + wait, error_code=exc.code,
                )
                await self._sleep(wait)
                continue
            failures = 0
            job = self._current[job.id]
            if status.progress != job.progress or (status.message and status.message != job.note):
                job = await self._save(
                    job.evolve(progress=status.progress, note=status.message or job.note),
                    kind=EventKind.PROGRESS, message=status.message,
                )
            if status.state.terminal:
                return status
            await self._sleep(self._next_delay(interval, job, status))

    def _next_delay(self, interval: float, job: Job, status: RemoteStatus) -> float:
        if status.poll_after is not None and status.poll_after >= 0:
            delay = status.poll_after
        else:
            elapsed = self._clock() - (job.started_at or job.created_at)
            over = max(0.0, elapsed - self.policy.slowdown_after_s)
            delay = min(self.policy.max_poll_interval, interval * (1.0 + over / 60.0))
        spread = self.policy.jitter
        return max(0.0, delay * (1.0 + self._rng.uniform(-spread, spread)))

    async def _resubmit(self, provider: Provider, job: Job) -> RemoteRef:
        """Run a job again that a resubmit-safe (offline) provider forgot across a restart."""
        pjob = await self._rebuilt(job)
        ref = await provider.submit(pjob)
        await self._transition(self._current[job.id], JobState.RUNNING, remote_id=ref.remote_id,
                               remote_data=ref.data, attempts=job.attempts + 1)
        return ref

    # -- downloading -------------------------------------------------------------------------
    async def _collect(self, provider: Provider, job: Job, status: RemoteStatus) -> None:
        if status.state == RemoteState.CANCELLED:
            raise _JobFailed(JobError(ErrorCode.CANCELLED,
                                      status.message or f"{provider.title} cancelled the job."),
                             JobState.CANCELLED)
        if status.state == RemoteState.FAILED:
            err = status.error
            raise _JobFailed(JobError(
                err.code if err else ErrorCode.JOB_FAILED,
                err.message if err else (status.message or f"{provider.title} reported that "
                                         "the job failed, without a reason."),
                err.provider_code if err else None,
            ))
        cost = status.cost_credits if status.cost_credits is not None else job.cost_credits
        job = await self._transition(job, JobState.DOWNLOADING, cost_credits=cost)
        if not status.outputs:
            raise _JobFailed(JobError(ErrorCode.RESULT_UNAVAILABLE,
                                      f"{provider.title} finished the job but returned no result."))
        outputs: list[Output] = list(job.outputs)
        for position, remote in enumerate(status.outputs):
            if any(o.position == position for o in outputs):
                continue  # already downloaded before a restart
            data = await provider.fetch(remote)
            asset, output = await self._cpu_run(verify_and_store, self.assets, provider.title,
                                                position,
                                                remote, data)
            outputs.append(output)
            # Each result is stored as soon as it lands: a paid result is never lost.
            job = await self._save(job.evolve(outputs=tuple(outputs)), assets=[asset],
                                   kind=EventKind.PROGRESS,
                                   message=f"Downloaded result {position + 1} of "
                                           f"{len(status.outputs)}.")
        task = provider.task(job.task)
        # A progress line such as "still processing" must not outlive the job.
        note = status.message or (task.note if task else "")
        await self._transition(job, JobState.SUCCEEDED, finished_at=self._clock(),
                               progress=1.0, error=None, note=note)

    # -- terminal states ---------------------------------------------------------------------
    async def _guard(self, job_id: str, coro: Awaitable[None]) -> None:
        """Run a job's coroutine and turn whatever ends it into a stored terminal state."""
        try:
            await coro
        except asyncio.CancelledError:
            if job_id in self._cancel_requested:
                self._cancel_requested.discard(job_id)
                await self._finish_cancel(job_id)
                return
            await self._finish_detach(job_id)
            raise
        except _JobFailed as exc:
            if exc.state == JobState.TIMED_OUT:
                await self._finish_timeout(job_id, exc.error)
            else:
                await self._finish(job_id, exc.state, exc.error)
        except ProviderError as exc:
            await self._finish(job_id, JobState.FAILED,
                               JobError(exc.code, exc.message, exc.provider_code))
        except InvalidInput as exc:
            await self._finish(job_id, JobState.FAILED,
                               JobError(ErrorCode.INVALID_INPUT, str(exc)))
        except Exception as exc:
            log.exception("Job %s failed unexpectedly", job_id)
            await self._finish(job_id, JobState.FAILED, JobError(
                ErrorCode.INTERNAL,
                f"Restyle hit an unexpected error ({type(exc).__name__}); details are in the "
                "log file. Please report it.",
            ))

    async def _finish(self, job_id: str, state: JobState, error: JobError | None) -> None:
        job = self._current[job_id]
        if job.state.terminal:
            return
        await self._transition(job, state, error=error, finished_at=self._clock())

    async def _remote_cancel(self, job: Job) -> str:
        """Ask the provider to cancel; returns a sentence about what happened there."""
        if not job.remote_id:
            return ""
        provider = self.provider(job.provider)
        if not provider.supports_cancel:
            return (f" {provider.title} cannot cancel jobs: it may still finish there and be"
                    " charged.")
        try:
            await provider.cancel(RemoteRef(job.remote_id, job.remote_data))
        except ProviderError as exc:
            return f" Cancelling at {provider.title} failed: {exc.message}"
        return f" It was cancelled at {provider.title}."

    async def _finish_cancel(self, job_id: str) -> None:
        job = self._current[job_id]
        if job.state.terminal:
            return
        note = await self._remote_cancel(job)
        await self._finish(job_id, JobState.CANCELLED,
                           JobError(ErrorCode.CANCELLED, ("Cancelled by you." + note).strip()))

    async def _finish_timeout(self, job_id: str, error: JobError) -> None:
        note = await self._remote_cancel(self._current[job_id])
        await self._finish(job_id, JobState.TIMED_OUT,
                           JobError(error.code, error.message + note, error.provider_code))

    async def _finish_detach(self, job_id: str) -> None:
        """The engine is closing: leave resumable jobs as they are, close the rest honestly."""
        job = self._current.get(job_id)
        if job is None or job.state.terminal or job.remote_id:
            return
        if job.state == JobState.SUBMITTING:
            return  # outcome unknown: resume() reconciles or reports it
        await self._finish(job_id, JobState.CANCELLED, JobError(
            ErrorCode.CANCELLED,
            "Restyle closed before this job was sent; nothing was charged. Run it again.",
        ))

    # -- caller operations -------------------------------------------------------------------
    async def cancel(self, job_id: str) -> Job:
        """Cancel a job: the running task here, or a stored one (e.g. from another process)."""
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            self._cancel_requested.add(job_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return await self.wait(job_id)
        job = await self._db(self.history.get, job_id)
        if job is None:
            raise KeyError(job_id)
        if job.state.terminal:
            return job
        self._current[job_id] = job
        await self._finish_cancel(job_id)
        return self._current[job_id]

    async def resume(self) -> list[Job]:
        """Pick up every unfinished job from history. Jobs with a remote id are polled, never
        submitted again; the others are closed with a sentence saying what happened."""
        resumed: list[Job] = []
        for job in await self._db(self.history.unfinished):
            if job.id in self._tasks:
                continue
            try:
                provider = self.provider(job.provider)
            except InvalidInput:
                log.warning("Cannot resume job %s: provider %s is unknown", job.id, job.provider)
                continue
            self._current[job.id] = job
            if job.remote_id:
                self._start(job, self._resume_remote(provider, job))
                resumed.append(job)
            elif job.state == JobState.SUBMITTING and provider.supports_reconcile:
                self._start(job, self._resume_reconcile(provider, job))
                resumed.append(job)
            elif job.state == JobState.SUBMITTING:
                await self._finish(job.id, JobState.FAILED, JobError(
                    ErrorCode.NETWORK,
                    f"Restyle stopped while sending this job to {provider.title}; it may or may"
                    f" not have been created there. Check your {provider.title} account before"
                    " running it again.",
                ))
            else:
                await self._finish(job.id, JobState.CANCELLED, JobError(
                    ErrorCode.CANCELLED,
                    "Restyle closed before this job was sent; nothing was charged. Run it again.",
                ))
        return resumed

    async def _resume_remote(self, provider: Provider, job: Job) -> None:
        async with self._slots(job.provider):
            ref = RemoteRef(job.remote_id or "", job.remote_data, job.cost_credits)
            if job.state != JobState.RUNNING:
                job = await self._transition(job, JobState.RUNNING, message="Resumed.")
            async with self._deadline(self._with_grace(job)):
                status = await self._poll_until_done(provider, job, ref)
            await self._collect(provider, self._current[job.id], status)

    async def _resume_reconcile(self, provider: Provider, job: Job) -> None:
        async with self._slots(job.provider):
            pjob = await self._rebuilt(job)
            ref = await provider.reconcile(pjob)
            if ref is None:
                raise _JobFailed(JobError(
                    ErrorCode.NETWORK,
                    f"Restyle stopped while sending this job; {provider.title} has no record of"
                    " it, so nothing was charged. Run it again.",
                ))
            job = await self._transition(job, JobState.RUNNING, remote_id=ref.remote_id,
                                         remote_data=ref.data)
            async with self._deadline(self._with_grace(job)):
                status = await self._poll_until_done(provider, job, ref)
            await self._collect(provider, self._current[job.id], status)

    def _with_grace(self, job: Job) -> Job:
        """A resumed job past its deadline still gets a short look: it may have finished."""
        grace_until = self._clock() + 15.0
        if job.deadline_at is None or job.deadline_at < grace_until:
            job = job.evolve(deadline_at=grace_until)
            self._current[job.id] = self._current[job.id].evolve(deadline_at=job.deadline_at)
        return job

    async def delete(self, job_id: str) -> None:
        """Delete a finished job and every file no other job uses."""
        if job_id in self._tasks:
            raise InvalidInput("This job is still running; cancel it before deleting it.")
        orphans = await self._db(self.history.delete_job, job_id)
        await self._cpu_run(self.assets.remove, orphans)
        self._current.pop(job_id, None)

    async def aclose(self) -> None:
        """Stop: running jobs with a remote id stay resumable, the rest are closed honestly."""
        if self._closed:
            return
        self._closed = True
        self._detaching = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for provider in [*self._providers.values(), *self._retired]:
            try:
                await provider.aclose()
            except Exception:
                log.exception("Closing provider %s failed", provider.id)
        for observer in self._observers:
            if isinstance(observer, _QueueObserver):
                observer.queue.put_nowait(None)
        self._cpu.shutdown(wait=False, cancel_futures=True)
        self._db_thread.shutdown(wait=True)


class _QueueObserver:
    """Feeds an events() iterator; aclose() ends the iterator by queueing None."""

    def __init__(self, queue: asyncio.Queue[JobEvent | None]) -> None:
        self.queue = queue

    def __call__(self, event: JobEvent) -> None:
        self.queue.put_nowait(event)
