"""Jobs brought in from elsewhere (a bundle): written with their reviews and votes in one
transaction, exactly as they were (their own ids, dates and review times)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from desktop.core.model import Asset, Job
from desktop.core.reviews import Review, Vote
from desktop.core.store.history import History, write_job


class AlreadyThere(Exception):
    """A job with this id was stored (by another process) while the import was checked."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def add_imported(history: History, jobs: Sequence[Job], assets: Sequence[Asset],
                 reviews: Sequence[Review] = (), votes: Sequence[Vote] = ()) -> None:
    """Insert new jobs, the asset rows they use, their reviews and votes: all or nothing.

    Raises AlreadyThere (and writes nothing) when one of the ids is taken. Jobs are written
    without an owner: the caller gives them terminal states, so nobody works on them. A vote
    whose id is already stored is kept as it is."""
    with history.transaction() as conn:
        for job in jobs:
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job.id,)).fetchone():
                raise AlreadyThere(job.id)
        for i, job in enumerate(jobs):
            write_job(conn, job, assets=assets if i == 0 else ())
        conn.executemany(
            "INSERT INTO reviews (job_id, position, reviewer, verdict, stars, tags, note,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.job_id, r.position, r.reviewer, str(r.verdict) if r.verdict else None,
              r.stars, json.dumps(list(r.tags), ensure_ascii=False), r.note, r.created_at,
              r.updated_at) for r in reviews])
        conn.executemany(
            "INSERT INTO votes (id, left_job, left_position, right_job, right_position,"
            " outcome, reviewer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO NOTHING",
            [(v.id, v.left_job, v.left_position, v.right_job, v.right_position,
              str(v.outcome), v.reviewer, v.created_at) for v in votes])


def existing_votes(history: History, ids: Sequence[str]) -> set[str]:
    """Which of these vote ids are stored already."""
    found: set[str] = set()
    with history.reading() as conn:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in conn.execute(
                f"SELECT id FROM votes WHERE id IN ({marks})", chunk))
    return found
