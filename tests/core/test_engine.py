"""JobEngine against a scripted fake provider: every transition, limits, deadlines, resume."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import (
    ErrorCode,
    EventKind,
    InvalidInput,
    Job,
    JobEvent,
    JobSpec,
    JobState,
)
from desktop.core.store import History
from desktop.providers.base import (
    ProviderError,
    RemoteOutput,
    RemoteState,
    RemoteStatus,
    ResultSink,
)
from tests.fakes import FakeBackend, FakeProvider, ReconcilingFakeProvider, factory, png_bytes
from tests.support import run

FAST = EnginePolicy(jitter=0.0, poll_backoff_base=0.01, poll_backoff_cap=0.02,
                    download_backoff_base=0.01, download_backoff_cap=0.02)


class Env:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.history = History(tmp / "history.sqlite3")
        self.assets = AssetStore(tmp / "assets")
        self.input = tmp / "in.png"
        self.input.write_bytes(png_bytes((0, 0, 255)))

    def engine(self, backend: FakeBackend, *, cls: type[FakeProvider] = FakeProvider,
               policy: EnginePolicy = FAST, **kw: Any) -> JobEngine:
        return JobEngine(self.history, self.assets, factory(backend, cls), policy=policy, **kw)

    def spec(self, **kw: Any) -> JobSpec:
        return JobSpec(provider="fake", task="echo", inputs={"image": [str(self.input)]}, **kw)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def run_job(env: Env, backend: FakeBackend, spec: JobSpec | None = None, **engine_kw: Any
            ) -> Job:
    """Run one job on a fresh engine and close it."""

    async def main() -> Job:
        engine = env.engine(backend, **engine_kw)
        job = await engine.run(spec or env.spec())
        await engine.aclose()
        return job

    return run(main())


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


def test_happy_path_persists_every_transition_before_announcing(env: Env) -> None:
    backend = FakeBackend(outputs=2)
    seen: list[tuple[JobState, JobState]] = []

    async def main() -> Job:
        engine = env.engine(backend)

        def observer(event: JobEvent) -> None:
            stored = env.history.get(event.job.id)
            assert stored is not None
            seen.append((event.job.state, stored.state))

        engine.subscribe(observer)
        job = await engine.run(env.spec())
        await engine.aclose()
        return job

    job = run(main())
    assert job.state == JobState.SUCCEEDED
    states = [s for s, _ in seen]
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == [
        JobState.QUEUED, JobState.PREPARING, JobState.SUBMITTING, JobState.RUNNING,
        JobState.DOWNLOADING, JobState.SUCCEEDED,
    ]
    assert all(announced == stored for announced, stored in seen)
    assert job.remote_id == "r1" and job.attempts == 1 and job.cost_credits == 1.0
    assert len(job.outputs) == 2 and [o.label for o in job.outputs] == [
        "variation 1", "variation 2"]
    for out in job.outputs:
        path = env.assets.path_for(out.sha256, out.mime)
        assert path.read_bytes() == backend.output_bytes or path.stat().st_size == out.size
        assert (out.width, out.height) == (64, 48)
    assert set(job.inputs) == {"image"}
    assert job.duration_ms is not None and job.duration_ms >= 0
    assert len(backend.submits) == 1
    # The input was normalised and stored as an asset before submission.
    sent = backend.submits[0].inputs["image"][0]
    assert sent.sha256 == job.inputs["image"][0] and sent.mime == "image/png"


def test_params_are_validated_and_defaults_filled(env: Env) -> None:
    async def main() -> None:
        engine = env.engine(FakeBackend())
        with pytest.raises(InvalidInput, match="at most 1"):
            await engine.prepare(env.spec(params={"strength": "3"}))
        prepared = await engine.prepare(env.spec())
        assert prepared.spec.params == {"strength": 0.5}
        await engine.aclose()

    run(main())
    assert env.history.count() == 0


def test_corrupt_input_stores_nothing(env: Env) -> None:
    bad = env.tmp / "broken.png"
    bad.write_bytes(png_bytes()[:40])

    async def main() -> None:
        engine = env.engine(FakeBackend())
        with pytest.raises(InvalidInput, match=r"broken\.png"):
            await engine.submit(JobSpec("fake", "echo", {"image": [str(bad)]}))
        with pytest.raises(InvalidInput, match="does not exist"):
            await engine.submit(JobSpec("fake", "echo", {"image": [str(env.tmp / "nope.jpg")]}))
        await engine.aclose()

    run(main())
    assert env.history.count() == 0
    assert not any(p.is_file() for p in (env.tmp / "assets").rglob("*"))


def test_concurrency_limits_per_provider_and_global(env: Env) -> None:
    slow = [RemoteStatus(RemoteState.RUNNING)] * 3 + [RemoteStatus(RemoteState.SUCCEEDED)]
    a = FakeBackend(script=list(slow), submit_delay=0.01)
    b = FakeBackend(script=list(slow), submit_delay=0.01)

    class Other(FakeProvider):
        id = "other"

    active: dict[str, int] = {"fake": 0, "other": 0}
    peaks = {"fake": 0, "other": 0, "all": 0}
    busy = {JobState.PREPARING, JobState.SUBMITTING, JobState.RUNNING, JobState.DOWNLOADING}

    def observer(event: JobEvent) -> None:
        if event.kind != EventKind.STATE:
            return
        was = event.previous_state in busy
        now = event.job.state in busy
        if now and not was:
            active[event.job.provider] += 1
        elif was and not now:
            active[event.job.provider] -= 1
        peaks[event.job.provider] = max(peaks[event.job.provider], active[event.job.provider])
        peaks["all"] = max(peaks["all"], sum(active.values()))

    policy = EnginePolicy(global_limit=3, provider_limits={"fake": 2, "other": 2}, jitter=0.0)

    async def main() -> list[Job]:
        engine = JobEngine(env.history, env.assets, factory(a, other=Other(b)), policy=policy)
        engine.subscribe(observer)
        jobs = []
        for _ in range(5):
            jobs.append(await engine.submit(env.spec()))
            jobs.append(await engine.submit(JobSpec("other", "echo",
                                                    {"image": [str(env.input)]})))
        done = [await engine.wait(j.id) for j in jobs]
        await engine.aclose()
        return done

    done = run(main())
    assert all(j.state == JobState.SUCCEEDED for j in done)
    assert peaks["fake"] == 2 and peaks["other"] == 2
    assert peaks["all"] == 3
    assert len(a.submits) == 5 and len(b.submits) == 5


def test_retry_after_and_poll_after_are_honoured(env: Env) -> None:
    backend = FakeBackend(script=[
        ProviderError(ErrorCode.RATE_LIMITED, "Too many requests.", retry_after=7.5),
        RemoteStatus(RemoteState.RUNNING, poll_after=3.0),
        ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "Service unavailable."),
        RemoteStatus(RemoteState.SUCCEEDED),
    ])
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    messages: list[str] = []
    waits: list[tuple[ErrorCode | None, float | None, float]] = []

    def observe(event: JobEvent) -> None:
        if event.message:
            messages.append(event.message)
        if event.retry_at is not None:
            waits.append((event.error_code, event.retry_at, event.job.updated_at))

    async def main() -> Job:
        engine = env.engine(backend, sleep=fake_sleep)
        engine.subscribe(observe)
        job = await engine.run(env.spec())
        await engine.aclose()
        return job

    job = run(main())
    assert job.state == JobState.SUCCEEDED
    assert sleeps == [7.5, 3.0, FAST.poll_backoff_base]
    assert any("Too many requests. Checking again in 7.5 s." in m for m in messages)
    # The countdown a window shows: which failure, and when the next try comes.
    assert [code for code, _, _ in waits] == [ErrorCode.RATE_LIMITED,
                                              ErrorCode.PROVIDER_UNAVAILABLE]
    assert abs((waits[0][1] or 0) - waits[0][2] - 7.5) < 1.0


def test_poll_slows_down_for_long_jobs_and_jitters(env: Env) -> None:
    backend = FakeBackend()
    clock = {"now": 1000.0}
    engine = env.engine(backend, policy=EnginePolicy(jitter=0.2, slowdown_after_s=30,
                                                     max_poll_interval=30),
                        clock=lambda: clock["now"])
    job = Job(id="x", spec=env.spec(), state=JobState.RUNNING, created_at=1000.0,
              updated_at=1000.0, started_at=1000.0)
    status = RemoteStatus(RemoteState.RUNNING)
    early = [engine._next_delay(2.0, job, status) for _ in range(200)]
    assert 1.6 <= min(early) < 1.8 and 2.2 < max(early) <= 2.4
    clock["now"] = 1000.0 + 30 + 120  # two minutes past the slowdown point: 3x
    late = [engine._next_delay(2.0, job, status) for _ in range(200)]
    assert min(late) >= 4.8 and max(late) <= 7.2
    clock["now"] = 1000.0 + 3600
    assert max(engine._next_delay(2.0, job, status) for _ in range(50)) <= 36.0
    asyncio.run(engine.aclose())


def test_deadline_times_out_and_cancels_remotely(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    job = run_job(env, backend, env.spec(deadline_s=0.3))
    assert job.state == JobState.TIMED_OUT
    assert job.error is not None and job.error.code == ErrorCode.TIMED_OUT
    assert "did not finish within" in job.error.message
    assert "cancelled at Fake Service" in job.error.message
    assert backend.cancels == ["r1"]
    assert env.history.get(job.id).state == JobState.TIMED_OUT  # type: ignore[union-attr]


def test_cancel_from_caller(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    async def main() -> Job:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        cancelled = await engine.cancel(job.id)
        await engine.aclose()
        return cancelled

    job = run(main())
    assert job.state == JobState.CANCELLED
    assert job.error is not None and job.error.code == ErrorCode.CANCELLED
    assert backend.cancels == ["r1"]
    assert job.finished_at is not None


def test_cancel_of_stored_job_from_another_process(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    async def main() -> tuple[Job, Job]:
        first = env.engine(backend)
        job = await first.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        other = env.engine(backend)  # e.g. `restyle-cli cancel` while the window polls
        cancelled = await other.cancel(job.id)
        final = await first.wait(job.id)  # the first engine notices at its next poll
        await other.aclose()
        await first.aclose()
        return cancelled, final

    cancelled, final = run(main())
    assert cancelled.state == JobState.CANCELLED and final.state == JobState.CANCELLED
    assert backend.cancels == ["r1"]


def test_resume_after_crash_never_resubmits(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    async def first_life() -> str:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        await wait_for(lambda: len(backend.polls) >= 2)
        await engine.aclose()  # the process goes away with the job running remotely
        return job.id

    job_id = run(first_life())
    stored = env.history.get(job_id)
    assert stored is not None and stored.state == JobState.RUNNING and stored.remote_id == "r1"

    backend.script = [RemoteStatus(RemoteState.RUNNING), RemoteStatus(RemoteState.SUCCEEDED)]
    backend.jobs["r1"] = 0

    async def second_life() -> Job:
        engine = env.engine(backend)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == [job_id]
        job = await engine.wait(job_id)
        await engine.aclose()
        return job

    job = run(second_life())
    assert job.state == JobState.SUCCEEDED and len(job.outputs) == 1
    assert len(backend.submits) == 1  # never submitted again


def test_resume_of_jobs_left_in_every_state(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    now = time.time()
    base = dict(spec=env.spec(), created_at=now, updated_at=now, started_at=now,
                deadline_at=now + 600)
    backend.jobs["r7"] = 0
    rows = {
        "queued": Job(id="queued", state=JobState.QUEUED, **base),
        "preparing": Job(id="preparing", state=JobState.PREPARING, **base),
        "submitting": Job(id="submitting", state=JobState.SUBMITTING, **base),
        "downloading": Job(id="downloading", state=JobState.DOWNLOADING, remote_id="r7",
                           **base),
    }
    for job in rows.values():
        env.history.save_job(job)

    async def main() -> list[Job]:
        engine = env.engine(backend)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == ["downloading"]
        assert [j.id for j in report.waiting] == ["submitting"]
        assert sorted(j.id for j in report.closed) == ["preparing", "queued"]
        assert report.left_alone == []
        await engine.wait("downloading")
        await engine.aclose()
        return [env.history.get(k) for k in rows]  # type: ignore[misc]

    queued, preparing, submitting, downloading = run(main())
    assert queued.state == preparing.state == JobState.CANCELLED
    assert "nothing was charged" in queued.error.message
    # Restyle stopped while sending: the provider may have the job, and this one has no job
    # list to look in, so the job waits for the user instead of being called failed.
    assert submitting.state == JobState.NEEDS_ATTENTION
    assert submitting.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "may have created the job and charged for it" in submitting.error.message
    assert "check your Fake Service account" in submitting.error.message
    assert downloading.state == JobState.SUCCEEDED and len(downloading.outputs) == 1
    assert backend.submits == []


def test_unknown_submit_outcome_is_reconciled_not_resubmitted(env: Env) -> None:
    backend = FakeBackend()

    class Flaky(ReconcilingFakeProvider):
        async def submit(self, job):  # type: ignore[no-untyped-def]
            await super().submit(job)  # the job is created remotely...
            raise ProviderError(ErrorCode.NETWORK, "No answer.", unknown_outcome=True)

    job = run_job(env, backend, cls=Flaky)
    assert job.state == JobState.SUCCEEDED
    assert len(backend.submits) == 1 and len(backend.reconciles) == 1
    assert job.remote_id == "r1"


def test_resume_reconciles_a_job_caught_while_submitting(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])

    async def main() -> Job:
        engine = env.engine(backend, cls=ReconcilingFakeProvider)
        job = await engine.run(env.spec())
        # Pretend the process died after sending but before storing the remote id.
        env.history.save_job(job.evolve(state=JobState.SUBMITTING, remote_id=None,
                                        outputs=(), finished_at=None))
        await engine.aclose()
        engine = env.engine(backend, cls=ReconcilingFakeProvider)
        await engine.resume()
        final = await engine.wait(job.id)
        await engine.aclose()
        return final

    job = run(main())
    assert job.state == JobState.SUCCEEDED and job.remote_id == "r1"
    assert len(backend.submits) == 1 and len(backend.reconciles) == 1


def test_resubmit_safe_provider_reruns_a_forgotten_job(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])

    class Offline(FakeProvider):
        resubmit_safe = True

    async def main() -> Job:
        engine = env.engine(backend, cls=Offline)
        job = await engine.run(env.spec())
        env.history.save_job(job.evolve(state=JobState.RUNNING, outputs=(), finished_at=None))
        backend.jobs.clear()  # the offline provider forgot everything across the restart
        await engine.aclose()
        engine = env.engine(backend, cls=Offline)
        await engine.resume()
        final = await engine.wait(job.id)
        await engine.aclose()
        return final

    job = run(main())
    assert job.state == JobState.SUCCEEDED and len(job.outputs) == 1
    assert len(backend.submits) == 2
    assert backend.submits[1].inputs["image"][0].data == backend.submits[0].inputs["image"][0].data


def test_download_that_does_not_decode_waits_and_is_collected_later(env: Env) -> None:
    """A page served instead of the image: downloaded again (with fresh links) a few times,
    then the paid job waits; once the provider serves the image, Retry collects it."""
    backend = FakeBackend(output_bytes=b"<html>expired</html>")

    job = run_job(env, backend)
    assert job.state == JobState.NEEDS_ATTENTION
    assert job.error is not None and job.error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "could not be read as an image" in job.error.message
    assert "Retry" in job.error.message and "may be charged" in job.error.message
    assert job.outputs == () and job.remote_id == "r1" and job.finished_at is None
    assert len(backend.fetches) == FAST.download_attempts
    polls_before = len(backend.polls)

    backend.output_bytes = png_bytes((9, 9, 9))

    async def retry() -> Job:
        engine = env.engine(backend)
        report = await engine.retry(job.id)
        assert [j.id for j in report.resumed] == [job.id]
        final = await engine.wait(job.id)
        await engine.aclose()
        return final

    final = run(retry())
    assert final.state == JobState.SUCCEEDED and len(final.outputs) == 1
    assert final.error is None
    assert len(backend.submits) == 1 and len(backend.polls) > polls_before


def test_remote_failure_keeps_provider_code(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(
        RemoteState.FAILED,
        error=ProviderError(ErrorCode.JOB_FAILED, "No person was found in the photo.",
                            provider_code="NO_PERSON_DETECTED"),
    )])

    job = run_job(env, backend)
    assert job.state == JobState.FAILED
    assert job.error is not None
    assert (job.error.code, job.error.provider_code) == (ErrorCode.JOB_FAILED,
                                                          "NO_PERSON_DETECTED")
    assert job.error.message == "No person was found in the photo."


def test_submit_error_is_final_with_its_code(env: Env) -> None:
    backend = FakeBackend(submit_error=ProviderError(
        ErrorCode.INSUFFICIENT_CREDITS, "Out of credits.", provider_code="InsufficientTokens"))

    job = run_job(env, backend)
    assert job.state == JobState.FAILED and job.remote_id is None
    assert job.error is not None and job.error.code == ErrorCode.INSUFFICIENT_CREDITS
    assert len(backend.submits) == 1


def test_events_async_iterator(env: Env) -> None:
    async def main() -> list[JobState]:
        engine = env.engine(FakeBackend())
        states: list[JobState] = []

        async def consume() -> None:
            async for event in engine.events():
                if event.kind == EventKind.STATE:
                    states.append(event.job.state)

        consumer = asyncio.ensure_future(consume())
        await asyncio.sleep(0)
        await engine.run(env.spec())
        await engine.aclose()
        await asyncio.wait_for(consumer, 2)
        return states

    states = run(main())
    assert states[0] == JobState.QUEUED and states[-1] == JobState.SUCCEEDED


def test_delete_removes_only_unshared_files(env: Env) -> None:
    backend = FakeBackend(output_bytes=png_bytes((1, 2, 3)))

    async def main() -> tuple[Job, Job]:
        engine = env.engine(backend)
        a = await engine.run(env.spec())
        b = await engine.run(env.spec())
        await engine.delete(a.id)
        shared_in = env.history.asset(b.inputs["image"][0])
        assert shared_in is not None and env.assets.exists(shared_in)
        await engine.delete(b.id)
        await engine.aclose()
        return a, b

    a, b = run(main())
    assert env.history.get(a.id) is None and env.history.get(b.id) is None
    assert not any(p.is_file() for p in (env.tmp / "assets").rglob("*"))


def test_close_cancels_unsent_jobs_honestly(env: Env) -> None:
    backend = FakeBackend(submit_delay=5)

    async def main() -> Job:
        engine = env.engine(backend, policy=EnginePolicy(global_limit=1, jitter=0))
        first = await engine.submit(env.spec())
        second = await engine.submit(env.spec())  # waits for a slot: never sent
        await wait_for(lambda: engine.get(first.id).state == JobState.SUBMITTING)  # type: ignore[union-attr]
        await engine.aclose()
        return env.history.get(second.id)  # type: ignore[return-value]

    second = run(main())
    assert second.state == JobState.CANCELLED
    assert second.error is not None and "nothing was charged" in second.error.message


def test_wait_passes_on_the_callers_cancellation(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    async def main() -> None:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        waiter = asyncio.ensure_future(engine.wait(job.id))
        await wait_for(lambda: bool(backend.polls))
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert engine.get(job.id).state == JobState.RUNNING  # type: ignore[union-attr]
        await engine.aclose()

    run(main())


def test_progress_messages_do_not_outlive_the_job(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING, message="Still working."),
                                  RemoteStatus(RemoteState.SUCCEEDED)])
    job = run_job(env, backend)
    assert job.state == JobState.SUCCEEDED and job.note == ""


def test_reconfigure_gives_new_jobs_fresh_providers_and_closes_the_old_ones(env: Env) -> None:
    """Settings changed in the window (a new base URL, limits) apply to the next job; a
    running job keeps its provider instance; every instance is closed with the engine."""
    backend = FakeBackend()

    async def main() -> tuple[Job, list[Any], EnginePolicy]:
        engine = env.engine(backend)
        first = engine.provider("fake")
        await engine.run(env.spec())
        engine.reconfigure(EnginePolicy(global_limit=1, default_provider_limit=1))
        second = engine.provider("fake")
        job = await engine.run(env.spec())
        await engine.aclose()
        return job, [first, second], engine.policy

    job, instances, policy = run(main())
    assert job.state == JobState.SUCCEEDED
    assert instances[0] is not instances[1]
    assert policy.global_limit == 1
    assert all(p.closed for p in instances)


class BreakingFirstDownload(FakeProvider):
    """Writes half of the result, then fails, on the first download; whole on the next."""

    sinks: ClassVar[list[Any]] = []

    async def fetch_into(self, output: RemoteOutput, sink: ResultSink) -> None:
        self.backend.fetches.append(output.url or "")
        data = output.extra["data"]
        self.sinks.append(sink)
        sink.reset()
        if len(self.backend.fetches) == 1:
            sink.write(data[: len(data) // 2])
            raise ProviderError(ErrorCode.RESULT_UNAVAILABLE, "The download broke off.")
        sink.write(data)


def test_a_result_is_stored_from_its_part_file_and_a_failed_one_leaves_nothing(
        env: Env) -> None:
    backend = FakeBackend(output_bytes=png_bytes((1, 2, 3)))
    BreakingFirstDownload.sinks = []
    job = run_job(env, backend, cls=BreakingFirstDownload)
    assert job.state == JobState.SUCCEEDED and len(backend.fetches) == 2
    first, second = BreakingFirstDownload.sinks
    assert first is not second and not first.path.exists()  # the broken part: removed
    output = job.outputs[0]
    stored = env.assets.path_for(output.sha256, output.mime)
    assert stored.read_bytes() == png_bytes((1, 2, 3))
    assert output.sha256 == hashlib.sha256(png_bytes((1, 2, 3))).hexdigest()
    assert list((env.assets.root / ".incoming").iterdir()) == []


def test_a_result_that_does_not_check_out_leaves_no_part_file(env: Env) -> None:
    job = run_job(env, FakeBackend(output_bytes=b"<html>expired</html>"))
    assert job.state == JobState.NEEDS_ATTENTION
    assert list((env.assets.root / ".incoming").iterdir()) == []
