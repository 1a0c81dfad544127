"""What differs between SQLite and PostgreSQL and must not show: searches that ignore case the
same way, times and costs kept to the last digit, and a team server that cannot be used
reported in a sentence that never holds the password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from desktop.core.batches import Batch, BatchState, Matrix
from desktop.core.model import Asset, Job, JobSpec, JobState, Output
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History, HistoryError, JobFilter
from desktop.core.store.batches import BatchStore
from desktop.core.store.reviews import ReviewStore


def stored(history: History, job_id: str, *, params: dict[str, object] | None = None,
           note: str = "", created: float = 1_700_000_000.123456) -> Job:
    asset = Asset(job_id.encode().hex().ljust(64, "0")[:64], "image/png", 2**33, 4, 4)
    job = Job(job_id, JobSpec("fitinview", "tryon", {"person": ["/shoots/Summer/a.jpg"]},
                              params or {}),
              JobState.SUCCEEDED, created, created + 0.000001, note=note,
              cost_credits=0.1 + 0.2,
              outputs=(Output(0, asset.sha256, "image/png", 2**33, 4, 4),))
    history.save_job(job, assets=[asset])
    return job


def test_searches_ignore_case_alike_on_both_back_ends(history_target: Path | str) -> None:
    history = History(history_target)
    reviews = ReviewStore(history)
    stored(history, "abcdef01", params={"color": "Navy"}, note="Élan shoot")
    stored(history, "ABC99999", note="plain")
    reviews.save(Review("abcdef01", 0, "ana", Verdict.FAIL, None, ("Hands or Face broken",),
                        "Sleeve MISSING"))

    def ids(**kw: object) -> list[str]:
        return sorted(j.id for j in history.list(JobFilter(**kw)))  # type: ignore[arg-type]

    assert ids(text="NAVY") == ["abcdef01"]
    assert ids(text="summer") == ["ABC99999", "abcdef01"]
    assert ids(text="élan") == ids(text="ÉLAN") == ["abcdef01"]  # not only ASCII letters
    assert ids(text="sleeve missing") == ["abcdef01"]  # a review's note, another case
    assert ids(text="hands") == ["abcdef01"]  # a review's tag
    assert ids(tag="hands or face broken") == ["abcdef01"]
    assert ids(tag="HANDS OR FACE BROKEN") == ["abcdef01"]
    assert ids(text="100%") == [] and ids(text="a_c") == []  # LIKE's wildcards are text
    # A prefix typed in another case finds the job.
    found = history.find("ABCDEF")
    assert found is not None and found.id == "abcdef01"
    found = history.find("abc9")
    assert found is not None and found.id == "ABC99999"
    history.close()


@pytest.fixture
def abc_history(history_target: Path | str) -> History:
    return History(history_target)


def test_a_short_or_shared_prefix(abc_history: History) -> None:
    stored(abc_history, "abcd1111")
    stored(abc_history, "ABCD2222")
    assert abc_history.find("abc") is None  # fewer than 4 characters: exact ids only
    with pytest.raises(LookupError, match="More than one job id starts with 'Abcd'"):
        abc_history.find("Abcd")
    abc_history.close()


def test_batch_prefixes_ignore_case_too(history_target: Path | str) -> None:
    history = History(history_target)
    store = BatchStore(history)
    store.create(Batch("b0ffee00", "Shoot", "tryon", BatchState.RUNNING,
                       Matrix("tryon", ("fitinview",), "person", (), ()), None, 1.0, 1.0), [])
    found = store.find("B0FF")
    assert found is not None and found.id == "b0ffee00"
    history.close()


def test_times_costs_and_sizes_keep_every_digit(history_target: Path | str) -> None:
    """REAL is a double and INTEGER 8 bytes on both (PostgreSQL's REAL would keep 6 digits,
    its INTEGER 4 bytes)."""
    history = History(history_target)
    job = stored(history, "precise")
    again = history.get("precise")
    assert again == job
    assert again is not None and again.created_at == 1_700_000_000.123456
    assert again.updated_at == 1_700_000_000.123457 and again.cost_credits == 0.1 + 0.2
    assert again.outputs[0].size == 2**33
    assert history.list(JobFilter(since=1_700_000_000.123456)) == [job]
    assert history.list(JobFilter(since=1_700_000_000.123457)) == []
    history.close()


# -- a team server that cannot be used ----------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nobody listens


def test_a_refused_connection_is_a_sentence_without_the_password() -> None:
    url = f"postgresql://ana:s3cret-pw@127.0.0.1:{closed_port()}/team"
    with pytest.raises(HistoryError) as caught:
        History(url)
    text = str(caught.value)
    assert text.startswith("The team history, PostgreSQL database team (ana@127.0.0.1:")
    assert "connection refused" in text and "server is running" in text
    assert "s3cret" not in text and "Traceback" not in text


def test_an_unknown_host_is_a_sentence() -> None:
    with pytest.raises(HistoryError, match="host name is not known") as caught:
        History("postgresql://ana:s3cret-pw@no-such-host.invalid/team")
    assert "s3cret" not in str(caught.value)


def test_a_wrong_password_is_a_sentence_without_it(pg_cluster: object) -> None:
    from tests.pg_cluster import PgCluster

    assert isinstance(pg_cluster, PgCluster)
    plain = pg_cluster.password_user("pw_user", "right-Pa55")
    wrong = plain.replace("pw_user@", "pw_user:wrong-Pa55@")
    with pytest.raises(HistoryError, match="refused the user name or password") as caught:
        History(wrong)
    assert "wrong-Pa55" not in str(caught.value) and "right-Pa55" not in str(caught.value)
    history = History(plain.replace("pw_user@", "pw_user:right-Pa55@"))  # the right one works
    assert history.count() == 0
    history.close()


def test_a_missing_database_is_a_sentence(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(HistoryError, match=r"database does not exist.*createdb"):
        History(missing)


def test_an_unreadable_url_is_a_sentence() -> None:
    with pytest.raises(HistoryError, match="URL cannot be read") as caught:
        History("postgresql://ana:s3cret-pw@127.0.0.1:notaport/team")
    assert "s3cret" not in str(caught.value)


# -- leases: what the engine and the team's workers rely on ----------------------------------
def test_claims_leases_and_fenced_saves(history_target: Path | str) -> None:
    from desktop.core.store import LeaseLost

    history = History(history_target)
    job = Job("leased", JobSpec("fitinview", "tryon"), JobState.RUNNING, 1.0, 1.0,
              remote_id="r-1")
    history.save_job(job, owner="desk-a", lease_until=100.0)
    control = history.control("leased")
    assert control is not None and control.owner == "desk-a"
    # Of two takers that both saw desk-a's lease lapse, one gets the job.
    assert history.claim("leased", "worker-1", 200.0, expected="desk-a") is True
    assert history.claim("leased", "worker-2", 200.0, expected="desk-a") is False
    # desk-a, back from a sleep, cannot overwrite what the new owner writes.
    with pytest.raises(LeaseLost):
        history.save_job(job.evolve(progress=0.5), owner="desk-a", lease_until=300.0)
    history.save_job(job.evolve(progress=0.25), owner="worker-1", lease_until=300.0)
    assert history.renew("worker-1", 400.0) == 1 and history.renew("desk-a", 400.0) == 0
    again = history.get("leased")
    assert again is not None and again.progress == 0.25 and again.lease_until == 400.0
    history.request_cancel("leased")
    control = history.control("leased")
    assert control is not None and control.cancel_requested and control.owner == "worker-1"
    history.release("worker-1")
    assert history.claim("leased", "worker-2", 500.0, expected=None) is True
    assert [j.id for j in history.unfinished()] == ["leased"]
    history.save_job(job.evolve(state=JobState.SUCCEEDED), owner="worker-2", lease_until=600.0)
    done = history.get("leased")
    assert done is not None and done.owner is None and done.lease_until is None  # released
    assert history.claim("leased", "worker-3", 700.0, expected=None) is False  # terminal
    history.close()


def test_text_sorts_byte_by_byte_on_both_whatever_the_servers_locale(
        history_target: Path | str) -> None:
    """The PostgreSQL database of `history_target` sorts by en-US rules ("ana" before "Ben");
    Restyle's columns sort as SQLite does, by code point ("Ben" before "ana")."""
    history = History(history_target)
    reviews = ReviewStore(history)
    names = ["ana", "Ben", "_x", "b", "Zoë", "zoe"]
    for i, job_id in enumerate(["job-b", "Job-A", "job-a", "JOB-c"]):
        stored(history, job_id, created=1_700_000_000.0)  # one instant: the id decides
        for name in names[i:]:
            reviews.save(Review(job_id, 0, name, Verdict.PASS))
    assert [j.id for j in history.list()] == sorted(["job-b", "Job-A", "job-a", "JOB-c"],
                                                    reverse=True)
    got = [(r.job_id, r.reviewer) for r in reviews.all()]
    assert got == sorted(got)  # Python sorts strings by code point, as SQLite does
    assert [r.reviewer for r in reviews.for_jobs(["job-b"])] == sorted(names)
    history.close()
