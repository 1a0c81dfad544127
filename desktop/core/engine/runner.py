"""JobEngine: prepares inputs, submits, polls, downloads, and keeps every step in history.

The engine runs on an asyncio loop (qasync's in the window, asyncio.run's in the CLI) and never
blocks it: image work runs in its own thread pool, database writes in one dedicated thread so
they keep their order. Every state change is stored before observers hear of it, so a crash at
any point leaves a record, and a job that has a remote id is never submitted again: `resume()`
picks it up by polling.

This module holds what callers use (submit, wait, cancel, resume, retry, delete, aclose) and
how a job's run ends (`_guard`). The run itself lives in submitting.py, polling.py and
collecting.py; who works on which job, across processes, in ledger.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop.core.contract import PreparedInput, Provider, ProviderError, RemoteRef
from desktop.core.engine import outcomes
from desktop.core.engine.base import HeldBack, Observer, ProviderFactory, SlotsBusy
from desktop.core.engine.outcomes import CancelRequested, JobEnded, NeedsAttention
from desktop.core.engine.preparing import PreparedSpec, rebuild_prepared, store_inputs
from desktop.core.engine.submitting import SubmittingMixin
from desktop.core.model import (
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobError,
    JobEvent,
    JobSpec,
    JobState,
)
from desktop.core.redaction import redact_inputs
from desktop.core.store import HistoryError, LeaseLost

__all__ = ["JobEngine", "Observer", "ProviderFactory", "ResumeReport"]

log = logging.getLogger("desktop.core.engine")

NOT_SENT = "Restyle closed before this job was sent; nothing was charged. Run it again."
BACK_IN_QUEUE = "Not sent yet: back in the team's queue for the next free worker."


@dataclass
class ResumeReport:
    """What `resume` did with the unfinished jobs it found."""

    #: Being followed now (polled, reconciled, downloaded); `wait` for each.
    resumed: list[Job] = field(default_factory=list)
    #: Owned by another live Restyle process, left to it: (job, who holds it).
    left_alone: list[tuple[Job, str]] = field(default_factory=list)
    #: Waiting for the user: a submit with an unknown outcome at a provider without a job
    #: list, or a provider this Restyle does not know.
    waiting: list[Job] = field(default_factory=list)
    #: Never sent (Restyle stopped before submitting): closed, nothing was charged.
    closed: list[Job] = field(default_factory=list)


class JobEngine(SubmittingMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cancel_requested: set[str] = set()
        #: Coroutines of tasks that have not started yet: a task cancelled before its first
        #: step never runs its body, so the job is closed by whoever cancelled it.
        self._unstarted: dict[str, Coroutine[Any, Any, None]] = {}
        #: Jobs being claimed to be run here (start_queued, resume): not claimed twice.
        self._starting: set[str] = set()
        self._heartbeat: asyncio.Task[None] | None = None

    # -- preparing and submitting ------------------------------------------------------------
    async def prepare(self, spec: JobSpec) -> PreparedSpec:
        """Validate the spec and read, check and encode every input. Stores nothing; raises
        InvalidInput (or ProviderError for a URL that cannot be fetched) on bad input."""
        return await self._preparer.prepare(self.provider(spec.provider), spec)

    async def submit(self, spec: JobSpec, prepared: PreparedSpec | None = None, *,
                     job_id: str | None = None) -> Job:
        """Queue a job and start it. Returns the stored `queued` job at once. `job_id` lets a
        caller (a batch) record the id before the job exists."""
        if self._closed:
            raise RuntimeError("The job engine is closed.")
        prepared = prepared or await self.prepare(spec)
        provider = self.provider(prepared.spec.provider)
        task = provider.task(prepared.spec.task)
        now = self._clock()
        # Input URLs may carry credentials or signed tokens: the history keeps them masked
        # (the provider got the real URL through the prepared inputs).
        spec = dataclasses.replace(prepared.spec, inputs=redact_inputs(prepared.spec.inputs))
        job = Job(
            id=job_id or uuid.uuid4().hex, spec=spec, state=JobState.QUEUED, created_at=now,
            updated_at=now, note=task.note if task else "",
        )
        job = await self._save(job)
        self._start(job, self._run_new(job, prepared))
        return job

    async def enqueue(self, spec: JobSpec, prepared: PreparedSpec | None = None, *,
                      queue: str, job_id: str | None = None) -> Job:
        """Team mode: store a job that waits in the task queue `queue` for the team's workers
        (`start_queued`), its inputs in the (shared) asset store. Nothing is sent and nobody
        owns it; the caller hands its id to the queue."""
        if self._closed:
            raise RuntimeError("The job engine is closed.")
        prepared = prepared or await self.prepare(spec)
        task = self.provider(prepared.spec.provider).task(prepared.spec.task)
        assets, inputs = await self._cpu_run(store_inputs, self.assets, prepared)
        now = self._clock()
        spec = dataclasses.replace(prepared.spec, inputs=redact_inputs(prepared.spec.inputs))
        job = Job(
            id=job_id or uuid.uuid4().hex, spec=spec, state=JobState.QUEUED, created_at=now,
            updated_at=now, note=task.note if task else "", inputs=inputs, queue=queue,
        )
        await self._db(self.history.save_job, job, assets=tuple(assets))
        self._announce(JobEvent(kind=EventKind.STATE, job=job))
        return job

    async def start_queued(self, job_id: str) -> Job | None:
        """A worker takes a job from the team's queue: claimed through the ledger, then sent
        if it never was (its inputs read back from the asset store), else followed as
        `resume` would (a remote id is only polled, an unknown outcome reconciled): never
        sent twice. None when the job is finished, gone, or another live process has it."""
        if self._closed:
            raise RuntimeError("The job engine is closed.")
        # Two tasks of the queue can name one job (a sweep hands over a job that waits
        # unclaimed): one run only. The ledger would let the second call claim it too (same
        # owner), and a second run would send the job again.
        if job_id in self._tasks or job_id in self._starting:
            return self._current.get(job_id)
        self._starting.add(job_id)
        try:
            claim = await self._db(self.ledger.claim, job_id)
            if not claim.ok or claim.job is None:
                return None
            job = claim.job
            if self._closed:  # stopped while claiming: the next worker takes it
                with contextlib.suppress(RuntimeError, HistoryError):
                    await self._db(self.ledger.release, job_id)
                raise RuntimeError("The job engine is closed.")
            # A job waiting for a person (needs attention), or not in a queue this worker
            # serves, is not this worker's to run.
            if job.state == JobState.NEEDS_ATTENTION or job.queue not in self.queues:
                await self._db(self.ledger.release, job_id)
                return None
            self._current[job.id] = job
            self._stored_links.pop(job.id, None)
            report = ResumeReport()
            await self._take_up(job, False, report)
        finally:
            self._starting.discard(job_id)
        return self._current.get(job.id, job)

    async def prepare_input(self, provider_id: str, role: str, source: str) -> PreparedInput:
        """One image (a path or an http(s) URL) read, checked and normalised to the
        provider's limits, as a job's input would be; stores nothing. For provider tools that
        take a photo without running a job (a furniture analysis)."""
        return await self._preparer.prepare_input(self.provider(provider_id), role, source)

    async def adopt(self, job: Job) -> Job | None:
        """Take in a job the provider already has (an import from its job list): stored owned
        by this engine, then followed like a resumed job: polled, never submitted, its
        results downloaded and checked like any. `job` needs a remote id. None when the
        history already holds a job with this id (imported before, or by another process at
        this moment): nothing is written then."""
        if self._closed:
            raise RuntimeError("The job engine is closed.")
        if not job.remote_id:
            raise InvalidInput("Only a job the provider already has can be taken in.")
        provider = self.provider(job.provider)
        if await self._db(self.history.get, job.id) is not None:
            return None
        try:
            stored = await self._save(job)
        except LeaseLost:  # stored meanwhile by another process: the write was fenced off
            return None
        self._start(stored, self._resume_remote(provider, stored, True,
                                                message=f"Collecting from {provider.title}."))
        return stored

    async def run(self, spec: JobSpec, prepared: PreparedSpec | None = None) -> Job:
        """Submit and wait until the engine stops working on the job."""
        job = await self.submit(spec, prepared)
        return await self.wait(job.id)

    async def wait(self, job_id: str) -> Job:
        """Wait until this engine stops working on the job (it ended, or needs attention);
        return it as stored."""
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

    def _start(self, job: Job, coro: Coroutine[Any, Any, None]) -> None:
        running = self._tasks.get(job.id)
        if running is not None and not running.done():
            # Never two runs of one job: the second would send it again, and its stale copy
            # of the job would be written over the first run's.
            coro.close()
            log.error("Job %s is being run already; not starting it a second time", job.id)
            return
        self._current[job.id] = job
        self._unstarted[job.id] = coro
        task = asyncio.ensure_future(self._guard(job.id, coro))
        self._tasks[job.id] = task
        task.add_done_callback(lambda t, jid=job.id: self._forget_task(jid, t))
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.ensure_future(self._beat())

    def _forget_task(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]

    async def _beat(self) -> None:
        """Keep this engine's leases alive while it works on jobs."""
        while True:
            await asyncio.sleep(max(0.05, self.policy.heartbeat_s))
            try:
                await self._db(self.ledger.renew)
            except Exception:
                log.exception("Renewing job leases failed")

    # -- how a run ends ----------------------------------------------------------------------
    async def _guard(self, job_id: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run a job's coroutine and store how it ended: a terminal state, or "needs
        attention" when the provider may have accepted the job."""
        self._unstarted.pop(job_id, None)
        try:
            try:
                await coro
            except asyncio.CancelledError:
                if job_id in self._cancel_requested:
                    self._cancel_requested.discard(job_id)
                    await self._finish_cancel(job_id)
                    return
                await self._finish_detach(job_id)
                raise
            except CancelRequested:
                await self._finish_cancel(job_id)
            except NeedsAttention as exc:
                await self._attention(job_id, exc.error)
            except JobEnded as exc:
                await self._finish(job_id, exc.state, exc.error)
            except (ProviderError, InvalidInput) as exc:
                if isinstance(exc, ProviderError):
                    error = JobError(exc.code, exc.message, exc.provider_code)
                else:
                    error = JobError(ErrorCode.INVALID_INPUT, str(exc))
                await self._end_or_keep(job_id, error)
            except SlotsBusy:
                await self._let_go(job_id)
            except HeldBack as exc:
                await self._let_go(job_id, exc.reason)
            except (LeaseLost, HistoryError):
                raise
            except Exception as exc:
                log.exception("Job %s failed unexpectedly", job_id)
                job = self._current[job_id]
                title = self._title(job.provider)
                error = outcomes.unexpected(title, exc, job.may_be_charged)
                await self._end_or_keep(job_id, error)
        except LeaseLost:
            log.info("Job %s was taken over by another Restyle process; stopping here", job_id)
        except HistoryError as exc:
            log.error("Job %s could not be recorded: %s", job_id, exc)

    async def _let_go(self, job_id: str, message: str = BACK_IN_QUEUE) -> None:
        """No team slot came free in time, or the job is held back (its batch paused): the
        job is left as it is (never sent: queued) and released, for any worker to take when
        a slot is free or the batch goes on."""
        await self._finish_detach(job_id, message)
        await self._db(self.ledger.release, job_id)
        self._stored_links.pop(job_id, None)

    def _title(self, provider_id: str) -> str:
        try:
            return self.provider(provider_id).title
        except InvalidInput:
            return provider_id

    async def _end_or_keep(self, job_id: str, error: JobError) -> None:
        """An error that is not the provider's verdict: end the job if nothing can have been
        charged yet, keep it waiting otherwise."""
        job = self._current[job_id]
        if job.may_be_charged and not self._is_free(job.provider):
            await self._attention(job_id, error)
        else:
            await self._finish(job_id, JobState.FAILED, error)

    def _is_free(self, provider_id: str) -> bool:
        """Whether running a job twice costs nothing (the offline provider): then a job that
        stopped half-way is simply closed, nothing to collect or be charged for."""
        try:
            return self.provider(provider_id).resubmit_safe
        except InvalidInput:
            return False

    async def _attention(self, job_id: str, error: JobError) -> None:
        job = self._current[job_id]
        if job.state.terminal:
            return
        await self._transition(job, JobState.NEEDS_ATTENTION, error=error)

    async def _finish(self, job_id: str, state: JobState, error: JobError | None) -> None:
        job = self._current[job_id]
        if job.state.terminal:
            return
        await self._transition(job, state, error=error, finished_at=self._clock())

    async def _remote_cancel(self, job: Job) -> str:
        """Ask the provider to cancel; returns a sentence about what happened there."""
        if not job.remote_id:
            return ""
        try:
            provider = self.provider(job.provider)
        except InvalidInput:
            return " It may still finish at the provider and be charged."
        if not provider.supports_cancel:
            return (f" {provider.title} cannot cancel jobs: it may still finish there and be"
                    " charged.")
        try:
            await provider.cancel(RemoteRef(job.remote_id, job.remote_data))
        except ProviderError as exc:
            return (f" Cancelling at {provider.title} failed ({exc.message}): it may still"
                    " finish there and be charged.")
        return f" It was cancelled at {provider.title}."

    async def _finish_cancel(self, job_id: str) -> None:
        """The user gave the job up by hand: cancel it at the provider where possible, and
        say whether it may have been charged."""
        job = self._current[job_id]
        if job.state.terminal:
            return
        if job.remote_id:
            note = await self._remote_cancel(job)
        elif job.may_be_charged and not self._is_free(job.provider):
            title = self._title(job.provider)
            note = (f" {title} may have created this job before it was cancelled (its answer "
                    f"never came): check your {title} account.")
        else:
            note = " Nothing was sent, so nothing was charged."
        await self._finish(job_id, JobState.CANCELLED,
                           JobError(ErrorCode.CANCELLED, "Cancelled by you." + note))

    async def _finish_detach(self, job_id: str, message: str = BACK_IN_QUEUE) -> None:
        """The engine is stopping: leave jobs a provider may have accepted as they are (resume
        collects them), close the ones never sent honestly."""
        job = self._current.get(job_id)
        if job is None or job.state.terminal or job.state == JobState.NEEDS_ATTENTION:
            return
        if job.remote_id or (job.may_be_charged and not self._is_free(job.provider)):
            return
        if job.queue is not None and job.submitted_at is None:
            # A team job never sent goes back to its queue for another worker.
            await self._transition(job, JobState.QUEUED, message=message)
            return
        await self._finish(job_id, JobState.CANCELLED, JobError(ErrorCode.CANCELLED, NOT_SENT))

    async def _close_unstarted(self, job_id: str, *, cancel: bool) -> None:
        coro = self._unstarted.pop(job_id, None)
        if coro is None:
            return
        coro.close()
        try:
            if cancel:
                await self._finish_cancel(job_id)
            else:
                await self._finish_detach(job_id)
        except (LeaseLost, HistoryError) as exc:
            log.info("Closing job %s that never started failed: %s", job_id, exc)

    # -- caller operations -------------------------------------------------------------------
    async def cancel(self, job_id: str) -> Job:
        """Cancel a job: the running task here, a stored job nobody works on, or (by asking
        it) one that another Restyle process is working on. For a job the provider may have
        accepted this is abandoning it, and the stored sentence says it may be charged."""
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            self._cancel_requested.add(job_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._cancel_requested.discard(job_id)
            await self._close_unstarted(job_id, cancel=True)
            return await self.wait(job_id)
        job = await self._db(self.history.get, job_id)
        if job is None:
            raise KeyError(job_id)
        if job.state.terminal:
            return job
        claim = await self._db(self.ledger.claim, job_id)
        if not claim.ok:
            if claim.job is None or claim.job.state.terminal:
                return claim.job or job
            return await self._ask_owner_to_cancel(job_id, claim.job)
        assert claim.job is not None
        self._current[job_id] = claim.job
        self._stored_links.pop(job_id, None)  # read from the history: written there by others
        try:
            await self._finish_cancel(job_id)
        finally:
            await self._db(self.ledger.release, job_id)
        return self._current[job_id]

    async def _ask_owner_to_cancel(self, job_id: str, job: Job) -> Job:
        """Another live process owns the job: ask it, and wait a little for it to act."""
        await self._db(self.history.request_cancel, job_id)
        loop = asyncio.get_running_loop()
        until = loop.time() + max(0.0, self.policy.cancel_wait_s)
        while loop.time() < until:
            await asyncio.sleep(0.1)
            stored = await self._db(self.history.get, job_id)
            if stored is None or stored.state.terminal:
                return stored or job
            job = stored
        return job

    async def resume(self, job_ids: Iterable[str] | None = None, *,
                     fresh_deadline: bool = False, include_attention: bool = True
                     ) -> ResumeReport:
        """Pick up unfinished jobs from history (all, or those in `job_ids`). Jobs with a
        remote id are polled, never submitted again; a submit with an unknown outcome is
        looked up in the provider's job list where there is one; jobs another live process
        works on are left to it. `fresh_deadline` gives each a new deadline from now (a
        user's Retry) instead of a short look past an expired one. Without
        `include_attention`, jobs waiting in needs_attention stay as they are: a window
        adopting the jobs of a Restyle that died uses that, and only a user retries them."""
        wanted = set(job_ids) if job_ids is not None else None
        report = ResumeReport()
        for job in await self._db(self.history.unfinished):
            if (wanted is not None and job.id not in wanted) or job.id in self._tasks \
                    or job.id in self._starting:  # run here already (see start_queued)
                continue
            if not include_attention and job.state == JobState.NEEDS_ATTENTION:
                continue
            if self._left_to_workers(job, asked=wanted is not None):
                continue
            self._starting.add(job.id)
            try:
                claim = await self._db(self.ledger.claim, job.id)
                if not claim.ok:
                    if claim.job is not None and not claim.job.state.terminal:
                        report.left_alone.append((claim.job,
                                                  claim.holder or "another Restyle"))
                    continue
                assert claim.job is not None
                job = claim.job
                self._current[job.id] = job
                self._stored_links.pop(job.id, None)  # as read: others may have written
                await self._take_up(job, fresh_deadline, report)
            finally:
                self._starting.discard(job.id)
        return report

    def _left_to_workers(self, job: Job, *, asked: bool) -> bool:
        """A job waiting in a team queue this engine does not serve is the workers' to run:
        never sent, it is left alone even when asked for (it is not "closed before it was
        sent", it waits its turn); sent, only a caller asking for it by id collects it."""
        if job.queue is None or job.queue in self.queues:
            return False
        if not asked:
            return True
        return not (job.remote_id or job.may_be_charged or job.submitted_at is not None
                    or job.state == JobState.NEEDS_ATTENTION)

    async def _take_up(self, job: Job, fresh_deadline: bool, report: ResumeReport) -> None:
        """A job this engine has just claimed: follow it from where it is. A remote id is only
        polled, a submit with an unknown outcome reconciled, a team job never sent is sent
        (a worker's engine), any other job never sent closed as not sent."""
        try:
            provider = self.provider(job.provider)
        except InvalidInput:
            log.warning("Cannot resume job %s: provider %s is unknown", job.id, job.provider)
            await self._db(self.ledger.release, job.id)
            report.waiting.append(job)
            return
        sent = job.may_be_charged or job.submitted_at is not None
        if job.remote_id:
            self._start(job, self._resume_remote(provider, job, fresh_deadline))
            report.resumed.append(job)
        elif sent or job.state == JobState.NEEDS_ATTENTION:
            if provider.supports_reconcile:
                self._start(job, self._resume_reconcile(provider, job, fresh_deadline))
                report.resumed.append(job)
            else:
                await self._attention(job.id, outcomes.unknown_outcome(provider, None)
                                      if job.error is None
                                      or job.error.code != ErrorCode.UNKNOWN_OUTCOME
                                      else job.error)
                report.waiting.append(self._current[job.id])
        elif job.queue is not None and job.queue in self.queues:
            self._start(job, self._run_queued(provider, job))
            report.resumed.append(job)
        else:
            await self._finish(job.id, JobState.CANCELLED,
                               JobError(ErrorCode.CANCELLED, NOT_SENT))
            report.closed.append(self._current[job.id])

    async def retry(self, job_id: str) -> ResumeReport:
        """The user's Retry on a job that needs attention: collect it now, with a new
        deadline."""
        return await self.resume([job_id], fresh_deadline=True)

    def _deadline_for(self, job: Job, fresh: bool) -> Job:
        """A resumed job's deadline: a new one on Retry; otherwise a job past its deadline
        still gets a short look, as it may have finished."""
        now = self._clock()
        if fresh:
            until = now + (job.spec.deadline_s or self.policy.deadline(job.provider))
        elif job.deadline_at is None or job.deadline_at < now + 15.0:
            until = now + 15.0
        else:
            return job
        return job.evolve(deadline_at=until)

    async def _resume_remote(self, provider: Provider, job: Job, fresh: bool, *,
                             message: str = "Resumed.") -> None:
        async with self._slots(job.provider, job.id):
            ref = RemoteRef(job.remote_id or "", job.remote_data, job.cost_credits)
            job = await self._transition(self._deadline_for(job, fresh), JobState.RUNNING,
                                         error=None, message=message)
            await self._follow(provider, job, ref)

    async def _resume_reconcile(self, provider: Provider, job: Job, fresh: bool) -> None:
        async with self._slots(job.provider, job.id):
            pjob = await self._cpu_run(rebuild_prepared, self.history, self.assets, job)
            if pjob is None:
                raise NeedsAttention(outcomes.unknown_outcome(provider, None))
            ref = await self._reconcile(provider, self._current[job.id], pjob, None)
            job = await self._accepted(self._deadline_for(self._current[job.id], fresh), ref)
            await self._follow(provider, job, ref)

    async def delete(self, job_id: str) -> None:
        """Delete a job that nobody is working on, and every file no other job uses."""
        if job_id in self._tasks:
            raise InvalidInput("This job is still running; cancel it before deleting it.")
        stored = await self._db(self.history.get, job_id)
        if stored is not None and not stored.state.terminal:
            claim = await self._db(self.ledger.claim, job_id)
            if not claim.ok and claim.holder:
                raise InvalidInput(f"This job is being worked on by {claim.holder}; cancel it"
                                   " there before deleting it.")
        orphans = await self._db(self.history.delete_job, job_id)
        await self._cpu_run(self.assets.remove, orphans)
        self._current.pop(job_id, None)
        self._stored_links.pop(job_id, None)

    async def aclose(self) -> None:
        """Stop: jobs a provider may have accepted stay resumable (a submit on its way gets a
        few seconds to be answered), jobs never sent are closed honestly, leases released."""
        if self._closed:
            return
        self._closed = True
        tasks = {jid: t for jid, t in self._tasks.items() if not t.done()}
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job_id in list(self._unstarted):
            await self._close_unstarted(job_id, cancel=False)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        try:
            await self._db(self.ledger.release)
        except HistoryError as exc:
            log.warning("Releasing job leases failed: %s", exc)
        for provider in [*self._providers.values(), *self._retired]:
            try:
                await provider.aclose()
            except Exception:
                log.exception("Closing provider %s failed", provider.id)
        if self.slot_gate is not None:
            try:
                await self.slot_gate.close()
            except Exception:
                log.exception("Closing the team's slot gate failed")
        self._end_event_streams()
        self._cpu.shutdown(wait=False, cancel_futures=True)
        self._db_thread.shutdown(wait=True)
