"""Pausing, resuming and retrying a team batch: while it is paused the workers send nothing new
of it (the jobs not sent wait, queued, and are not handed round the queue meanwhile); `batch
resume` hands them back to the workers, not to the machine it runs on; `batch retry` queues
the failed cells again. Each job is sent once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.emulators.kit import serve_ports
from tests.emulators.tryonapi import TryonApiEmulator
from tests.processes import needs_proc
from tests.team.support import (
    clean_env,
    cli,
    diagnose,
    make_pictures,
    query,
    start_worker,
    stop_workers,
    submits_report,
    wait_for,
    write_settings,
)

pytestmark = needs_proc

KEY = "tk-batch-control-7d1e"
JOBS = 12


def test_a_paused_team_batch_sends_nothing_new_and_resume_and_retry_go_to_the_workers(
        pg_url: str, tmp_path: Path) -> None:
    # Jobs long enough at the provider that the pause (a CLI process starting) comes while
    # most of the batch is still to be sent, on a loaded machine too.
    emu = TryonApiEmulator(api_key=KEY, job_delay=3.0)
    persons = make_pictures(tmp_path / "persons", 6, "person", 7)
    garments = make_pictures(tmp_path / "garments", 2, "garment", 8)
    with serve_ports(emu, 2) as bases:
        team = {"RESTYLE_DATABASE_URL": pg_url, "RESTYLE_ASSETS_DIR": str(tmp_path / "assets")}
        desk = clean_env(**team, RESTYLE_HOME=str(tmp_path / "desk"))
        write_settings(tmp_path / "desk", provider="tryonapi", limit=2)
        worker = start_worker(0, tmp_path, clean_env(**team, RESTYLE_TRYONAPI_BASE_URL=bases[1],
                                                     RESTYLE_TRYONAPI_API_KEY=KEY),
                              queue="default", concurrency=2, provider="tryonapi", limit=2)
        workers = [worker]
        try:
            emu.fail_next("garment_not_detected")  # the first job sent fails: retried below
            queued = cli(["batch", "--provider", "tryonapi", "--task", "tryon", "--person",
                          str(persons[0].parent), "--garment", str(garments[0]),
                          "--garment", str(garments[1]), "--remote", "--yes", "--json"], desk)
            assert queued.returncode == 0, queued.stderr
            batch_id = json.loads(queued.stdout)["id"]
            wait_for(lambda: len(emu.requests_to("POST", "/api/v1/tryon")) >= 2, 40,
                     "the worker to send its first jobs", every=0.05)

            paused = cli(["batch", "pause", batch_id], desk)
            assert paused.returncode == 0, paused.stderr
            at_pause = len(emu.requests_to("POST", "/api/v1/tryon"))

            def queue_settled() -> bool:
                # Every task taken and ended: the held-back jobs go round no more.
                return query(pg_url, "SELECT count(*) FROM procrastinate_jobs WHERE status IN"
                             " ('todo', 'doing')") == [(0,)]
            try:
                wait_for(queue_settled, 40, "the worker to have taken every task", every=0.5)
            except AssertionError:
                raise AssertionError(diagnose(pg_url, workers)) from None
            time.sleep(4)  # the worker's sweep runs at least once meanwhile
            posts = len(emu.requests_to("POST", "/api/v1/tryon"))
            # A job whose send had begun when the pause came may still go out (at most one
            # per slot), nothing after that.
            assert posts <= at_pause + 2, submits_report(emu, pg_url, workers)
            waiting = query(pg_url, "SELECT count(*) FROM jobs WHERE state = 'queued' AND"
                            " owner IS NULL AND submitted_at IS NULL")[0][0]
            assert waiting == JOBS - posts > 0, diagnose(pg_url, workers)
            # Nothing goes round the queue meanwhile: no task waits or runs for them.
            assert queue_settled(), diagnose(pg_url, workers)
            time.sleep(4)
            assert len(emu.requests_to("POST", "/api/v1/tryon")) == posts
            assert query(pg_url, "SELECT state FROM batches") == [("paused",)]

            resumed = cli(["batch", "resume", batch_id[:12]], desk)
            assert resumed.returncode == 0, resumed.stderr
            # The jobs held back while it was paused are the ones handed to the queue again.
            assert f"{waiting} {'job' if waiting == 1 else 'jobs'} waiting in the team's queue" \
                   " 'default'" in resumed.stdout, resumed.stdout

            def ended() -> bool:
                return query(pg_url, "SELECT count(*) FROM jobs WHERE state IN ('succeeded',"
                             " 'failed')")[0][0] == JOBS
            try:
                wait_for(ended, 60, "every job to end")
            except AssertionError:
                raise AssertionError(diagnose(pg_url, workers)) from None
            failed = query(pg_url, "SELECT id FROM jobs WHERE state = 'failed'")
            assert len(failed) == 1

            retried = cli(["batch", "retry", batch_id, "--json"], desk)
            assert retried.returncode == 0, retried.stderr
            assert "Sending 1 failed cell of batch" in retried.stderr
            assert json.loads(retried.stdout)["queue"] == "default"
            try:
                wait_for(lambda: query(pg_url, "SELECT count(*) FROM jobs WHERE state ="
                                       " 'succeeded'")[0][0] == JOBS, 40,
                         "the retried cell to succeed")
                wait_for(lambda: query(pg_url, "SELECT state FROM batches") == [("finished",)],
                         20, "the batch to be finished")
            except AssertionError:
                raise AssertionError(diagnose(pg_url, workers)) from None
            codes = stop_workers(workers)
        finally:
            stop_workers(workers)
    assert codes == {0: 0}, worker.output()
    # Sent once each: the twelve cells, and the failed one once more as a new job.
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == JOBS + 1, \
        submits_report(emu, pg_url, workers)
    jobs = query(pg_url, "SELECT remote_id, queue FROM jobs")
    assert len(jobs) == JOBS + 1 and {j[1] for j in jobs} == {"default"}
    assert {j[0] for j in jobs} == set(emu.jobs)
    # Every API call came to the worker's port: the desk that resumed sent nothing itself.
    worker_host = bases[1].removeprefix("http://")
    assert all(r.host == worker_host for r in emu.requests if r.path.startswith("/api/"))
