"""A worker stopped with SIGTERM while it holds jobs the provider accepted: it ends cleanly
(exit 0) and promptly, its leases released, and another worker collects those jobs by polling
only. A worker without the provider's key never sends a job: it hands each back to the queue
for a worker that has one."""

from __future__ import annotations

import signal
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

KEY = "tk-stop-test-41c2"


def test_sigterm_hands_accepted_jobs_over_and_a_keyless_worker_sends_nothing(
        pg_url: str, tmp_path: Path) -> None:
    # Jobs long enough at the provider for a moment when the first worker holds accepted
    # jobs and has no submit on its way (under a loaded CI machine too).
    emu = TryonApiEmulator(api_key=KEY, job_delay=4.0)
    persons = make_pictures(tmp_path / "persons", 4, "person", 3)
    garments = make_pictures(tmp_path / "garments", 2, "garment", 4)
    with serve_ports(emu, 4) as bases:
        team = {"RESTYLE_DATABASE_URL": pg_url, "RESTYLE_ASSETS_DIR": str(tmp_path / "assets")}
        keyless = start_worker(2, tmp_path, clean_env(**team, RESTYLE_TRYONAPI_BASE_URL=bases[3]),
                               queue="default", concurrency=2, provider="tryonapi", limit=4)
        first = start_worker(0, tmp_path, clean_env(**team, RESTYLE_TRYONAPI_BASE_URL=bases[1],
                                                    RESTYLE_TRYONAPI_API_KEY=KEY),
                             queue="default", concurrency=4, provider="tryonapi", limit=4)
        workers = [keyless, first]
        try:
            write_settings(tmp_path / "desk", provider="tryonapi", limit=4)
            queued = cli(["batch", "--provider", "tryonapi", "--task", "tryon", "--person",
                          str(persons[0].parent), "--garment", str(garments[0]),
                          "--garment", str(garments[1]), "--remote", "--yes"],
                         clean_env(**team, RESTYLE_HOME=str(tmp_path / "desk")))
            assert queued.returncode == 0, queued.stderr
            assert "8 jobs waiting in the team's queue 'default'" in queued.stdout
            assert "restyle-cli batch show" in queued.stdout

            def accepted_by_first() -> list[tuple[str, str]]:
                # Only at a moment when no submit is on its way: a submit cut by the stop
                # would rightly end in "needs attention" (its outcome unknown), which is
                # not what this test is about (tests/reliability covers it).
                return query(pg_url, "SELECT id, remote_id FROM jobs WHERE owner LIKE %s AND"
                             " remote_id IS NOT NULL AND state = 'running' AND NOT EXISTS"
                             " (SELECT 1 FROM jobs s WHERE s.state IN ('preparing',"
                             " 'submitting'))", (f"%|{first.proc.pid}|%",))

            try:
                held = wait_for(accepted_by_first, 40,
                                "the first worker to hold accepted jobs", every=0.05)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{diagnose(pg_url, workers)}") from None
            first.proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            assert first.proc.wait(20) == 0, first.output()
            assert time.monotonic() - started < 15
            assert "Worker stopped" in first.output()
            left = []
            for job_id, _ in held:
                [(state, owner, remote)] = query(
                    pg_url, "SELECT state, owner, remote_id FROM jobs WHERE id = %s", (job_id,))
                if state == "running":  # not finished before the stop: left for another
                    assert owner is None and remote
                    left.append(remote)
            assert left, "every accepted job finished before the worker stopped"

            second = start_worker(1, tmp_path, clean_env(**team,
                                                         RESTYLE_TRYONAPI_BASE_URL=bases[2],
                                                         RESTYLE_TRYONAPI_API_KEY=KEY),
                                  queue="default", concurrency=4, provider="tryonapi", limit=4)
            workers.append(second)
            try:
                wait_for(lambda: query(pg_url, "SELECT count(*) FROM jobs WHERE state ="
                                       " 'succeeded'")[0][0] == 8, 40, "every job to succeed")
            except AssertionError:
                raise AssertionError(diagnose(pg_url, workers)) from None
            codes = stop_workers(workers)
        finally:
            stop_workers(workers)
        assert set(codes.values()) == {0}, "\n".join(w.output() for w in workers)
    posts = emu.requests_to("POST", "/api/v1/tryon")
    assert len(posts) == 8, submits_report(emu, pg_url, workers)
    keyless_host = bases[3].removeprefix("http://")
    assert all(r.host != keyless_host for r in emu.requests)  # it never sent or polled
    second_host = bases[2].removeprefix("http://")
    for remote in left:  # collected by the second worker, by polling only
        assert any(p.host == second_host for p in
                   emu.requests_to("GET", f"/api/v1/tryon/status/{remote}"))
    assert query(pg_url, "SELECT state FROM batches") == [("finished",)]
