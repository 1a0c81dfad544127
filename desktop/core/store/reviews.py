"""Reviews and votes in the history (tables `reviews` and `votes`, schema step 3)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from desktop.core.reviews import Review, Verdict, Vote, VoteOutcome
from desktop.core.store.history import History


class ReviewStore:
    """Reads and writes reviews and votes through a History's connection (blocking)."""

    def __init__(self, history: History, clock: Callable[[], float] = time.time) -> None:
        self.history = history
        self._clock = clock

    # -- reviews -----------------------------------------------------------------------------
    def save(self, review: Review) -> Review:
        """Insert or replace this reviewer's review of the output; an empty review (no
        verdict, stars, tags or note) removes it. Returns it as stored."""
        now = self._clock()
        with self.history.transaction() as conn:
            old = conn.execute(
                "SELECT created_at FROM reviews WHERE job_id = ? AND position = ? AND reviewer = ?",
                (review.job_id, review.position, review.reviewer)).fetchone()
            if review.empty:
                conn.execute("DELETE FROM reviews WHERE job_id = ? AND position = ?"
                             " AND reviewer = ?", (review.job_id, review.position,
                                                    review.reviewer))
                return review
            created = old[0] if old else now
            if old:
                conn.execute(
                    "UPDATE reviews SET verdict = ?, stars = ?, tags = ?, note = ?,"
                    " updated_at = ? WHERE job_id = ? AND position = ? AND reviewer = ?",
                    (_verdict(review), review.stars, _tags(review.tags), review.note, now,
                     review.job_id, review.position, review.reviewer))
            else:
                conn.execute(
                    "INSERT INTO reviews (job_id, position, reviewer, verdict, stars, tags, note,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (review.job_id, review.position, review.reviewer, _verdict(review),
                     review.stars, _tags(review.tags), review.note, created, now))
        return Review(review.job_id, review.position, review.reviewer, review.verdict,
                      review.stars, review.tags, review.note, created, now)

    def get(self, job_id: str, position: int, reviewer: str) -> Review | None:
        with self.history.reading() as conn:
            row = conn.execute("SELECT * FROM reviews WHERE job_id = ? AND position = ?"
                               " AND reviewer = ?", (job_id, position, reviewer)).fetchone()
        return _review(row) if row else None

    def for_jobs(self, job_ids: Sequence[str]) -> list[Review]:
        """Every review of these jobs' outputs, by anyone."""
        if not job_ids:
            return []
        found: list[Review] = []
        with self.history.reading() as conn:
            for chunk in _chunks(list(job_ids), 500):
                marks = ",".join("?" * len(chunk))
                found.extend(_review(r) for r in conn.execute(
                    f"SELECT * FROM reviews WHERE job_id IN ({marks})"
                    " ORDER BY job_id, position, reviewer", chunk))
        return found

    def all(self) -> list[Review]:
        with self.history.reading() as conn:
            return [_review(r) for r in conn.execute(
                "SELECT * FROM reviews ORDER BY job_id, position, reviewer")]

    # -- votes -------------------------------------------------------------------------------
    def vote(self, left: tuple[str, int], right: tuple[str, int], outcome: VoteOutcome | str,
             reviewer: str) -> Vote:
        """Store one blind A/B vote between two outputs."""
        outcome = VoteOutcome(outcome)
        if left[0] == right[0] and left[1] == right[1]:
            raise ValueError("A vote compares two different outputs.")
        vote = Vote(uuid.uuid4().hex, left[0], left[1], right[0], right[1], outcome,
                    reviewer, self._clock())
        with self.history.transaction() as conn:
            conn.execute(
                "INSERT INTO votes (id, left_job, left_position, right_job, right_position,"
                " outcome, reviewer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (vote.id, vote.left_job, vote.left_position, vote.right_job,
                 vote.right_position, str(vote.outcome), vote.reviewer, vote.created_at))
        return vote

    def delete_vote(self, vote_id: str) -> None:
        with self.history.transaction() as conn:
            conn.execute("DELETE FROM votes WHERE id = ?", (vote_id,))

    def votes(self, *, job_ids: Iterable[str] | None = None) -> list[Vote]:
        """Votes with the providers and task of their jobs, oldest first (those about the
        given jobs only, when `job_ids` is given)."""
        query = ("SELECT v.*, lj.provider AS left_provider, rj.provider AS right_provider,"
                 " lj.task AS task FROM votes v JOIN jobs lj ON lj.id = v.left_job"
                 " JOIN jobs rj ON rj.id = v.right_job")
        with self.history.reading() as conn:
            rows = conn.execute(query + " ORDER BY v.created_at, v.id").fetchall()
        wanted = set(job_ids) if job_ids is not None else None
        return [_vote(r) for r in rows
                if wanted is None or r["left_job"] in wanted or r["right_job"] in wanted]


def _verdict(review: Review) -> str | None:
    return str(review.verdict) if review.verdict else None


def _tags(tags: Iterable[str]) -> str:
    return json.dumps(list(tags), ensure_ascii=False)


def _review(row: Any) -> Review:
    try:
        tags = tuple(str(t) for t in json.loads(row["tags"] or "[]"))
    except ValueError:
        tags = ()
    return Review(row["job_id"], row["position"], row["reviewer"],
                  Verdict(row["verdict"]) if row["verdict"] else None, row["stars"], tags,
                  row["note"] or "", row["created_at"], row["updated_at"])


def _vote(row: Any) -> Vote:
    return Vote(row["id"], row["left_job"], row["left_position"], row["right_job"],
                row["right_position"], VoteOutcome(row["outcome"]), row["reviewer"],
                row["created_at"], row["left_provider"], row["right_provider"], row["task"])


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
