"""Running a team for tests and measurements: `restyle-cli worker` processes on one team
database and shared assets folder, each with its own RESTYLE_HOME, and `batch --remote`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any RESTYLE_ variable of the caller, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def write_settings(home: Path, *, provider: str, limit: int, poll_s: float = 0.3) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({
        "providers": {provider: {"concurrency": limit, "poll_interval": poll_s}},
        "jobs": {"lease_s": 15, "heartbeat_s": 3},
    }))


def make_pictures(folder: Path, count: int, prefix: str, seed: int) -> list[Path]:
    """`count` small JPEGs of different colours."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        path = folder / f"{prefix}{i:03d}.jpg"
        Image.new("RGB", (160, 240), colour).save(path, quality=80)
        paths.append(path)
    return paths


@dataclass
class Worker:
    index: int
    home: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def restyle_log(self, tail: int = 4000) -> str:
        """The end of the worker's own log file (RESTYLE_HOME/logs)."""
        files = sorted((self.home / "logs").glob("*.log"))
        return "".join(f.read_text(errors="replace")[-tail:] for f in files)


def cli(args: Sequence[str], env: dict[str, str], *, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def start_worker(index: int, root: Path, env: dict[str, str], *, queue: str,
                 concurrency: int, provider: str, limit: int) -> Worker:
    home = root / f"worker{index}"
    write_settings(home, provider=provider, limit=limit)
    log = root / f"worker{index}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop.cli", "worker", "--queue", queue,
             "--concurrency", str(concurrency)],
            env={**env, "RESTYLE_HOME": str(home)}, cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT)
    return Worker(index, home, proc, log)


def stop_workers(workers: Sequence[Worker], timeout: float = 30) -> dict[int, int | None]:
    """SIGTERM every worker still running; their exit codes (None: had to be killed)."""
    for w in workers:
        if w.proc.poll() is None:
            w.proc.send_signal(signal.SIGTERM)
    codes: dict[int, int | None] = {}
    for w in workers:
        try:
            codes[w.index] = w.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
            codes[w.index] = None
    return codes


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def query(url: str, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, args).fetchall())


def diagnose(url: str, workers: Sequence[Worker]) -> str:
    """The jobs' and tasks' states and the workers' output, for a failure message."""
    jobs = query(url, "SELECT state, owner IS NOT NULL, remote_id IS NOT NULL, count(*)"
                 " FROM jobs GROUP BY 1, 2, 3")
    tasks = query(url, "SELECT status, count(*) FROM procrastinate_jobs GROUP BY 1")
    slots = query(url, "SELECT slot, job_id FROM restyle_team_slots ORDER BY slot")
    odd = query(url, "SELECT id, state, error_code, error_message, attempts, submitted_at"
                " FROM jobs WHERE state <> 'succeeded'")
    logs = "\n".join(f"--- worker {w.index}:\n{w.output()[-4000:]}\n{w.restyle_log()}"
                      for w in workers)
    return f"jobs {jobs}\ntasks {tasks}\nslots {slots}\nunfinished {odd}\n{logs}"


def submits_report(emu: Any, url: str, workers: Sequence[Worker]) -> str:
    """For a failed "one submit per job" check: the jobs the emulator made more than once from
    the same inputs (their remote ids, when), what the history holds, the workers' logs."""
    import hashlib

    posts = [r for r in emu.requests if r.method == "POST"]
    # The same inputs make the same job (a multipart body differs by its boundary alone).
    seen: dict[str, list[tuple[str, float]]] = {}
    for emu_job in emu.jobs.values():
        inputs = hashlib.sha256(emu_job.person + b"|" + emu_job.garment).hexdigest()[:12]
        seen.setdefault(inputs, []).append((emu_job.id, round(emu_job.created, 3)))
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    jobs = query(url, "SELECT id, state, remote_id, owner, attempts, submitted_at, updated_at,"
                 " error_message FROM jobs ORDER BY submitted_at")
    return (f"{len(posts)} POSTs, {len(emu.jobs)} emulator jobs from {len(seen)} distinct"
            f" inputs; made more than once (remote id, when): {twice}\njobs {jobs}\n"
            f"{diagnose(url, workers)}")
