"""A job the provider may have accepted is never ended for a reason that is not the provider's
verdict: it waits in needs_attention, saying what to fix, and is collected once it is fixed.
And a submit on its way is never cut off and then called "not sent"."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path

import pytest

from desktop.core.engine import EnginePolicy
from desktop.core.model import ErrorCode, Job, JobState
from desktop.core.redaction import register_secret
from desktop.providers.base import ProviderError, RemoteRef, RemoteState, RemoteStatus
from tests.core.test_engine import FAST, Env, run_job, wait_for
from tests.fakes import FakeBackend, FakeProvider, ReconcilingFakeProvider, png_bytes
from tests.support import run


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


class CannotCancel(FakeProvider):
    supports_cancel = False


class CancelFails(FakeProvider):
    async def cancel(self, ref: RemoteRef) -> None:
        self.backend.cancels.append(ref.remote_id)
        raise ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "Service down.")


def retry(env: Env, backend: FakeBackend, job_id: str, cls: type[FakeProvider] = FakeProvider,
          policy: EnginePolicy = FAST) -> Job:
    async def main() -> Job:
        engine = env.engine(backend, cls=cls, policy=policy)
        report = await engine.retry(job_id)
        assert [j.id for j in report.resumed] == [job_id]
        final = await engine.wait(job_id)
        await engine.aclose()
        return final

    return run(main())


def test_a_missing_key_while_polling_waits_and_is_collected_once_set(env: Env) -> None:
    backend = FakeBackend(script=[
        ProviderError(ErrorCode.MISSING_KEY, "No API key for Fake Service."),
        RemoteStatus(RemoteState.SUCCEEDED)])

    job = run_job(env, backend)
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id == "r1"
    assert job.error is not None and job.error.code == ErrorCode.MISSING_KEY
    assert "No API key" in job.error.message and "may be charged" in job.error.message
    assert job.finished_at is None and job.owner is None
    assert len(backend.polls) == 1  # no point in asking again before the key is set

    final = retry(env, backend, job.id)
    assert final.state == JobState.SUCCEEDED and final.error is None
    assert len(backend.submits) == 1


def test_one_401_or_404_while_polling_is_not_the_end(env: Env) -> None:
    backend = FakeBackend(script=[
        RemoteStatus(RemoteState.RUNNING),
        ProviderError(ErrorCode.AUTH_FAILED, "Key rejected (HTTP 401).", http_status=401),
        ProviderError(ErrorCode.NOT_FOUND, "No such job (HTTP 404).", http_status=404),
        RemoteStatus(RemoteState.SUCCEEDED)])

    job = run_job(env, backend)
    assert job.state == JobState.SUCCEEDED and len(job.outputs) == 1


def test_a_404_that_persists_waits_instead_of_failing(env: Env) -> None:
    backend = FakeBackend(script=[
        ProviderError(ErrorCode.NOT_FOUND, "No such job (HTTP 404).", http_status=404)])

    job = run_job(env, backend)
    assert job.state == JobState.NEEDS_ATTENTION
    assert job.error is not None and job.error.code == ErrorCode.NOT_FOUND
    assert len(backend.polls) == FAST.poll_attention_after

    backend.script = [RemoteStatus(RemoteState.SUCCEEDED)]
    backend.jobs["r1"] = 0
    assert retry(env, backend, job.id).state == JobState.SUCCEEDED
    assert len(backend.submits) == 1


def test_transient_outages_are_waited_out_without_attention(env: Env) -> None:
    down = ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "Down (HTTP 503).", http_status=503)
    backend = FakeBackend(script=[down] * 10 + [RemoteStatus(RemoteState.SUCCEEDED)])

    job = run_job(env, backend)
    assert job.state == JobState.SUCCEEDED and len(backend.polls) == 11


def test_deadline_at_a_provider_that_cannot_cancel_leaves_the_job_collectable(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    job = run_job(env, backend, env.spec(deadline_s=0.2), cls=CannotCancel)
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id == "r1"
    assert job.error is not None and job.error.code == ErrorCode.TIMED_OUT
    assert "cannot cancel jobs" in job.error.message
    assert "may still finish there and be charged" in job.error.message
    assert backend.cancels == []

    backend.script = [RemoteStatus(RemoteState.SUCCEEDED)]  # it finished there later
    backend.jobs["r1"] = 0
    final = retry(env, backend, job.id, cls=CannotCancel)
    assert final.state == JobState.SUCCEEDED and len(final.outputs) == 1
    assert len(backend.submits) == 1


def test_deadline_whose_cancel_fails_waits_too(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    job = run_job(env, backend, env.spec(deadline_s=0.2), cls=CancelFails)
    assert job.state == JobState.NEEDS_ATTENTION and backend.cancels == ["r1"]
    assert job.error is not None and "cancelling it at Fake Service failed" in job.error.message


def test_a_partial_download_keeps_what_landed_and_fetches_only_the_rest(env: Env) -> None:
    good, bad = png_bytes((1, 2, 3)), b"<html>Service Unavailable</html>"

    class SecondBreaks(FakeProvider):
        async def fetch(self, output):  # type: ignore[no-untyped-def]
            self.backend.fetches.append(output.url or "")
            return good if output.url.endswith("/0.png") else self.backend.output_bytes

    backend = FakeBackend(outputs=2, output_bytes=bad)
    job = run_job(env, backend, cls=SecondBreaks)
    assert job.state == JobState.NEEDS_ATTENTION and len(job.outputs) == 1
    assert job.error is not None and "Result 2 of 2" in job.error.message
    fetched = len(backend.fetches)

    backend.output_bytes = png_bytes((4, 5, 6))
    final = retry(env, backend, job.id, cls=SecondBreaks)
    assert final.state == JobState.SUCCEEDED and len(final.outputs) == 2
    assert len(backend.fetches) == fetched + 1  # the first result was not fetched again


def test_unknown_submit_outcome_without_a_job_list_waits_and_says_so(env: Env) -> None:
    class Dropped(FakeProvider):
        async def submit(self, job):  # type: ignore[no-untyped-def]
            await super().submit(job)  # created remotely, but the answer is lost
            raise ProviderError(ErrorCode.NETWORK, "Connection dropped.", unknown_outcome=True)

    backend = FakeBackend()
    job = run_job(env, backend, cls=Dropped)
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id is None
    assert job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "may have created the job and charged for it" in job.error.message
    assert "check your Fake Service account" in job.error.message
    assert job.may_be_charged

    async def abandon() -> Job:
        engine = env.engine(backend, cls=Dropped)
        done = await engine.cancel(job.id)
        await engine.aclose()
        return done

    done = run(abandon())
    assert done.state == JobState.CANCELLED and done.error is not None
    assert "may have created this job" in done.error.message
    assert len(backend.submits) == 1


def test_a_2xx_that_cannot_be_read_is_an_unknown_outcome_not_a_failure(env: Env) -> None:
    backend = FakeBackend(submit_error=ProviderError(
        ErrorCode.PROVIDER_UNAVAILABLE, "Malformed answer.", http_status=200))
    job = run_job(env, backend)
    assert job.state == JobState.NEEDS_ATTENTION
    assert job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "its answer could not be read" in job.error.message


def test_a_clear_refusal_is_the_providers_verdict(env: Env) -> None:
    backend = FakeBackend(submit_error=ProviderError(
        ErrorCode.INVALID_INPUT, "Image too small (HTTP 422).", http_status=422))
    job = run_job(env, backend)
    assert job.state == JobState.FAILED and not job.may_be_charged


def test_cancel_during_a_submit_waits_for_the_answer_and_cancels_at_the_provider(env: Env
                                                                                 ) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)], submit_delay=0.4)

    async def main() -> Job:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        await wait_for(lambda: backend.in_flight == 1)
        cancelled = await engine.cancel(job.id)
        await engine.aclose()
        return cancelled

    job = run(main())
    assert job.state == JobState.CANCELLED and job.remote_id == "r1"
    assert backend.cancels == ["r1"] and len(backend.submits) == 1
    assert job.error is not None and "cancelled at Fake Service" in job.error.message
    assert "nothing was charged" not in job.error.message


def test_closing_during_a_submit_records_the_accepted_job_for_resume(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)], submit_delay=0.3)

    async def first_life() -> str:
        engine = env.engine(backend)
        job = await engine.submit(env.spec())
        await wait_for(lambda: backend.in_flight == 1)
        await engine.aclose()  # Ctrl+C or closing the window while the POST is out
        return job.id

    job_id = run(first_life())
    stored = env.history.get(job_id)
    assert stored is not None and stored.state == JobState.RUNNING and stored.remote_id == "r1"
    assert stored.owner is None

    async def second_life() -> Job:
        engine = env.engine(backend)
        await engine.resume()
        final = await engine.wait(job_id)
        await engine.aclose()
        return final

    assert run(second_life()).state == JobState.SUCCEEDED
    assert len(backend.submits) == 1


def test_a_submit_that_outlasts_the_grace_is_an_unknown_outcome_then_reconciled(env: Env
                                                                                ) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)], submit_delay=0.5)
    policy = EnginePolicy(jitter=0.0, submit_grace_s=0.05)

    async def first_life() -> str:
        engine = env.engine(backend, cls=ReconcilingFakeProvider, policy=policy)
        job = await engine.submit(env.spec())
        await wait_for(lambda: backend.in_flight == 1)
        await engine.aclose()
        return job.id

    job_id = run(first_life())
    stored = env.history.get(job_id)
    assert stored is not None and stored.state == JobState.NEEDS_ATTENTION
    assert stored.error is not None and stored.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert "Restyle stopped before it answered" in stored.error.message
    # The provider got the job after all (the request had left before Restyle stopped).
    backend.by_local_id[job_id] = "r9"
    backend.jobs["r9"] = 0

    async def second_life() -> Job:
        engine = env.engine(backend, cls=ReconcilingFakeProvider)
        report = await engine.resume()
        assert [j.id for j in report.resumed] == [job_id]
        final = await engine.wait(job_id)
        await engine.aclose()
        return final

    final = run(second_life())
    assert final.state == JobState.SUCCEEDED and final.remote_id == "r9"
    assert backend.reconciles == [job_id]


def test_jobs_cancelled_before_their_task_started_are_closed_honestly(env: Env) -> None:
    """aclose() or cancel() right after submit(), before the job's task ran a single step:
    the job must not stay `queued`, and no coroutine is left never awaited."""
    backend = FakeBackend()

    async def main() -> tuple[Job, Job]:
        engine = env.engine(backend)
        first = await engine.submit(env.spec())
        cancelled = await engine.cancel(first.id)  # no await between submit and cancel
        second = await engine.submit(env.spec())
        await engine.aclose()
        return cancelled, env.history.get(second.id)  # type: ignore[return-value]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cancelled, closed = run(main())
        gc.collect()
    assert cancelled.state == JobState.CANCELLED
    assert closed.state == JobState.CANCELLED
    assert closed.error is not None and "nothing was charged" in closed.error.message
    assert backend.submits == []
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_provider_text_is_redacted_before_it_is_stored(env: Env) -> None:
    secret = "sk-live-0123456789abcdef"
    register_secret(secret)
    backend = FakeBackend(script=[
        RemoteStatus(RemoteState.RUNNING, message=f"Using key {secret} token=abc123"),
        RemoteStatus(RemoteState.FAILED, error=ProviderError(
            ErrorCode.JOB_FAILED, f"Bad key {secret}"))])

    job = run_job(env, backend)
    assert job.state == JobState.FAILED and job.error is not None
    assert secret not in job.error.message
    raw = env.history.path.read_bytes() + (env.history.path.parent /
                                           (env.history.path.name + "-wal")).read_bytes()
    assert secret.encode() not in raw and b"abc123" not in raw


def test_resume_of_a_job_whose_provider_is_unknown_waits(env: Env) -> None:
    import time

    now = time.time()
    job = Job(id="gone", spec=env.spec().__class__(provider="retired", task="echo"),
              state=JobState.RUNNING, created_at=now, updated_at=now, remote_id="x")
    env.history.save_job(job)

    async def main() -> None:
        engine = env.engine(FakeBackend())
        report = await engine.resume()
        assert [j.id for j in report.waiting] == ["gone"] and report.resumed == []
        await engine.aclose()

    run(main())
    stored = env.history.get("gone")
    assert stored is not None and stored.state == JobState.RUNNING and stored.owner is None


def test_abandoning_an_accepted_job_at_a_provider_that_cannot_cancel_says_so(env: Env) -> None:
    backend = FakeBackend(script=[RemoteStatus(RemoteState.RUNNING)])

    async def main() -> Job:
        engine = env.engine(backend, cls=CannotCancel)
        job = await engine.submit(env.spec())
        await wait_for(lambda: bool(backend.polls))
        done = await engine.cancel(job.id)
        await engine.aclose()
        return done

    done = run(main())
    assert done.state == JobState.CANCELLED and done.error is not None
    assert "may still finish there and be charged" in done.error.message


def test_events_say_the_engine_waits_for_a_submits_answer(env: Env) -> None:
    backend = FakeBackend(submit_delay=0.2)
    messages: list[str] = []

    async def main() -> None:
        engine = env.engine(backend)
        engine.subscribe(lambda e: messages.append(e.message))
        job = await engine.submit(env.spec())
        await wait_for(lambda: backend.in_flight == 1)
        await asyncio.gather(engine.aclose())
        assert env.history.get(job.id).remote_id == "r1"  # type: ignore[union-attr]

    run(main())
    assert any("to confirm it received this job" in m for m in messages)


def test_signed_input_urls_are_stored_masked_but_sent_whole(env: Env) -> None:
    backend = FakeBackend()
    url = "https://user:pw@cdn.example/in.png?X-Amz-Signature=deadbeef1234&size=2"

    async def load(source: str) -> bytes:
        assert source == url
        return png_bytes((7, 7, 7))

    async def main() -> Job:
        engine = env.engine(backend, load_url=load)
        job = await engine.run(env.spec().__class__(provider="fake", task="echo",
                                                    inputs={"image": [url]}))
        await engine.aclose()
        return job

    job = run(main())
    assert job.state == JobState.SUCCEEDED
    sent = backend.submits[0].inputs["image"][0]
    assert sent.source_url == url  # the provider may fetch it itself
    stored = job.spec.inputs["image"][0]
    assert "deadbeef1234" not in stored and "pw@" not in stored and "cdn.example" in stored
    raw = env.history.path.read_bytes() + (env.history.path.parent /
                                           (env.history.path.name + "-wal")).read_bytes()
    assert b"deadbeef1234" not in raw


def test_a_refused_result_waits_at_once_for_the_setting_to_change(env: Env) -> None:
    from desktop.providers.base import ResultRefused

    class TooBig(FakeProvider):
        async def fetch(self, output):  # type: ignore[no-untyped-def]
            self.backend.fetches.append(output.url or "")
            raise ResultRefused(ErrorCode.RESULT_UNAVAILABLE,
                                "Larger than limits.result_max_bytes allows.")

    backend = FakeBackend()
    job = run_job(env, backend, cls=TooBig)
    assert job.state == JobState.NEEDS_ATTENTION and len(backend.fetches) == 1
    assert job.error is not None and "limits.result_max_bytes" in job.error.message


def test_a_job_list_that_does_not_show_the_job_yet_is_searched_again(env: Env) -> None:
    """The answer to a submit was lost and the service takes a while to create the job: the
    first search of its job list finds nothing, which is no verdict until the settle time."""

    class Slow(ReconcilingFakeProvider):
        async def submit(self, job):  # type: ignore[no-untyped-def]
            self.backend.submits.append(job)
            raise ProviderError(ErrorCode.NETWORK, "No answer.", unknown_outcome=True)

        async def reconcile(self, job):  # type: ignore[no-untyped-def]
            self.backend.reconciles.append(job.job_id)
            if len(self.backend.reconciles) < 3:
                return None  # not made yet
            self.backend.jobs["r5"] = 0
            return RemoteRef("r5")

    backend = FakeBackend(script=[RemoteStatus(RemoteState.SUCCEEDED)])
    policy = EnginePolicy(jitter=0.0, reconcile_settle_s=5.0)
    job = run_job(env, backend, cls=Slow, policy=policy, sleep=_no_wait)
    assert job.state == JobState.SUCCEEDED and job.remote_id == "r5"
    assert len(backend.submits) == 1 and len(backend.reconciles) == 3


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0.01)
