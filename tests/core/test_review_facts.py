"""The history's votes, reviews and outputs as the rankings' inputs."""

from __future__ import annotations

from pathlib import Path

from desktop.core.rankings import rank
from desktop.core.review_facts import gather, item_key
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore
from tests.core.test_reviews import stored_job


def test_gather_turns_the_history_into_ranking_inputs(history_target: Path | str) -> None:
    history = History(history_target)
    store = ReviewStore(history)
    stored_job(history, "f1", "fitinview", outputs=2)
    stored_job(history, "t1", "tryonapi", outputs=1)
    stored_job(history, "v1", "vistoure", task="upscale", outputs=1)
    history.save_job(history.get("f1").evolve(cost_credits=8.0, started_at=0.0,  # type: ignore[union-attr]
                                               finished_at=12.0))
    store.save(Review("f1", 1, "ana", Verdict.PASS, 5, ("artifacts",)))
    store.save(Review("f1", 1, "ben", Verdict.FAIL, 2))
    store.save(Review("t1", 0, "ana", Verdict.FAIL, 1))
    for _ in range(3):
        store.vote(("f1", 0), ("t1", 0), "left", "ana")
    store.vote(("f1", 1), ("t1", 0), "bad", "ben")

    facts = gather(history, store)
    assert facts.jobs == 3 and len(facts.votes) == 4
    assert {(v.left, v.right, v.outcome) for v in facts.votes} == {
        ("fitinview", "tryonapi", "left"), ("fitinview", "tryonapi", "bad")}
    f1_reviews = [r for r in facts.reviews if r.item == item_key("f1", 1)]
    assert {(r.reviewer, r.verdict) for r in f1_reviews} == {("ana", "pass"), ("ben", "fail")}
    f1_outputs = [o for o in facts.outputs if o.item.startswith("f1:")]
    assert [o.credits for o in f1_outputs] == [4.0, 4.0]  # the job's cost split per output
    assert f1_outputs[0].duration_s == 12.0

    only_tryon = gather(history, store, JobFilter(task="tryon"),
                        providers=("fitinview", "vistoure"))
    assert only_tryon.jobs == 1 and only_tryon.votes == []  # tryonapi left out
    rankings = rank(facts.votes, facts.reviews, facts.outputs, bootstrap=50)
    assert rankings.providers[0].provider == "fitinview"
