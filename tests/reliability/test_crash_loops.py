"""Crash loops: real `restyle-cli` processes SIGKILLed at random moments, then resumed; and
several `restyle-cli resume` processes at once on one history.

The rounds are few by default (CI) and many with RESTYLE_RELIABILITY_FULL=1; the RNG is seeded,
so a failing round can be replayed. Each run prints a summary line (pytest -s shows it): rounds,
jobs, kills per phase, outcomes, time.

Every emulator is served on one port per process, so the request log says which process sent
what (`RecordedRequest.host`): that is how POSTs are counted per run where the provider keeps
no local job id, and how polls of one job are checked to come from one process at a time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from desktop.core.engine.ledger import Owner
from desktop.core.model import ErrorCode, Job, JobState
from tests.emulators.kit import Emulator, Fault, serve_ports
from tests.reliability.faults import (
    CASES,
    FULL,
    PROVIDERS,
    Case,
    Inputs,
    assert_history_intact,
    assert_never_ended_after_created,
    assert_one_poller_at_a_time,
    assert_waiting_unknown,
    cli_env,
    finish,
    host_of,
    rounds,
    start_cli,
    stored_jobs,
    wait_until,
    write_settings,
)

SEED = 8
KILL_ROUNDS = rounds(6, 50)
RUNS_PER_ROUND = 3 if FULL else 2
RESUME_ROUNDS = 4
CONCURRENT_ROUNDS = rounds(2, 10)
CONCURRENT_JOBS = 10 if FULL else 6
KILLED_OWNERS = 2
RESUMERS = 4 if FULL else 3
RESULTS = "/results/"
ALWAYS = 1000
#: When a run is killed: its POST is at the provider (the answer held back), it polls its
#: accepted job, it downloads the result, or at a random moment from its start.
PHASES = ("submit", "poll", "download", "any")


# -- watching a history while processes write it ----------------------------------------------
@dataclass(frozen=True)
class Row:
    id: str
    state: str
    remote_id: str | None
    pid: int | None


def rows(home: Path) -> list[Row]:
    """The jobs as stored now, read-only (the processes keep writing)."""
    database = home / "data" / "history.sqlite3"
    if not database.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            found = conn.execute("SELECT id, state, remote_id, owner FROM jobs").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return []  # being created right now
    out = []
    for job_id, state, remote_id, owner in found:
        parsed = Owner.parse(owner)
        out.append(Row(job_id, state, remote_id, parsed.pid if parsed else None))
    return out


def kill(proc: subprocess.Popen[str]) -> bool:
    """SIGKILL; True when the process was still running."""
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    return True


# -- kill -9 at random moments ----------------------------------------------------------------
@dataclass
class Runner:
    """One `restyle-cli run` of a round, the moment it is to be killed, and what happened."""

    proc: subprocess.Popen[str]
    host: str
    phase: str
    no_wait: bool
    delay: float
    started: float
    triggered_at: float | None = None
    killed: bool = False
    seen_remote: bool = False
    code: int | None = None


@dataclass
class Tally:
    rounds: int = 0
    jobs: int = 0
    runs: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    resumes: int = 0


def _trigger(runner: Runner, case: Case, emu: Emulator, jobs: list[Row], now: float) -> bool:
    """Whether the runner has reached the phase it is to be killed in."""
    mine = [j for j in jobs if j.pid == runner.proc.pid]
    if mine and mine[0].remote_id:
        runner.seen_remote = True
    if runner.phase == "submit":
        return bool(case.posts(emu, runner.host))
    if runner.phase == "poll":
        return bool(mine and mine[0].remote_id and mine[0].state == "running"
                    and [r for r in case.polls(emu, mine[0].remote_id) if r.host == runner.host])
    if runner.phase == "download":
        return bool(mine and mine[0].state == "downloading")
    return now - runner.started >= 0.3  # "any": delay counts from the start


def _kill_round(folder: Path, case: Case, rng: random.Random, tally: Tally) -> None:
    emu = case.emulator(job_delay=rng.uniform(0.5, 1.5))
    home = folder / "home"
    write_settings(home, poll_interval=0.1)
    files = Inputs(folder / "in")
    with serve_ports(emu, 1 + RUNS_PER_ROUND + RESUME_ROUNDS) as bases:
        run_bases = bases[1:1 + RUNS_PER_ROUND]
        resume_bases = bases[1 + RUNS_PER_ROUND:]
        plan = []
        for number, base in enumerate(run_bases):
            # Every phase in turn, so even the short loop kills in each; the moment within
            # the phase, and whether the run waits, are random.
            phase = PHASES[(tally.runs + number) % len(PHASES)]
            no_wait = phase in ("submit", "any") and rng.random() < 0.5
            delay = rng.uniform(0.0, 2.5) if phase == "any" else rng.uniform(0.0, 0.6)
            plan.append((base, no_wait, phase, delay))
            if phase == "submit":  # the job is created at once, its answer comes late
                emu.inject(Fault("slow", "POST", case.submit_path, delay=1.5, after=True,
                                 host=host_of(base)))
        if any(phase == "download" for _, _, phase, _ in plan):
            emu.inject(Fault("slow", "GET", RESULTS, delay=0.8, times=ALWAYS))
        runners = []
        for base, no_wait, phase, delay in plan:
            argv = case.argv(files) + (["--no-wait"] if no_wait else [])
            proc = start_cli(argv, cli_env(home, {case.id: (base, emu.api_key)}))
            runners.append(Runner(proc, host_of(base), phase, no_wait, delay, time.monotonic()))
        try:
            _kill_as_planned(runners, case, emu, home, tally)
        finally:
            for runner in runners:
                kill(runner.proc)
        emu.clear_faults()
        emu.wait_idle()
        owners = {r.id: r.pid for r in rows(home) if r.pid is not None}
        by_pid = {runner.proc.pid: runner for runner in runners}

        for number, base in enumerate(resume_bases):
            left = [j for j in stored_jobs(home)
                    if not j.state.terminal and not _waiting_unknown(j)]
            if not left:
                break
            tally.resumes += 1
            proc = start_cli(["resume"], cli_env(home, {case.id: (base, emu.api_key)}))
            if number == 0 and tally.rounds % 2 == 0 and _holds_a_job(proc, home):
                time.sleep(rng.uniform(0.0, 0.4))  # the first resume dies at work too
                if kill(proc):
                    tally.kills["resume"] += 1
                    continue
            code, _out, err = finish(proc)
            assert code in (0, 1), err  # 1: a job waits with an unknown outcome
            assert "Traceback" not in err
        _check_round(case, emu, home, runners, by_pid, owners, resume_bases, tally)


def _holds_a_job(proc: subprocess.Popen[str], home: Path) -> bool:
    """Wait until the process has taken a job over (False if it ended first)."""
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        if any(r.pid == proc.pid for r in rows(home)):
            return True
        time.sleep(0.01)
    return False


def _kill_as_planned(runners: list[Runner], case: Case, emu: Emulator, home: Path,
                     tally: Tally) -> None:
    deadline = time.monotonic() + 60
    while any(r.code is None and not r.killed for r in runners):
        assert time.monotonic() < deadline, "a run neither ended nor reached its phase"
        now = time.monotonic()
        jobs = rows(home)
        for runner in runners:
            if runner.killed or runner.code is not None:
                continue
            if runner.proc.poll() is not None:
                _out, err = runner.proc.communicate()
                runner.code = runner.proc.returncode
                assert runner.code == 0, err  # it ran to its end before its moment came
                tally.kills["ran to the end"] += 1
                continue
            if runner.triggered_at is None and _trigger(runner, case, emu, jobs, now):
                runner.triggered_at = now
            if runner.triggered_at is not None and now >= runner.triggered_at + runner.delay:
                _trigger(runner, case, emu, rows(home), now)  # last look before the kill
                if kill(runner.proc):
                    runner.killed = True
                    tally.kills[runner.phase] += 1
        time.sleep(0.01)


def _waiting_unknown(job: Job) -> bool:
    return (job.state == JobState.NEEDS_ATTENTION and job.error is not None
            and job.error.code == ErrorCode.UNKNOWN_OUTCOME and job.remote_id is None)


def _check_round(case: Case, emu: Emulator, home: Path, runners: list[Runner],
                 by_pid: dict[int, Runner], owners: dict[str, int], resume_bases: list[str],
                 tally: Tally) -> None:
    jobs = stored_jobs(home)
    created = case.created(emu)
    tally.rounds += 1
    tally.runs += len(runners)
    tally.jobs += len(jobs)
    tally.posts += len(case.posts(emu))
    assert len(jobs) <= len(runners)
    for runner in runners:  # one POST per run at most (each run makes one job)
        assert len(case.posts(emu, runner.host)) <= 1, runner
    for base in resume_bases:  # resume never submits
        assert case.posts(emu, host_of(base)) == []
    remote_ids = [j.remote_id for j in jobs if j.remote_id]
    assert len(set(remote_ids)) == len(remote_ids) and set(remote_ids) <= created
    lost = 0
    for job in jobs:
        runner = by_pid.get(owners.get(job.id, -1))
        if job.state == JobState.SUCCEEDED:
            assert job.remote_id and len(job.outputs) == 1, job
            tally.outcomes["succeeded"] += 1
        elif _waiting_unknown(job):
            # Only where there is no job list, only for a run killed mid-submit.
            assert_waiting_unknown(job, case)
            assert runner is not None and runner.killed and not runner.seen_remote, runner
            assert runner.phase in ("submit", "any"), runner
            lost += len(case.posts(emu, runner.host))
            tally.outcomes["waiting: unknown outcome"] += 1
        elif job.state in (JobState.CANCELLED, JobState.FAILED):
            # Closed honestly: nothing was sent for it.
            assert runner is not None and job.remote_id is None, (job, runner)
            assert case.posts(emu, runner.host) == [], (job.state, job.error)
            tally.outcomes[f"{job.state}: nothing sent"] += 1
        else:
            raise AssertionError(f"job {job.id} ended {job.state}: {job.error}")
    # Every paid job is in history with its remote id, but those whose answer never came.
    assert len(created - set(remote_ids)) == lost, (created, remote_ids, lost)
    if case.job_list:
        assert lost == 0
    assert_never_ended_after_created(jobs, created)
    assert_history_intact(home / "data" / "history.sqlite3", home / "data" / "assets")


@pytest.mark.timeout(1800 if FULL else 300)
def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    """`restyle-cli run` (some with --no-wait) SIGKILLed while submitting, polling,
    downloading or at any moment; then `restyle-cli resume` until nothing is left (the first
    resume itself killed half the time): every job SUCCEEDED with one POST, or - only where
    there is no job list, only killed mid-submit - waiting with an unknown outcome and one POST
    at most; a job closed as not sent had no POST."""
    rng = random.Random(SEED)
    tally = Tally()
    started = time.monotonic()
    for number in range(KILL_ROUNDS):
        case = CASES[PROVIDERS[number % len(PROVIDERS)]]
        _kill_round(tmp_path / f"round-{number}", case, rng, tally)
    took = time.monotonic() - started
    kills = sum(n for phase, n in tally.kills.items() if phase != "ran to the end")
    print(f"\nkill -9 loop: {tally.rounds} rounds, {tally.runs} runs, {tally.jobs} jobs, "
          f"{kills} kills ({dict(sorted(tally.kills.items()))}), {tally.resumes} resumes, "
          f"{tally.posts} POSTs, outcomes {dict(sorted(tally.outcomes.items()))}, "
          f"{took:.0f} s")
    assert kills >= tally.rounds  # the loop did kill


# -- several resumes at once ------------------------------------------------------------------
@pytest.mark.timeout(1800 if FULL else 300)
def test_concurrent_resumes_take_each_job_once(tmp_path: Path) -> None:
    """N `restyle-cli resume` processes at once on a history of M accepted, unfinished jobs
    (two of them owned by a run that was SIGKILLed while polling): each job is polled by one
    process at a time, succeeds once, its result is downloaded and stored once, and no
    resume POSTs anything."""
    rng = random.Random(SEED + 1)
    started = time.monotonic()
    total = 0
    for number in range(CONCURRENT_ROUNDS):
        case = CASES[PROVIDERS[(2 * number + 1) % len(PROVIDERS)]]
        total += _concurrent_round(tmp_path / f"round-{number}", case, rng)
    print(f"\nconcurrent resumes: {CONCURRENT_ROUNDS} rounds, {total} jobs, {RESUMERS} "
          f"resumes at once, {KILLED_OWNERS} killed owners a round, "
          f"{time.monotonic() - started:.0f} s")


def _concurrent_round(folder: Path, case: Case, rng: random.Random) -> int:
    emu = case.emulator(job_delay=600.0)  # held until the resumes start
    if case.id == "virtualstaging":
        emu.eta_s = 0.5  # type: ignore[attr-defined]
    home = folder / "home"
    write_settings(home, poll_interval=0.1)
    files = Inputs(folder / "in")
    with serve_ports(emu, 1 + CONCURRENT_JOBS + RESUMERS) as bases:
        run_bases = bases[1:1 + CONCURRENT_JOBS]
        resume_bases = bases[1 + CONCURRENT_JOBS:]
        runs = []
        for i, base in enumerate(run_bases):
            argv = case.argv(files) + ([] if i < KILLED_OWNERS else ["--no-wait"])
            runs.append(start_cli(argv, cli_env(home, {case.id: (base, emu.api_key)})))
        try:
            for proc, base in zip(runs[:KILLED_OWNERS], run_bases, strict=False):
                def polling(proc: subprocess.Popen[str] = proc, host: str = host_of(base)
                            ) -> bool:
                    mine = [r for r in rows(home) if r.pid == proc.pid and r.remote_id]
                    return bool(mine) and any(r.host == host for r in case.polls(
                        emu, mine[0].remote_id or ""))
                wait_until(polling, "a run polling its job", timeout=60, procs=[proc])
                time.sleep(rng.uniform(0.0, 0.3))
                assert kill(proc)
            for proc in runs[KILLED_OWNERS:]:
                code, _out, err = finish(proc)
                assert code == 0, err
        finally:
            for proc in runs:
                kill(proc)
        jobs = stored_jobs(home)
        assert len(jobs) == CONCURRENT_JOBS and all(j.remote_id for j in jobs)
        assert all(not j.state.terminal for j in jobs)
        # The jobs finish at the provider about a second after the resumes start.
        first = min(r.at for r in case.posts(emu))
        emu.job_delay = time.monotonic() - first + rng.uniform(0.8, 1.5)
        resumes = [start_cli(["resume", "--json"], cli_env(home, {case.id: (b, emu.api_key)}))
                   for b in resume_bases]
        collected: Counter[str] = Counter()
        try:
            for proc in resumes:
                code, out, err = finish(proc, timeout=120)
                assert code == 0, err
                assert "Traceback" not in err
                collected.update(j["id"] for j in json.loads(out)
                                 if j["status"] == "succeeded")
        finally:
            for proc in resumes:
                kill(proc)
    jobs = stored_jobs(home)
    assert all(j.state == JobState.SUCCEEDED and len(j.outputs) == 1 for j in jobs), jobs
    assert collected == Counter({j.id: 1 for j in jobs}), collected  # each by one resume
    for base in run_bases:
        assert len(case.posts(emu, host_of(base))) == 1
    for base in resume_bases:
        assert case.posts(emu, host_of(base)) == []
    for job in jobs:
        assert_one_poller_at_a_time(case, emu, job.remote_id or "")
    downloads = [r for r in emu.requests if r.method == "GET" and r.path.startswith(RESULTS)]
    assert len(downloads) == len(jobs)  # each result fetched once, by its one resume
    assert len({o.sha256 for j in jobs for o in j.outputs}) == len(jobs)
    assert_never_ended_after_created(jobs, case.created(emu))
    assert_history_intact(home / "data" / "history.sqlite3", home / "data" / "assets")
    return len(jobs)
