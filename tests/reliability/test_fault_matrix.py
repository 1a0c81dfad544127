"""Faults in the providers' answers, injected at each of the five paid providers that can
produce them, through the real adapter and the real engine against the emulator over HTTP.

Each test ends with the global rules (faults.py): one paid submit per job, an accepted job
ends SUCCEEDED once the cause is fixed, nothing the provider created ends cancelled or failed.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.model import ErrorCode, Job, JobState
from tests.big_images import grey_jpeg, solid_png
from tests.emulators.kit import Emulator, Fault, serve
from tests.reliability.faults import (
    CASES,
    FAST,
    MAY_HAVE_CHARGED,
    PROVIDERS,
    Bench,
    Case,
    assert_accepted_succeeded,
    assert_history_intact,
    assert_never_ended_after_created,
    assert_one_submit,
    assert_waiting_unknown,
    download_backoffs,
)

RESULTS = "/results/"
#: More than every attempt of anything in one run (HTTP retries x engine attempts).
ALWAYS = 1000


@pytest.fixture
def emulator_options() -> dict[str, float]:
    """Options of the bench's emulator; a test parametrizes this name to change them."""
    return {"job_delay": 0.1}


@pytest.fixture
def bench(provider: str, emulator_options: dict[str, float], tmp_path: Path
          ) -> Iterator[Bench]:
    """The provider named by the test's `provider` parameter, its emulator served on a port.
    A test changes the emulator through `bench.emu` (faults, results.ttl)."""
    case = CASES[provider]
    emu = case.emulator(**emulator_options)
    with serve(emu) as base:
        yield Bench(tmp_path, case, emu, base)


def settle(bench: Bench, *jobs: Job) -> None:
    """The global rules, on every job of the test as stored now."""
    stored = [bench.stored(j.id) for j in jobs]
    assert_one_submit(bench.case, bench.emu, stored)
    assert_accepted_succeeded(stored)
    assert_never_ended_after_created(stored, bench.case.created(bench.emu))
    assert_history_intact(bench.history.path, bench.assets.root)


def collect(bench: Bench, job: Job) -> Job:
    """`restyle-cli resume JOB_ID` once the cause is fixed: the job is collected."""
    report, done = bench.resume([job.id])
    assert [j.id for j in report.resumed] == [job.id], report
    [final] = done
    assert final.state == JobState.SUCCEEDED, final.error
    assert final.remote_id and final.outputs
    assert job.remote_id in (None, final.remote_id)  # none yet: found in the job list
    return final


def result_gets(emu: Emulator) -> list[str]:
    return [r.path for r in emu.requests if r.method == "GET" and r.path.startswith(RESULTS)]


# -- polling ----------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_404_and_one_401_while_polling_are_waited_out(provider: str, bench: Bench) -> None:
    def break_polls(remote_id: str) -> None:
        path = bench.case.status_path + remote_id
        bench.emu.inject(Fault("status", "GET", path, status=404, body={"detail": "Not found."}),
                         Fault("status", "GET", path, status=401,
                               body={"detail": "Invalid API key."}))

    job = bench.run(on_accepted=break_polls)
    assert job.state == JobState.SUCCEEDED, job.error
    assert bench.emu.faults == []  # both answers were given, and outlived
    assert len(bench.case.polls(bench.emu, job.remote_id or "")) >= 3
    assert JobState.NEEDS_ATTENTION not in {e.job.state for e in bench.events}
    settle(bench, job)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_404_that_persists_waits_and_is_collected_once_it_passes(provider: str,
                                                                   bench: Bench) -> None:
    def lose_the_job(remote_id: str) -> None:
        bench.emu.inject(Fault("status", "GET", bench.case.status_path + remote_id,
                               status=404, body={"detail": "Not found."}, times=ALWAYS))

    job = bench.run(on_accepted=lose_the_job)
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id, job.state
    assert job.error is not None and job.error.code == ErrorCode.NOT_FOUND
    assert "may be charged" in job.error.message and "Retry" in job.error.message
    assert job.finished_at is None and job.owner is None
    assert len(bench.case.polls(bench.emu, job.remote_id)) == FAST.poll_attention_after

    bench.emu.clear_faults()  # the provider answers again
    collect(bench, job)
    settle(bench, job)


