"""History store: schema, migrations, queries, deletion bookkeeping."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState, Output
from desktop.core.store import SCHEMA_VERSION, History, HistoryError, JobFilter
from desktop.core.store import schema as store


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


def test_round_trip_of_every_field(history_target: Path | str) -> None:
    history = History(history_target)
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


def test_list_is_newest_first_paged_and_filtered(history_target: Path | str) -> None:
    history = History(history_target)
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


def test_find_by_prefix(history_target: Path | str) -> None:
    history = History(history_target)
    history.save_job(make_job(1))
    history.save_job(make_job(2))
    assert history.find("job0001").id == "job0001"  # type: ignore[union-attr]
    with pytest.raises(LookupError, match="More than one"):
        history.find("job0")
    assert history.find("jo") is None  # too short to search by prefix
    assert history.find("zzzz") is None


def test_unfinished_and_favorite(history_target: Path | str) -> None:
    history = History(history_target)
    history.save_job(make_job(1, state=JobState.RUNNING))
    history.save_job(make_job(2, state=JobState.SUCCEEDED))
    history.save_job(make_job(3, state=JobState.QUEUED))
    assert [j.id for j in history.unfinished()] == ["job0001", "job0003"]
    history.set_favorite("job0002", True)
    assert [j.id for j in history.list(JobFilter(favorite=True))] == ["job0002"]


def test_delete_reports_only_orphaned_assets(history_target: Path | str) -> None:
    history = History(history_target)
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


def test_concurrent_writers_from_threads(history_target: Path | str) -> None:
    import threading

    history = History(history_target)
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


# -- upgrading an existing history ----------------------------------------------------------

#: A synthetic next step shaped like a real one: a new column with a default, and an index.
EXTRA_STEP = """
    ALTER TABLE jobs ADD COLUMN colour_label TEXT NOT NULL DEFAULT 'none';
    CREATE INDEX jobs_colour_label ON jobs(colour_label);
"""
#: The same step whose second statement fails (a bug in a migration).
BROKEN_STEP = """
    ALTER TABLE jobs ADD COLUMN colour_label TEXT NOT NULL DEFAULT 'none';
    INSERT INTO no_such_table VALUES (1);
"""


def add_step(monkeypatch: pytest.MonkeyPatch, script: str) -> int:
    """Make `script` the next migration, as a newer Restyle would; returns the new version."""
    monkeypatch.setattr(store, "MIGRATIONS", (*store.MIGRATIONS, script))
    monkeypatch.setattr(store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    return SCHEMA_VERSION + 1


def filled_history(path: Path) -> list[Job]:
    """A history at today's schema holding jobs with inputs, outputs and their assets."""
    history = History(path)
    jobs: list[Job] = []
    for i in range(4):
        source = Asset(f"{i:02d}" * 32, "image/png", 100 + i, 40, 30)
        result = Asset(f"{i + 50:02d}" * 32, "image/jpeg", 200 + i, 80, 60)
        job = make_job(i, inputs={"image": [source.sha256]}, note=f"note {i}",
                       outputs=(Output(0, result.sha256, "image/jpeg", 200 + i, 80, 60,
                                       label=f"v{i}"),),
                       favorite=i == 2, cost_credits=float(i))
        history.save_job(job, assets=[source, result])
        jobs.append(job)
    history.close()
    return jobs


def table_rows(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as stored."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: [dict(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]
                for t in tables}
    finally:
        conn.close()


def schema_of(path: Path) -> tuple[int, list[str], list[str]]:
    """user_version, the jobs table's columns, the index names."""
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        columns = [r[1] for r in conn.execute("PRAGMA table_info(jobs)")]
        indexes = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")]
        return version, columns, indexes
    finally:
        conn.close()


