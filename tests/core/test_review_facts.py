"""The history's votes, reviews and results as the rankings' inputs, within a scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.model import Asset, Job, JobSpec, JobState, Output
from desktop.core.rankings import OutputFact, ReviewFact, Vote
from desktop.core.review_facts import Scope, gather, item_key, output_facts
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore


def job(job_id: str, provider: str, *, outputs: int = 1, credits: float | None = 6.0,
        state: JobState = JobState.SUCCEEDED, task: str = "tryon",
        created: float = 1000.0) -> tuple[Job, list[Asset]]:
    assets = [Asset(f"{job_id}{i}".ljust(64, "0")[:64], "image/png", 10, 4, 4)
              for i in range(outputs)]
    made = Job(job_id, JobSpec(provider, task), state, created, created + 40,
               started_at=created + 5, submitted_at=created + 10, finished_at=created + 40,
               cost_credits=credits,
               outputs=tuple(Output(i, a.sha256, "image/png", 10, 4, 4)
                             for i, a in enumerate(assets)))
    return made, assets


def test_output_facts_split_credits_time_from_the_submit_and_skip_unfinished_jobs() -> None:
    two, _ = job("two", "fitinview", outputs=2, credits=6.0)
    free, _ = job("free", "local", credits=None)
    failed, _ = job("failed", "fitinview", outputs=0, state=JobState.FAILED)
    facts = output_facts([two, free, failed])
    assert facts == [
        OutputFact("fitinview", "tryon", "two#0", 30.0, 3.0),
        OutputFact("fitinview", "tryon", "two#1", 30.0, 3.0),
        OutputFact("local", "tryon", "free#0", 30.0, None),
    ]


def test_gather_takes_the_scope_and_votes_with_both_jobs_in_it(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    store = ReviewStore(history, clock=iter(range(100, 200)).__next__)
    for made, assets in (job("f1", "fitinview"), job("t1", "tryonapi"),
                         job("v1", "vtryon"), job("old", "fitinview", created=10.0),
                         job("up", "local", task="upscale")):
        history.save_job(made, assets=assets)
    store.vote(("f1", 0), ("t1", 0), "left", "ana")
    store.vote(("f1", 0), ("v1", 0), "tie", "ana")
    store.vote(("old", 0), ("t1", 0), "bad", "ana")
    store.save(Review("t1", 0, "ben", Verdict.FAIL, 2, ("garment wrong",)))
    store.save(Review("f1", 0, "ana", Verdict.PASS, 5))
    store.save(Review("up", 0, "ana", None, 4))

    everything = gather(history, store)
    assert everything.votes == [Vote("fitinview", "tryonapi", "left"),
                                Vote("fitinview", "vtryon", "tie"),
                                Vote("fitinview", "tryonapi", "bad")]
    assert everything.reviews == [  # in the order they were given
        ReviewFact("tryonapi", "tryon", "fail", 2, ("garment wrong",), "ben", "t1#0"),
        ReviewFact("fitinview", "tryon", "pass", 5, (), "ana", "f1#0"),
        ReviewFact("local", "upscale", None, 4, (), "ana", "up#0"),
    ]
    assert len(everything.outputs) == 5

    two = gather(history, store, Scope(providers=("fitinview", "tryonapi")))
    assert two.votes == [Vote("fitinview", "tryonapi", "left"),
                         Vote("fitinview", "tryonapi", "bad")]
    assert {r.provider for r in two.reviews} == {"fitinview", "tryonapi"}
    recent = gather(history, store, Scope(since=500.0))
    assert recent.votes == [Vote("fitinview", "tryonapi", "left"),
                            Vote("fitinview", "vtryon", "tie")]  # "old" is out of scope
    assert gather(history, store, Scope(task="upscale")).votes == []
    assert gather(history, store, Scope(task="nothing")).empty
    assert item_key("f1", 0) == "f1#0"


@pytest.mark.parametrize("providers", [("fitinview",), ()])
def test_a_vote_needs_both_jobs_in_scope(tmp_path: Path, providers: tuple[str, ...]) -> None:
    history = History(tmp_path / "h.sqlite3")
    store = ReviewStore(history)
    for made, assets in (job("f1", "fitinview"), job("t1", "tryonapi")):
        history.save_job(made, assets=assets)
    store.vote(("f1", 0), ("t1", 0), "right", "ana")
    got = gather(history, store, Scope(providers=providers)).votes
    assert got == ([] if providers else [Vote("fitinview", "tryonapi", "right")])
