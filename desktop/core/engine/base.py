"""What every part of the engine shares: the history, the provider instances, the worker
threads, the observers, the ledger, and the one way a job's state changes (`_save`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from desktop.core.assets import AssetStore
from desktop.core.contract import Provider
from desktop.core.engine.ledger import Ledger
from desktop.core.engine.policy import EnginePolicy
from desktop.core.engine.preparing import Preparer, SourceLoader
from desktop.core.limits import Limits
from desktop.core.model import (
    Asset,
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobError,
    JobEvent,
    JobState,
    Output,
)
from desktop.core.redaction import redact_text
from desktop.core.store import History

log = logging.getLogger("desktop.core.engine")

T = TypeVar("T")

ProviderFactory = Callable[[str], Provider]
Observer = Callable[[JobEvent], None]


class SlotsBusy(Exception):
    """A slot gate gave up waiting for a free slot: the job is let go as it is (a job never
    sent back to its queue), for its worker to hand it to the queue again. A worker must not
    sit on its own concurrency waiting: the slots may be held by jobs that only another
    worker, free to take them, can finish."""


class HeldBack(Exception):
    """A queued job that must not be sent now (team mode: its batch is paused): let go as it
    is, unsent and back in its queue's hands, with `reason` as what its event says."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: Team mode: asked right before a queued job is sent (its slot held). It raises HeldBack to
#: keep the job queued, or CancelRequested to close it unsent; returns to let it go out.
SendCheck = Callable[[Job], Awaitable[None]]


class SlotGate(Protocol):
    """Concurrency limits shared beyond this process (team mode: desktop/team/slots.py).

    `hold(provider, job_id, limit)` waits until the job has one of the provider's `limit`
    slots and keeps it for the block. A slot belongs to the job, not to the process: a job
    the provider may still be working on when its process stops (or dies) keeps its slot, and
    whoever takes the job over finds it again. It may raise SlotsBusy instead of waiting on."""

    def hold(self, provider_id: str, job_id: str, limit: int
             ) -> AbstractAsyncContextManager[None]: ...

    async def close(self) -> None:
        """Let go of what the gate holds open (the engine calls it when it closes)."""


