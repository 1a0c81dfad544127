"""History.same_inputs: the jobs of one task made from exactly the same input images (for
"Compare with other providers"), in plain SQL that PostgreSQL runs too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.store import History

PERSON, GARMENT, OTHER = "a" * 64, "b" * 64, "c" * 64


def job(name: str, *, provider: str = "fitinview", task: str = "tryon",
        inputs: dict[str, list[str]] | None = None, state: JobState = JobState.SUCCEEDED,
        created: float = 1_700_000_000.0) -> Job:
    error = JobError(ErrorCode.JOB_FAILED, "The service failed.") \
        if state == JobState.FAILED else None
    return Job(id=name, spec=JobSpec(provider, task), state=state, created_at=created,
               updated_at=created, error=error,
               inputs={"person": [PERSON], "garment": [GARMENT]} if inputs is None else inputs)


def filled(target: Path | str) -> History:
    history = History(target)
    assets = [Asset(sha, "image/png", 10, 4, 3) for sha in (PERSON, GARMENT, OTHER)]
    jobs = [
        job("mine", created=10),
        job("vtryon", provider="vtryon", created=30),
        job("tryonapi", provider="tryonapi", created=20,
            inputs={"model": [PERSON], "clothes": [GARMENT]}),  # other roles, same images
        job("failed", provider="vtryon", state=JobState.FAILED, created=40),
        job("other-photo", created=50, inputs={"person": [OTHER], "garment": [GARMENT]}),
        job("fewer", created=60, inputs={"person": [PERSON]}),
        job("more", created=70, inputs={"person": [PERSON], "garment": [GARMENT, OTHER]}),
        job("other-task", task="recolor", created=80),
        job("no-inputs", created=90, inputs={}),
    ]
    for j in jobs:
        history.save_job(j, assets=assets)
    return history


@pytest.fixture()
def history(history_target: Path | str) -> Iterator[History]:
    """On SQLite, then on PostgreSQL."""
    history = filled(history_target)
    yield history
    history.close()


@pytest.fixture()
def sqlite_history(tmp_path: Path) -> Iterator[History]:
    """For what only SQLite can show (its statement trace and query plan)."""
    history = filled(tmp_path / "h.sqlite3")
    yield history
    history.close()


def test_finds_exactly_the_jobs_of_the_same_task_and_images(history: History) -> None:
    found = history.same_inputs("tryon", [GARMENT, PERSON])
    assert [j.id for j in found] == ["vtryon", "tryonapi", "mine"]  # newest first
    assert found[0].inputs == {"person": [PERSON], "garment": [GARMENT]}  # hydrated


def test_states_and_limit(history: History) -> None:
    found = history.same_inputs("tryon", [PERSON, GARMENT],
                                states=(JobState.SUCCEEDED, JobState.FAILED), limit=2)
    assert [j.id for j in found] == ["failed", "vtryon"]


def test_an_empty_set_matches_nothing(history: History) -> None:
    assert history.same_inputs("tryon", []) == []


def test_the_query_uses_the_inputs_index_and_portable_sql(sqlite_history: History) -> None:
    history = sqlite_history
    statements: list[str] = []
    with history.reading() as conn:
        conn.set_trace_callback(statements.append)
        try:
            history.same_inputs("tryon", [PERSON, GARMENT])
        finally:
            conn.set_trace_callback(None)
    sql = next(s for s in statements if "job_inputs" in s and "HAVING" in s)
    # nothing SQLite-only: no INSERT OR, no GLOB, no json_*, no group_concat, no rowid
    assert not re.search(r"\b(GLOB|json_\w+|group_concat|rowid|IIF|PRAGMA)\b", sql, re.I)
    with history.reading() as conn:
        plan = " ".join(str(tuple(r)) for r in conn.execute(
            "EXPLAIN QUERY PLAN " + sql.replace("LIMIT 100", "LIMIT 5")).fetchall())
    assert "job_inputs_sha" in plan
