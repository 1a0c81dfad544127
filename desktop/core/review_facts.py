"""The history's votes, reviews and results as the rankings' inputs (core/rankings.py): what
`restyle-cli rankings` and the window rank, read the same way.

An output is named by its job id and position (`item_key`), in reviews and in output facts
alike, so the rankings can put a review next to what its output cost. Which jobs count is a
`Scope`: providers, a task, a batch, jobs created since a time. A vote counts when both its
jobs are in scope.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from desktop.core.model import Job, JobState
from desktop.core.rankings import OutputFact, ReviewFact, Vote
from desktop.core.reviews import Review
from desktop.core.reviews import Vote as StoredVote
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore


@dataclass(frozen=True)
class Scope:
    """Which jobs the rankings look at; empty fields do not narrow."""

    providers: tuple[str, ...] = ()
    task: str | None = None
    batch: str | None = None
    #: Jobs created at or after this time (seconds since the epoch).
    since: float | None = None

    def job_filter(self) -> JobFilter:
        return JobFilter(provider=self.providers[0] if len(self.providers) == 1 else None,
                         task=self.task, batch=self.batch, since=self.since)


@dataclass(frozen=True)
class RankingInputs:
    votes: list[Vote]
    reviews: list[ReviewFact]
    outputs: list[OutputFact]

    @property
    def empty(self) -> bool:
        return not (self.votes or self.reviews)


def item_key(job_id: str, position: int) -> str:
    """How the rankings name one output: 'job id#position'."""
    return f"{job_id}#{position}"


def vote_facts(votes: Iterable[StoredVote], jobs: Mapping[str, Job]) -> list[Vote]:
    """Stored votes whose two jobs are both in `jobs`, as the rankings' votes (by provider)."""
    facts = []
    for vote in votes:
        left, right = jobs.get(vote.left_job), jobs.get(vote.right_job)
        if left is None or right is None:
            continue
        facts.append(Vote(left.provider, right.provider, str(vote.outcome)))  # type: ignore[arg-type]
    return facts


def review_facts(reviews: Iterable[Review], jobs: Mapping[str, Job]) -> list[ReviewFact]:
    """Stored reviews of jobs in `jobs`, oldest change first (the rankings keep a reviewer's
    later review of an output)."""
    facts = []
    for review in sorted(reviews, key=lambda r: (r.updated_at, r.created_at)):
        job = jobs.get(review.job_id)
        if job is None:
            continue
        facts.append(ReviewFact(
            provider=job.provider, task=job.task,
            verdict=str(review.verdict) if review.verdict else None,  # type: ignore[arg-type]
            stars=review.stars, tags=tuple(review.tags), reviewer=review.reviewer,
            item=item_key(review.job_id, review.position)))
    return facts


def output_facts(jobs: Iterable[Job]) -> list[OutputFact]:
    """One fact per output of each job that succeeded: seconds from the submit (else the
    start) to the result, and the job's credits split evenly over its outputs."""
    facts = []
    for job in jobs:
        if job.state != JobState.SUCCEEDED or not job.outputs:
            continue
        start = job.submitted_at or job.started_at or job.created_at
        duration = (job.finished_at - start) if job.finished_at is not None else None
        if duration is not None and (duration < 0 or not math.isfinite(duration)):
            duration = None
        credits = (job.cost_credits / len(job.outputs)
                   if job.cost_credits is not None else None)
        for output in job.outputs:
            facts.append(OutputFact(provider=job.provider, task=job.task,
                                    item=item_key(job.id, output.position),
                                    duration_s=duration, credits=credits))
    return facts


def jobs_in_scope(history: History, scope: Scope) -> list[Job]:
    """Every job the scope takes (blocking)."""
    where = scope.job_filter()
    count = history.count(where)
    if not count:
        return []
    jobs = history.list(where, limit=count)
    if len(scope.providers) > 1:
        wanted = set(scope.providers)
        jobs = [j for j in jobs if j.provider in wanted]
    return jobs


def gather(history: History, reviews: ReviewStore, scope: Scope = Scope()) -> RankingInputs:
    """The rankings' inputs for the jobs in `scope` (blocking: run it in a worker)."""
    jobs = {j.id: j for j in jobs_in_scope(history, scope)}
    ids: Sequence[str] = list(jobs)
    return RankingInputs(
        votes=vote_facts(reviews.votes(job_ids=ids), jobs),
        reviews=review_facts(reviews.for_jobs(ids), jobs),
        outputs=output_facts(jobs.values()),
    )
