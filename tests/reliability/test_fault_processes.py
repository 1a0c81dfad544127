"""Faults around real `restyle-cli` processes: Ctrl+C while a submit is in flight, a resume
in an environment that lacks the provider's base URL or key, and a resume while another
process works on the jobs. Each provider's emulator runs over real HTTP; the assertions read
its request log and the history the processes share."""

from __future__ import annotations

import json
import signal
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from desktop.core.engine.ledger import Owner
from desktop.core.model import ErrorCode, Job, JobState
from desktop.providers.registry import provider_class
from tests.emulators.kit import Emulator, Fault, serve, serve_ports
from tests.reliability.faults import (
    CASES,
    PROVIDERS,
    Case,
    Inputs,
    assert_accepted_succeeded,
    assert_history_intact,
    assert_never_ended_after_created,
    assert_one_submit,
    cli_env,
    finish,
    host_of,
    run_cli,
    start_cli,
    stored_jobs,
    wait_until,
    write_settings,
)

#: How long the emulator keeps a submit's answer back after creating the job: within the
#: CLI's 10 s grace for an answer after Ctrl+C.
SLOW_ANSWER_S = 2.0


def settle(case: Case, emu: Emulator, home: Path, jobs: list[Job]) -> None:
    assert_one_submit(case, emu, jobs)
    assert_accepted_succeeded(jobs)
    assert_never_ended_after_created(jobs, case.created(emu))
    assert_history_intact(home / "data" / "history.sqlite3", home / "data" / "assets")


def only_job(home: Path) -> Job:
    [job] = stored_jobs(home)
    return job


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ctrl_c_while_the_submit_is_in_flight(provider: str, tmp_path: Path) -> None:
    """SIGINT to `restyle-cli run` while its POST is at the provider: the job is not
    cancelled as "not sent"; the CLI waits for the answer, records the remote id and exits
    130; `restyle-cli resume` collects the job. One POST in all."""
    case = CASES[provider]
    emu = case.emulator(job_delay=0.3)
    emu.inject(Fault("slow", "POST", case.submit_path, delay=SLOW_ANSWER_S, after=True))
    home = tmp_path / "home"
    write_settings(home)
    with serve(emu) as base:
        env = cli_env(home, {provider: (base, emu.api_key)})
        proc = start_cli(case.argv(Inputs(tmp_path / "in")), env)
        try:
            wait_until(lambda: case.posts(emu), "the submit reaching the provider",
                       procs=[proc])
            proc.send_signal(signal.SIGINT)
            code, _out, err = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert code == 130, err
        assert "Traceback" not in err
        assert f"waiting up to 10 s for {provider} to confirm it received job" in err
        job = only_job(home)
        assert job.remote_id and job.state == JobState.RUNNING, (job.state, job.error)
        assert job.error is None and job.owner is None  # kept, released, not "not sent"
        assert f"job {job.id} is still running at {provider} (remote id {job.remote_id})" in err

        code, out, err = run_cli(["resume", "--json"], env)
        assert code == 0, err
        [done] = json.loads(out)
        assert done["id"] == job.id and done["status"] == "succeeded"
    final = only_job(home)
    assert final.state == JobState.SUCCEEDED and final.remote_id == job.remote_id
    assert len(case.posts(emu)) == 1
    settle(case, emu, home, [final])


