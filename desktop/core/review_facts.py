"""From the history to the rankings' inputs: the votes, reviews and output facts of a
selection of jobs (a history filter, a batch), for `desktop.core.rankings.rank`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.core.model import Job
from desktop.core.rankings import OutputFact, ReviewFact, Vote
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore

#: The most jobs one ranking reads.
MAX_JOBS = 100_000


@dataclass(frozen=True)
class Facts:
    votes: list[Vote]
    reviews: list[ReviewFact]
    outputs: list[OutputFact]
    jobs: int


def item_key(job_id: str, position: int) -> str:
    """How rankings name one output (agreement between reviewers is per output)."""
    return f"{job_id}:{position}"


def gather(history: History, store: ReviewStore, where: JobFilter | None = None, *,
           providers: tuple[str, ...] = ()) -> Facts:
    """The facts of the jobs `where` selects (blocking: run it in a worker). Votes count
    when either of their jobs is selected; with `providers`, only votes between two of them
    (a comparison with a provider left out says nothing about the ones kept)."""
    return facts_for(history.list(where or JobFilter(), limit=MAX_JOBS), store,
                     providers=providers)


def facts_for(jobs: Sequence[Job], store: ReviewStore, *, providers: tuple[str, ...] = ()
              ) -> Facts:
    """The facts of these jobs (a selection that no filter describes, such as a report's),
    counted as `gather` counts them (blocking: run it in a worker)."""
    if providers:
        jobs = [j for j in jobs if j.provider in providers]
    by_id: dict[str, Job] = {j.id: j for j in jobs}
    reviews = [
        ReviewFact(provider=by_id[r.job_id].provider, task=by_id[r.job_id].task,
                   verdict=str(r.verdict) if r.verdict else None, stars=r.stars,
                   tags=tuple(r.tags), reviewer=r.reviewer, item=item_key(r.job_id, r.position))
        for r in store.for_jobs(list(by_id))
    ]
    outputs: list[OutputFact] = []
    for job in by_id.values():
        if not job.outputs:
            continue
        duration = job.duration_ms / 1000 if job.duration_ms is not None else None
        share = (job.cost_credits / len(job.outputs)) if job.cost_credits is not None else None
        outputs.extend(OutputFact(provider=job.provider, task=job.task,
                                  item=item_key(job.id, o.position), duration_s=duration,
                                  credits=share) for o in job.outputs)
    votes = [Vote(left=v.left_provider, right=v.right_provider, outcome=str(v.outcome))
             for v in store.votes(job_ids=by_id)
             if not providers or (v.left_provider in providers and v.right_provider in providers)]
    return Facts(votes=votes, reviews=reviews, outputs=outputs, jobs=len(by_id))
