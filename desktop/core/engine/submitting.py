"""Running a new job: inputs stored, the submit sent once, then followed to its result.

The submit is the one moment a job can be lost or paid twice, so it is handled with care:

- it runs in its own task, shielded: Cancel, Ctrl+C or closing Restyle while it is on its way
  wait (up to `EnginePolicy.submit_grace_s`) for the provider's answer, so an accepted job is
  recorded with its remote id rather than forgotten;
- when the answer never comes (or cannot be read), the outcome is unknown: the provider's job
  list is searched where it has one (`Provider.reconcile`); otherwise the job waits in "needs
  attention" saying the provider may have created and charged for it;
- only a clear refusal (or a failure before anything left this computer) fails the job.
"""

from __future__ import annotations

import asyncio
import logging

from desktop.core.contract import PreparedJob, Provider, ProviderError, RemoteRef
from desktop.core.engine import outcomes
from desktop.core.engine.collecting import CollectingMixin
from desktop.core.engine.outcomes import JobEnded, NeedsAttention
from desktop.core.engine.polling import PollingMixin
from desktop.core.engine.preparing import PreparedSpec, rebuild_prepared, store_inputs
from desktop.core.humanize import human_duration
from desktop.core.model import EventKind, Job, JobEvent, JobState

log = logging.getLogger("desktop.core.engine")

#: How often the job list is searched again while a submit may still be in the making.
RECONCILE_EVERY_S = 5.0


