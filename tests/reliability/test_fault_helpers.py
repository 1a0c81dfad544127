"""The fault suite's global assertions fail when their rule is broken (a check that cannot
fail would prove nothing): a second paid submit, an accepted job left unfinished, a created
job ended cancelled, a damaged or missing stored result, two processes polling one job."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from desktop.core.model import ErrorCode, JobError, JobState
from tests.emulators.kit import RecordedRequest, serve
from tests.reliability.faults import (
    CASES,
    Bench,
    assert_accepted_succeeded,
    assert_history_intact,
    assert_never_ended_after_created,
    assert_one_poller_at_a_time,
    assert_one_submit,
)


@pytest.fixture
def tryonapi(tmp_path: Path):  # type: ignore[no-untyped-def]
    case = CASES["tryonapi"]
    emu = case.emulator(job_delay=0.0)
    with serve(emu) as base:
        yield Bench(tmp_path, case, emu, base)


def test_a_second_post_or_a_second_created_job_is_caught(tryonapi: Bench,
                                                         tmp_path: Path) -> None:
    job = tryonapi.run()
    assert_one_submit(tryonapi.case, tryonapi.emu, [job])
    tryonapi.emu.requests.append(RecordedRequest("POST", "/api/v1/tryon", {}, {}, b""))
    with pytest.raises(AssertionError, match="2 POSTs for 1 jobs"):
        assert_one_submit(tryonapi.case, tryonapi.emu, [job])

    case = CASES["fitinview"]
    emu = case.emulator(job_delay=0.0)
    with serve(emu) as base:
        fitinview = Bench(tmp_path / "fiv", case, emu, base)
        first = fitinview.run()
        assert_one_submit(case, emu, [first])
        body = json.loads(case.posts(emu)[0].body)
        headers = {"Authorization": f"Bearer {emu.api_key}", "Idempotency-Key": "another"}
        assert httpx.post(f"{base}{case.submit_path}", json=body, headers=headers).is_success
    with pytest.raises(AssertionError):
        assert_one_submit(case, emu, [first])  # a second job for the same local job


def test_an_accepted_job_that_did_not_succeed_is_caught(tryonapi: Bench) -> None:
    job = tryonapi.run()
    assert_accepted_succeeded([job])
    with pytest.raises(AssertionError):
        assert_accepted_succeeded([job.evolve(state=JobState.NEEDS_ATTENTION)])


def test_a_created_job_ended_cancelled_is_caught(tryonapi: Bench) -> None:
    job = tryonapi.run()
    created = tryonapi.case.created(tryonapi.emu)
    cancelled = job.evolve(state=JobState.CANCELLED,
                           error=JobError(ErrorCode.CANCELLED, "Cancelled."))
    assert_never_ended_after_created([cancelled.evolve(remote_id=None)], created)
    with pytest.raises(AssertionError):
        assert_never_ended_after_created([cancelled], created)


def test_a_damaged_or_missing_result_file_is_caught(tryonapi: Bench) -> None:
    job = tryonapi.run()
    database, root = tryonapi.history.path, tryonapi.assets.root
    assert_history_intact(database, root)
    [out] = job.outputs
    path = tryonapi.assets.path_for(out.sha256, out.mime)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(AssertionError):
        assert_history_intact(database, root)
    path.unlink()
    with pytest.raises(AssertionError):
        assert_history_intact(database, root)


def test_two_processes_polling_one_job_at_once_are_caught() -> None:
    case = CASES["vistoure"]
    emu = case.emulator()
    now = time.monotonic()
    path = f"{case.status_path}wr_1"

    def poll(host: str, at: float) -> RecordedRequest:
        return RecordedRequest("GET", path, {}, {"host": host}, b"", now + at)

    emu.requests[:] = [poll("a:1", 0.0), poll("a:1", 1.0), poll("b:2", 1.5), poll("b:2", 2.0)]
    assert_one_poller_at_a_time(case, emu, "wr_1")  # handed over: one after the other
    emu.requests.append(poll("a:1", 1.8))
    with pytest.raises(AssertionError):
        assert_one_poller_at_a_time(case, emu, "wr_1")
