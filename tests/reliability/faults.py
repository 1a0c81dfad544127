"""The fault suite's shared parts: the five paid providers and their emulators in one table,
an in-process bench (the real adapter and the real engine against an emulator over real HTTP),
real `restyle-cli` processes on one RESTYLE_HOME, and the assertions every fault test ends with.

The global rules the assertions encode (issue 8):

- one paid submit per job: FitInView carries the local job id in its metadata, so the jobs it
  created are counted per local job (its POSTs may repeat, always under one Idempotency-Key);
  the others carry nothing, so POSTs are counted per run (a test with several processes gives
  each its own port of the emulator and counts by `RecordedRequest.host`);
- every job the provider accepted ends SUCCEEDED once the cause is fixed;
- no job ends cancelled (or failed) after the provider created it;
- the history stays whole: `PRAGMA integrity_check` is ok, each result is stored once, every
  stored output's file is there with the bytes its name promises.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.assets import AssetStore
from desktop.core.contract import Provider
from desktop.core.engine import EnginePolicy, JobEngine, ResumeReport
from desktop.core.model import ErrorCode, Job, JobEvent, JobSpec, JobState
from desktop.core.store import History
from desktop.providers.http import UrlSourceLoader
from desktop.providers.registry import provider_class
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Emulator, RecordedRequest
from tests.emulators.tryonapi import TryonApiEmulator
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vistoure import VistoureEmulator
from tests.emulators.vtryon import SEED_MODEL_TASK_ID, SEED_POSE_ID, VtryonEmulator
from tests.fakes import png_bytes
from tests.support import Sleeps, remote_provider, with_default_sigint

ROOT = Path(__file__).resolve().parents[2]

#: The long loops run this many rounds unless RESTYLE_RELIABILITY_FULL=1 asks for the full run.
FULL = os.environ.get("RESTYLE_RELIABILITY_FULL", "") not in ("", "0")

#: What a job's own answer says when the submit's outcome is unknown (outcomes.unknown_outcome).
MAY_HAVE_CHARGED = "may have created the job and charged for it"


def rounds(reduced: int, full: int) -> int:
    return full if FULL else reduced


# -- the providers ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One paid provider as the fault suite drives it: how to make its emulator, where its
    submit and status calls go, and a job it accepts."""

    id: str
    make: Callable[..., Emulator]
    #: The POST that creates (and charges for) a job.
    submit_path: str
    #: GET `status_path + remote id` is a poll of that job.
    status_path: str
    task: str
    roles: tuple[str, ...]
    params: tuple[tuple[str, str], ...]
    #: The remote ids of every job the emulator created (every paid job).
    created: Callable[[Any], set[str]]

    @property
    def title(self) -> str:
        return provider_class(self.id).title

    @property
    def job_list(self) -> bool:
        """Whether a submit with an unknown outcome can be looked up (FitInView only)."""
        return provider_class(self.id).supports_reconcile

    @property
    def can_cancel(self) -> bool:
        return provider_class(self.id).supports_cancel

    @property
    def carries_job_id(self) -> bool:
        """Whether the provider keeps Restyle's local job id with its job (FitInView's
        metadata), so submits can be counted per local job."""
        return self.id == "fitinview"

    def emulator(self, **kw: Any) -> Emulator:
        return self.make(**kw)

    def inputs(self, files: Inputs) -> dict[str, list[str]]:
        return {role: [str(files.path(role))] for role in self.roles}

    def spec(self, files: Inputs, **kw: Any) -> JobSpec:
        return JobSpec(provider=self.id, task=self.task, inputs=self.inputs(files),
                       params=dict(self.params), **kw)

    def argv(self, files: Inputs) -> list[str]:
        """`restyle-cli run` arguments for one job."""
        args = ["run", "--provider", self.id, "--task", self.task]
        for role in self.roles:
            args += [f"--{role}", str(files.path(role))]
        for name, value in self.params:
            args += ["--param", f"{name}={value}"]
        return args

    def posts(self, emu: Emulator, host: str | None = None) -> list[RecordedRequest]:
        return [r for r in emu.requests_to("POST", self.submit_path)
                if host is None or r.host == host]

    def polls(self, emu: Emulator, remote_id: str) -> list[RecordedRequest]:
        path = self.status_path + remote_id
        return [r for r in emu.requests_to("GET", path)
                if r.path == path or r.path.startswith(path + "/")]

    def local_ids(self, emu: Emulator) -> Counter[str]:
        """FitInView: how many jobs it created for each local job id (from its metadata)."""
        assert isinstance(emu, FitInViewEmulator)
        return Counter(str((job.request.get("metadata") or {}).get("restyle_job_id"))
                       for job in emu.jobs.values())


