"""Following an accepted job: polling on the provider's schedule until its verdict, within the
job's deadline.

Only the provider's verdict ends a job here. A poll that fails is tried again: with backoff
while the failure is transient (rate limits, outages), a few times for the rest (a 401 or 404
that may pass), after which the job waits in "needs attention" instead of failing. A missing
key or base URL sends it there at once. A deadline cancels the job where the provider can
cancel; where it cannot, the job waits too, still collectable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from desktop.core.contract import (
    Provider,
    ProviderError,
    RemoteRef,
    RemoteState,
    RemoteStatus,
)
from desktop.core.engine import outcomes
from desktop.core.engine.base import EngineBase
from desktop.core.engine.outcomes import (
    FIX_FIRST,
    TRANSIENT,
    CancelRequested,
    JobEnded,
    NeedsAttention,
)
from desktop.core.engine.preparing import rebuild_prepared
from desktop.core.humanize import human_duration
from desktop.core.model import ErrorCode, EventKind, Job, JobError, JobState
from desktop.core.store import LeaseLost


class _DeadlinePassed(Exception):
    pass


class PollingMixin(EngineBase):
    @contextlib.asynccontextmanager
    async def _deadline(self, job: Job) -> AsyncIterator[None]:
        """Bound polling by the job's deadline (submits and downloads are not: a submit on
        its way is never cut off, and a finished, paid result is always fetched)."""
        assert job.deadline_at is not None
        remaining = job.deadline_at - self._clock()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + max(remaining, 0.0)) as scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise
            raise _DeadlinePassed from None

    async def _poll_within_deadline(self, provider: Provider, job: Job, ref: RemoteRef
                                    ) -> RemoteStatus:
        try:
            async with self._deadline(job):
                return await self._poll_until_done(provider, job, ref)
        except _DeadlinePassed:
            pass
        current = self._current.get(job.id, job)
        # What the user set (a retry starts a new deadline of the same length), never the
        # time since the job first started.
        allowed = min((current.deadline_at or 0) - (current.started_at or current.created_at),
                      current.spec.deadline_s or self.policy.deadline(current.provider))
        failure: str | None = None
        if provider.supports_cancel:
            try:
                await provider.cancel(RemoteRef(current.remote_id or ref.remote_id,
                                                current.remote_data))
            except ProviderError as exc:
                failure = exc.message
            else:
                raise JobEnded(outcomes.deadline_cancelled(provider, allowed),
                               JobState.TIMED_OUT)
        raise NeedsAttention(outcomes.deadline_passed(provider, allowed, failure))

    async def _poll_until_done(self, provider: Provider, job: Job, ref: RemoteRef
                               ) -> RemoteStatus:
        interval = self.policy.poll_intervals.get(job.provider, provider.poll_interval)
        transient = 0
        persistent = 0
        resubmitted = False
        while True:
            await self._check_still_ours(job.id)
            try:
                status = await provider.poll(ref)
            except ProviderError as exc:
                if exc.code == ErrorCode.NOT_FOUND and provider.resubmit_safe and not resubmitted:
                    ref = await self._resubmit(provider, job)
                    job = self._current[job.id]
                    resubmitted = True
                    continue
                if exc.code in FIX_FIRST:
                    raise NeedsAttention(outcomes.poll_problem(provider, exc)) from None
                if exc.code in TRANSIENT:
                    transient += 1
                    failures = transient
                else:
                    persistent += 1
                    failures = persistent
                    if persistent >= max(1, self.policy.poll_attention_after):
                        raise NeedsAttention(outcomes.poll_problem(provider, exc)) from None
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
            transient = persistent = 0
            job = self._current[job.id]
            if status.state == RemoteState.SUCCEEDED:
                return status  # its progress and message are stored with the download's start
            if status.progress != job.progress or (status.message and status.message != job.note):
                job = await self._save(
                    job.evolve(progress=status.progress, note=status.message or job.note),
                    kind=EventKind.PROGRESS, message=status.message,
                )
            if status.state.terminal:
                return status
            await self._sleep(self._next_delay(interval, job, status))

    async def _check_still_ours(self, job_id: str) -> None:
        """Between polls: stop if another process took the job over or deleted it, and act on
        a cancel another process asked for."""
        stored = await self._db(self.history.control, job_id)
        if stored is None or (stored.owner is not None and stored.owner != self.ledger.owner):
            raise LeaseLost(job_id)
        if stored.cancel_requested:
            raise CancelRequested(job_id)
        if stored.state == JobState.CANCELLED:  # written by an older Restyle
            full = await self._db(self.history.get, job_id)
            error = full.error if full is not None else None
            raise JobEnded(error or JobError(ErrorCode.CANCELLED, "Cancelled."),
                           JobState.CANCELLED)

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
        pjob = await self._cpu_run(rebuild_prepared, self.history, self.assets, job)
        if pjob is None:
            raise JobEnded(JobError(
                ErrorCode.RESULT_UNAVAILABLE,
                "An input of this job is no longer in the asset store; run it again.",
            ))
        ref = await provider.submit(pjob)
        await self._transition(self._current[job.id], JobState.RUNNING, remote_id=ref.remote_id,
                               remote_data=ref.data, attempts=job.attempts + 1)
        return ref
