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


def paid_job(history: History, job_id: str, provider: str, credits: float, *,
             task: str = "tryon", when: float | None = None) -> None:
    """A finished try-on job with one output, as a paid provider would leave it."""
    import time

    from desktop.core.model import Asset, Job, JobSpec, JobState, Output

    now = when or time.time()
    asset = Asset(job_id.ljust(64, "0")[:64], "image/png", 10, 4, 4)
    history.save_job(Job(job_id, JobSpec(provider, task), JobState.SUCCEEDED, now, now,
                         started_at=now - 30, submitted_at=now - 20, finished_at=now,
                         cost_credits=credits, remote_id=f"r-{job_id}",
                         outputs=(Output(0, asset.sha256, "image/png", 10, 4, 4),)),
                     assets=[asset])


def test_rankings_from_votes_and_reviews(home: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    history = History(home / "data" / "history.sqlite3")
    for i in range(6):
        paid_job(history, f"fiv{i:03d}", "fitinview", 8.0)
        paid_job(history, f"toa{i:03d}", "tryonapi", 4.0)
    history.close()
    for i, outcome in enumerate(["left"] * 4 + ["tie", "right"]):
        code, _, err = run_cli(capsys, "vote", f"fiv{i:03d}", f"toa{i:03d}", outcome,
                               "--reviewer", "ana")
        assert code == 0, err
    for reviewer in ("ana", "ben"):
        for i in range(6):
            run_cli(capsys, "review", f"fiv{i:03d}", "--pass", "--stars", "5",
                    "--reviewer", reviewer)
            bad = i < 3 or (reviewer == "ben" and i == 3)
            argv = ["--fail", "--tag", "garment wrong"] if bad else ["--pass"]
            code, _, err = run_cli(capsys, "review", f"toa{i:03d}", *argv, "--stars", "3",
                                   "--reviewer", reviewer)
            assert code == 0, err

    code, out, err = run_cli(capsys, "rankings", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["jobs"], data["votes"], data["reviews"]) == (12, 6, 24)
    fiv, toa = data["providers"]
    assert (fiv["provider"], toa["provider"]) == ("fitinview", "tryonapi")
    assert (fiv["wins"], fiv["losses"], fiv["ties"], fiv["votes"]) == (4, 1, 1, 6)
    assert (toa["wins"], toa["votes"]) == (1, 6)
    low, high = fiv["strength_ci"]
    assert low <= fiv["strength"] <= high and fiv["strength"] > toa["strength"]
    assert fiv["review"]["pass_rate"] == 1.0 and fiv["review"]["mean_stars"] == 5.0
    assert toa["review"]["pass_rate"] == pytest.approx(2.5 / 6)  # output 3: one of two passed
    assert toa["review"]["top_defects"] == [{"tag": "garment wrong", "count": 7}]
    assert fiv["review"]["credits_per_passed_output"] == 8.0
    assert toa["review"]["credits_per_passed_output"] == pytest.approx(24 / 2.5)
    assert fiv["review"]["median_duration_s"] == pytest.approx(30.0)
    agreement = data["agreement"]
    assert (agreement["method"], agreement["items"], agreement["reviewers"]) == (
        "cohen", 12, 2)
    assert data["scope"] == {"providers": [], "task": None, "batch": None, "since": None}

    code, out, _ = run_cli(capsys, "rankings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Rankings from 6 votes and 24 reviews (intervals: 95 %)."
    assert lines[2].split()[0] == "fitinview" and lines[3].split()[0] == "tryonapi"
    assert "garment wrong (7)" in lines[3]
    assert "Agreement: Cohen's kappa" in out

    # Narrowed: a vote counts only when both its jobs are in scope.
    code, out, _ = run_cli(capsys, "rankings", "--provider", "fitinview", "--json")
    data = json.loads(out)
    assert [p["provider"] for p in data["providers"]] == ["fitinview"]
    assert data["votes"] == 0 and data["reviews"] == 12
    code, out, _ = run_cli(capsys, "rankings", "--task", "upscale", "--json")
    assert json.loads(out)["providers"] == []
    code, out, _ = run_cli(capsys, "rankings", "--task", "upscale")
    assert code == 0 and "Nothing to rank yet" in out
    code, out, _ = run_cli(capsys, "rankings", "--since", "2999-01-01", "--json")
    assert json.loads(out)["votes"] == 0
    code, out, _ = run_cli(capsys, "rankings", "--since", "1999-01-01", "--json")
    assert json.loads(out)["votes"] == 6
    code, _, err = run_cli(capsys, "rankings", "--since", "last tuesday")
    assert code == 2 and "is not a date" in err


def test_rankings_of_one_batch(home: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    history = History(home / "data" / "history.sqlite3")
    paid_job(history, "fiv000", "fitinview", 8.0, task="upscale")
    history.close()
    run_cli(capsys, "review", "fiv000", "--fail", "--reviewer", "ana")
    src = make_image(tmp_path / "p.png")
    code, out, err = run_cli(capsys, "batch", "--provider", "local", "--task", "upscale",
                             "--image", str(src), "--param", "factor=2,4", "--yes", "--json")
    assert code == 0, err
    batch = json.loads(out)
    for item in batch["items"]:
        run_cli(capsys, "review", item["job_id"], "--pass", "--reviewer", "ana")
    code, out, _ = run_cli(capsys, "rankings", "--batch", batch["id"][:8], "--json")
    data = json.loads(out)
    assert data["scope"]["batch"] == batch["id"]
    [local] = data["providers"]
    assert local["provider"] == "local" and local["review"]["outputs_reviewed"] == 2
    code, out, _ = run_cli(capsys, "rankings", "--json")
    assert {p["provider"] for p in json.loads(out)["providers"]} == {"local", "fitinview"}