# -- downloads --------------------------------------------------------------------------------
def _expired_link(times: int) -> Fault:
    return Fault("status", "GET", RESULTS, status=403, body=b"<Error><Code>AccessDenied</Code>"
                 b"<Message>Request has expired</Message></Error>",
                 headers={"content-type": "application/xml"}, times=times)


#: A download fault, as one fault and as one that persists.
DOWNLOAD_FAULTS = {
    # Headers promise more than arrives: the HTTP layer notices and downloads again.
    "truncated": lambda times: Fault("truncate", "GET", RESULTS, times=times),
    # A damaged file with a Content-Length to match: only the image check notices.
    "short-image": lambda times: Fault("short", "GET", RESULTS, times=times),
    # A 200 whose body is an HTML page.
    "html-200": lambda times: Fault("page", "GET", RESULTS, times=times),
    # The signed link has expired (403, as S3 says it); lasting, it is the emulator's own:
    # every link it makes expires at once (url_ttl 0).
    "expired": _expired_link,
}


@pytest.mark.parametrize("kind", list(DOWNLOAD_FAULTS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_broken_download_is_tried_again_and_a_lasting_one_waits(provider: str, kind: str,
                                                                   bench: Bench) -> None:
    """Once: the job succeeds (the engine downloads again after a backoff, with links asked
    for afresh; FitInView signs a new link inside the same fetch; a cut-off body is downloaded
    again by the HTTP layer). Always: the paid job waits in needs_attention after its download
    attempts, never failed, and is collected once downloads work again."""
    once = DOWNLOAD_FAULTS[kind](1)
    bench.emu.inject(once)
    first = bench.run()
    assert first.state == JobState.SUCCEEDED, first.error
    gets = result_gets(bench.emu)
    assert len(gets) == 2, gets
    waits = download_backoffs(bench.waits)
    if kind == "truncated" or (kind == "expired" and provider == "fitinview"):
        assert waits == []  # handled inside the adapter's fetch
    else:
        assert waits == [FAST.download_backoff_base]
    if kind == "expired":
        # A new link the second time where the provider signs links per status call, the
        # same link (now served) where it signs once.
        assert (gets[0] != gets[1]) == (provider == "fitinview"), gets

    # Now the fault lasts.
    bench.waits.clear()
    if kind == "expired":
        bench.emu.results.ttl = 0.0  # every link, old and new, has expired
    else:
        bench.emu.inject(DOWNLOAD_FAULTS[kind](ALWAYS))
    job = bench.run()
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id, (job.state, job.error)
    assert job.error is not None and job.error.code == ErrorCode.RESULT_UNAVAILABLE
    assert "could not be downloaded intact" in job.error.message
    assert "may be charged" in job.error.message and job.outputs == ()
    attempts = FAST.download_attempts
    assert download_backoffs(bench.waits) == [FAST.download_backoff_base * 2 ** n
                                              for n in range(attempts - 1)]
    # Fresh links were asked for between the attempts.
    assert len(bench.case.polls(bench.emu, job.remote_id)) >= attempts

    bench.emu.clear_faults()
    bench.emu.results.ttl = 300.0
    final = collect(bench, job)
    data = bench.assets.path_for(final.outputs[0].sha256, final.outputs[0].mime).read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        img.load()  # the stored result is the whole image
    assert len(bench.case.posts(bench.emu)) == 2  # two jobs, one POST each
    settle(bench, first, job)


@functools.cache
def _huge_png() -> bytes:
    return solid_png(8200, 8200)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_very_large_results_are_accepted_and_stored(provider: str, bench: Bench) -> None:
    """An 8200 x 8200 PNG and a 16384 x 16384 JPEG (the links serve them as the results)."""
    jobs = []
    for data, mime, side in ((_huge_png(), "image/png", 8200),
                             (grey_jpeg(16384, 16384), "image/jpeg", 16384)):
        bench.emu.inject(Fault("status", "GET", RESULTS, status=200, body=data,
                               headers={"content-type": mime}, times=ALWAYS))
        job = bench.run()
        bench.emu.clear_faults()
        assert job.state == JobState.SUCCEEDED, job.error
        [out] = job.outputs
        assert (out.width, out.height, out.mime) == (side, side, mime)
        assert bench.assets.path_for(out.sha256, out.mime).read_bytes() == data
        jobs.append(job)
    settle(bench, *jobs)


# -- submits whose outcome is unknown ---------------------------------------------------------
#: Answers to a POST that created the job (the emulator acted, then the answer went wrong).
UNKNOWN_SUBMITS = {
    "malformed-2xx": lambda times: Fault("malformed_json", "POST", times=times, after=True),
    "500-after-create": lambda times: Fault("status", "POST", status=500, times=times,
                                            after=True),
    "dropped": lambda times: Fault("drop", "POST", times=times, after=True),
}


@pytest.mark.parametrize("kind", list(UNKNOWN_SUBMITS))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_submit_with_an_unknown_outcome_is_never_sent_twice(provider: str, kind: str,
                                                              bench: Bench) -> None:
    """FitInView finds the job in its list and collects it; the others keep the job waiting,
    saying it may have been created and charged for, and never POST it again (not on resume
    either)."""
    case = bench.case
    fault = UNKNOWN_SUBMITS[kind](ALWAYS)  # every attempt of the POST goes wrong
    fault.path = case.submit_path
    bench.emu.inject(fault)
    job = bench.run()
    assert len(case.created(bench.emu)) == 1  # the provider did create (and charge for) it
    if case.job_list:
        assert job.state == JobState.SUCCEEDED, job.error
        listed = [r for r in bench.emu.requests
                  if r.method == "GET" and r.path == case.submit_path]
        assert listed, "the job list was not searched"
        assert case.created(bench.emu) == {job.remote_id}
    else:
        assert_waiting_unknown(job, case)
        assert len(case.posts(bench.emu)) == 1
        report, done = bench.resume()
        assert [j.id for j in report.waiting] == [job.id] and done == []
        again, _ = bench.resume([job.id])
        assert [j.id for j in again.waiting] == [job.id]
        stored = bench.stored(job.id)
        assert stored.state == JobState.NEEDS_ATTENTION and MAY_HAVE_CHARGED in (
            stored.error.message if stored.error else "")
        assert len(case.posts(bench.emu)) == 1
    settle(bench, job)


@pytest.mark.parametrize("kind", ["500-after-create", "dropped"])
@pytest.mark.parametrize("provider", ["fitinview"])
def test_fitinview_repeats_a_lost_submit_only_under_its_idempotency_key(
        provider: str, kind: str, bench: Bench) -> None:
    """One lost answer: FitInView's POST is sent again with the same Idempotency-Key, and the
    service answers with the job it already made (one job, no list search)."""
    fault = UNKNOWN_SUBMITS[kind](1)
    fault.path = bench.case.submit_path
    bench.emu.inject(fault)
    job = bench.run()
    assert job.state == JobState.SUCCEEDED, job.error
    posts = bench.case.posts(bench.emu)
    assert len(posts) == 2 and len({p.headers["idempotency-key"] for p in posts}) == 1
    assert bench.case.created(bench.emu) == {job.remote_id}
    settle(bench, job)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_submit_unanswered_when_stopped_is_kept_and_never_sent_again(provider: str,
                                                                       bench: Bench) -> None:
    """Stopped (Ctrl+C, closing) while the POST is on its way and the answer does not come
    within the grace: the job is not called "not sent". FitInView's list finds it on resume;
    elsewhere it waits with an unknown outcome, and resume does not POST it again."""
    import asyncio

    case = bench.case
    bench.emu.inject(Fault("slow", "POST", case.submit_path, delay=FAST.submit_grace_s + 1.0,
                           after=True))

    async def stop_mid_submit() -> Job:
        engine = bench.engine()
        job = await engine.submit(bench.spec())
        while not case.posts(bench.emu):
            await asyncio.sleep(0.01)
        await engine.aclose()  # what Ctrl+C and closing the window do
        return job

    job = bench.stored(asyncio.run(stop_mid_submit()).id)
    assert job.state == JobState.NEEDS_ATTENTION, (job.state, job.error)
    assert job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME
    assert MAY_HAVE_CHARGED in job.error.message
    bench.emu.wait_idle()
    if case.job_list:
        final = collect(bench, job)
        assert case.created(bench.emu) == {final.remote_id}
    else:
        report, _ = bench.resume([job.id])
        assert [j.id for j in report.waiting] == [job.id]
        assert_waiting_unknown(bench.stored(job.id), case)
    assert len(case.posts(bench.emu)) == 1
    settle(bench, job)


@pytest.mark.parametrize("provider", ["fitinview"])
def test_a_list_search_while_the_submit_is_still_at_the_service_is_not_a_verdict(
        provider: str, bench: Bench) -> None:
    """Stopped while the POST is at FitInView, which takes longer than the grace to act on
    it; resumed at once, before FitInView has made the job: the empty list must not become
    "nothing was created, run it again"."""
    import asyncio

    case = bench.case
    bench.emu.inject(Fault("slow", "POST", case.submit_path, delay=FAST.submit_grace_s + 2.0))

    async def stop_mid_submit() -> Job:
        engine = bench.engine()
        job = await engine.submit(bench.spec())
        while not case.posts(bench.emu):
            await asyncio.sleep(0.01)
        await engine.aclose()
        return job

    job = asyncio.run(stop_mid_submit())
    bench.resume([job.id])  # the service is still working on the POST
    bench.emu.wait_idle()
    assert case.local_ids(bench.emu)[job.id] == 1  # it did create (and charge for) the job
    stored = bench.stored(job.id)
    assert stored.state not in (JobState.FAILED, JobState.CANCELLED), stored.error


# -- deadlines --------------------------------------------------------------------------------
CANNOT_CANCEL = [p for p in PROVIDERS if not CASES[p].can_cancel]


def test_which_providers_cannot_cancel() -> None:
    """The deadline test below runs where it applies: today no paid adapter can cancel. An
    adapter that gains a cancel fails this, so that its deadline (the job cancelled there,
    timed_out) gets a fault test of its own."""
    assert list(PROVIDERS) == CANNOT_CANCEL


@pytest.mark.parametrize("emulator_options", [{"job_delay": 1.5}])
@pytest.mark.parametrize("provider", CANNOT_CANCEL)
def test_a_deadline_at_a_provider_that_cannot_cancel_leaves_the_job_collectable(
        provider: str, bench: Bench) -> None:
    case: Case = bench.case
    job = bench.run(bench.spec(deadline_s=0.3))
    assert job.state == JobState.NEEDS_ATTENTION and job.remote_id, (job.state, job.error)
    assert job.error is not None and job.error.code == ErrorCode.TIMED_OUT
    assert f"{case.title} cannot cancel jobs" in job.error.message
    assert "may still finish there and be charged" in job.error.message
    assert [r for r in bench.emu.requests if r.method == "DELETE"] == []

    bench.emu.job_delay = 0.0  # it finished there meanwhile
    final = collect(bench, job)  # `resume JOB_ID`: checked again, collected
    assert final.finished_at is not None
    settle(bench, job)