def test_ctrl_c_when_the_answer_never_comes(tmp_path: Path) -> None:
    """SIGINT while the POST is at the provider, and its answer comes only after the CLI's
    10 s grace (FitInView, which has a job list, and TryonAPI, which has none, side by side):
    exit 130 with the sentence that the job may have been created and charged for; the job
    waits with an unknown outcome, never "not sent". `restyle-cli resume` finds FitInView's in
    its list and collects it; TryonAPI's keeps waiting, never POSTed again."""
    home = tmp_path / "home"
    write_settings(home)
    files = Inputs(tmp_path / "in")
    cases = [CASES["fitinview"], CASES["tryonapi"]]
    emus = {c.id: c.emulator(job_delay=0.3) for c in cases}
    with ExitStack() as stack:
        bases = {c.id: stack.enter_context(serve(emus[c.id])) for c in cases}
        env = cli_env(home, {c.id: (bases[c.id], emus[c.id].api_key) for c in cases})
        runs = {}
        for case in cases:
            emus[case.id].inject(Fault("slow", "POST", case.submit_path, delay=12.5,
                                       after=True))
            runs[case.id] = start_cli(case.argv(files), env)
            stack.callback(lambda p=runs[case.id]: p.poll() is None and p.kill())
        for case in cases:
            wait_until(lambda case=case: case.posts(emus[case.id]),
                       "the submit reaching the provider", procs=[runs[case.id]])
        for proc in runs.values():
            proc.send_signal(signal.SIGINT)
        for case in cases:
            code, _out, err = finish(runs[case.id])
            assert code == 130, err
            assert "Traceback" not in err
            [job] = [j for j in stored_jobs(home) if j.provider == case.id]
            assert job.state == JobState.NEEDS_ATTENTION and job.remote_id is None, job.state
            assert job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME
            assert f"Interrupted: job {job.id}: {job.error.message}" in err
            assert "may have created the job and charged for it" in err
        for emu in emus.values():
            emu.wait_idle()

        code, out, err = run_cli(["resume"], env)
        assert code == 1, (out, err)  # TryonAPI's job still waits
        assert "Traceback" not in err
    jobs = {j.provider: j for j in stored_jobs(home)}
    assert jobs["fitinview"].state == JobState.SUCCEEDED
    assert jobs["tryonapi"].state == JobState.NEEDS_ATTENTION and jobs["tryonapi"].error
    assert jobs["tryonapi"].error.code == ErrorCode.UNKNOWN_OUTCOME
    for case in cases:
        assert len(case.posts(emus[case.id])) == 1
        settle(case, emus[case.id], home, [jobs[case.id]])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_resume_without_base_url_or_key_waits_then_collects(provider: str,
                                                            tmp_path: Path) -> None:
    """An accepted job, resumed where the provider's base URL (if it needs one) or key is
    missing: it waits in needs_attention (not failed), exit code 3, nothing is sent. Resumed
    with both: SUCCEEDED, still one POST."""
    case = CASES[provider]
    emu = case.emulator(job_delay=0.3)
    home = tmp_path / "home"
    write_settings(home)
    with serve(emu) as base:
        full = cli_env(home, {provider: (base, emu.api_key)})
        code, out, err = run_cli([*case.argv(Inputs(tmp_path / "in")), "--no-wait", "--json"],
                                 full)
        assert code == 0, err
        accepted = json.loads(out)
        assert accepted["remote_id"] and accepted["status"] in ("queued", "running")
        lacking = [(None, emu.api_key, ErrorCode.NOT_CONFIGURED, "needs a base URL")]
        if not provider_class(provider).needs_base_url:
            lacking = []  # a default base URL: the real service's, never reached from tests
        lacking.append((base, None, ErrorCode.MISSING_KEY, "No API key"))
        for missing_base, missing_key, code_expected, words in lacking:
            before = len(emu.requests)
            env = cli_env(home, {provider: (missing_base, missing_key)})
            code, out, err = run_cli(["resume"], env)
            assert code == 3, (out, err)
            assert "Traceback" not in out + err
            job = only_job(home)
            assert job.state == JobState.NEEDS_ATTENTION, (job.state, job.error)
            assert job.error is not None and job.error.code == code_expected
            assert words in job.error.message and "may be charged" in job.error.message
            assert f"needs you:  {code_expected}" in out
            assert len(emu.requests) == before  # nothing was sent, not even a status call

        code, out, err = run_cli(["resume", "--json"], full)
        assert code == 0, err
        [done] = json.loads(out)
        assert done["status"] == "succeeded" and done["remote_id"] == accepted["remote_id"]
    final = only_job(home)
    assert final.state == JobState.SUCCEEDED and len(case.posts(emu)) == 1
    settle(case, emu, home, [final])


def test_resume_leaves_the_jobs_of_a_live_run_alone(tmp_path: Path) -> None:
    """Five `restyle-cli run` processes, one per provider, each polling its job; a
    `restyle-cli resume` on the same RESTYLE_HOME says "Left alone" for each, sends nothing
    (its own port of each emulator stays silent) and never takes a job over (the owner column,
    sampled while it runs, keeps naming the run processes). Then the runs finish their jobs."""
    home = tmp_path / "home"
    write_settings(home)
    files = Inputs(tmp_path / "in")
    emus = {p: CASES[p].emulator(job_delay=120.0) for p in PROVIDERS}  # held until released
    emus["virtualstaging"].eta_s = 1.0  # type: ignore[attr-defined]  # polled every second
    with ExitStack() as stack:
        ports = {p: stack.enter_context(serve_ports(emus[p], 2)) for p in PROVIDERS}
        runs = {p: start_cli(CASES[p].argv(files),
                             cli_env(home, {p: (ports[p][0], emus[p].api_key)}))
                for p in PROVIDERS}
        for proc in runs.values():
            stack.callback(lambda proc=proc: proc.poll() is None and proc.kill())

        def all_polled() -> bool:
            jobs = stored_jobs(home)
            return len(jobs) == len(PROVIDERS) and all(
                j.remote_id and CASES[j.provider].polls(emus[j.provider], j.remote_id)
                for j in jobs)

        wait_until(all_polled, "every run polling its job", timeout=60,
                   procs=list(runs.values()))
        owners = {j.id: j.owner for j in stored_jobs(home)}
        pids = {j.id: Owner.parse(j.owner).pid for j in stored_jobs(home)}  # type: ignore[union-attr]
        assert sorted(pids.values()) == sorted(p.pid for p in runs.values())

        seen: set[tuple[str, str | None]] = set()
        stop = threading.Event()

        def sample_owners() -> None:
            while not stop.is_set():
                seen.update((j.id, j.owner) for j in stored_jobs(home))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample_owners, daemon=True)
        sampler.start()
        try:
            code, out, err = run_cli(["resume"], cli_env(
                home, {p: (ports[p][1], emus[p].api_key) for p in PROVIDERS}))
        finally:
            stop.set()
            sampler.join()
        assert code == 0, err
        assert out == "" and "Traceback" not in err  # nothing resumed, five lines on stderr
        for job_id, pid in pids.items():
            assert f"Left alone: job {job_id} " in err, err
            assert f"is being worked on by restyle-cli run (process {pid} on " in err
        assert seen == set(owners.items()), seen - set(owners.items())
        for p in PROVIDERS:
            assert [r for r in emus[p].requests if r.host == host_of(ports[p][1])] == []

        for emu in emus.values():
            emu.job_delay = 0.0  # the jobs finish at the providers
        for p, proc in runs.items():
            code, _out, err = finish(proc)
            assert code == 0, (p, err)
    jobs = {j.provider: j for j in stored_jobs(home)}
    for p in PROVIDERS:
        assert jobs[p].state == JobState.SUCCEEDED
        settle(CASES[p], emus[p], home, [jobs[p]])
