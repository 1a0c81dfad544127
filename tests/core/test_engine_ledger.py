"""Who works on which job: leases, takeovers, fencing, cross-process cancel, and the schema
step that brought them."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from desktop.core.engine import EnginePolicy
from desktop.core.engine.ledger import Owner, owner_gone, process_exists
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.store import MIGRATIONS, SCHEMA_VERSION, History, LeaseLost
from desktop.providers.base import RemoteState, RemoteStatus
from tests.core.test_engine import FAST, Env, wait_for
from tests.fakes import FakeBackend, FakeProvider
from tests.support import run

RUNNING_FOREVER = [RemoteStatus(RemoteState.RUNNING)]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def stored_running_job(env: Env, owner: str | None, lease_until: float | None,
                       remote_id: str = "r1") -> Job:
    now = time.time()
    job = Job(id=f"job-{remote_id}", spec=env.spec(), state=JobState.RUNNING, created_at=now,
              updated_at=now, started_at=now, deadline_at=now + 600, remote_id=remote_id)
    env.history.save_job(job, owner=owner, lease_until=lease_until)
    return job


def test_resume_leaves_the_jobs_of_a_live_owner_alone(env: Env) -> None:
    backend = FakeBackend(script=RUNNING_FOREVER)

    async def main() -> None:
        window = env.engine(backend, label="the Restyle window")
        job = await window.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        polls = len(backend.polls)
        cli = env.engine(backend, label="restyle-cli resume")
        report = await cli.resume()
        assert report.resumed == [] and report.waiting == [] and report.closed == []
        assert [(j.id, holder) for j, holder in report.left_alone] == [
            (job.id, window.ledger.identity.describe())]
        assert "the Restyle window (process" in report.left_alone[0][1]
        await cli.aclose()
        stored = env.history.get(job.id)
        assert stored is not None and stored.state == JobState.RUNNING
        assert stored.owner == window.ledger.owner  # the CLI changed nothing
        await wait_for(lambda: len(backend.polls) > polls + 1)  # the window still polls
        await window.aclose()

    run(main())
    assert len(backend.submits) == 1


def test_a_dead_owner_on_this_machine_is_taken_over_at_once(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    backend.jobs["r1"] = 0
    killed = Owner.new("restyle-cli run")
    killed = Owner(killed.host, dead_pid(), killed.nonce, killed.label)
    job = stored_running_job(env, killed.encode(), time.time() + 3600)  # lease still "valid"

    async def main() -> Job:
        engine = env.engine(backend)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == [job.id]
        final = await engine.wait(job.id)
        await engine.aclose()
        return final

    final = run(main())
    assert final.state == JobState.SUCCEEDED and final.owner is None
    assert backend.submits == []


def test_a_lapsed_lease_is_taken_over_and_a_live_one_elsewhere_is_not(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    backend.jobs.update({"r1": 0, "r2": 0})
    elsewhere = Owner("studio-mac", 4242, "abc", "the Restyle window").encode()
    lapsed = stored_running_job(env, elsewhere, time.time() - 1, "r1")
    live = stored_running_job(env, elsewhere, time.time() + 3600, "r2")

    async def main() -> None:
        engine = env.engine(backend)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == [lapsed.id]
        assert [(j.id, h) for j, h in report.left_alone] == [
            (live.id, "the Restyle window (process 4242 on studio-mac)")]
        await engine.wait(lapsed.id)
        await engine.aclose()

    run(main())
    assert env.history.get(lapsed.id).state == JobState.SUCCEEDED  # type: ignore[union-attr]
    assert env.history.get(live.id).state == JobState.RUNNING  # type: ignore[union-attr]
    assert backend.polls == ["r1"]


def test_two_resumes_at_once_take_each_job_once(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING),
                                  RemoteStatus(RemoteState.SUCCEEDED)])
    jobs = []
    for i in range(6):
        backend.jobs[f"r{i}"] = 0
        jobs.append(stored_running_job(env, None, None, f"r{i}"))

    async def main() -> tuple[list[str], list[str]]:
        a, b = env.engine(backend, label="a"), env.engine(backend, label="b")
        ra, rb = await asyncio.gather(a.resume(), b.resume())
        for engine, report in ((a, ra), (b, rb)):
            for job in report.resumed:
                await engine.wait(job.id)
        await a.aclose()
        await b.aclose()
        return [j.id for j in ra.resumed], [j.id for j in rb.resumed]

    got_a, got_b = run(main())
    assert sorted(got_a + got_b) == sorted(j.id for j in jobs)  # every job, exactly once
    assert not set(got_a) & set(got_b)
    assert all(env.history.get(j.id).state == JobState.SUCCEEDED for j in jobs)  # type: ignore[union-attr]
    assert backend.submits == []


def test_a_process_whose_lease_was_taken_over_cannot_overwrite_the_new_owner(env: Env) -> None:
    job = stored_running_job(env, "old|1|a|old", time.time() + 60)
    assert env.history.claim(job.id, "new|2|b|new", time.time() + 60, expected="old|1|a|old")
    assert not env.history.claim(job.id, "third|3|c|x", time.time() + 60,
                                 expected="old|1|a|old")  # the swap happens once
    with pytest.raises(LeaseLost):
        env.history.save_job(job.evolve(state=JobState.FAILED), owner="old|1|a|old",
                             lease_until=time.time() + 60)
    stored = env.history.get(job.id)
    assert stored is not None and stored.state == JobState.RUNNING
    assert stored.owner == "new|2|b|new"


def test_an_engine_that_lost_its_lease_stops_quietly(env: Env) -> None:
    backend = FakeBackend(script=RUNNING_FOREVER)

    async def main() -> None:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        # Another process decided this one was gone and took the job.
        assert env.history.claim(job.id, "other|7|z|restyle-cli resume", time.time() + 60,
                                 expected=engine.ledger.owner)
        final = await asyncio.wait_for(engine.wait(job.id), 5)
        assert final.state == JobState.RUNNING and final.owner == "other|7|z|restyle-cli resume"
        assert job.id not in engine.running_ids
        await engine.aclose()

    run(main())


def test_the_heartbeat_keeps_a_long_job_leased_and_close_releases_it(env: Env) -> None:
    backend = FakeBackend(script=RUNNING_FOREVER)
    policy = EnginePolicy(jitter=0.0, lease_s=0.3, heartbeat_s=0.05)

    async def main() -> None:
        engine = env.engine(backend, policy=policy)
        job = await engine.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        first = env.history.get(job.id).lease_until  # type: ignore[union-attr]
        await asyncio.sleep(0.6)  # two leases long
        stored = env.history.get(job.id)
        assert stored is not None and stored.owner == engine.ledger.owner
        assert stored.lease_until is not None and first is not None
        assert stored.lease_until > first + 0.3 and stored.lease_until > time.time()
        await engine.aclose()
        after = env.history.get(job.id)
        assert after is not None and after.state == JobState.RUNNING
        assert after.owner is None and after.lease_until is None  # free for the next Restyle

    run(main())


def test_cancel_asks_a_live_owner_elsewhere_and_it_cancels_at_the_provider(env: Env) -> None:
    backend = FakeBackend(script=RUNNING_FOREVER)

    async def main() -> tuple[Job, Job]:
        window = env.engine(backend, label="the Restyle window")
        job = await window.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        cli = env.engine(backend, label="restyle-cli cancel")
        answered = await cli.cancel(job.id)
        final = await window.wait(job.id)
        await cli.aclose()
        await window.aclose()
        return answered, final

    answered, final = run(main())
    assert answered.state == final.state == JobState.CANCELLED
    assert backend.cancels == ["r1"]  # by the owner, once
    assert final.error is not None and "cancelled at Fake Service" in final.error.message


def test_cancel_of_a_job_whose_owner_is_gone_takes_it_over(env: Env) -> None:
    backend = FakeBackend()
    backend.jobs["r1"] = 0
    job = stored_running_job(env, Owner("elsewhere", 1, "n", "x").encode(), time.time() - 5)

    async def main() -> Job:
        engine = env.engine(backend)
        cancelled = await engine.cancel(job.id)
        await engine.aclose()
        return cancelled

    cancelled = run(main())
    assert cancelled.state == JobState.CANCELLED and backend.cancels == ["r1"]
    assert env.history.get(job.id).owner is None  # type: ignore[union-attr]


def test_owner_gone_rules() -> None:
    now = time.time()
    here = Owner.new("w")
    assert owner_gone(None, None, now)
    assert owner_gone(here.encode(), now - 1, now)  # lapsed
    assert not owner_gone(here.encode(), now + 30, now)  # this very process: alive
    gone = Owner(here.host, dead_pid(), "n", "w").encode()
    assert owner_gone(gone, now + 30, now)
    other_host = Owner("elsewhere", 1, "n", "w").encode()
    assert not owner_gone(other_host, now + 30, now)  # cannot see its processes: lease rules
    assert owner_gone("garbage", now - 1, now) and not owner_gone("garbage", now + 1, now)
    assert process_exists(dead_pid()) is False


def test_a_version_1_history_with_jobs_upgrades_and_its_jobs_resume(env: Env, tmp_path: Path
                                                                     ) -> None:
    """An older Restyle's history: the jobs it left running are kept, unowned, resumable."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    spec = JobSpec(provider="fake", task="echo").to_dict()
    import json

    now = time.time()
    conn.execute(
        "INSERT INTO jobs (id, provider, task, state, spec, remote_id, created_at, updated_at,"
        " started_at, deadline_at, favorite, note) VALUES (?, 'fake', 'echo', 'running', ?, 'r1',"
        " ?, ?, ?, ?, 1, 'from an older Restyle')",
        ("old-job", json.dumps(spec), now, now, now, now + 600))
    conn.close()

    history = History(path)
    assert history.schema_version == SCHEMA_VERSION >= 2
    job = history.get("old-job")
    assert job is not None and job.state == JobState.RUNNING and job.remote_id == "r1"
    assert job.favorite and job.note == "from an older Restyle"
    assert job.owner is None and job.lease_until is None and not job.cancel_requested
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    backend.jobs["r1"] = 0

    async def main() -> Job:
        from desktop.core.engine import JobEngine
        from tests.fakes import factory

        engine = JobEngine(history, env.assets, factory(backend, FakeProvider), policy=FAST)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == ["old-job"]
        final = await engine.wait("old-job")
        await engine.aclose()
        return final

    assert run(main()).state == JobState.SUCCEEDED


def test_adopting_orphans_leaves_jobs_that_need_attention_to_the_user(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    backend.jobs.update({"r1": 0, "r2": 0})
    orphan = stored_running_job(env, None, None, "r1")
    waiting = stored_running_job(env, None, None, "r2")
    env.history.save_job(env.history.get(waiting.id).evolve(  # type: ignore[union-attr]
        state=JobState.NEEDS_ATTENTION))

    async def main() -> None:
        engine = env.engine(backend)
        report = await engine.resume(include_attention=False)
        assert [j.id for j in report.resumed] == [orphan.id]
        await engine.wait(orphan.id)
        await engine.aclose()

    run(main())
    assert env.history.get(waiting.id).state == JobState.NEEDS_ATTENTION  # type: ignore[union-attr]
    assert backend.polls == ["r1"]
