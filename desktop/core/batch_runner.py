"""Running a batch: its pending items fed to the engine a few at a time, within its budget.

The runner keeps no state of its own that matters: the batch and its items live in the
history, so a batch survives quitting Restyle or a crash and another process (the window, a
`restyle-cli batch resume`) can carry it on. Rules:

- an item is claimed (compare-and-swap in the history) with the id its job will have before
  the job is made, so two processes feeding one batch never send an item twice; an item whose
  job never came to exist, or was closed before it was sent, goes back to pending;
- a job the provider accepted is never sent again: it belongs to the engine (resume, retry);
- pause sends nothing new (accepted jobs finish); cancel also stops jobs not yet sent;
- the budget counts what started jobs cost (their actual credits where known, else the
  expected ones) and never lets a new item go over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.batches import (
    Batch,
    BatchItem,
    BatchState,
    ItemState,
    Matrix,
    Plan,
    apply_budget,
    expand,
    make_plan,
    priced,
)
from desktop.core.contract import ProviderError
from desktop.core.engine import JobEngine
from desktop.core.model import InvalidInput, Job, JobEvent, JobState
from desktop.core.store.batches import BatchStore

log = logging.getLogger(__name__)

#: How often a running batch looks at its state in the history (pause or cancel from another
#: process) while it waits for its jobs.
CHECK_EVERY_S = 1.0

ENDED = (JobState.FAILED, JobState.TIMED_OUT, JobState.CANCELLED)


@dataclass(frozen=True)
class BatchProgress:
    """One progress for the whole batch."""

    state: BatchState
    total: int
    done: int
    failed: int
    waiting: int
    running: int
    left: int
    over_budget: int
    refused: int
    cancelled: int
    credits_spent: float
    eta_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"state": str(self.state), "total": self.total, "done": self.done,
                "failed": self.failed, "needs_attention": self.waiting,
                "running": self.running, "left": self.left, "over_budget": self.over_budget,
                "refused": self.refused, "cancelled": self.cancelled,
                "credits_spent": self.credits_spent, "eta_s": self.eta_s}


def progress_of(batch: Batch, items: Sequence[BatchItem], jobs: Mapping[str, Job],
                concurrency: int = 1) -> BatchProgress:
    counts = {"done": 0, "failed": 0, "waiting": 0, "running": 0}
    spent = 0.0
    durations: list[float] = []
    for item in items:
        job = jobs.get(item.job_id or "") if item.state == ItemState.STARTED else None
        if item.state != ItemState.STARTED:
            continue
        if job is None:
            counts["running"] += 1  # claimed, its job being made
            continue
        if job.cost_credits is not None:
            spent += job.cost_credits
        if job.state == JobState.SUCCEEDED:
            counts["done"] += 1
            if job.duration_ms is not None:
                durations.append(job.duration_ms / 1000)
        elif job.state in ENDED:
            counts["failed"] += 1
        elif job.state == JobState.NEEDS_ATTENTION:
            counts["waiting"] += 1
        else:
            counts["running"] += 1
    left = sum(1 for i in items if i.state == ItemState.PENDING)
    eta = None
    if durations and batch.state == BatchState.RUNNING and (left or counts["running"]):
        eta = statistics.median(durations) * (left + counts["running"]) / max(1, concurrency)
    return BatchProgress(
        state=batch.state, total=len(items), left=left, credits_spent=spent, eta_s=eta,
        over_budget=sum(1 for i in items if i.state == ItemState.OVER_BUDGET),
        refused=sum(1 for i in items if i.state == ItemState.REFUSED),
        cancelled=sum(1 for i in items if i.state == ItemState.CANCELLED),
        **counts,
    )


class BatchRunner:
    def __init__(self, engine: JobEngine, store: BatchStore, *,
                 prices: Mapping[str, float] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.store = store
        self.history = store.history
        self.prices = dict(prices or {})
        self._clock = clock
        self._changed = asyncio.Event()
        self._unsubscribe = engine.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: JobEvent) -> None:
        if event.job.state.terminal or event.job.state == JobState.NEEDS_ATTENTION:
            self._changed.set()

    async def _db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # -- planning ----------------------------------------------------------------------------
    def plan(self, matrix: Matrix, *, budget: float | None = None,
             deadline_s: float | None = None) -> tuple[list[BatchItem], Plan]:
        """The items a matrix makes, priced where the provider publishes prices, with the
        budget applied, and the plan to confirm. Stores nothing."""
        items = priced(expand(matrix, deadline_s=deadline_s), self._estimate)
        items = self._refuse_unknown(items)
        items = apply_budget(items, budget)
        return items, make_plan(items, prices=self.prices, budget=budget)

    def _estimate(self, item: BatchItem) -> float | None:
        try:
            provider = self.engine.provider(item.provider)
        except InvalidInput:
            return None
        task = provider.task(item.spec.task)
        if task is None:
            return None
        try:
            params = task.validate(item.spec.inputs, dict(item.spec.params))
        except InvalidInput:
            params = dict(item.spec.params)
        cost = provider.estimate_cost(item.spec.task, params)
        if cost is None and provider.resubmit_safe:
            # A provider that is safe to resubmit runs here and charges nothing (the offline
            # one): it costs 0 credits, so a budget never keeps it out "for want of a price".
            return 0.0
        return cost

    def _refuse_unknown(self, items: list[BatchItem]) -> list[BatchItem]:
        """Items a provider cannot run at all (no such task, too many garments) are refused
        in the plan already, with the reason."""
        result = []
        for item in items:
            try:
                provider = self.engine.provider(item.provider)
                task = provider.task(item.spec.task)
                if task is None:
                    raise InvalidInput(f"{provider.title} cannot do '{item.spec.task}'.")
                task.validate(item.spec.inputs, dict(item.spec.params))
            except InvalidInput as exc:
                item = item.evolve(state=ItemState.REFUSED, note=str(exc))
            result.append(item)
        return result

    async def create(self, name: str, matrix: Matrix, items: Sequence[BatchItem], *,
                     budget: float | None = None) -> Batch:
        """Store a planned batch, ready to run."""
        now = self._clock()
        batch = Batch(id=uuid.uuid4().hex, name=name.strip() or _default_name(matrix),
                      task=matrix.task, state=BatchState.RUNNING, matrix=matrix,
                      budget_credits=budget, created_at=now, updated_at=now)
        await self._db(self.store.create, batch, list(items))
        return batch

    # -- running -----------------------------------------------------------------------------
    async def run(self, batch_id: str, *, first_wave: bool = False) -> BatchProgress:
        """Feed the batch's pending items while it runs; return when nothing is left to send
        and none of its jobs is running (paused: once the jobs already sent are done). With
        `first_wave`, return as soon as every free slot has a job. Safe to call again after a
        crash, and from several processes at once: see the module's rules."""
        await self._recover(batch_id)
        while True:
            batch = await self._db(self.store.get, batch_id)
            if batch is None:
                raise KeyError(batch_id)
            items = await self._db(self.store.items, batch_id)
            jobs = await self._jobs(items)
            running = [j for j in jobs.values() if not j.state.terminal
                       and j.state != JobState.NEEDS_ATTENTION]
            pending = [i for i in items if i.state == ItemState.PENDING]
            if batch.state == BatchState.RUNNING and pending:
                item = self._next(pending, running)
                if item is not None:
                    await self._send(batch, items, jobs, item)
                    continue
                if first_wave:
                    break  # every slot is busy
            elif first_wave or not running:
                break
            await self._wait_for_change()
        return await self._finish(batch_id)

    def _next(self, pending: Sequence[BatchItem], running: Sequence[Job]) -> BatchItem | None:
        """The first pending item whose provider has a free slot (the engine's limits)."""
        policy = self.engine.policy
        if len(running) >= max(1, policy.global_limit):
            return None
        busy: dict[str, int] = {}
        for job in running:
            busy[job.provider] = busy.get(job.provider, 0) + 1
        for item in pending:
            if busy.get(item.provider, 0) < policy.provider_limit(item.provider):
                return item
        return None

    async def _send(self, batch: Batch, items: Sequence[BatchItem], jobs: Mapping[str, Job],
                    item: BatchItem) -> None:
        if batch.budget_credits is not None:
            spent = _committed(items, jobs)
            [checked] = apply_budget([item], batch.budget_credits, spent)
            if checked.state == ItemState.OVER_BUDGET:
                await self._db(self.store.update_item, batch.id, checked)
                return
        job_id = uuid.uuid4().hex
        if not await self._db(self.store.claim_item, batch.id, item.position, job_id):
            return  # another process took it
        try:
            prepared = await self.engine.prepare(item.spec)
            await self.engine.submit(item.spec, prepared, job_id=job_id)
        except (InvalidInput, ProviderError) as exc:
            refused = item.evolve(state=ItemState.REFUSED, job_id=None,
                                  attempts=item.attempts + 1, note=str(exc))
            await self._db(self.store.update_item, batch.id, refused)

    async def enqueue(self, batch_id: str, *, queue: str,
                      hand_over: Callable[[Job], Awaitable[object]]) -> int:
        """Team mode: every pending item becomes a job waiting in the task queue `queue` (its
        inputs in the shared asset store), handed to the team's workers by `hand_over`; the
        budget applies as when the batch runs here. Returns how many jobs now wait in the
        queue for a worker (new ones, and ones held back while the batch was paused).

        An item is claimed before its job is made, as `run` does; a job stored but not handed
        over (a crash in between) is found by the workers' sweep all the same. Jobs of the
        batch that wait unsent (held back while it was paused) are handed over again too; a
        job already in the queue stays there once."""
        batch = await self._db(self.store.get, batch_id)
        if batch is None:
            raise KeyError(batch_id)
        items = await self._db(self.store.items, batch_id)
        spent = _committed(items, {})
        queued = 0
        for item in items:
            if item.state != ItemState.PENDING:
                continue
            if batch.budget_credits is not None:
                [checked] = apply_budget([item], batch.budget_credits, spent)
                if checked.state == ItemState.OVER_BUDGET:
                    await self._db(self.store.update_item, batch.id, checked)
                    continue
            job_id = uuid.uuid4().hex
            if not await self._db(self.store.claim_item, batch.id, item.position, job_id):
                continue  # another process took it
            try:
                prepared = await self.engine.prepare(item.spec)
                job = await self.engine.enqueue(item.spec, prepared, queue=queue,
                                                job_id=job_id)
            except (InvalidInput, ProviderError) as exc:
                refused = item.evolve(state=ItemState.REFUSED, job_id=None,
                                      attempts=item.attempts + 1, note=str(exc))
                await self._db(self.store.update_item, batch.id, refused)
                continue
            spent += item.expected_credits or 0.0
            queued += 1
            await hand_over(job)
        for job in (await self._jobs(items)).values():
            if job.state == JobState.QUEUED and job.queue is not None and job.owner is None \
                    and job.submitted_at is None and job.remote_id is None:
                await hand_over(job)
                queued += 1
        return queued

    async def settle(self, batch_id: str) -> BatchProgress:
        """The batch's progress, marking it finished once nothing is left to send or running
        (a worker calls this when one of a team batch's jobs ends)."""
        return await self._finish(batch_id)

    async def _wait_for_change(self) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), CHECK_EVERY_S)

    async def _jobs(self, items: Sequence[BatchItem]) -> dict[str, Job]:
        ids = [i.job_id for i in items if i.job_id and i.state == ItemState.STARTED]

        def load() -> dict[str, Job]:
            found: dict[str, Job] = {}
            for job_id in ids:
                job = self.engine.get(job_id) or self.history.get(job_id)
                if job is not None:
                    found[job_id] = job
            return found

        return await asyncio.to_thread(load)

    async def _recover(self, batch_id: str) -> None:
        """Items whose job never came to exist, or was closed before anything was sent, go
        back to pending; jobs of the batch nobody works on are resumed by the engine."""
        items = await self._db(self.store.items, batch_id)
        jobs = await self._jobs(items)
        for item in items:
            if item.state != ItemState.STARTED or item.job_id is None:
                continue
            job = jobs.get(item.job_id)
            if job is None or (job.state == JobState.CANCELLED and job.submitted_at is None
                               and job.remote_id is None):
                await self._db(self.store.update_item, batch_id,
                               item.evolve(state=ItemState.PENDING, job_id=None))
        unfinished = [j.id for j in jobs.values() if not j.state.terminal
                      and j.state != JobState.NEEDS_ATTENTION and j.id not in
                      self.engine.running_ids]
        if unfinished:
            await self.engine.resume(unfinished, include_attention=False)

    async def _finish(self, batch_id: str) -> BatchProgress:
        batch = await self._db(self.store.get, batch_id)
        items = await self._db(self.store.items, batch_id)
        jobs = await self._jobs(items)
        progress = progress_of(batch, items, jobs, self.engine.policy.global_limit)
        if batch.state == BatchState.RUNNING and not progress.left and not progress.running:
            await self._db(self.store.set_state, batch_id, BatchState.FINISHED)
            batch = await self._db(self.store.get, batch_id)
            progress = progress_of(batch, items, jobs, self.engine.policy.global_limit)
        return progress

    # -- controls ----------------------------------------------------------------------------
    async def progress(self, batch_id: str) -> BatchProgress:
        batch = await self._db(self.store.get, batch_id)
        if batch is None:
            raise KeyError(batch_id)
        items = await self._db(self.store.items, batch_id)
        return progress_of(batch, items, await self._jobs(items),
                           self.engine.policy.global_limit)

    async def pause(self, batch_id: str) -> None:
        """Send nothing new; jobs already sent finish."""
        batch = await self._db(self.store.get, batch_id)
        if batch is not None and batch.state == BatchState.RUNNING:
            await self._db(self.store.set_state, batch_id, BatchState.PAUSED)
            self._changed.set()

    async def resume(self, batch_id: str) -> None:
        """Let a paused (or finished with items left) batch send again; `run` does the
        sending."""
        batch = await self._db(self.store.get, batch_id)
        if batch is not None and batch.state in (BatchState.PAUSED, BatchState.FINISHED):
            await self._db(self.store.set_state, batch_id, BatchState.RUNNING)
            self._changed.set()

    async def cancel(self, batch_id: str) -> int:
        """Send nothing more and stop the jobs not yet sent; jobs a provider accepted finish
        (they are paid for). Returns how many items will never be sent."""
        await self._db(self.store.set_state, batch_id, BatchState.CANCELLED)
        self._changed.set()
        items = await self._db(self.store.items, batch_id)
        jobs = await self._jobs(items)
        stopped = 0
        for item in items:
            if item.state == ItemState.PENDING:
                await self._db(self.store.update_item, batch_id, item.evolve(
                    state=ItemState.CANCELLED, note="Not sent: the batch was cancelled."))
                stopped += 1
            elif item.job_id and item.job_id in jobs:
                job = jobs[item.job_id]
                if job.state in (JobState.QUEUED, JobState.PREPARING):
                    await self.engine.cancel(job.id)
                    stopped += 1
        return stopped

    async def retry_failed(self, batch_id: str) -> int:
        """Send the items whose job failed (or was cancelled or timed out) again, as new jobs
        within the budget; jobs waiting for attention are collected by their own Retry, never
        sent again. Returns how many items will be sent again."""
        items = await self._db(self.store.items, batch_id)
        jobs = await self._jobs(items)
        again = 0
        for item in items:
            job = jobs.get(item.job_id or "")
            if item.state == ItemState.STARTED and job is not None and job.state in ENDED:
                await self._db(self.store.update_item, batch_id, item.evolve(
                    state=ItemState.PENDING, job_id=None,
                    note=f"Sent again after job {job.id[:8]} {job.state.title.lower()}."))
                again += 1
        if again:
            await self._db(self.store.set_state, batch_id, BatchState.RUNNING)
            self._changed.set()
        return again


def _committed(items: Sequence[BatchItem], jobs: Mapping[str, Job]) -> float:
    """What the batch's started jobs cost or will cost: actual credits where known, else the
    expected ones."""
    total = 0.0
    for item in items:
        if item.state != ItemState.STARTED:
            continue
        job = jobs.get(item.job_id or "")
        if job is not None and job.cost_credits is not None:
            total += job.cost_credits
        elif item.expected_credits is not None:
            total += item.expected_credits
    return total


def _default_name(matrix: Matrix) -> str:
    providers = ", ".join(matrix.providers)
    return f"{matrix.task}: {len(matrix.rows)} x {len(matrix.variants)} on {providers}"
