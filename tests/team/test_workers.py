"""The distributed test (issue 15): three `restyle-cli worker` processes on one PostgreSQL
database and shared assets folder share a 60-job batch queued with `batch --remote`; one is
killed with SIGKILL while it holds jobs the provider accepted. Every job still ends, each was
submitted once, every result is stored once, the provider's limit held across the team, and
no API key reached the database."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

from desktop.core.assets import AssetStore
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

KEY = "tk-team-secret-7f3a9c1e55"
LIMIT = 4
QUEUE = "studio"


def test_three_workers_share_a_batch_and_survive_a_kill(pg_url: str, tmp_path: Path) -> None:
    emu = TryonApiEmulator(api_key=KEY, job_delay=1.0)
    persons = make_pictures(tmp_path / "persons", 20, "person", 1)
    garments = make_pictures(tmp_path / "garments", 3, "garment", 2)
    assets_dir = tmp_path / "shared-assets"
    with serve_ports(emu, 4) as bases:
        team = {"RESTYLE_DATABASE_URL": pg_url, "RESTYLE_ASSETS_DIR": str(assets_dir)}
        workers = [
            start_worker(i, tmp_path, clean_env(**team, RESTYLE_TRYONAPI_BASE_URL=bases[i + 1],
                                                RESTYLE_TRYONAPI_API_KEY=KEY),
                         queue=QUEUE, concurrency=3, provider="tryonapi", limit=LIMIT)
            for i in range(3)
        ]
        try:
            # The desk that queues the batch has no key: the workers hold them.
            desk = tmp_path / "desk"
            write_settings(desk, provider="tryonapi", limit=LIMIT)
            queued = cli(["batch", "--provider", "tryonapi", "--task", "tryon",
                          "--person", str(persons[0].parent),
                          *[a for g in garments for a in ("--garment", str(g))],
                          "--remote", "--queue", QUEUE, "--yes", "--json"],
                         clean_env(**team, RESTYLE_HOME=str(desk),
                                   RESTYLE_TRYONAPI_BASE_URL=bases[0]))
            assert queued.returncode == 0, queued.stderr
            answer = json.loads(queued.stdout)
            assert answer["queued"] == 60 and answer["queue"] == QUEUE

            # Kill worker 0 while it holds jobs TryonAPI accepted.
            victim = workers[0]

            def victim_jobs() -> list[str]:
                # At a moment when worker 0 has no submit on its way: a job killed mid-submit
                # rightly waits in "needs attention" (TryonAPI cannot be asked whether it got
                # it), which is the reliability suite's subject, not this test's.
                rows = query(pg_url, "SELECT id FROM jobs WHERE owner LIKE %s AND remote_id IS"
                             " NOT NULL AND state = 'running' AND NOT EXISTS (SELECT 1 FROM"
                             " jobs s WHERE s.owner LIKE %s AND s.state IN ('preparing',"
                             " 'submitting'))", (f"%|{victim.proc.pid}|%",) * 2)
                return [r[0] for r in rows]

            held = wait_for(victim_jobs, 40, "worker 0 to hold accepted jobs", every=0.05)
            victim.proc.send_signal(signal.SIGKILL)
            victim.proc.wait()

            def all_ended() -> bool:
                rows = query(pg_url, "SELECT count(*) FROM jobs WHERE state IN"
                             " ('succeeded', 'failed', 'cancelled', 'timed_out')")
                return rows[0][0] == 60

            try:
                wait_for(all_ended, 75, "every job to end")
            except AssertionError:
                raise AssertionError(diagnose(pg_url, workers)) from None
            codes = stop_workers(workers[1:])
        finally:
            stop_workers(workers)
        logs = "\n".join(w.output() for w in workers)
        assert codes == {1: 0, 2: 0}, logs

        jobs = query(pg_url, "SELECT id, state, remote_id, queue, owner FROM jobs")
        assert len(jobs) == 60
        assert {j[1] for j in jobs} == {"succeeded"}, diagnose(pg_url, workers)
        assert {j[3] for j in jobs} == {QUEUE}
        assert all(j[4] is None for j in jobs)  # every lease released
        # Submitted exactly once each: one POST per job, each remote id a job of its own.
        assert len(emu.requests_to("POST", "/api/v1/tryon")) == 60, \
            submits_report(emu, pg_url, workers)
        remote_ids = [j[2] for j in jobs]
        assert len(set(remote_ids)) == 60 and set(remote_ids) == set(emu.jobs)
        # The killed worker's accepted jobs were carried on elsewhere by polling only.
        victim_host = bases[1].removeprefix("http://")
        for job_id in held:
            remote = next(j[2] for j in jobs if j[0] == job_id)
            polls = emu.requests_to("GET", f"/api/v1/tryon/status/{remote}")
            assert any(p.host != victim_host for p in polls)
        # Never more than LIMIT jobs at TryonAPI at once, across the team (and the limit was
        # reached: the team did run jobs side by side).
        assert emu.max_active == LIMIT, emu.max_active

        # Every output stored once, its file present and matching its hash.
        outputs = query(pg_url, "SELECT o.job_id, o.sha256, a.mime FROM outputs o"
                        " JOIN assets a ON a.sha256 = o.sha256")
        assert sorted(o[0] for o in outputs) == sorted(j[0] for j in jobs)
        assert len({o[1] for o in outputs}) == 60
        store = AssetStore(assets_dir)
        for _, sha, mime in outputs:
            data = store.path_for(sha, mime).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha

        # The batch was marked finished by the worker that ended its last job.
        assert query(pg_url, "SELECT state FROM batches") == [("finished",)]

        # The key is nowhere in the database: not in the jobs, not in the task queue.
        tables = [r[0] for r in query(pg_url, "SELECT table_name FROM information_schema.tables"
                                      " WHERE table_schema = 'public'")]
        assert "procrastinate_jobs" in tables and "jobs" in tables
        for table in tables:
            for (text,) in query(pg_url, f'SELECT t::text FROM "{table}" t'):
                assert KEY not in text, table
        assert query(pg_url, "SELECT count(*) FROM procrastinate_jobs WHERE args::text LIKE"
                     " %s", (f"%{KEY}%",)) == [(0,)]
        for w in workers:  # nor in what the workers printed or logged
            assert KEY not in w.output() and KEY not in w.restyle_log(tail=10**8)