class EngineBase:
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
        label: str = "Restyle",
        limits: Limits | None = None,
        slot_gate: SlotGate | None = None,
        queues: frozenset[str] = frozenset(),
        send_check: SendCheck | None = None,
    ) -> None:
        self.history = history
        self.assets = assets
        self.policy = policy or EnginePolicy()
        self._provider_factory = providers
        self._providers: dict[str, Provider] = {}
        self._retired: list[Provider] = []
        self._preparer = Preparer(self._cpu_run, load_url, limits)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._cpu = ThreadPoolExecutor(
            max_workers=workers or max(2, os.cpu_count() or 2), thread_name_prefix="restyle-cpu"
        )
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restyle-db")
        self.ledger = Ledger(history, label=label, lease_s=self.policy.lease_s, clock=clock)
        #: Team mode: the team-wide provider limits, and the task queues this engine runs the
        #: jobs of (a worker's); jobs waiting in other queues are left to the team's workers.
        self.slot_gate = slot_gate
        self.queues = queues
        self.send_check = send_check
        self._global_slots: asyncio.Semaphore | None = None
        self._provider_slots: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._current: dict[str, Job] = {}
        #: Each job's (inputs, outputs) as this engine last stored them (see `_save`).
        self._stored_links: dict[str, tuple[dict[str, list[str]], tuple[Output, ...]]] = {}
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

    def _end_event_streams(self) -> None:
        for observer in self._observers:
            if isinstance(observer, _QueueObserver):
                observer.queue.put_nowait(None)

    # -- providers ---------------------------------------------------------------------------
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

    @contextlib.asynccontextmanager
    async def _slots(self, provider_id: str, job_id: str | None = None
                     ) -> AsyncIterator[None]:
        """The engine's concurrency limits: per provider and overall; with a slot gate (team
        mode) also the provider's limit across the whole team, held for `job_id`."""
        if self._global_slots is None:
            self._global_slots = asyncio.Semaphore(max(1, self.policy.global_limit))
        slots = self._provider_slots.get(provider_id)
        if slots is None:
            slots = asyncio.Semaphore(self.policy.provider_limit(provider_id))
            self._provider_slots[provider_id] = slots
        async with slots, self._global_slots:
            if self.slot_gate is None or job_id is None:
                yield
                return
            async with self.slot_gate.hold(provider_id, job_id,
                                           self.policy.provider_limit(provider_id)):
                yield

    # -- threads -----------------------------------------------------------------------------
    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, functools.partial(fn, *args, **kwargs))

    async def _cpu_run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._cpu, functools.partial(fn, *args, **kwargs))

    # -- state -------------------------------------------------------------------------------
    async def _save(self, job: Job, *, assets: tuple[Asset, ...] | list[Asset] = (),
                    previous: JobState | None = None, kind: EventKind = EventKind.STATE,
                    message: str = "", retry_at: float | None = None,
                    error_code: ErrorCode | None = None) -> Job:
        """Store, then announce: the only way a job's state changes. The write is fenced by
        this engine's lease (LeaseLost if another process has taken the job over), and every
        text that may quote a provider goes through redaction first."""
        lease_until = self.ledger.lease_until()
        released = job.state.terminal or job.state == JobState.NEEDS_ATTENTION
        # One copy of the job, as stored and as announced: the history takes the owner from
        # the arguments, not from these fields.
        job = job.evolve(updated_at=self._clock(), **_redactions(job),
                         owner=None if released else self.ledger.owner,
                         lease_until=None if released else lease_until)
        # The input and output rows are written again only when they changed since this
        # engine's last save of the job (three of a job's six saves carry no change to them).
        links = (job.inputs, job.outputs)
        await self._db(self.history.save_job, job, assets=tuple(assets),
                       owner=self.ledger.owner, lease_until=lease_until,
                       links=self._stored_links.get(job.id) != links)
        if released:  # saved again only after a claim, which reads its rows afresh
            self._stored_links.pop(job.id, None)
        else:
            self._stored_links[job.id] = links
        self._current[job.id] = job
        self._announce(JobEvent(kind=kind, job=job, previous_state=previous,
                                message=redact_text(message), retry_at=retry_at,
                                error_code=error_code))
        return job

    async def _transition(self, job: Job, state: JobState, **changes: Any) -> Job:
        assets = changes.pop("assets", ())
        message = changes.pop("message", "")
        return await self._save(job.evolve(state=state, **changes), assets=assets,
                                previous=job.state, message=message)

    def get(self, job_id: str) -> Job | None:
        """The latest version of a job this engine is working on now; None for any other. A
        job it finished, let go or lost to another process is the history's to answer for:
        the copy kept here goes stale as soon as another worker carries the job on (a team
        batch's progress asks the engine first)."""
        task = self._tasks.get(job_id)
        if task is None or task.done():
            return None
        return self._current.get(job_id)

    @property
    def running_ids(self) -> list[str]:
        return [jid for jid, task in self._tasks.items() if not task.done()]


def _redactions(job: Job) -> dict[str, Any]:
    """The job's texts that may quote a provider (note, error message), redacted: only those
    that change, as `evolve` arguments."""
    changes: dict[str, Any] = {}
    note = redact_text(job.note)
    if note != job.note:
        changes["note"] = note
    error = job.error
    if error is not None:
        message = redact_text(error.message)
        if message != error.message:
            changes["error"] = JobError(error.code, message, error.provider_code)
    return changes


class _QueueObserver:
    """Feeds an events() iterator; aclose() ends the iterator by queueing None."""

    def __init__(self, queue: asyncio.Queue[JobEvent | None]) -> None:
        self.queue = queue

    def __call__(self, event: JobEvent) -> None:
        self.queue.put_nowait(event)
