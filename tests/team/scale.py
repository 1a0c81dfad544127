"""Scale figures for team mode: jobs per minute with 1, 2 and 4 `restyle-cli worker` processes
against the TryonAPI emulator with a realistic latency (each job takes 2 to 5 seconds at the
"provider"), the provider's limit high enough not to cap the team.

    .venv/bin/python -m tests.team.scale [--jobs 48] [--concurrency 4] [--workers 1,2,4]

Each round: a fresh database on a throwaway PostgreSQL server (tests/pg_cluster.py), the batch
queued first with `batch --remote`, then the workers started; the rate is the jobs over the
time from the first submit to the last job's end (both as the workers stored them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from tests.emulators.kit import serve_ports
from tests.emulators.tryonapi import TryonApiEmulator
from tests.pg_cluster import PgCluster
from tests.team.support import (
    clean_env,
    cli,
    make_pictures,
    query,
    start_worker,
    stop_workers,
    wait_for,
    write_settings,
)

KEY = "scale-test-key"
LIMIT = 64


class SlowTryonApi(TryonApiEmulator):
    """Each job takes 2 to 5 seconds (spread evenly by its creation time)."""

    def ready(self, created: float) -> bool:
        spread = hashlib.sha256(repr(created).encode()).digest()[0] / 255
        return time.monotonic() - created >= 2.0 + 3.0 * spread


def one_round(cluster: PgCluster, workers: int, jobs: int, concurrency: int) -> dict[str, float]:
    url = cluster.create_database("scale")
    root = Path(tempfile.mkdtemp(prefix="restyle-scale-"))
    persons = make_pictures(root / "persons", jobs // 2, "p", workers)
    garments = make_pictures(root / "garments", 2, "g", 99)
    emu = SlowTryonApi(api_key=KEY)
    with serve_ports(emu, 1) as bases:
        team = {"RESTYLE_DATABASE_URL": url, "RESTYLE_ASSETS_DIR": str(root / "assets"),
                "RESTYLE_TRYONAPI_BASE_URL": bases[0]}
        write_settings(root / "desk", provider="tryonapi", limit=LIMIT)
        queued = cli(["batch", "--provider", "tryonapi", "--task", "tryon", "--person",
                      str(persons[0].parent), *[a for g in garments for a in ("--garment",
                                                                                str(g))],
                      "--remote", "--yes", "--json"],
                     clean_env(**team, RESTYLE_HOME=str(root / "desk")))
        if queued.returncode != 0:
            raise SystemExit(queued.stderr)
        total = json.loads(queued.stdout)["queued"]
        team_workers = [start_worker(i, root, clean_env(**team, RESTYLE_TRYONAPI_API_KEY=KEY),
                                     queue="default", concurrency=concurrency,
                                     provider="tryonapi", limit=LIMIT)
                        for i in range(workers)]
        try:
            wait_for(lambda: query(url, "SELECT count(*) FROM jobs WHERE state IN"
                                   " ('succeeded', 'failed', 'cancelled', 'timed_out')")[0][0]
                     == total, 600, "every job to end", every=0.5)
        finally:
            stop_workers(team_workers)
    first, last, ok = query(url, "SELECT min(submitted_at), max(finished_at), count(*) FILTER"
                            " (WHERE state = 'succeeded') FROM jobs")[0]
    span = float(last) - float(first)
    return {"workers": workers, "jobs": total, "succeeded": ok, "span_s": span,
            "per_min": total / span * 60, "max_active": emu.max_active,
            "posts": len(emu.requests_to("POST", "/api/v1/tryon"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    rows = []
    with PgCluster() as cluster:
        for n in [int(x) for x in args.workers.split(",")]:
            rows.append(one_round(cluster, n, args.jobs, args.concurrency))
            print(f"... {n} workers done", flush=True)
    print(f"\nTryonAPI emulator, 2-5 s per job, provider limit {LIMIT}, --concurrency "
          f"{args.concurrency} per worker, {args.jobs} jobs per round\n")
    print(f"{'workers':>7}  {'jobs':>4}  {'ok':>4}  {'posts':>5}  {'most at once':>12}  "
          f"{'span s':>7}  {'jobs/min':>8}")
    for r in rows:
        print(f"{r['workers']:>7}  {r['jobs']:>4}  {r['succeeded']:>4}  {r['posts']:>5}  "
              f"{r['max_active']:>12}  {r['span_s']:>7.1f}  {r['per_min']:>8.1f}")


if __name__ == "__main__":
    main()
