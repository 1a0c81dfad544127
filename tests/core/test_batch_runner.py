"""Running batches: the whole matrix within the engine's limits and the budget, pause and
resume (also across a restart), cancel, retry of the failed ones, never a second submit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.core.assets import AssetStore
from desktop.core.batch_runner import BatchRunner, progress_of
from desktop.core.batches import BatchState, ItemState, Matrix, Variant
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, JobState
from desktop.core.store import History
from desktop.core.store.batches import BatchStore
from desktop.providers.base import ProviderError, RemoteState, RemoteStatus
from tests.fakes import FakeBackend, FakeProvider, factory, png_bytes
from tests.support import run

POLICY = EnginePolicy(jitter=0.0, global_limit=3, default_provider_limit=2,
                      poll_backoff_base=0.01, poll_backoff_cap=0.02)


class Priced(FakeProvider):
    """A fake that publishes a price: 2 credits a job (and charges it)."""

    def estimate_cost(self, task: str, params: dict[str, Any]) -> float | None:
        return 2.0


class Env:
    def __init__(self, tmp: Path) -> None:
        self.history = History(tmp / "history.sqlite3")
        self.assets = AssetStore(tmp / "assets")
        self.store = BatchStore(self.history)
        self.images = []
        for i in range(3):
            path = tmp / f"in{i}.png"
            path.write_bytes(png_bytes((40 * i, 80, 120)))
            self.images.append(str(path))

    def engine(self, backend: FakeBackend, cls: type[FakeProvider] = Priced,
               policy: EnginePolicy = POLICY) -> JobEngine:
        return JobEngine(self.history, self.assets, factory(backend, cls), policy=policy)

    def matrix(self, strengths: tuple[float, ...] = (0.2, 0.6)) -> Matrix:
        return Matrix(task="echo", providers=("fake",), role="image", rows=tuple(self.images),
                      variants=tuple(Variant(f"strength={s}", {}, {"strength": s})
                                     for s in strengths))


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def test_a_batch_runs_every_cell_once_within_the_engine_limits(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING),
                                  RemoteStatus(RemoteState.SUCCEEDED, cost_credits=2.0)])

    async def main() -> tuple[Any, Any]:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        items, plan = runner.plan(env.matrix())
        assert plan.jobs == 6 and plan.credits == 12 and plan.unpriced == 0
        batch = await runner.create("Strength sweep", env.matrix(), items)
        progress = await runner.run(batch.id)
        await engine.aclose()
        return batch, progress

    batch, progress = run(main())
    assert progress.state == BatchState.FINISHED
    assert (progress.total, progress.done, progress.failed, progress.left) == (6, 6, 0, 0)
    assert progress.credits_spent == 12
    assert len(backend.submits) == 6 and backend.max_in_flight <= 2  # the provider's limit
    items = env.store.items(batch.id)
    assert all(i.state == ItemState.STARTED and i.attempts == 1 for i in items)
    jobs = [env.history.get(i.job_id) for i in items]  # type: ignore[arg-type]
    assert all(j is not None and j.state == JobState.SUCCEEDED for j in jobs)
    assert {(j.spec.inputs["image"][0], j.spec.params["strength"]) for j in jobs} == {  # type: ignore[union-attr]
        (img, s) for img in env.images for s in (0.2, 0.6)}


def test_the_budget_caps_what_is_sent_and_says_why(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED, cost_credits=2.0)])

    async def main() -> Any:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        items, plan = runner.plan(env.matrix(), budget=7)
        assert plan.jobs == 3 and plan.over_budget == 3 and plan.credits == 6
        batch = await runner.create("", env.matrix(), items, budget=7)
        progress = await runner.run(batch.id)
        await engine.aclose()
        return batch, progress

    batch, progress = run(main())
    assert progress.done == 3 and progress.over_budget == 3 and progress.credits_spent == 6
    assert len(backend.submits) == 3
    skipped = [i for i in env.store.items(batch.id) if i.state == ItemState.OVER_BUDGET]
    assert len(skipped) == 3 and all("budget of 7" in i.note for i in skipped)


class Free(FakeProvider):
    """A provider that runs here and charges nothing (like the offline one): no price."""

    resubmit_safe = True


def test_a_free_provider_costs_nothing_and_a_budget_never_keeps_it_out(env: Env) -> None:
    """Unpriced and free: 0 credits, sent under any budget. Unpriced and paid: kept out of a
    budget, because what it would cost is unknown."""
    async def plan(cls: type[FakeProvider]) -> Any:
        engine = env.engine(FakeBackend(), cls)
        try:
            return BatchRunner(engine, env.store).plan(env.matrix(), budget=0)
        finally:
            await engine.aclose()

    items, free_plan = run(plan(Free))
    assert free_plan.jobs == 6 and free_plan.credits == 0 and free_plan.over_budget == 0
    assert all(i.expected_credits == 0.0 and i.state == ItemState.PENDING for i in items)
    items, paid_plan = run(plan(FakeProvider))
    assert paid_plan.jobs == 0 and paid_plan.over_budget == 6
    assert all(i.expected_credits is None for i in items)


def test_actual_costs_count_against_the_budget(env: Env) -> None:
    """A provider charging more than it said: the batch stops before going over."""
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED, cost_credits=3.0)])

    async def main() -> Any:
        engine = env.engine(backend, policy=EnginePolicy(jitter=0.0, global_limit=1))
        runner = BatchRunner(engine, env.store)
        items, _ = runner.plan(env.matrix(), budget=10)  # 6 x 2 = 12 expected: 5 planned
        batch = await runner.create("", env.matrix(), items, budget=10)
        progress = await runner.run(batch.id)
        await engine.aclose()
        return progress

    progress = run(main())
    assert progress.credits_spent <= 10 and progress.done == 3  # 3 + 3 + 3; a 4th is over
    assert len(backend.submits) == 3


def test_pause_stops_sending_and_a_restart_resumes_without_a_second_submit(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)] * 3 +
                          [RemoteStatus(RemoteState.SUCCEEDED)])

    async def first_life() -> str:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        items, _ = runner.plan(env.matrix())
        batch = await runner.create("", env.matrix(), items)
        task = asyncio.ensure_future(runner.run(batch.id))
        while len(backend.submits) < 2:
            await asyncio.sleep(0.01)
        await runner.pause(batch.id)
        progress = await asyncio.wait_for(task, 10)  # returns once the sent jobs are done
        assert progress.state == BatchState.PAUSED and progress.left == 4
        assert progress.done == 2 and len(backend.submits) == 2
        await runner.resume(batch.id)
        task = asyncio.ensure_future(runner.run(batch.id))
        while len(backend.submits) < 4:
            await asyncio.sleep(0.01)
        await engine.aclose()  # Restyle quits with two jobs accepted and two cells left
        task.cancel()
        return batch.id

    batch_id = run(first_life())
    assert len(backend.submits) == 4
    stored = env.store.items(batch_id)
    assert sum(1 for i in stored if i.state == ItemState.PENDING) == 2

    async def second_life() -> Any:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        await engine.resume()
        progress = await runner.run(batch_id)
        await engine.aclose()
        return progress

    progress = run(second_life())
    assert progress.state == BatchState.FINISHED and progress.done == 6
    assert len(backend.submits) == 6  # each cell sent exactly once across both lives
    assert len({s.job_id for s in backend.submits}) == 6


def test_two_processes_feeding_one_batch_send_each_cell_once(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING),
                                  RemoteStatus(RemoteState.SUCCEEDED)])

    async def main() -> None:
        a, b = env.engine(backend), env.engine(backend)
        runner_a, runner_b = BatchRunner(a, env.store), BatchRunner(b, env.store)
        items, _ = runner_a.plan(env.matrix((0.1, 0.3, 0.5, 0.7)))
        batch = await runner_a.create("", env.matrix((0.1, 0.3, 0.5, 0.7)), items)
        await asyncio.gather(runner_a.run(batch.id), runner_b.run(batch.id))
        await a.aclose()
        await b.aclose()

    run(main())
    assert len(backend.submits) == 12 and len({s.job_id for s in backend.submits}) == 12


def test_cancel_sends_nothing_more_and_accepted_jobs_finish(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)] * 4 +
                          [RemoteStatus(RemoteState.SUCCEEDED)])

    async def main() -> Any:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        items, _ = runner.plan(env.matrix())
        batch = await runner.create("", env.matrix(), items)
        task = asyncio.ensure_future(runner.run(batch.id))
        while len(backend.submits) < 2:
            await asyncio.sleep(0.01)
        stopped = await runner.cancel(batch.id)
        progress = await asyncio.wait_for(task, 10)
        await engine.aclose()
        return stopped, progress

    stopped, progress = run(main())
    assert progress.state == BatchState.CANCELLED
    assert progress.done == 2 and progress.cancelled == 4 and stopped == 4
    assert len(backend.submits) == 2 and backend.cancels == []  # paid jobs were collected


def test_retry_sends_only_the_failed_cells_again(env: Env) -> None:
    calls = {"n": 0}

    def verdict() -> RemoteStatus:
        calls["n"] += 1
        if calls["n"] in (2, 5):  # two jobs fail at the provider
            return RemoteStatus(RemoteState.FAILED, error=ProviderError(
                ErrorCode.JOB_FAILED, "No person found."))
        return RemoteStatus(RemoteState.SUCCEEDED)

    backend = FakeBackend(script=[verdict])

    async def main() -> Any:
        engine = env.engine(backend, policy=EnginePolicy(jitter=0.0, global_limit=1))
        runner = BatchRunner(engine, env.store)
        items, _ = runner.plan(env.matrix())
        batch = await runner.create("", env.matrix(), items)
        first = await runner.run(batch.id)
        again = await runner.retry_failed(batch.id)
        second = await runner.run(batch.id)
        await engine.aclose()
        return first, again, second

    first, again, second = run(main())
    assert (first.done, first.failed) == (4, 2) and again == 2
    assert (second.done, second.failed, second.state) == (6, 0, BatchState.FINISHED)
    assert len(backend.submits) == 8  # 6 + the 2 failed ones, nothing else


def test_a_refused_cell_says_why_and_the_others_run(env: Env) -> None:
    backend = FakeBackend()
    bad = env.matrix((0.2, 3.0))  # strength 3 is out of range: refused in the plan

    async def main() -> Any:
        engine = env.engine(backend)
        runner = BatchRunner(engine, env.store)
        items, plan = runner.plan(bad)
        assert plan.refused == 3 and plan.jobs == 3
        batch = await runner.create("", bad, items)
        progress = await runner.run(batch.id)
        await engine.aclose()
        return batch, progress

    batch, progress = run(main())
    assert progress.done == 3 and progress.refused == 3 and len(backend.submits) == 3
    refused = [i for i in env.store.items(batch.id) if i.state == ItemState.REFUSED]
    assert all("at most 1" in i.note for i in refused)


def test_progress_counts_and_time_left() -> None:
    from desktop.core.batches import Batch, BatchItem
    from desktop.core.model import Job, JobSpec

    now = time.time()
    batch = Batch("b", "n", "echo", BatchState.RUNNING, Matrix("echo", ("fake",), "image", (),
                                                                ()), None, now, now)
    items = [BatchItem(i, 0, i, "fake", JobSpec("fake", "echo"), state=ItemState.STARTED,
                       job_id=f"j{i}") for i in range(4)] + [
        BatchItem(4, 0, 4, "fake", JobSpec("fake", "echo"))]
    jobs = {
        "j0": Job("j0", JobSpec("fake", "echo"), JobState.SUCCEEDED, now, now, started_at=now,
                  finished_at=now + 10, cost_credits=2),
        "j1": Job("j1", JobSpec("fake", "echo"), JobState.FAILED, now, now),
        "j2": Job("j2", JobSpec("fake", "echo"), JobState.NEEDS_ATTENTION, now, now),
        "j3": Job("j3", JobSpec("fake", "echo"), JobState.RUNNING, now, now),
    }
    p = progress_of(batch, items, jobs, concurrency=2)
    assert (p.done, p.failed, p.waiting, p.running, p.left) == (1, 1, 1, 1, 1)
    assert p.credits_spent == 2 and p.eta_s == pytest.approx(10.0)  # 10 s x 2 left / 2 slots


def test_a_try_on_batch_at_fitinview_paused_and_resumed_after_a_restart_posts_each_cell_once(
        tmp_path: Path) -> None:
    """3 people x 2 garments at the FitInView emulator, over real HTTP: paused after the first
    jobs, Restyle quits, a new engine resumes the batch; the emulator's request log shows one
    POST per cell, every cell a stored result, the budget (8 credits a 1K try-on) respected."""
    from desktop.providers.fitinview import FitInViewProvider
    from tests.emulators.fitinview import FitInViewEmulator
    from tests.emulators.kit import serve
    from tests.support import Sleeps, remote_provider

    people = []
    for i in range(3):
        path = tmp_path / f"person{i}.png"
        path.write_bytes(png_bytes((200 - 30 * i, 150, 120), (96, 128)))
        people.append(str(path))
    garments = []
    for i in range(2):
        path = tmp_path / f"garment{i}.png"
        path.write_bytes(png_bytes((20, 160 - 60 * i, 60), (64, 64)))
        garments.append(str(path))
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    store = BatchStore(history)
    emu = FitInViewEmulator(job_delay=0.3)
    matrix = Matrix(task="tryon", providers=("fitinview",), role="person", rows=tuple(people),
                    variants=tuple(Variant(g, {"garment": [g]}) for g in garments),
                    params={"output_size": "1K"})
    policy = EnginePolicy(jitter=0.0, global_limit=2, poll_intervals={"fitinview": 0.05})

    with serve(emu) as base:
        def engine() -> JobEngine:
            provider = remote_provider(FitInViewProvider, base, emu.api_key, sleeps=Sleeps())
            return JobEngine(history, assets, lambda _pid: provider, policy=policy)

        async def first_life() -> str:
            eng = engine()
            runner = BatchRunner(eng, store)
            items, plan = runner.plan(matrix, budget=48)
            assert plan.jobs == 6 and plan.credits == 48 and plan.over_budget == 0
            batch = await runner.create("Looks for client", matrix, items, budget=48)
            task = asyncio.ensure_future(runner.run(batch.id))
            while len(emu.requests_to("POST", "/api/v1/tryon")) < 2:
                await asyncio.sleep(0.02)
            await runner.pause(batch.id)
            await eng.aclose()  # quit while the first two are in flight
            task.cancel()
            return batch.id

        batch_id = run(first_life())
        posted = len(emu.requests_to("POST", "/api/v1/tryon"))
        assert 2 <= posted < 6

        async def second_life() -> Any:
            eng = engine()
            runner = BatchRunner(eng, store)
            await eng.resume()
            await runner.resume(batch_id)
            progress = await runner.run(batch_id)
            await eng.aclose()
            return progress

        progress = run(second_life())
    assert progress.state == BatchState.FINISHED and progress.done == 6
    assert progress.credits_spent == 48
    posts = emu.requests_to("POST", "/api/v1/tryon")
    assert len(posts) == 6  # one per cell, across both lives
    keys = [p.headers.get("idempotency-key") for p in posts]
    assert len(set(keys)) == 6
    items = store.items(batch_id)
    assert all(len(history.get(i.job_id).outputs) == 1 for i in items)  # type: ignore[union-attr, arg-type]
