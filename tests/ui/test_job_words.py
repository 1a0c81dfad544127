"""The window's sentences about waiting, running-elsewhere and abandoned jobs."""

from __future__ import annotations

from desktop.core.engine import ResumeReport
from desktop.core.engine.ledger import Owner
from desktop.core.model import ErrorCode, Job, JobError, JobSpec, JobState
from desktop.ui.job_words import (
    abandon_question,
    may_have_charged,
    plain,
    resume_summary,
    short_sentence,
)


def job(job_id: str, state: JobState, **fields: object) -> Job:
    return Job(id=job_id, spec=JobSpec("fitinview", "tryon"), state=state, created_at=1.0,
               updated_at=2.0, **fields)  # type: ignore[arg-type]


def test_the_start_up_line_says_what_happened_to_each_unfinished_job() -> None:
    cli = "restyle-cli run (process 4242 on studio)"
    report = ResumeReport(
        resumed=[job("a", JobState.RUNNING), job("b", JobState.RUNNING)],
        left_alone=[(job("c", JobState.RUNNING), cli)],
        waiting=[job(x, JobState.NEEDS_ATTENTION) for x in "def"],
    )
    assert resume_summary(report) == (
        "Resumed 2 jobs. 1 job is being worked on by restyle-cli run (process 4242 on studio),"
        " left alone. 3 jobs need your attention.")
    assert resume_summary(ResumeReport()) == ""
    two = ResumeReport(left_alone=[(job("c", JobState.RUNNING), cli),
                                   (job("d", JobState.RUNNING), cli)],
                       waiting=[job("e", JobState.NEEDS_ATTENTION)],
                       closed=[job("f", JobState.CANCELLED)])
    assert resume_summary(two) == (
        f"2 jobs are being worked on by {cli}, left alone. 1 job needs your attention. 1 job "
        "that never reached the provider was closed; nothing was charged.")
    assert Owner("studio", 4242, "x", "restyle-cli run").describe() == cli


def test_sentences_lose_the_command_lines_asides_and_rows_take_the_first() -> None:
    text = ("Checking this job at FitInView failed: No API key for FitInView. Add one in "
            "Settings or with `restyle-cli keys set --provider fitinview`. FitInView has "
            "accepted the job, so it may be charged. Restyle keeps it: once this is fixed, "
            "Retry (or `restyle-cli resume`) collects the result.")
    assert plain(text) == (
        "Checking this job at FitInView failed: No API key for FitInView. Add one in Settings."
        " FitInView has accepted the job, so it may be charged. Restyle keeps it: once this is"
        " fixed, Retry collects the result.")
    assert short_sentence(text) == ("Checking this job at FitInView failed: No API key for "
                                    "FitInView.")
    assert short_sentence("One sentence only") == "One sentence only"


def test_may_have_charged_only_when_it_did_not_succeed_at_a_paid_provider() -> None:
    accepted = {"remote_id": "r1"}
    assert may_have_charged(job("a", JobState.NEEDS_ATTENTION, **accepted), free=False)
    assert may_have_charged(job("a", JobState.CANCELLED, **accepted), free=False)
    assert not may_have_charged(job("a", JobState.CANCELLED, **accepted), free=True)
    assert not may_have_charged(job("a", JobState.SUCCEEDED, **accepted), free=False)
    assert not may_have_charged(job("a", JobState.RUNNING, **accepted), free=False)
    assert not may_have_charged(job("a", JobState.FAILED), free=False)  # never sent
    lost = JobError(ErrorCode.UNKNOWN_OUTCOME, "It did not answer.")
    assert may_have_charged(job("a", JobState.NEEDS_ATTENTION, error=lost), free=False)


def test_the_abandon_question_is_plain_and_honest() -> None:
    accepted = job("a", JobState.NEEDS_ATTENTION, remote_id="r1")
    heading, text, details, button = abandon_question(accepted, "FitInView",
                                                      supports_cancel=False)
    assert (heading, button) == ("Abandon job?", "Abandon")
    assert text == ("FitInView has accepted this job, so it may be charged even if you abandon"
                    " it.")
    assert details == ("FitInView cannot cancel jobs, so it may still finish there. Restyle "
                       "will stop checking it and will not download its result.")
    running = job("b", JobState.RUNNING, remote_id="r2")
    heading, text, details, button = abandon_question(running, "VistoureAI",
                                                      supports_cancel=True)
    assert (heading, button) == ("Cancel job?", "Cancel job")
    assert "even if you cancel it" in text and "ask VistoureAI to cancel it" in details
    _h, text, details, button = abandon_question(running, "FitInView", supports_cancel=True,
                                                 holder_text="restyle-cli run (process 1 on x)")
    assert text.startswith("restyle-cli run (process 1 on x) is working on this job.")
    assert button == "Ask to cancel"
