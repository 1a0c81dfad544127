"""Provider tools' plain parts: the sentences that say what an analysis, a compatibility check
and a variations' cost mean, and which remote jobs the history already knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.core.provider_tools import (
    BaseTask,
    Compatibility,
    FurnitureAnalysis,
    RemoteJobSummary,
    analysis_words,
    compatibility_words,
    photos_sentence,
)
from desktop.core.provider_tools.imports import (
    imported_job,
    imported_job_id,
    is_imported,
    known_jobs,
)
from desktop.core.provider_tools.remote_jobs import parse_time
from desktop.core.store import History


def analysis(share: float | None, status: str = "done") -> FurnitureAnalysis:
    return FurnitureAnalysis("ana_1", status, "https://x/mask.png", share, None)


@pytest.mark.parametrize(("share", "words"), [
    (0.0, "Almost no furniture found (0 % of the photo)"),
    (0.4, "Almost no furniture found (under 1 % of the photo)"),
    (4.9, "Almost no furniture found (5 % of the photo)"),
    (5.0, "Some furniture found (5 % of the photo)"),
    (24.9, "Some furniture found (25 % of the photo)"),
    (25.0, "Much of the room is furnished (25 % of the photo)"),
    (37.5, "Much of the room is furnished (38 % of the photo)"),
])
def test_analysis_words_follow_the_share_of_furniture(share: float, words: str) -> None:
    said = analysis_words(analysis(share), "Virtual Staging AI")
    assert said.startswith(words)
    assert ("Remove furniture first" in said) == (share >= 5.0)


def test_analysis_words_for_an_unfinished_or_silent_analysis() -> None:
    assert analysis_words(analysis(40.0, "processing"), "Virtual Staging AI") == (
        "Virtual Staging AI has not finished the analysis yet (it says “processing”); try "
        "again in a moment.")
    assert "did not say how much" in analysis_words(analysis(None))


def test_compatibility_words_have_three_verdicts() -> None:
    yes = compatibility_words(Compatibility(True, False, None), "VSAI")
    maybe = compatibility_words(Compatibility(False, False, "Different lighting."), "VSAI")
    no = compatibility_words(Compatibility(False, True, "Not the same room"), "VSAI")
    assert yes == "Yes: these two photos can be staged together, with matching furniture."
    assert maybe == ("Possible, but the result may not be as good. VSAI says: Different "
                     "lighting. Photos of the same room from nearby angles work best.")
    assert no == "No: these two photos cannot be staged together. VSAI says: Not the same room."
    assert compatibility_words(Compatibility(False, True, None)) == (
        "No: these two photos cannot be staged together.")


def test_photos_sentence_counts_the_right_kind_of_photo() -> None:
    limits = {"staging": {"limit": 100, "used": 7}, "imageEditing": {"limit": 10, "used": 9}}
    assert photos_sentence(2, "staging", limits, "VSAI") == (
        "2 new variations: each counts as one staging photo of your VSAI plan (93 of 100 left "
        "this period; 91 after this).")
    assert photos_sentence(1, "removal", limits, "VSAI").endswith("(93 of 100 left this "
                                                                  "period; 92 after this).")
    assert photos_sentence(3, "day-to-dusk", limits, "VSAI") == (
        "3 new variations: each counts as one image-editing photo of your VSAI plan, but only "
        "1 of 10 are left this period: the service will refuse it.")
    assert photos_sentence(1, "enhancement", {"photos": {"limit": 5, "used": 1}}, "VSAI") == (
        "1 new variation: it counts as one image-editing photo of your VSAI plan (4 of 5 left "
        "this period; 3 after this).")
    assert photos_sentence(2, "staging", {}, "VSAI") == (
        "2 new variations: each counts as one staging photo of your VSAI plan.")


def test_a_base_task_is_usable_only_completed_with_a_picture() -> None:
    assert BaseTask(936, 901, "completed", "https://x/a.png").usable
    assert not BaseTask(936, 901, "completed", None).usable
    assert not BaseTask(936, 901, "processing", "https://x/a.png").usable
    assert BaseTask(936, None, "failed").status_words() == "Failed: nothing to recolour"


def test_parse_time_reads_iso_times_as_utc() -> None:
    assert parse_time("1970-01-01T00:01:00Z") == 60.0
    assert parse_time("1970-01-01T00:01:00") == 60.0
    assert parse_time("1970-01-01T01:01:00+01:00") == 60.0
    assert parse_time("yesterday") is None and parse_time(None) is None


def _job(job_id: str, provider: str, remote_id: str | None, state: JobState = JobState.SUCCEEDED,
         error: JobError | None = None) -> Job:
    return Job(job_id, JobSpec(provider, "tryon"), state, 1.0, 1.0, remote_id=remote_id,
               error=error)


def test_known_jobs_match_by_remote_id_or_by_the_local_id_in_metadata(tmp_path: Path) -> None:
    history = History(tmp_path / "h.db")
    try:
        history.save_job(_job("a" * 32, "fitinview", "job_known"))
        # A submit whose answer was lost: no remote id, but the service has the job with our
        # id in its metadata; resume finds it there, an import must not make a second record.
        history.save_job(_job("b" * 32, "fitinview", None, JobState.NEEDS_ATTENTION,
                              JobError(ErrorCode.UNKNOWN_OUTCOME, "lost")))
        history.save_job(_job("c" * 32, "tryonapi", "job_other_provider"))
        remotes = [
            RemoteJobSummary("job_known", "succeeded"),
            RemoteJobSummary("job_lost_answer", "succeeded", local_job_id="b" * 32),
            RemoteJobSummary("job_other_provider", "succeeded"),
            RemoteJobSummary("job_new", "succeeded", local_job_id="f" * 32),
            RemoteJobSummary("job_new_too", "running"),
        ]
        assert known_jobs(history, "fitinview", remotes) == {
            "job_known": "a" * 32, "job_lost_answer": "b" * 32}
        many = [RemoteJobSummary(f"job_{i}", "succeeded") for i in range(1000)]
        history.save_job(_job("d" * 32, "fitinview", "job_999"))
        assert known_jobs(history, "fitinview", many) == {"job_999": "d" * 32}
    finally:
        history.close()


def test_an_imported_job_is_marked_and_its_id_is_the_same_everywhere() -> None:
    remote = RemoteJobSummary("job_abc", "succeeded", cost_credits=12.0,
                              created_at="2024-05-05T12:00:00Z", params={"seed": 7})
    job = imported_job("fitinview", "FitInView", "tryon", remote, now=2_000_000_000.0)
    assert job.id == imported_job_id("fitinview", "job_abc") != imported_job_id(
        "fitinview", "job_abd")
    assert job.state == JobState.RUNNING and job.remote_id == "job_abc"
    assert job.created_at == parse_time("2024-05-05T12:00:00Z") and job.updated_at == 2e9
    assert job.started_at == 2e9  # its duration counts from the import, not from last week
    assert job.cost_credits == 12.0 and job.spec.params == {"seed": 7}
    assert job.spec.inputs == {} and is_imported(job)
    assert job.note == "Imported from FitInView's job list."
