"""History store: schema, migrations, queries, deletion bookkeeping."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState, Output
from desktop.core.store import SCHEMA_VERSION, History, HistoryError, JobFilter


def make_job(i: int, *, provider: str = "local", task: str = "recolor",
             state: JobState = JobState.SUCCEEDED, created: float | None = None, **kw) -> Job:
    now = created if created is not None else 1_700_000_000.0 + i
    return Job(id=f"job{i:04d}", spec=JobSpec(provider, task, {"image": [f"/photos/p{i}.jpg"]},
                                               {"color": "red" if i % 2 else "navy"}),
               state=state, created_at=now, updated_at=now, **kw)


def test_new_database_is_wal_and_current(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    assert history.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "h.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    history.close()
    # Opening again applies nothing twice.
    assert History(tmp_path / "h.sqlite3").schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(HistoryError, match="newer Restyle"):
        History(path)


def test_damaged_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot be opened"):
        History(path)


def test_round_trip_of_every_field(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    a_in = Asset("a" * 64, "image/png", 10, 4, 3)
    a_out = Asset("b" * 64, "image/jpeg", 20, 8, 6)
    job = make_job(1, remote_id="rem-1", remote_data={"status_url": "/x"}, attempts=2,
                   started_at=1.0, finished_at=2.5, deadline_at=100.0, cost_credits=3.5,
                   error=JobError(ErrorCode.JOB_FAILED, "boom", "E42"), progress=0.75,
                   inputs={"image": [a_in.sha256]},
                   outputs=(Output(0, a_out.sha256, "image/jpeg", 20, 8, 6, label="v1"),),
                   note="Local preview (no AI)")
    history.save_job(job, assets=[a_in, a_out])
    loaded = history.get(job.id)
    assert loaded == job.evolve(updated_at=job.updated_at)
    assert history.asset(a_out.sha256) == a_out


def test_list_is_newest_first_paged_and_filtered(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    for i in range(30):
        history.save_job(make_job(i, provider="local" if i % 3 else "fitinview",
                                  task="recolor" if i % 2 else "upscale",
                                  state=JobState.FAILED if i % 5 == 0 else JobState.SUCCEEDED))
    page1 = history.list(limit=10)
    page2 = history.list(limit=10, offset=10)
    assert [j.id for j in page1] == [f"job{i:04d}" for i in range(29, 19, -1)]
    assert [j.id for j in page2] == [f"job{i:04d}" for i in range(19, 9, -1)]
    fit = history.list(JobFilter(provider="fitinview"), limit=100)
    assert {j.provider for j in fit} == {"fitinview"} and len(fit) == 10
    failed_upscale = history.list(JobFilter(task="upscale", states=(JobState.FAILED,)))
    assert [j.id for j in failed_upscale] == ["job0020", "job0010", "job0000"]
    assert history.count(JobFilter(text="NAVY")) == 15
    assert [j.id for j in history.list(JobFilter(text="p7.jpg red"))] == ["job0007"]
    assert history.count(JobFilter(text="100%")) == 0  # LIKE wildcards are escaped
    window = history.list(JobFilter(since=1_700_000_005.0, until=1_700_000_008.0))
    assert [j.id for j in window] == ["job0007", "job0006", "job0005"]


def test_find_by_prefix(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    history.save_job(make_job(1))
    history.save_job(make_job(2))
    assert history.find("job0001").id == "job0001"  # type: ignore[union-attr]
    with pytest.raises(LookupError, match="More than one"):
        history.find("job0")
    assert history.find("jo") is None  # too short to search by prefix
    assert history.find("zzzz") is None


def test_unfinished_and_favorite(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    history.save_job(make_job(1, state=JobState.RUNNING))
    history.save_job(make_job(2, state=JobState.SUCCEEDED))
    history.save_job(make_job(3, state=JobState.QUEUED))
    assert [j.id for j in history.unfinished()] == ["job0001", "job0003"]
    history.set_favorite("job0002", True)
    assert [j.id for j in history.list(JobFilter(favorite=True))] == ["job0002"]


def test_delete_reports_only_orphaned_assets(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    shared = Asset("c" * 64, "image/png", 5)
    own = Asset("d" * 64, "image/png", 6)
    history.save_job(make_job(1, inputs={"image": [shared.sha256]},
                              outputs=(Output(0, own.sha256, "image/png", 6),)),
                     assets=[shared, own])
    history.save_job(make_job(2, inputs={"image": [shared.sha256]}), assets=[shared])
    assert history.delete_job("job0001") == [own]
    assert history.asset(own.sha256) is None and history.asset(shared.sha256) == shared
    assert history.delete_job("job0002") == [shared]
    assert history.count() == 0


def test_concurrent_writers_from_threads(tmp_path: Path) -> None:
    import threading

    history = History(tmp_path / "h.sqlite3")
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for i in range(50):
                history.save_job(make_job(offset + i, created=time.time()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and history.count() == 200


def test_two_processes_opening_a_new_history_at_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; from pathlib import Path; from desktop.core.store import History; "
            "History(Path(sys.argv[1])).close()")
    path = tmp_path / "h.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=root,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    assert History(path).schema_version == SCHEMA_VERSION
