"""Keyset pages of the job list: the same rows as OFFSET pages, in the same order, under every
filter, over a history whose sort key has ties; and a query plan that seeks to the cursor."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.model import Asset, Job, JobSpec, JobState, Output
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History, JobFilter, PageCursor
from desktop.core.store.paging import page_query
from desktop.core.store.reviews import ReviewStore

BASE = 1_700_000_000.0
JOBS = 230
STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT,
          JobState.RUNNING, JobState.NEEDS_ATTENTION)

#: Every kind of filter the history panel, the CLI and the review tools use, alone and mixed.
FILTERS: tuple[JobFilter, ...] = (
    JobFilter(),
    JobFilter(provider="fitinview"),
    JobFilter(task="staging"),
    JobFilter(provider="local", task="recolor"),
    JobFilter(states=(JobState.FAILED,)),
    JobFilter(states=(JobState.FAILED, JobState.TIMED_OUT)),
    JobFilter(favorite=True),
    JobFilter(favorite=False),
    JobFilter(since=BASE + 5, until=BASE + 20),
    JobFilter(text="shoot-3"),
    JobFilter(text="navy p1"),
    JobFilter(verdict="pass"),
    JobFilter(verdict="fail"),
    JobFilter(verdict="reviewed"),
    JobFilter(verdict="unreviewed"),
    JobFilter(tag="hands or face broken"),
    JobFilter(reviewer="ben"),
    JobFilter(verdict="unreviewed", reviewer="ana"),
    JobFilter(batch="b1"),
    JobFilter(provider="vtryon", states=(JobState.NEEDS_ATTENTION, JobState.TIMED_OUT),
              favorite=False, since=BASE + 3),
)


def filled(target: Path | str) -> History:
    """230 jobs whose created_at repeats (runs of up to 9 jobs at the same instant), with ids
    in no relation to their time, some favourites, reviews and a batch."""
    history = History(target)
    rng = random.Random(13)
    ids = [f"{n:08x}" for n in rng.sample(range(16**8), JOBS)]
    created = BASE
    for i, job_id in enumerate(ids):
        if rng.random() < 0.4:
            created += rng.choice((0.5, 1.0, 2.0))
        asset = Asset(job_id.ljust(64, "0"), "image/png", 10, 4, 4)
        history.save_job(Job(
            id=job_id,
            spec=JobSpec(("local", "fitinview", "vtryon")[i % 3],
                         ("recolor", "tryon", "staging")[(i // 3) % 3],
                         {"image": [f"/photos/shoot-{i % 5}/p{i}.jpg"]},
                         {"color": "navy" if i % 2 else "red"}),
            state=STATES[i % len(STATES)], created_at=created, updated_at=created,
            favorite=i % 4 == 0, outputs=(Output(0, asset.sha256, "image/png", 10, 4, 4),)),
            assets=[asset])
    reviews = ReviewStore(history)
    for n, job_id in enumerate(ids[::6]):
        reviews.save(Review(job_id, 0, "ana" if n % 2 else "ben",
                            Verdict.PASS if n % 3 else Verdict.FAIL, None,
                            ("hands or face broken",) if n % 4 == 0 else ()))
    with history.transaction() as conn:
        conn.execute("INSERT INTO batches (id, name, task, state, created_at, updated_at)"
                     " VALUES ('b1', 'Batch', 'tryon', 'done', 0, 0)")
        conn.executemany(
            "INSERT INTO batch_items (batch_id, position, row_index, col_index, provider, spec,"
            " state, job_id) VALUES ('b1', ?, 0, 0, 'local', '{}', 'done', ?)",
            list(enumerate(ids[::3])))
    return history


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[History]:
    """The paged history on SQLite, then on PostgreSQL (a database of its own)."""
    if request.param == "sqlite":
        target: Path | str = tmp_path_factory.mktemp("paging") / "h.sqlite3"
    else:
        from tests.pg_cluster import PgCluster

        cluster = request.getfixturevalue("pg_cluster")
        assert isinstance(cluster, PgCluster)
        target = cluster.create_database("paging", icu_locale="en-US")
    history = filled(target)
    yield history
    history.close()


@pytest.fixture(scope="module")
def sqlite_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """For SQLite's query plans and index definitions."""
    history = filled(tmp_path_factory.mktemp("paging-plan") / "h.sqlite3")
    yield history
    history.close()


