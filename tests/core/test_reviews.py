"""Reviews and votes in the history, the default tags, and the review filters."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from desktop.core.model import InvalidInput, Job, JobSpec, JobState, Output
from desktop.core.reviews import (
    DEFAULT_TAGS,
    Review,
    ReviewSettings,
    Verdict,
    VoteOutcome,
    tag_family,
)
from desktop.core.store import MIGRATIONS, SCHEMA_VERSION, History, JobFilter
from desktop.core.store.reviews import ReviewStore


def stored_job(history: History, job_id: str, provider: str = "fitinview",
               task: str = "tryon", outputs: int = 2, when: float | None = None) -> Job:
    now = when or time.time()
    from desktop.core.model import Asset

    assets = [Asset(f"{job_id}{i}".ljust(64, "0")[:64], "image/png", 10, 4, 4)
              for i in range(outputs)]
    job = Job(job_id, JobSpec(provider, task), JobState.SUCCEEDED, now, now,
              outputs=tuple(Output(i, a.sha256, "image/png", 10, 4, 4)
                            for i, a in enumerate(assets)))
    history.save_job(job, assets=assets)
    return job


def test_reviews_are_per_reviewer_updated_in_place_and_removed_when_emptied(
        history_target: Path | str) -> None:
    history = History(history_target)
    store = ReviewStore(history)
    stored_job(history, "job1")
    first = store.save(Review("job1", 0, "ana", Verdict.FAIL, 2, ("hands or face broken",),
                              "fingers"))
    store.save(Review("job1", 0, "ben", Verdict.PASS, 4))
    again = store.save(Review("job1", 0, "ana", Verdict.PASS, 5, (), "fixed on second look"))
    assert again.created_at == first.created_at and again.updated_at >= first.updated_at
    reviews = store.for_jobs(["job1"])
    assert [(r.reviewer, r.verdict, r.stars) for r in reviews] == [
        ("ana", Verdict.PASS, 5), ("ben", Verdict.PASS, 4)]
    store.save(Review("job1", 0, "ben"))  # nothing left: the review goes
    assert [r.reviewer for r in store.for_jobs(["job1"])] == ["ana"]
    with pytest.raises(InvalidInput, match="1 to 5"):
        Review("job1", 0, "ana", stars=6)


def test_votes_carry_their_providers_and_go_with_their_jobs(history_target: Path | str) -> None:
    history = History(history_target)
    store = ReviewStore(history)
    stored_job(history, "a", "fitinview")
    stored_job(history, "b", "tryonapi")
    vote = store.vote(("a", 0), ("b", 0), "left", "ana")
    [read] = store.votes()
    assert read.id == vote.id and read.outcome == VoteOutcome.LEFT
    assert (read.left_provider, read.right_provider, read.task) == ("fitinview", "tryonapi",
                                                                    "tryon")
    with pytest.raises(ValueError):
        store.vote(("a", 0), ("a", 0), "tie", "ana")
    history.delete_job("b")
    assert store.votes() == []


def test_history_filters_on_reviews(history_target: Path | str) -> None:
    history = History(history_target)
    store = ReviewStore(history)
    for job_id, provider in (("f1", "fitinview"), ("f2", "fitinview"), ("t1", "tryonapi")):
        stored_job(history, job_id, provider)
    store.save(Review("f1", 0, "ana", Verdict.FAIL, 1, ("hands or face broken",)))
    store.save(Review("f2", 1, "ben", Verdict.PASS, 5, (), "Lovely drape"))

    def ids(**kw: object) -> list[str]:
        return sorted(j.id for j in history.list(JobFilter(**kw)))  # type: ignore[arg-type]

    assert ids(verdict="fail", provider="fitinview") == ["f1"]
    assert ids(verdict="pass") == ["f2"]
    assert ids(verdict="unreviewed") == ["t1"]
    assert ids(verdict="reviewed") == ["f1", "f2"]
    assert ids(tag="hands or face broken") == ["f1"]
    assert ids(reviewer="ben") == ["f2"]
    assert ids(verdict="fail", reviewer="ben") == []
    assert ids(text="drape") == ["f2"]  # a review's note is searchable
    assert history.count(JobFilter(verdict="unreviewed")) == 1


def test_default_tags_per_task_and_settings_that_replace_them() -> None:
    assert tag_family("tryon") == "tryon" and tag_family("virtual_tryon_pro") == "tryon"
    assert tag_family("staging") == "staging" and tag_family("upscale") == "other"
    assert "hands or face broken" in DEFAULT_TAGS["tryon"]
    settings = ReviewSettings.from_dict({"reviewer": "QA Ana",
                                         "tags": {"staging": ["walls moved", " "]}})
    assert settings.reviewer == "QA Ana"
    assert settings.tags_for("staging") == ("walls moved",)
    assert settings.tags_for("tryon") == DEFAULT_TAGS["tryon"]
    assert ReviewSettings.from_dict(None).reviewer  # the OS user


def test_a_version_2_history_with_jobs_upgrades_to_reviews_and_batches(tmp_path: Path
                                                                      ) -> None:
    """The review and batch tables arrive on a copy of an existing history: its jobs stay,
    and they can be reviewed and batched at once."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:2]:
        conn.executescript(step)
    conn.execute("PRAGMA user_version = 2")
    spec = json.dumps(JobSpec("fitinview", "tryon").to_dict())
    conn.execute("INSERT INTO jobs (id, provider, task, state, spec, created_at, updated_at,"
                 " note) VALUES ('old', 'fitinview', 'tryon', 'succeeded', ?, 1, 1, 'kept')",
                 (spec,))
    conn.close()
    history = History(path)
    assert history.schema_version == SCHEMA_VERSION >= 3
    job = history.get("old")
    assert job is not None and job.note == "kept"
    ReviewStore(history).save(Review("old", 0, "ana", Verdict.PASS))
    assert [j.id for j in history.list(JobFilter(verdict="pass"))] == ["old"]
