"""FitInView's job list imported into the history, against its emulator over real HTTP: only
the jobs Restyle does not know are taken in (a job whose submit answer was lost is known by the
id in its metadata), their results downloaded and checked by the engine, a failed job recorded
with its reason; a second import, or two at once, never make a second record; a damaged
download leaves the imported job waiting, collected once downloads work again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.core.assets import AssetStore
from desktop.core.engine import EnginePolicy, JobEngine
from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.provider_tools import RemoteJobList
from desktop.core.provider_tools.imports import import_jobs, imported_job_id, is_imported
from desktop.core.store import History
from desktop.providers.fitinview import FitInViewProvider
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Fault, serve
from tests.providers.test_fitinview import PERSON, job, provider


@pytest.fixture
def emu() -> FitInViewEmulator:
    return FitInViewEmulator(job_delay=0.1)


@pytest.fixture
def base(emu: FitInViewEmulator) -> Iterator[str]:
    with serve(emu) as url:
        yield url


async def _fast_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.03))


def engine_on(history: History, assets: AssetStore, base: str, **policy: Any) -> JobEngine:
    return JobEngine(history, assets, lambda _pid: provider(base),
                     policy=EnginePolicy(jitter=0.0, **policy), sleep=_fast_sleep)


async def finished_remotely(p: FitInViewProvider, emu: FitInViewEmulator) -> None:
    for _ in range(200):
        if all(j.status(emu) in ("succeeded", "failed") for j in emu.jobs.values()):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the emulator's jobs never finished")


def results_downloaded(emu: FitInViewEmulator) -> int:
    return len(emu.requests_to("GET", "/results/"))


def test_only_unknown_jobs_are_imported_and_collected(tmp_path: Path, emu: FitInViewEmulator,
                                                      base: str) -> None:
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    person = tmp_path / "person.png"
    person.write_bytes(PERSON)
    garment = tmp_path / "garment.png"
    garment.write_bytes(PERSON)

    async def main() -> dict[str, Any]:
        engine = engine_on(history, assets, base)
        p = provider(base)
        assert isinstance(p, RemoteJobList)
        try:
            ours = await engine.run(JobSpec("fitinview", "tryon", {
                "person": [str(person)], "garment": [str(garment)]}))
            # A submit whose answer never came: the service has the job, with our id in its
            # metadata; the history has the job, without a remote id yet.
            lost = Job("lost-answer-job", JobSpec("fitinview", "tryon"),
                       JobState.NEEDS_ATTENTION, 1.0, 1.0,
                       error=JobError(ErrorCode.UNKNOWN_OUTCOME, "No answer."))
            history.save_job(lost)
            await p.submit(job("lost-answer-job"))
            elsewhere = await p.submit(job("another-computer", params={"seed": 42}))
            emu.fail_next("no_person_detected")
            failing = await p.submit(job("another-computer-2"))
            await finished_remotely(p, emu)
            before = results_downloaded(emu)
            page = await p.remote_jobs(limit=50)
            report = await import_jobs(engine, p, page.jobs)
            done = {j.remote_id: await engine.wait(j.id) for j in report.imported}
            again = await import_jobs(engine, p, (await p.remote_jobs(limit=50)).jobs)
            return {"ours": ours, "elsewhere": elsewhere.remote_id,
                    "failing": failing.remote_id, "report": report, "done": done,
                    "again": again, "downloads": results_downloaded(emu) - before}
        finally:
            await p.aclose()
            await engine.aclose()

    try:
        got = asyncio.run(main())
        report, done = got["report"], got["done"]
        lost_remote = next(j.job_id for j in emu.jobs.values()
                           if (j.request.get("metadata") or {}).get("restyle_job_id")
                           == "lost-answer-job")
        assert report.known == {got["ours"].remote_id: got["ours"].id,
                                lost_remote: "lost-answer-job"}
        assert sorted(done) == sorted([got["elsewhere"], got["failing"]])
        fine = done[got["elsewhere"]]
        assert fine.state == JobState.SUCCEEDED and fine.id == imported_job_id(
            "fitinview", got["elsewhere"])
        assert is_imported(fine) and fine.note == "Imported from FitInView's job list."
        assert fine.cost_credits == 8.0 and fine.spec.params == {"seed": 42}
        [output] = fine.outputs
        stored = assets.read(history.asset(output.sha256))  # type: ignore[arg-type]
        assert stored == emu.jobs[got["elsewhere"]].result
        assert output.mime == "image/png" and output.width and output.height
        failed = done[got["failing"]]
        assert failed.state == JobState.FAILED and failed.outputs == ()
        assert failed.error is not None and "No person could be found" in failed.error.message
        assert got["downloads"] == 1  # the failed job has nothing to download
        assert got["again"].imported == [] and set(got["again"].known) == {
            got["ours"].remote_id, lost_remote, got["elsewhere"], got["failing"]}
        remote_ids = [j.remote_id for j in history.list(limit=100)]
        assert sorted(r for r in remote_ids if r) == sorted(
            [got["ours"].remote_id, got["elsewhere"], got["failing"]])
    finally:
        history.close()


def test_two_imports_at_once_make_one_record(tmp_path: Path, emu: FitInViewEmulator,
                                             base: str) -> None:
    """Two processes (two engines, each with its own connection to the history) import the
    same remote job at the same moment."""
    first_history = History(tmp_path / "history.sqlite3")
    second_history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")

    async def main() -> list[Any]:
        p = provider(base)
        one = engine_on(first_history, assets, base)
        two = engine_on(second_history, assets, base)
        try:
            await p.submit(job("made-elsewhere"))
            await finished_remotely(p, emu)
            remotes = (await p.remote_jobs()).jobs
            reports = await asyncio.gather(import_jobs(one, p, remotes),
                                           import_jobs(two, p, remotes))
            for engine, report in zip((one, two), reports, strict=True):
                for imported in report.imported:
                    await engine.wait(imported.id)
            return list(reports)
        finally:
            await p.aclose()
            await one.aclose()
            await two.aclose()

    try:
        reports = asyncio.run(main())
        assert sum(len(r.imported) for r in reports) == 1
        assert sum(len(r.known) for r in reports) == 1
        jobs = first_history.list(limit=10)
        assert len(jobs) == 1 and jobs[0].state == JobState.SUCCEEDED
        assert results_downloaded(emu) == 1
    finally:
        first_history.close()
        second_history.close()


def test_a_damaged_download_waits_and_is_collected_later(tmp_path: Path,
                                                         emu: FitInViewEmulator,
                                                         base: str) -> None:
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")

    async def main() -> tuple[Job, Job]:
        p = provider(base)
        engine = engine_on(history, assets, base, download_attempts=2,
                           download_backoff_base=0.01)
        try:
            await p.submit(job("made-elsewhere"))
            await finished_remotely(p, emu)
            emu.inject(Fault("short", "GET", "/results/", times=10))
            report = await import_jobs(engine, p, (await p.remote_jobs()).jobs)
            waiting = await engine.wait(report.imported[0].id)
            emu.clear_faults()
            retried = await engine.retry(waiting.id)
            return waiting, await engine.wait(retried.resumed[0].id)
        finally:
            await p.aclose()
            await engine.aclose()

    try:
        waiting, collected = asyncio.run(main())
        assert waiting.state == JobState.NEEDS_ATTENTION and waiting.remote_id
        assert collected.state == JobState.SUCCEEDED and len(collected.outputs) == 1
        assert collected.note == "Imported from FitInView's job list."
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1  # never sent by Restyle
    finally:
        history.close()
