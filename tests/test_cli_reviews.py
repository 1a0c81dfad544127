"""restyle-cli review, vote, the review filters of `jobs`, and reviews in `show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.core.reviews import Verdict, VoteOutcome
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore
from tests.test_cli import make_image, run_cli
from tests.test_cli_batches import write_settings


def local_job(capsys: pytest.CaptureFixture[str], src: Path, task: str = "upscale",
              *params: str) -> dict[str, Any]:
    argv = ["run", "--provider", "local", "--task", task, "--image", str(src), "--json"]
    for p in params:
        argv += ["--param", p]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def reviews_in(home: Path) -> ReviewStore:
    return ReviewStore(History(home / "data" / "history.sqlite3"))


def test_review_saves_checks_and_updates(home: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    write_settings(home, {"review": {"reviewer": "ana",
                                     "tags": {"other": ["halo", "banding"]}}})
    src = make_image(tmp_path / "p.png")
    job = local_job(capsys, src)
    code, out, err = run_cli(capsys, "review", job["id"][:8], "--fail", "--stars", "2",
                             "--tag", "Halo", "--tag", "banding", "--note", "edges glow",
                             "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {k: data[k] for k in ("job_id", "output", "reviewer", "verdict", "stars", "tags",
                                 "note")} == {
        "job_id": job["id"], "output": 1, "reviewer": "ana", "verdict": "fail", "stars": 2,
        "tags": ["halo", "banding"], "note": "edges glow"}
    [stored] = reviews_in(home).for_jobs([job["id"]])
    assert (stored.position, stored.reviewer, stored.verdict, stored.tags) == (
        0, "ana", Verdict.FAIL, ("halo", "banding"))

    code, out, _ = run_cli(capsys, "review", job["id"], "--pass", "--stars", "4")
    assert code == 0 and out.startswith("Review updated: ") and "pass, 4 stars" in out
    code, out, _ = run_cli(capsys, "review", job["id"], "--pass", "--reviewer", "ben")
    assert code == 0 and out.startswith("Review saved: ")
    assert sorted((r.reviewer, r.verdict, r.stars) for r in reviews_in(home).for_jobs(
        [job["id"]])) == [("ana", Verdict.PASS, 4), ("ben", Verdict.PASS, None)]

    refusals = [
        (["--pass", "--tag", "artifacts"], "is not a defect tag for upscale jobs. Use one of: "
                                           "halo, banding"),
        (["--pass", "--output", "2"], "has 1 output; --output 2 is not one of them"),
        (["--pass", "--stars", "6"], "stars go from 1 to 5"),
        (["--pass", "--fail"], "not allowed with argument"),
        ([], "one of the arguments --pass --fail is required"),
        (["--pass", "--reviewer", " "], "--reviewer needs a name"),
    ]
    for argv, needle in refusals:
        code, _, err = run_cli(capsys, "review", job["id"], *argv)
        assert code == 2, (argv, err)
        assert needle in err, (needle, err)
    code, _, err = run_cli(capsys, "review", "ffffffff", "--pass")
    assert code == 2 and "No job" in err
    assert len(reviews_in(home).for_jobs([job["id"]])) == 2  # nothing more was stored


def test_show_prints_the_reviews(home: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = make_image(tmp_path / "p.png")
    job = local_job(capsys, src)
    run_cli(capsys, "review", job["id"], "--fail", "--stars", "1", "--tag", "artifacts",
            "--note", "blocky", "--reviewer", "ana")
    code, out, _ = run_cli(capsys, "show", job["id"][:8])
    assert code == 0
    assert '  review:     output 1 by ana: fail, 1 star [artifacts] "blocky"' in out
    code, out, _ = run_cli(capsys, "show", job["id"][:8], "--json")
    data = json.loads(out)
    assert data["id"] == job["id"] and data["batch"] is None
    assert [(r["reviewer"], r["verdict"], r["output"]) for r in data["reviews"]] == [
        ("ana", "fail", 1)]


def test_vote_checks_both_jobs_and_warns_on_different_inputs(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_image(tmp_path / "a.png")
    b = make_image(tmp_path / "b.png", color=(200, 40, 40))
    up2 = local_job(capsys, a, "upscale", "factor=2")
    up4 = local_job(capsys, a, "upscale", "factor=4")
    other = local_job(capsys, b, "upscale")
    framed = local_job(capsys, a, "reframe")
    code, out, err = run_cli(capsys, "vote", up2["id"][:8], up4["id"][:8], "right",
                             "--reviewer", "ana", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["outcome"], data["reviewer"], data["task"], data["inputs_differ"]) == (
        "right", "ana", "upscale", False)
    assert data["left"] == {"job_id": up2["id"], "output": 1, "provider": "local"}
    assert "different inputs" not in err
    code, out, err = run_cli(capsys, "vote", up2["id"], other["id"], "tie",
                             "--reviewer", "ana")
    assert code == 0 and "Vote saved" in out and "different inputs" in err
    votes = reviews_in(home).votes()
    assert [(v.left_job, v.right_job, v.outcome) for v in votes] == [
        (up2["id"], up4["id"], VoteOutcome.RIGHT), (up2["id"], other["id"], VoteOutcome.TIE)]
    for argv, needle in [
        ([up2["id"], framed["id"], "left"], "same task"),
        ([up2["id"], up2["id"], "left"], "two different outputs"),
        ([up2["id"], up4["id"], "left", "--right-output", "3"], "--right-output 3"),
        ([up2["id"], "ffffffff", "left"], "No job"),
        ([up2["id"], up4["id"], "better"], "invalid choice"),
    ]:
        code, _, err = run_cli(capsys, "vote", *argv)
        assert code == 2, (argv, err)
        assert needle in err, (needle, err)
    assert len(reviews_in(home).votes()) == 2


def test_a_job_without_outputs_cannot_be_reviewed(home: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState

    history = History(home / "data" / "history.sqlite3")
    now = time.time()
    history.save_job(Job("failedjob001", JobSpec("local", "upscale"), JobState.FAILED, now, now,
                         error=JobError(ErrorCode.JOB_FAILED, "It broke.")))
    history.close()
    code, _, err = run_cli(capsys, "review", "failedjob001", "--pass")
    assert code == 2 and "has no outputs (failed)" in err


def test_jobs_filters_on_reviews_and_batches(home: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    src = make_image(tmp_path / "p.png")
    good = local_job(capsys, src, "upscale", "factor=2")
    bad = local_job(capsys, src, "upscale", "factor=4")
    plain = local_job(capsys, src, "reframe")
    run_cli(capsys, "review", good["id"], "--pass", "--reviewer", "ana")
    run_cli(capsys, "review", bad["id"], "--fail", "--tag", "artifacts", "--reviewer", "ben")
    code, out, err = run_cli(capsys, "batch", "--provider", "local", "--task", "upscale",
                             "--image", str(src), "--yes", "--json")
    assert code == 0, err
    batch = json.loads(out)

    def ids(*argv: str) -> set[str]:
        code, out, err = run_cli(capsys, "jobs", *argv, "--json")
        assert code == 0, err
        return {j["id"] for j in json.loads(out)}

    batch_jobs = {i["job_id"] for i in batch["items"]}
    assert ids("--verdict", "pass") == {good["id"]}
    assert ids("--verdict", "fail") == {bad["id"]}
    assert ids("--verdict", "reviewed") == {good["id"], bad["id"]}
    assert ids("--verdict", "unreviewed") == {plain["id"], *batch_jobs}
    assert ids("--tag", "artifacts") == {bad["id"]}
    assert ids("--reviewer", "ana") == {good["id"]}
    assert ids("--verdict", "fail", "--reviewer", "ana") == set()
    assert ids("--batch", batch["id"][:6]) == batch_jobs
    code, out, _ = run_cli(capsys, "jobs", "--tag", "nothing-like-it")
    assert code == 0 and "No jobs match." in out
    code, _, err = run_cli(capsys, "jobs", "--batch", "ffffffff")
    assert code == 2 and "No batch" in err
    code, _, err = run_cli(capsys, "jobs", "--verdict", "great")
    assert code == 2
