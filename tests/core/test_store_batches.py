"""The batch store and imports (bundles) on both back-ends: what is written is read back as it
was, compare-and-swap claims hold, an import is all or nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from desktop.core.batches import Batch, BatchItem, BatchState, ItemState, Matrix, Variant
from desktop.core.model import Asset, Job, JobSpec, JobState, Output
from desktop.core.reviews import Review, Verdict, Vote, VoteOutcome
from desktop.core.store import History
from desktop.core.store.batches import BatchStore
from desktop.core.store.imports import AlreadyThere, add_imported, existing_votes
from desktop.core.store.reviews import ReviewStore

MATRIX = Matrix("tryon", ("fitinview", "tryonapi"), "person", ("p1.png", "p2.png"),
                (Variant("red", {"garment": ["g.png"]}),), {"output_size": "2K"},
                {"fitinview": {"mode": "fast"}})


def batch(batch_id: str, created: float, state: BatchState = BatchState.RUNNING) -> Batch:
    return Batch(batch_id, f"Shoot {batch_id}", "tryon", state, MATRIX, 12.5, created, created)


def items(n: int) -> list[BatchItem]:
    return [BatchItem(i, i // 2, i % 2, MATRIX.providers[i % 2],
                      JobSpec(MATRIX.providers[i % 2], "tryon", {"person": [f"p{i}.png"]},
                              {"output_size": "2K"}, deadline_s=90),
                      expected_credits=None if i % 2 else 2.5) for i in range(n)]


def test_batches_and_items_round_trip_and_list_newest_first(history_target: Path | str
                                                             ) -> None:
    history = History(history_target)
    store = BatchStore(history, clock=lambda: 1_700_000_100.25)
    store.create(batch("b1", 1_700_000_000.5), items(4))
    store.create(batch("b2", 1_700_000_050.75, BatchState.PAUSED), items(1))
    assert store.get("b1") == batch("b1", 1_700_000_000.5)
    assert store.items("b1") == items(4)
    assert [b.id for b in store.list()] == ["b2", "b1"]
    assert [b.id for b in store.list(states=[BatchState.PAUSED])] == ["b2"]
    store.set_state("b1", BatchState.FINISHED)
    read = store.get("b1")
    assert read is not None and read.state == BatchState.FINISHED
    assert read.updated_at == 1_700_000_100.25
    done = items(4)[2].evolve(state=ItemState.STARTED, job_id="job-2", attempts=1,
                              note="sent")
    store.update_item("b1", done)
    assert store.items("b1")[2] == done
    assert store.batch_of_job("job-2") == ("b1", 2) and store.batch_of_job("nope") is None
    assert store.state_of_job_batch("job-2") == BatchState.FINISHED
    assert store.state_of_job_batch("nope") is None
    store.delete("b1")
    assert store.get("b1") is None and store.items("b1") == []
    history.close()


def test_the_team_queue_of_a_batch_is_the_one_its_jobs_went_to(history_target: Path | str
                                                                 ) -> None:
    history = History(history_target)
    store = BatchStore(history)
    store.create(batch("b1", 1.0), items(3))
    assert store.team_queue("b1") is None  # no job made yet
    desk = Job("job-d", items(3)[0].spec, JobState.SUCCEEDED, 1.0, 1.0)
    team = Job("job-t", items(3)[1].spec, JobState.QUEUED, 2.0, 2.0, queue="studio")
    history.save_job(desk)
    history.save_job(team)
    store.update_item("b1", items(3)[0].evolve(state=ItemState.STARTED, job_id="job-d"))
    assert store.team_queue("b1") is None  # ran on a desk
    store.update_item("b1", items(3)[1].evolve(state=ItemState.STARTED, job_id="job-t"))
    assert store.team_queue("b1") == "studio"
    assert store.team_queue("nope") is None
    history.close()


def test_claiming_an_item_is_a_compare_and_swap(history_target: Path | str) -> None:
    """Eight threads (each with its own store) race for every item: each is won once."""
    history = History(history_target)
    BatchStore(history).create(batch("b1", 1.0), items(6))
    won: list[tuple[int, str]] = []
    lock = threading.Lock()

    def racer(name: str) -> None:
        store = BatchStore(history)
        for position in range(6):
            if store.claim_item("b1", position, f"{name}-{position}"):
                with lock:
                    won.append((position, name))

    threads = [threading.Thread(target=racer, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p for p, _ in won) == list(range(6))
    stored = BatchStore(history).items("b1")
    assert all(i.state == ItemState.STARTED and i.attempts == 1 for i in stored)
    assert {(i.position, i.job_id) for i in stored} == {(p, f"{n}-{p}") for p, n in won}
    history.close()


def job(job_id: str, sha: str, created: float) -> Job:
    return Job(job_id, JobSpec("fitinview", "tryon", {"person": ["a.png"]}),
               JobState.SUCCEEDED, created, created, inputs={"person": [sha]},
               outputs=(Output(0, sha, "image/png", 10, 4, 4, label="v1"),))


def test_an_import_is_written_whole_or_not_at_all(history_target: Path | str) -> None:
    history = History(history_target)
    reviews = ReviewStore(history)
    asset = Asset("a" * 64, "image/png", 10, 4, 4)
    jobs = [job("imp1", asset.sha256, 10.5), job("imp2", asset.sha256, 11.5)]
    review = Review("imp1", 0, "ana", Verdict.PASS, 4, ("Crisp",), "kept", 12.25, 13.25)
    vote = Vote("v1", "imp1", 0, "imp2", 0, VoteOutcome.LEFT, "ben", 14.5)
    add_imported(history, jobs, [asset], [review], [vote])
    assert [history.get(j.id) for j in jobs] == jobs
    assert reviews.all() == [review]  # its own times, not the import's
    [read] = reviews.votes()
    assert (read.id, read.outcome, read.created_at) == ("v1", VoteOutcome.LEFT, 14.5)
    assert existing_votes(history, ["v1", "v2"]) == {"v1"}
    # A second import naming a stored id writes nothing, not even its new job.
    with pytest.raises(AlreadyThere) as caught:
        add_imported(history, [job("imp3", asset.sha256, 20.0), jobs[0]], [asset])
    assert caught.value.job_id == "imp1"
    assert history.get("imp3") is None and history.count() == 2
    history.close()