def keyset_walk(history: History, where: JobFilter, size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    after: PageCursor | None = None
    while len(pages) <= JOBS:  # a cursor that does not move would loop forever
        page = history.page(where, limit=size, after=after)
        if page:
            pages.append([job.id for job in page])
            after = PageCursor.after(page[-1])
        if len(page) < size:
            return pages
    raise AssertionError("the keyset walk does not end: a page repeats its cursor")


def offset_walk(history: History, where: JobFilter, size: int) -> list[list[str]]:
    pages: list[list[str]] = []
    while True:
        page = history.list(where, limit=size, offset=len(pages) * size)
        if page:
            pages.append([job.id for job in page])
        if len(page) < size:
            return pages


def test_the_history_has_ties_in_the_sort_key(history: History) -> None:
    times = [job.created_at for job in history.list(limit=JOBS)]
    assert len(times) == JOBS and len(set(times)) < JOBS // 2  # many jobs share an instant


@pytest.mark.parametrize("where", FILTERS, ids=lambda f: repr({k: v for k, v in vars(f).items()
                                                             if v not in (None, ())}))
@pytest.mark.parametrize("size", [1, 7, 50])
def test_keyset_pages_equal_offset_pages(history: History, where: JobFilter, size: int) -> None:
    keyset = keyset_walk(history, where, size)
    assert keyset == offset_walk(history, where, size)
    flat = [job_id for page in keyset for job_id in page]
    assert 0 < len(flat) == history.count(where) and len(set(flat)) == len(flat)
    assert flat == [job.id for job in history.list(where, limit=JOBS)]


def test_a_page_after_the_last_job_is_empty(history: History) -> None:
    last = history.list(limit=1, offset=JOBS - 1)[0]
    assert history.page(limit=10, after=PageCursor.after(last)) == []


def test_a_cursor_need_not_be_a_stored_job(history: History) -> None:
    """A row deleted since its page was read still names a place in the order."""
    jobs = history.list(limit=JOBS)
    middle = jobs[100]
    ghost = PageCursor(middle.created_at, middle.id + "0")  # sorts just after `middle` (DESC)
    assert [j.id for j in history.page(limit=5, after=ghost)] == [j.id for j in jobs[100:105]]


def plan(history: History, where: JobFilter) -> str:
    cursor = PageCursor(BASE + 50, "8" * 8)
    sql, args = page_query(where, 100, cursor)
    assert "OFFSET" not in sql.upper()
    with history.reading() as conn:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, args))


@pytest.mark.parametrize(("where", "index"), [
    (JobFilter(), "jobs_created_id"),
    (JobFilter(favorite=True), "jobs_created_id"),
    (JobFilter(text="navy"), "jobs_created_id"),
    (JobFilter(provider="local"), "jobs_provider_created"),
    (JobFilter(states=(JobState.FAILED,)), "jobs_state_created"),
])
def test_a_page_seeks_to_its_cursor_on_an_index_in_the_lists_order(
        sqlite_history: History, where: JobFilter, index: str) -> None:
    """SEARCH on the index with a range on created_at (not a SCAN of the table, not a sort of
    every matching row): the page's cost does not grow with its depth."""
    found = plan(sqlite_history, where)
    assert f"USING INDEX {index} (" in found and "created_at<?" in found, found
    assert "TEMP B-TREE" not in found and "SCAN jobs" not in found, found


def test_schema_4_indexes_the_lists_order(sqlite_history: History) -> None:
    assert sqlite_history.path is not None
    conn = sqlite3.connect(sqlite_history.path)
    try:
        indexes = {name: sql for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
            " AND sql IS NOT NULL")}
    finally:
        conn.close()
    assert "jobs_created_id" in indexes and "(created_at, id)" in indexes["jobs_created_id"]
    assert "(state, created_at, id)" in indexes["jobs_state_created"]
    assert "(provider, created_at, id)" in indexes["jobs_provider_created"]
    # Their prefixes, now redundant, are gone (one index fewer to write per saved job).
    assert "jobs_created" not in indexes and "jobs_state" not in indexes
