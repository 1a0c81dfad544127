"""The team database's change feed (desktop/core/store/changes.py) against a real PostgreSQL
server: what it hands over, and how it comes back after the server cuts its connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from desktop.core.model import Job, JobSpec, JobState
from desktop.core.reviews import Review, Verdict, VoteOutcome
from desktop.core.store import History
from desktop.core.store import changes as changes_module
from desktop.core.store.changes import (
    Change,
    FeedStatus,
    PostgresChangeFeed,
    needs_feed,
    team_place,
)
from desktop.core.store.reviews import ReviewStore


class Heard:
    """What a feed handed over, collected from its thread."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.batches: list[list[Change]] = []
        self.statuses: list[tuple[FeedStatus, str]] = []
        self._cond = threading.Condition()

    def on_changes(self, changes: list[Change]) -> None:
        with self._cond:
            self.batches.append(changes)
            self.changes.extend(changes)
            self._cond.notify_all()

    def on_status(self, status: FeedStatus, sentence: str) -> None:
        with self._cond:
            self.statuses.append((status, sentence))
            self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), (self.changes, self.statuses)


def a_job(job_id: str, state: JobState = JobState.SUCCEEDED) -> Job:
    now = time.time()
    return Job(job_id, JobSpec("local", "upscale", {"image": ["/p/a.png"]}, {}), state, now, now)


@pytest.fixture
def feed(pg_url: str) -> Iterator[tuple[PostgresChangeFeed, Heard, History]]:
    history = History(pg_url)  # creates the schema and its triggers
    heard = Heard()
    feed = PostgresChangeFeed(pg_url, heard.on_changes, heard.on_status)
    feed.start()
    try:
        assert feed.wait_listening(10)
        yield feed, heard, history
    finally:
        feed.close()
        history.close()


def test_only_postgres_has_a_feed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert needs_feed("postgresql://u:secret@db.example:5433/team")
    assert not needs_feed(str(tmp_path / "h.sqlite3")) and not needs_feed(tmp_path)
    assert team_place("postgresql://u:secret@db.example:5433/team") == ("team",
                                                                        "db.example:5433")
    assert team_place("postgresql://u:secret@db.example/team") == ("team", "db.example")
    assert Change.parse("votes:a,b") == Change("votes", "a,b")
    assert Change("votes", "a,b").job_ids() == ("a", "b")
    assert Change.parse("elsewhere:x") is None and Change.parse("jobs:") is None


def test_commits_arrive_as_table_and_key(feed) -> None:  # type: ignore[no-untyped-def]
    _feed, heard, history = feed
    heard.wait(lambda: heard.statuses[:1] == [(FeedStatus.CONNECTED, "")])
    history.save_job(a_job("job-1"))
    history.save_job(a_job("job-2"))
    reviews = ReviewStore(history)
    reviews.save(Review("job-1", 0, "ana", Verdict.PASS))
    reviews.vote(("job-1", 0), ("job-2", 0), VoteOutcome.LEFT, "ana")
    heard.wait(lambda: Change("votes", "job-1,job-2") in heard.changes)
    assert {Change("jobs", "job-1"), Change("jobs", "job-2"),
            Change("reviews", "job-1")} <= set(heard.changes)
    # An uncommitted change is never announced; a rolled-back one never will be.
    count = len(heard.changes)
    with pytest.raises(RuntimeError), history.transaction() as conn:
        conn.execute("UPDATE jobs SET note = 'x' WHERE id = ?", ("job-1",))
        raise RuntimeError("rolled back")
    history.set_favorite("job-2", True)
    heard.wait(lambda: len(heard.changes) > count)
    assert heard.changes[count:] == [Change("jobs", "job-2")]


def test_a_burst_is_one_batch_with_each_change_once(feed) -> None:  # type: ignore[no-untyped-def]
    _feed, heard, history = feed
    history.save_job(a_job("job-b"))
    heard.wait(lambda: Change("jobs", "job-b") in heard.changes)
    before = len(heard.batches)
    with history.transaction() as conn:  # 40 updates of one job, then 20 jobs, one commit
        for i in range(40):
            conn.execute("UPDATE jobs SET note = ? WHERE id = ?", (f"n{i}", "job-b"))
    for i in range(20):
        history.save_job(a_job(f"job-{i:02d}"))
    heard.wait(lambda: Change("jobs", "job-19") in heard.changes)
    batches = heard.batches[before:]
    assert len(batches) < 21  # gathered, not one call per notice
    assert all(len(set(b)) == len(b) for b in batches)
    assert batches[0].count(Change("jobs", "job-b")) == 1  # 40 updates, one notice


def test_the_feed_comes_back_after_the_server_ends_its_session(  # type: ignore[no-untyped-def]
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes_module, "RECONNECT_DELAYS", (0.8, 1.0))
    history = History(pg_url)
    heard = Heard()
    feed = PostgresChangeFeed(pg_url, heard.on_changes, heard.on_status)
    feed.start()
    try:
        assert feed.wait_listening(10)
        first = feed.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]
        heard.wait(lambda: any(s == FeedStatus.LOST for s, _ in heard.statuses))
        lost = next(text for s, text in heard.statuses if s == FeedStatus.LOST)
        assert lost.startswith("Lost the team database (the server ended the connection);")
        assert "reconnecting…" in lost and "secret" not in lost
        history.save_job(a_job("while-away"))  # announced to no one: the feed is not listening
        heard.wait(lambda: heard.statuses[-1][0] == FeedStatus.BACK)
        assert feed.connections == 2 and feed.backend_pid != first
        history.save_job(a_job("after"))
        heard.wait(lambda: Change("jobs", "after") in heard.changes)
        assert Change("jobs", "while-away") not in heard.changes  # the window reads again
    finally:
        feed.close()
        history.close()
    assert not feed.listening


def test_an_unreachable_server_is_reported_once_and_tried_again(  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(changes_module, "RECONNECT_DELAYS", (0.05,))
    attempts: list[float] = []
    real = PostgresChangeFeed._connect

    def counting(self: PostgresChangeFeed) -> object:
        attempts.append(time.monotonic())
        return real(self)

    monkeypatch.setattr(PostgresChangeFeed, "_connect", counting)
    heard = Heard()
    feed = PostgresChangeFeed(f"postgresql://ana:secret@127.0.0.1:{port}/team",
                              heard.on_changes, heard.on_status)
    feed.start()
    try:
        heard.wait(lambda: len(attempts) >= 3)
    finally:
        feed.close()
    assert [s for s, _ in heard.statuses] == [FeedStatus.LOST]
    assert "secret" not in heard.statuses[0][1]