def test_upgrading_a_history_keeps_every_row(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    jobs = filled_history(path)
    before = table_rows(path)
    counts = {t: len(rows) for t, rows in before.items()}
    assert {t: n for t, n in counts.items() if n} == {
        "assets": 8, "job_inputs": 4, "jobs": 4, "outputs": 4}
    new_version = add_step(monkeypatch, EXTRA_STEP)

    history = History(path)
    assert history.schema_version == new_version
    version, columns, indexes = schema_of(path)
    assert version == new_version and "colour_label" in columns
    assert "jobs_colour_label" in indexes
    after = table_rows(path)
    assert after.keys() == before.keys()
    for table, rows in before.items():
        assert [{k: row[k] for k in rows[0]} for row in after[table]] == rows, table
    assert {row["colour_label"] for row in after["jobs"]} == {"none"}
    # Through the API too: every job with its inputs and outputs, every asset.
    assert [history.get(job.id) for job in jobs] == jobs
    assert history.list(JobFilter(favorite=True)) == [jobs[2]]
    assert history.asset("51" * 32) == Asset("51" * 32, "image/jpeg", 201, 80, 60)
    history.save_job(make_job(9))
    assert history.count() == 5
    history.close()
    # The step is applied once: opening again changes nothing.
    again = History(path)
    assert again.schema_version == new_version and again.count() == 5
    again.close()


def test_a_failing_step_leaves_the_history_as_it_was(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    jobs = filled_history(path)
    before = table_rows(path)
    add_step(monkeypatch, BROKEN_STEP)

    with pytest.raises(HistoryError) as failure:
        History(path)
    message = str(failure.value)
    assert message.startswith(f"The history database {path} cannot be upgraded from schema"
                              f" {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}")
    assert "no such table" in message and f"left unchanged at schema {SCHEMA_VERSION}" in message
    assert "report" in message and "Traceback" not in message
    # Nothing of the step, not even its first statement, and the old version.
    version, columns, _indexes = schema_of(path)
    assert version == SCHEMA_VERSION and "colour_label" not in columns
    assert table_rows(path) == before
    # Nothing is left locked: another program can write at once.
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    # The Restyle that knows only the old schema still opens it.
    monkeypatch.undo()
    history = History(path)
    assert [history.get(job.id) for job in jobs] == jobs
    history.close()


def test_a_failing_step_rolls_back_on_the_connection_it_ran_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """_migrate itself leaves no transaction open (the history stays usable), whoever calls
    it and whether or not the connection is closed afterwards."""
    path = tmp_path / "h.sqlite3"
    filled_history(path)
    history = History(path)
    add_step(monkeypatch, BROKEN_STEP)
    with pytest.raises(HistoryError, match="cannot be upgraded"):
        history._migrate()
    columns = [r[1] for r in history._conn.execute("PRAGMA table_info(jobs)")]
    assert "colour_label" not in columns and history.schema_version == SCHEMA_VERSION
    history.save_job(make_job(9))  # a transaction left open would refuse to begin another
    assert history.count() == 5
    history.close()


def test_the_version_bump_is_part_of_the_step(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A step whose version cannot be recorded is undone: otherwise the next start would
    apply it a second time (and fail on the column that already exists)."""
    path = tmp_path / "h.sqlite3"
    filled_history(path)
    before = table_rows(path)
    add_step(monkeypatch, EXTRA_STEP)

    def bump_fails(self: History, version: int) -> None:
        raise sqlite3.OperationalError("disk I/O error while recording the version")

    monkeypatch.setattr(History, "_set_version", bump_fails)
    with pytest.raises(HistoryError, match="cannot be upgraded from schema"):
        History(path)
    version, columns, indexes = schema_of(path)
    assert version == SCHEMA_VERSION and "colour_label" not in columns
    assert "jobs_colour_label" not in indexes and table_rows(path) == before
    monkeypatch.undo()
    add_step(monkeypatch, EXTRA_STEP)
    history = History(path)  # the next start applies the whole step, once
    assert history.schema_version == SCHEMA_VERSION + 1
    history.close()


def test_a_disk_that_fills_up_during_an_upgrade_is_a_sentence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    filled_history(path)
    before = table_rows(path)
    # The step's own PRAGMA caps the database at its current size: the next write meets a
    # full disk, as SQLite reports it (SQLITE_FULL), half-way through the step.
    add_step(monkeypatch, """
        CREATE TABLE filler (data BLOB);
        PRAGMA max_page_count = 1;
        INSERT INTO filler VALUES (randomblob(1000000));
    """)
    with pytest.raises(HistoryError) as failure:
        History(path)
    message = str(failure.value)
    assert f"cannot be upgraded from schema {SCHEMA_VERSION}" in message
    assert "the disk is full" in message and "Free some space" in message
    assert schema_of(path)[0] == SCHEMA_VERSION and table_rows(path) == before


def test_a_locked_history_is_a_sentence(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    # Another program holding the file for itself (exclusive locking mode, mid-write).
    blocker.execute("PRAGMA locking_mode=EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("PRAGMA user_version")
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect",
                        lambda *a, **kw: real_connect(*a, **{**kw, "timeout": 0.2}))
    try:
        with pytest.raises(HistoryError) as failure:
            History(path)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    message = str(failure.value)
    assert message.startswith(f"The history database {path} cannot be opened: another program")
    assert "Close other Restyle windows and restyle-cli commands" in message


def test_a_writer_in_the_middle_of_a_long_write_does_not_keep_a_new_process_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a current history only reads its schema version: it never waits for the write
    lock that a busy window or batch holds."""
    path = tmp_path / "h.sqlite3"
    History(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect",
                        lambda *a, **kw: real_connect(*a, **{**kw, "timeout": 0.2}))
    try:
        History(path).close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


def test_a_folder_in_place_of_the_database_is_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.mkdir()
    with pytest.raises(HistoryError, match="cannot be opened: the file cannot be opened or"
                                           r" created \(.*\)\. Check that it is a file"):
        History(path)


def test_whatever_fails_while_opening_leaves_no_lock(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a failure that leaves a write transaction open (a ROLLBACK that itself failed)
    does not keep the file locked after the HistoryError: the connection is closed."""
    path = tmp_path / "h.sqlite3"
    History(path).close()

    def fails_mid_write(self: History) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(History, "_migrate", fails_mid_write)
    with pytest.raises(HistoryError, match="cannot be opened") as failure:
        History(path)
    assert failure.value.__cause__ is not None  # the traceback still holds the History
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    assert other.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'"
                         ).fetchone() is None
    other.execute("ROLLBACK")
    other.close()