CHANGES = json.dumps([{"target": "blouse", "color": "royal blue"}])

CASES: dict[str, Case] = {c.id: c for c in (
    Case("fitinview", FitInViewEmulator, "/api/v1/tryon", "/api/v1/tryon/", "tryon",
         ("person", "garment"), (), lambda e: set(e.jobs)),
    Case("tryonapi", TryonApiEmulator, "/api/v1/tryon", "/api/v1/tryon/status/", "tryon",
         ("person", "garment"), (), lambda e: set(e.jobs)),
    Case("vistoure", VistoureEmulator, "/api/v3/run", "/api/v3/status/", "tryon",
         ("person", "garment"), (), lambda e: set(e.runs)),
    Case("vtryon", VtryonEmulator, "/v4/models/multipose-image-recolor/",
         "/v2/models/multipose-tasks/", "recolor", (),
         (("pose_image_generation_id", str(SEED_POSE_ID)),
          ("models_image_generation_task_id", str(SEED_MODEL_TASK_ID)),
          ("color_changes", CHANGES)),
         lambda e: {str(t.id) for t in e.tasks.values() if t.kind == "recolor"}),
    Case("virtualstaging", VirtualStagingEmulator, "/renders", "/renders/", "staging",
         ("room",), (), lambda e: set(e.renders)),
)}
PROVIDERS = tuple(CASES)


@dataclass(frozen=True)
class Inputs:
    """Small input images, written once per test."""

    folder: Path

    def path(self, role: str) -> Path:
        size, color = {"person": ((96, 128), (200, 150, 120)),
                       "garment": ((64, 64), (20, 160, 60)),
                       "room": ((160, 120), (180, 170, 150))}[role]
        path = self.folder / f"{role}.png"
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png_bytes(color, size))
        return path


# -- in process: the real engine and adapter over real HTTP -----------------------------------
#: Backoffs in milliseconds-scale, no jitter, so a whole fault runs in a fraction of a second;
#: the download backoff's steps (13, 26, 52, 104 ms) are told apart from poll intervals.
DOWNLOAD_BACKOFF_BASE = 0.013
FAST = EnginePolicy(
    jitter=0.0, poll_intervals=dict.fromkeys(CASES, 0.05), poll_backoff_base=0.01,
    poll_backoff_cap=0.02, download_backoff_base=DOWNLOAD_BACKOFF_BASE,
    download_backoff_cap=0.2, submit_grace_s=1.0,
)


def download_backoffs(waits: Iterable[float]) -> list[float]:
    """The engine's download backoffs among all its waits."""
    steps = {round(DOWNLOAD_BACKOFF_BASE * 2 ** n, 6) for n in range(8)}
    return [w for w in waits if round(w, 6) in steps]


