"""The engine's side of team mode, in one process against a real PostgreSQL and the TryonAPI
emulator: a job enqueued waits for the workers (a desk leaves it alone), a worker sends it
once, a worker that stops hands accepted jobs over to be polled only and puts jobs never sent
back in the queue, and each provider's limit holds across engines."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import JobSpec, JobState
from desktop.services import Services
from desktop.team.schema import ensure_schema
from desktop.team.slots import TeamSlots
from tests.emulators.kit import serve
from tests.emulators.tryonapi import TryonApiEmulator
from tests.team.support import make_pictures

QUEUE = "q"


@pytest.fixture
def emulator() -> Iterator[tuple[TryonApiEmulator, str]]:
    emu = TryonApiEmulator(job_delay=0.6)
    with serve(emu) as base:
        yield emu, base


@pytest.fixture
def services(home: Path, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             emulator: tuple[TryonApiEmulator, str]) -> Iterator[Services]:
    emu, base = emulator
    monkeypatch.setenv("RESTYLE_DATABASE_URL", pg_url)
    monkeypatch.setenv("RESTYLE_ASSETS_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", base)
    monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", emu.api_key)
    ensure_schema(pg_url)
    opened = Services.open()
    try:
        yield opened
    finally:
        opened.close()


def spec(tmp_path: Path, n: int = 0) -> JobSpec:
    person, garment = make_pictures(tmp_path / f"in{n}", 2, "x", n)
    return JobSpec(provider="tryonapi", task="tryon",
                   inputs={"person": [str(person)], "garment": [str(garment)]})


def engine(services: Services, *, gate: TeamSlots | None = None, limit: int = 2,
           queues: frozenset[str] = frozenset({QUEUE}), label: str = "worker") -> JobEngine:
    policy = EnginePolicy(poll_intervals={"tryonapi": 0.1}, provider_limits={"tryonapi": limit},
                          heartbeat_s=0.5, lease_s=5)
    return JobEngine(services.history, services.assets, services.create_provider,
                     policy=policy, label=label, slot_gate=gate, queues=queues)


async def open_slots(url: str) -> TeamSlots:
    slots = TeamSlots(url, poll_s=0.05)
    await slots.open()
    return slots


async def until(check: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not await check():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def slot_of(url: str, job_id: str) -> list[tuple[str, int]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute("SELECT provider, slot FROM restyle_team_slots"
                                 " WHERE job_id = %s", (job_id,)).fetchall())


def test_the_queue_tables_are_made_once_when_two_processes_start_together(pg_url: str) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def start() -> None:
        barrier.wait()
        results.append(ensure_schema(pg_url))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert ensure_schema(pg_url) is False
    with psycopg.connect(pg_url) as conn:
        names = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"procrastinate_jobs", "restyle_team_slots"} <= names


def test_an_enqueued_job_waits_for_the_workers_and_a_desk_leaves_it_alone(
        services: Services, tmp_path: Path, emulator: tuple[TryonApiEmulator, str]) -> None:
    emu, _ = emulator

    async def body() -> None:
        desk = engine(services, queues=frozenset(), label="the Restyle window")
        try:
            job = await desk.enqueue(spec(tmp_path), queue=QUEUE)
            stored = services.history.get(job.id)
            assert stored is not None and stored.state == JobState.QUEUED
            assert stored.queue == QUEUE and stored.owner is None
            assert stored.submitted_at is None and stored.attempts == 0
            for shas in stored.inputs.values():
                for sha in shas:
                    asset = services.history.asset(sha)
                    assert asset is not None and services.assets.exists(asset)
            for report in (await desk.resume(), await desk.resume([job.id])):
                assert not report.resumed and not report.closed and not report.waiting
            again = services.history.get(job.id)
            assert again is not None and again.state == JobState.QUEUED and again.owner is None
        finally:
            await desk.aclose()

    asyncio.run(body())
    assert emu.requests == []  # nothing was sent


def test_a_worker_that_stops_leaves_an_accepted_job_to_be_polled_only(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    emu, _ = emulator

    async def body() -> None:
        slots = await open_slots(pg_url)
        first = engine(services, gate=slots, label="worker A")
        second = engine(services, gate=slots, label="worker B")
        try:
            job = await first.enqueue(spec(tmp_path), queue=QUEUE)
            assert await first.start_queued(job.id) is not None
            assert await second.start_queued(job.id) is None  # A holds it

            async def accepted() -> bool:
                stored = services.history.get(job.id)
                return stored is not None and stored.remote_id is not None

            await until(accepted)
            await first.aclose()
            stored = services.history.get(job.id)
            assert stored is not None and stored.state == JobState.RUNNING
            assert stored.owner is None and stored.remote_id
            assert slot_of(pg_url, job.id) == [("tryonapi", 0)]  # kept: TryonAPI has the job

            assert await second.start_queued(job.id) is not None
            done = await second.wait(job.id)
            assert done.state == JobState.SUCCEEDED and len(done.outputs) == 1
            assert done.remote_id == stored.remote_id
            assert slot_of(pg_url, job.id) == []  # given back once it ended
        finally:
            await first.aclose()
            await second.aclose()
            await slots.close()

    asyncio.run(body())
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1


def test_a_worker_that_stops_before_sending_puts_the_job_back_in_the_queue(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    emu, _ = emulator

    async def body() -> None:
        slots = await open_slots(pg_url)
        first = engine(services, gate=slots, limit=1, label="worker A")
        second = engine(services, gate=slots, limit=1, label="worker B")
        try:
            busy = await first.enqueue(spec(tmp_path, 1), queue="elsewhere")
            job = await first.enqueue(spec(tmp_path, 2), queue=QUEUE)
            # TryonAPI's one team slot is held by another unfinished job.
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("INSERT INTO restyle_team_slots (provider, slot, job_id)"
                             " VALUES ('tryonapi', 0, %s)", (busy.id,))
            assert await first.start_queued(job.id) is not None
            await asyncio.sleep(0.5)  # waiting for the slot
            assert emu.requests == []
            await first.aclose()
            stored = services.history.get(job.id)
            assert stored is not None and stored.state == JobState.QUEUED
            assert stored.owner is None and stored.submitted_at is None
            assert slot_of(pg_url, job.id) == []

            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("UPDATE restyle_team_slots SET job_id = NULL")
            assert await second.start_queued(job.id) is not None
            done = await second.wait(job.id)
            assert done.state == JobState.SUCCEEDED
        finally:
            await first.aclose()
            await second.aclose()
            await slots.close()

    asyncio.run(body())
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1


def test_a_providers_limit_holds_across_engines(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    emu, _ = emulator

    async def body() -> None:
        slots = await open_slots(pg_url)
        engines = [engine(services, gate=slots, limit=2, label=f"worker {i}")
                   for i in range(3)]
        try:
            jobs = [await engines[0].enqueue(spec(tmp_path, i), queue=QUEUE) for i in range(6)]
            for i, job in enumerate(jobs):
                assert await engines[i % 3].start_queued(job.id) is not None
            ended = [await engines[i % 3].wait(job.id) for i, job in enumerate(jobs)]
            assert {j.state for j in ended} == {JobState.SUCCEEDED}
        finally:
            for e in engines:
                await e.aclose()
            await slots.close()

    asyncio.run(body())
    assert emu.max_active == 2
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 6




def test_a_job_that_finds_no_free_slot_in_time_is_let_go_unsent(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    emu, _ = emulator

    async def body() -> None:
        slots = TeamSlots(pg_url, poll_s=0.05, give_up_s=0.3)
        await slots.open()
        worker = engine(services, gate=slots, limit=1)
        try:
            busy = await worker.enqueue(spec(tmp_path, 1), queue="elsewhere")
            job = await worker.enqueue(spec(tmp_path, 2), queue=QUEUE)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute("INSERT INTO restyle_team_slots (provider, slot, job_id)"
                             " VALUES ('tryonapi', 0, %s)", (busy.id,))
            assert await worker.start_queued(job.id) is not None
            let_go = await worker.wait(job.id)
            assert let_go.state == JobState.QUEUED and let_go.owner is None
            assert let_go.submitted_at is None and let_go.error is None
            # Any worker may take it now: this engine answers for it no more (a copy kept
            # here would go stale, and a team batch's progress asks the engine first).
            assert worker.get(job.id) is None
        finally:
            await worker.aclose()
            await slots.close()

    asyncio.run(body())
    assert emu.requests == []


def test_a_desks_own_jobs_in_team_mode_count_toward_the_team_limit(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    """A job a desk runs itself in team mode (`restyle-cli run`, a batch without --remote)
    takes one of the provider's team slots like a worker's job, and waits its turn for one
    (queued; a desk never gives up and closes it unsent) while the workers hold them all."""
    emu, _ = emulator

    async def body() -> None:
        slots = await open_slots(pg_url)
        worker = engine(services, gate=slots, limit=1, label="worker")
        desk = services.engine("restyle-cli run")
        assert isinstance(desk.slot_gate, TeamSlots) and desk.slot_gate.give_up_s is None
        desk.policy = dataclasses.replace(desk.policy, provider_limits={"tryonapi": 1},
                                          poll_intervals={"tryonapi": 0.1})
        try:
            queued = await worker.enqueue(spec(tmp_path, 0), queue=QUEUE)
            assert await worker.start_queued(queued.id) is not None

            async def worker_has_it() -> bool:
                return bool(slot_of(pg_url, queued.id))
            await until(worker_has_it)
            own = await desk.submit(spec(tmp_path, 1))
            await asyncio.sleep(0.3)
            waiting = desk.get(own.id)
            assert waiting is not None and waiting.state == JobState.QUEUED
            assert len(emu.requests_to("POST", "/api/v1/tryon")) <= 1

            async def desk_has_it() -> bool:
                return slot_of(pg_url, own.id) == [("tryonapi", 0)]  # the team's one slot
            await until(desk_has_it)
            ended = [await worker.wait(queued.id), await desk.wait(own.id)]
            assert {j.state for j in ended} == {JobState.SUCCEEDED}
        finally:
            await worker.aclose()
            await desk.aclose()
            await slots.close()

    asyncio.run(body())
    assert emu.max_active == 1
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 2


def test_a_stop_while_the_submitting_state_is_being_saved_sends_nothing_and_requeues(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    """The narrowest moment of a stop: the worker is writing "submitting" (with the time it
    sends) when it is told to stop. The write lands, the send never starts, and the job goes
    back to "never sent" (queued, no send time): the next worker sends it, once. Left at
    "submitting", the next worker could only have asked the provider or waited for a person."""
    emu, _ = emulator
    history = services.history
    saving = threading.Event()
    release = threading.Event()
    real_save = history.save_job

    def slow_save(job, **kwargs):  # type: ignore[no-untyped-def]
        if job.state == JobState.SUBMITTING:
            saving.set()
            release.wait(10)
        return real_save(job, **kwargs)

    async def body() -> None:
        slots = await open_slots(pg_url)
        first = engine(services, gate=slots, limit=1, label="worker A")
        second = engine(services, gate=slots, limit=1, label="worker B")
        try:
            job = await first.enqueue(spec(tmp_path, 3), queue=QUEUE)
            history.save_job = slow_save  # type: ignore[method-assign]
            assert await first.start_queued(job.id) is not None
            assert await asyncio.to_thread(saving.wait, 10)
            closing = asyncio.ensure_future(first.aclose())  # the stop lands mid-write
            await asyncio.sleep(0.2)
            release.set()
            await closing
            history.save_job = real_save  # type: ignore[method-assign]
            assert emu.requests_to("POST", "/api/v1/tryon") == []
            stored = history.get(job.id)
            assert stored is not None and stored.state == JobState.QUEUED, stored
            assert stored.submitted_at is None and stored.owner is None
            assert slot_of(pg_url, job.id) == []
            assert await second.start_queued(job.id) is not None
            done = await second.wait(job.id)
            assert done.state == JobState.SUCCEEDED
        finally:
            history.save_job = real_save  # type: ignore[method-assign]
            release.set()
            await first.aclose()
            await second.aclose()
            await slots.close()

    asyncio.run(body())
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1


def test_two_tasks_naming_one_job_run_it_once(
        services: Services, pg_url: str, tmp_path: Path,
        emulator: tuple[TryonApiEmulator, str]) -> None:
    """The queue can hold two tasks for one job (a sweep hands over a job that waits
    unclaimed, while its first task is being taken): a worker that runs both at once claims
    and runs the job once, and sends it once. (Seen in CI: the second task's claim passed, as
    the job's owner was this very worker, and the job was sent twice.)"""
    emu, _ = emulator

    async def body() -> None:
        slots = await open_slots(pg_url)
        worker = engine(services, gate=slots, limit=2, label="worker")
        try:
            job = await worker.enqueue(spec(tmp_path, 4), queue=QUEUE)
            first, _second = await asyncio.gather(worker.start_queued(job.id),
                                                  worker.start_queued(job.id))
            assert first is not None
            assert len(worker.running_ids) == 1
            done = await worker.wait(job.id)
            assert done.state == JobState.SUCCEEDED and done.attempts == 1
            # And the same once it runs: a third task finds it running and leaves it.
            again = await worker.enqueue(spec(tmp_path, 5), queue=QUEUE)
            assert await worker.start_queued(again.id) is not None
            assert await worker.start_queued(again.id) is not None
            assert len(worker.running_ids) == 1
            assert (await worker.wait(again.id)).state == JobState.SUCCEEDED
        finally:
            await worker.aclose()
            await slots.close()

    asyncio.run(body())
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 2
