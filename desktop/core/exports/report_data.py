"""What a report says about a selection of jobs: each job with its inputs' names and its
outputs' reviews, and the provider summary when there are reviews or votes (the facts
review_facts gathers, ranked by desktop.core.rankings as `restyle-cli rankings` ranks them)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from desktop.core.exports.bundle_format import source_label
from desktop.core.model import Job, JobError, Output
from desktop.core.rankings import Rankings, rank
from desktop.core.redaction import redact_mapping, redact_text
from desktop.core.review_facts import facts_for
from desktop.core.reviews import Review
from desktop.core.store.reviews import ReviewStore

#: Bootstrap resamples and seed of the provider summary (as `restyle-cli rankings`).
BOOTSTRAP = 1000
SEED = 0


@dataclass(frozen=True)
class InputItem:
    role: str
    name: str
    sha256: str


@dataclass(frozen=True)
class OutputItem:
    output: Output
    reviews: tuple[Review, ...]


@dataclass(frozen=True)
class Entry:
    """One job of the report with its inputs' names and its outputs' reviews."""

    job: Job
    inputs: tuple[InputItem, ...]
    outputs: tuple[OutputItem, ...]


@dataclass(frozen=True)
class Report:
    entries: tuple[Entry, ...]
    #: The provider summary, or None when the jobs have no reviews and no votes.
    rankings: Rankings | None
    votes: int
    reviews: int
    generated_at: float


def build_report(jobs: Sequence[Job], reviews: ReviewStore,
                 clock: Callable[[], float] = time.time) -> Report:
    """The report's content for these jobs, in the order given (blocking)."""
    jobs = list({j.id: j for j in jobs}.values())
    by_output: dict[tuple[str, int], list[Review]] = {}
    for r in reviews.for_jobs([j.id for j in jobs]):
        by_output.setdefault((r.job_id, r.position), []).append(r)
    entries = tuple(
        Entry(job=scrubbed(job), inputs=input_items(job),
              outputs=tuple(OutputItem(o, tuple(by_output.get((job.id, o.position), [])))
                            for o in job.outputs))
        for job in jobs)
    facts = facts_for(jobs, reviews)
    rankings = (rank(facts.votes, facts.reviews, facts.outputs, bootstrap=BOOTSTRAP, seed=SEED)
                if facts.votes or facts.reviews else None)
    return Report(entries=entries, rankings=rankings, votes=len(facts.votes),
                  reviews=len(facts.reviews), generated_at=clock())


def scrubbed(job: Job) -> Job:
    """The job as a report shows it: credentials masked in its remote id, parameters, note and
    error (desktop.core.redaction), as in a bundle."""
    error = job.error
    if error is not None:
        error = JobError(error.code, redact_text(error.message), error.provider_code)
    return job.evolve(remote_id=redact_text(job.remote_id) if job.remote_id else None,
                      note=redact_text(job.note), error=error, remote_data={},
                      spec=replace(job.spec, params=redact_mapping(job.spec.params)))


def input_items(job: Job) -> tuple[InputItem, ...]:
    """The job's inputs by role, named as the user gave them (a file's name, a URL with its
    credentials masked), never with the folders they were in."""
    items: list[InputItem] = []
    for role, shas in job.inputs.items():
        sources = job.spec.inputs.get(role, [])
        for i, sha in enumerate(shas):
            name = source_label(sources[i]) if i < len(sources) else f"{role} {i + 1}"
            items.append(InputItem(role, name, sha))
    return tuple(items)


def local_iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")