@dataclass
class Bench:
    """One history and asset store, driven by the real engine through the real adapter of
    `case` against `emu` at `base`. HTTP backoffs inside the adapter are recorded, not slept;
    the engine's own waits are recorded and slept at most 50 ms each."""

    tmp: Path
    case: Case
    emu: Emulator
    base: str
    key: str | None = None
    waits: list[float] = field(default_factory=list)
    events: list[JobEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.history = History(self.tmp / "history.sqlite3")
        self.assets = AssetStore(self.tmp / "assets")
        self.files = Inputs(self.tmp / "inputs")
        if self.key is None:
            self.key = self.emu.api_key

    def provider(self, _provider_id: str) -> Provider:
        return remote_provider(provider_class(self.case.id), self.base, self.key,  # type: ignore[arg-type]
                               sleeps=Sleeps())

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(min(seconds, 0.05))

    def engine(self, policy: EnginePolicy = FAST) -> JobEngine:
        engine = JobEngine(self.history, self.assets, self.provider, policy=policy,
                           sleep=self._sleep, load_url=UrlSourceLoader(sleep=Sleeps()),
                           label="fault bench")
        engine.subscribe(self.events.append)
        return engine

    def spec(self, **kw: Any) -> JobSpec:
        return self.case.spec(self.files, **kw)

    def run(self, spec: JobSpec | None = None, *, policy: EnginePolicy = FAST,
            on_accepted: Callable[[str], None] | None = None) -> Job:
        """Run one job to the end of this engine's work on it. `on_accepted(remote_id)` runs
        as soon as the job has a remote id, before its first poll."""

        async def main() -> Job:
            engine = self.engine(policy)
            if on_accepted is not None:
                fired: list[str] = []

                def watch(event: JobEvent) -> None:
                    if event.job.remote_id and not fired:
                        fired.append(event.job.remote_id)
                        on_accepted(event.job.remote_id)

                engine.subscribe(watch)
            try:
                return await engine.run(spec or self.spec())
            finally:
                await engine.aclose()

        return asyncio.run(main())

    def resume(self, job_ids: Sequence[str] | None = None, *,
               policy: EnginePolicy = FAST) -> tuple[ResumeReport, list[Job]]:
        """`restyle-cli resume [JOB_ID...]` in process: a new engine takes the jobs up and
        follows each to the end of its work; returns the report and the jobs as stored."""

        async def main() -> tuple[ResumeReport, list[Job]]:
            engine = self.engine(policy)
            try:
                report = await engine.resume(job_ids, fresh_deadline=job_ids is not None)
                done = [await engine.wait(j.id) for j in report.resumed]
                return report, done
            finally:
                await engine.aclose()

        return asyncio.run(main())

    def stored(self, job_id: str) -> Job:
        job = self.history.get(job_id)
        assert job is not None
        return job


# -- real restyle-cli processes ---------------------------------------------------------------
def write_settings(home: Path, *, poll_interval: float = 0.2,
                   deadline_s: float | None = None) -> None:
    """A RESTYLE_HOME whose providers are polled every `poll_interval` seconds."""
    providers: dict[str, dict[str, float]] = {}
    for pid in CASES:
        providers[pid] = {"poll_interval": poll_interval}
        if deadline_s is not None:
            providers[pid]["deadline_s"] = deadline_s
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"providers": providers}))


