"""The team history's migrations on PostgreSQL: a step keeps every row, a failing step leaves
the database as it was, machines opening a new database at once apply each step once, a
database from a newer Restyle is refused. (SQLite's own: test_store.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from desktop.core.model import Asset, Job, JobSpec, JobState, Output
from desktop.core.store import SCHEMA_VERSION, History, HistoryError, JobFilter
from tests.core.test_store import BROKEN_STEP, EXTRA_STEP, add_step

ROOT = Path(__file__).resolve().parents[2]


def filled(url: str) -> list[Job]:
    history = History(url)
    jobs = []
    for i in range(4):
        source = Asset(f"{i:02d}" * 32, "image/png", 100 + i, 40, 30)
        result = Asset(f"{i + 50:02d}" * 32, "image/jpeg", 200 + i, 80, 60)
        job = Job(f"job{i}", JobSpec("local", "recolor", {"image": [f"/p{i}.jpg"]}),
                  JobState.SUCCEEDED, 1_700_000_000.5 + i, 1_700_000_000.5 + i,
                  inputs={"image": [source.sha256]}, favorite=i == 2, cost_credits=float(i),
                  outputs=(Output(0, result.sha256, "image/jpeg", 200 + i, 80, 60),))
        history.save_job(job, assets=[source, result])
        jobs.append(job)
    history.close()
    return jobs


def columns(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs'")]


def test_a_new_step_keeps_every_row(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = filled(pg_url)
    version = add_step(monkeypatch, EXTRA_STEP)
    history = History(pg_url)
    assert history.schema_version == version and "colour_label" in columns(pg_url)
    assert [history.get(j.id) for j in jobs] == jobs
    assert history.list(JobFilter(favorite=True)) == [jobs[2]]
    with history.reading() as conn:
        assert {r[0] for r in conn.execute("SELECT colour_label FROM jobs")} == {"none"}
    history.close()
    again = History(pg_url)  # applied once
    assert again.schema_version == version and again.count() == 4
    again.close()


def test_a_failing_step_leaves_the_database_as_it_was(pg_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = filled(pg_url)
    add_step(monkeypatch, BROKEN_STEP)
    with pytest.raises(HistoryError) as caught:
        History(pg_url)
    text = str(caught.value)
    assert f"cannot be upgraded from schema {SCHEMA_VERSION} to {SCHEMA_VERSION + 1}" in text
    assert f"left unchanged at schema {SCHEMA_VERSION}" in text
    assert "colour_label" not in columns(pg_url)  # the first statement was rolled back too
    monkeypatch.undo()
    history = History(pg_url)
    assert history.schema_version == SCHEMA_VERSION
    assert [history.get(j.id) for j in jobs] == jobs
    history.close()


def test_machines_opening_a_new_database_at_once_apply_each_step_once(pg_url: str) -> None:
    code = ("import sys; from desktop.core.store import History; "
            "h = History(sys.argv[1]); print(h.schema_version); h.close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(6)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [err for _, err in results]
    assert [out.strip() for out, _ in results] == [str(SCHEMA_VERSION)] * 6
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM restyle_schema").fetchall() == [
            (SCHEMA_VERSION,)]


def test_a_database_from_a_newer_restyle_is_refused(pg_url: str) -> None:
    History(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE restyle_schema SET version = %s", (SCHEMA_VERSION + 3,))
    with pytest.raises(HistoryError, match="written by a newer Restyle") as caught:
        History(pg_url)
    assert f"schema {SCHEMA_VERSION + 3}, this version knows {SCHEMA_VERSION}" in str(
        caught.value)


def test_a_user_who_may_not_create_tables_opens_a_current_history_but_not_an_old_one(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Teams often give desks a user who may read and write the tables but not create them:
    such a user opens a history at this schema (no lock, no DDL on the way), and one that
    needs an upgrade is refused with what to do, nothing changed."""
    jobs = filled(pg_url)
    clerk = f"clerk_{pg_url.rsplit('/', 1)[1]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{clerk}" LOGIN')
        conn.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public'
                     f' TO "{clerk}"')
    clerk_url = pg_url.replace("postgresql://postgres@", f"postgresql://{clerk}@")
    history = History(clerk_url)
    assert [history.get(j.id) for j in jobs] == jobs
    history.set_favorite(jobs[0].id, True)
    assert history.get(jobs[0].id).favorite  # type: ignore[union-attr]
    history.close()

    version = add_step(monkeypatch, EXTRA_STEP)
    with pytest.raises(HistoryError) as caught:
        History(clerk_url)
    text = str(caught.value)
    assert f"needs its tables created or upgraded to schema {version}" in text
    assert "run `restyle-cli db upgrade` as its owner" in text
    assert "colour_label" not in columns(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM restyle_schema").fetchone() == (
            SCHEMA_VERSION,)


def test_team_mode_without_psycopg_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Restyle installed without the `team` extra (the bundle) given a PostgreSQL URL."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    with pytest.raises(HistoryError, match=r"without team mode: install it with the team"
                                           r" extra") as caught:
        History("postgresql://restyle:s3cret@db.example.com/restyle")
    assert "s3cret" not in str(caught.value)