class SubmittingMixin(PollingMixin, CollectingMixin):
    async def _run_new(self, job: Job, prepared: PreparedSpec) -> None:
        provider = self.provider(job.provider)
        async with self._slots(job.provider, job.id):
            await self._check_still_ours(job.id)
            now = self._clock()
            deadline_s = job.spec.deadline_s or self.policy.deadline(job.provider)
            job = await self._transition(job, JobState.PREPARING, started_at=now,
                                         deadline_at=now + deadline_s)
            assets, inputs = await self._cpu_run(store_inputs, self.assets, prepared)
            job = await self._transition(job, JobState.SUBMITTING, attempts=job.attempts + 1,
                                         inputs=inputs, assets=assets,
                                         submitted_at=self._clock())
            pjob = PreparedJob(job_id=job.id, task=job.task, inputs=prepared.inputs,
                               params=job.spec.params)
            ref = await self._submit_once(provider, job, pjob)
            await self._follow(provider, self._current[job.id], ref)

    async def _run_queued(self, provider: Provider, job: Job) -> None:
        """A job that waited in the team's queue, never sent: its inputs are read back from
        the (shared) asset store, then it is sent once and followed like a new job."""
        async with self._slots(job.provider, job.id):
            await self._check_still_ours(job.id)
            if self.send_check is not None:
                await self.send_check(self._current[job.id])
            now = self._clock()
            deadline_s = job.spec.deadline_s or self.policy.deadline(job.provider)
            job = await self._transition(self._current[job.id], JobState.PREPARING,
                                         started_at=now, deadline_at=now + deadline_s)
            pjob = await self._cpu_run(rebuild_prepared, self.history, self.assets, job)
            if pjob is None:
                raise JobEnded(outcomes.inputs_missing(), JobState.FAILED)
            job = await self._transition(job, JobState.SUBMITTING, attempts=job.attempts + 1,
                                         submitted_at=self._clock())
            ref = await self._submit_once(provider, job, pjob)
            await self._follow(provider, self._current[job.id], ref)

    async def _follow(self, provider: Provider, job: Job, ref: RemoteRef) -> None:
        """Poll an accepted job until the provider's verdict, then collect its results."""
        status = await self._poll_within_deadline(provider, job, ref)
        await self._collect(provider, self._current[job.id], ref, status)

    async def _accepted(self, job: Job, ref: RemoteRef) -> Job:
        """Record the remote id at once: from here on the job is resumable and never
        submitted again."""
        return await self._transition(
            job, JobState.RUNNING, remote_id=ref.remote_id, remote_data=ref.data, error=None,
            cost_credits=ref.cost_credits if ref.cost_credits is not None else job.cost_credits,
        )

    async def _submit_once(self, provider: Provider, job: Job, pjob: PreparedJob
                           ) -> RemoteRef:
        """Send the job and record the answer, even when Restyle is being stopped meanwhile."""
        sending = asyncio.ensure_future(self._submit_or_reconcile(provider, job, pjob))
        try:
            ref = await asyncio.shield(sending)
        except asyncio.CancelledError:
            await self._answer_before_stopping(provider, job, sending)
            raise
        await self._accepted(self._current[job.id], ref)
        return ref

    async def _answer_before_stopping(self, provider: Provider, job: Job,
                                      sending: asyncio.Future[RemoteRef]) -> None:
        """We are being cancelled while the submit is on its way: wait briefly for the
        answer and record what is known, so the caller's stop is honest."""
        grace = max(0.0, self.policy.submit_grace_s)
        if provider.resubmit_safe:
            grace = 0.0  # runs on this computer: stopping it loses nothing and costs nothing
        if not sending.done() and grace > 0:
            self._announce_progress(
                job, f"Waiting up to {human_duration(grace)} for {provider.title} to confirm it "
                "received this job before stopping.")
            await asyncio.wait({sending}, timeout=grace)
        if not sending.done():
            sending.cancel()
            await asyncio.wait({sending})
            if provider.resubmit_safe:
                return
            await self._transition(self._current[job.id], JobState.NEEDS_ATTENTION,
                                   error=outcomes.unknown_outcome(provider, None))
            return
        if sending.cancelled():
            return
        error = sending.exception()
        if error is None:
            await self._accepted(self._current[job.id], sending.result())
        elif isinstance(error, NeedsAttention):
            await self._transition(self._current[job.id], JobState.NEEDS_ATTENTION,
                                   error=error.error)
        elif isinstance(error, JobEnded):  # refused: the provider's verdict, nothing created
            await self._transition(self._current[job.id], error.state, error=error.error,
                                   finished_at=self._clock())

    def _announce_progress(self, job: Job, message: str) -> None:
        self._announce(JobEvent(kind=EventKind.PROGRESS, job=self._current.get(job.id, job),
                                message=message))

    async def _submit_or_reconcile(self, provider: Provider, job: Job, pjob: PreparedJob
                                   ) -> RemoteRef:
        """The provider's answer to one submit: its RemoteRef, JobEnded when it refused the
        job, NeedsAttention when it may or may not have created it."""
        try:
            return await provider.submit(pjob)
        except ProviderError as exc:
            if not outcomes.is_unknown_outcome(exc):
                raise JobEnded(outcomes.rejected(exc)) from None
            return await self._reconcile(provider, job, pjob, exc)

    async def _reconcile(self, provider: Provider, job: Job, pjob: PreparedJob,
                         exc: ProviderError | None) -> RemoteRef:
        """Find a job whose submit had an unknown outcome in the provider's job list. A miss
        soon after the submit was sent proves nothing (the service may still be creating
        it): the list is searched again once `reconcile_settle_s` has passed."""
        if not provider.supports_reconcile:
            raise NeedsAttention(outcomes.unknown_outcome(provider, exc))
        log.info("Submit of %s had an unknown outcome; reconciling", pjob.job_id)
        ref = await self._look_up(provider, pjob, exc)
        sent = job.submitted_at if job.submitted_at is not None else job.created_at
        settled = sent + self.policy.reconcile_settle_s
        told = False
        while ref is None and (remaining := settled - self._clock()) > 0:
            if not told:
                self._announce_progress(
                    job, f"{provider.title} has no record of this job yet; it may still be "
                    f"creating it. Restyle keeps looking for {human_duration(remaining)}.")
                told = True
            await self._sleep(min(remaining, RECONCILE_EVERY_S))
            ref = await self._look_up(provider, pjob, exc)
        if ref is not None:
            return ref
        if exc is None:
            raise JobEnded(outcomes.not_created_after_stop(provider))
        raise JobEnded(outcomes.not_created(provider, exc))

    async def _look_up(self, provider: Provider, pjob: PreparedJob,
                       exc: ProviderError | None) -> RemoteRef | None:
        try:
            return await provider.reconcile(pjob)
        except ProviderError as lookup:
            log.info("Reconciling %s failed: %s", pjob.job_id, lookup.code)
            raise NeedsAttention(outcomes.unknown_outcome(provider, exc)) from None