def cli_env(home: Path, providers: Mapping[str, tuple[str | None, str | None]]
            ) -> dict[str, str]:
    """The environment of a restyle-cli process: its home, and for each provider id its
    (base URL, key), either left out when None; no keyring (a key comes from the environment
    or nowhere), no other RESTYLE_ variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTYLE_")}
    env.update({"RESTYLE_HOME": str(home), "PYTHONPATH": str(ROOT),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    for provider_id, (base, key) in providers.items():
        upper = provider_id.upper()
        if base is not None:
            env[f"RESTYLE_{upper}_BASE_URL"] = base
        if key is not None:
            env[f"RESTYLE_{upper}_API_KEY"] = key
    return env


def start_cli(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """A real `restyle-cli` process (SIGINT at its default action, so Ctrl+C can be sent)."""
    command = with_default_sigint([sys.executable, "-m", "desktop.cli", *argv])
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"restyle-cli did not finish in {timeout} s: {err[-2000:]}"
                             ) from None
    return proc.returncode, out, err


def run_cli(argv: Sequence[str], env: dict[str, str], timeout: float = 60.0
            ) -> tuple[int, str, str]:
    return finish(start_cli(argv, env), timeout)


def host_of(base: str) -> str:
    return base.removeprefix("http://")


def wait_until(condition: Callable[[], object], what: str, *, timeout: float = 30.0,
               procs: Sequence[subprocess.Popen[str]] = ()) -> None:
    """Poll `condition` until it holds; fail with `what` (and the stderr of a process that
    ended early) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.poll() is not None and proc.returncode != 0:
                _, err = proc.communicate()
                raise AssertionError(f"{what}: restyle-cli exited {proc.returncode}: "
                                     f"{err[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)


def stored_jobs(home: Path) -> list[Job]:
    database = home / "data" / "history.sqlite3"
    if not database.exists():
        return []
    history = History(database)
    try:
        return history.list(limit=100_000)
    finally:
        history.close()


# -- the global assertions --------------------------------------------------------------------
def assert_one_submit(case: Case, emu: Emulator, jobs: Sequence[Job]) -> None:
    """One paid submit for each of `jobs`, the only jobs sent to `emu`'s provider here.

    FitInView: at most one job created per local job id (exactly one for a job with a remote
    id, and that is the one recorded), and every POST of a local job under one
    Idempotency-Key. The others: no more POSTs than jobs, and no more created than POSTs."""
    if case.carries_job_id:
        created = case.local_ids(emu)
        for job in jobs:
            assert created[job.id] <= 1, (job.id, created)
            if job.remote_id:
                assert created[job.id] == 1, (job.id, created)
                assert emu.jobs[job.remote_id].request["metadata"][  # type: ignore[attr-defined]
                    "restyle_job_id"] == job.id
            keys = {r.headers.get("idempotency-key") for r in case.posts(emu)
                    if r.json().get("metadata", {}).get("restyle_job_id") == job.id}
            assert len(keys) <= 1 and None not in keys, keys
        assert sum(created.values()) <= len(jobs)
        return
    posts = case.posts(emu)
    assert len(posts) <= len(jobs), f"{len(posts)} POSTs for {len(jobs)} jobs"
    assert len(case.created(emu)) <= len(posts)


def assert_accepted_succeeded(jobs: Iterable[Job]) -> None:
    """Every job a provider accepted (it has a remote id) has succeeded, once, with its
    results."""
    for job in jobs:
        if job.remote_id:
            assert job.state == JobState.SUCCEEDED, (job.id, job.state, job.error)
            assert job.outputs, job.id


def assert_never_ended_after_created(jobs: Iterable[Job], created: set[str]) -> None:
    """No job the provider created ends cancelled or failed for a reason of Restyle's: a
    cancelled or failed job has no remote id, and none of the remote ids in history belong to
    such a job."""
    for job in jobs:
        if job.state in (JobState.CANCELLED, JobState.FAILED, JobState.TIMED_OUT):
            assert job.remote_id is None or job.remote_id not in created, (
                job.id, job.state, job.remote_id, job.error)


def assert_waiting_unknown(job: Job, case: Case) -> None:
    """A submit whose answer never came, at a provider without a job list: the job waits,
    saying it may be charged, and keeps no remote id."""
    assert not case.job_list, case.id
    assert job.state == JobState.NEEDS_ATTENTION, (job.state, job.error)
    assert job.remote_id is None and job.finished_at is None
    assert job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME, job.error
    assert MAY_HAVE_CHARGED in job.error.message, job.error.message


def assert_history_intact(database: Path, assets_dir: Path) -> None:
    """`PRAGMA integrity_check` is ok, no foreign key dangles, every output row's file exists
    with the bytes its name (the SHA-256) promises, and no job has two outputs at a position
    or the same result twice."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = conn.execute("SELECT o.job_id, o.position, o.sha256, a.mime FROM outputs o "
                            "JOIN assets a ON a.sha256 = o.sha256").fetchall()
        total = conn.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]
    finally:
        conn.close()
    assert len(rows) == total  # every output has its asset row
    per_job = Counter((job_id, sha) for job_id, _pos, sha, _mime in rows)
    assert all(n == 1 for n in per_job.values()), per_job  # no result stored twice for a job
    store = AssetStore(assets_dir)
    for _job_id, _position, sha, mime in rows:
        path = store.path_for(sha, mime)
        assert path.is_file(), path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path


def assert_one_poller_at_a_time(case: Case, emu: Emulator, remote_id: str) -> None:
    """The polls of one job, grouped by the port (process) that sent them: the spans do not
    overlap, so no two processes ever followed the job at once."""
    spans: dict[str, list[float]] = {}
    for request in case.polls(emu, remote_id):
        span = spans.setdefault(request.host, [request.at, request.at])
        span[0], span[1] = min(span[0], request.at), max(span[1], request.at)
    ordered = sorted(spans.values())
    for before, after in itertools.pairwise(ordered):
        assert before[1] < after[0], (remote_id, spans)
    assert spans, remote_id
