"""The window's sentences about jobs that wait for the user or run elsewhere: the short and
full forms of the engine's sentence, who is working on a job, whether it may have been
charged, what to do next, and what start-up did with the unfinished jobs.

Plain functions over core data (no Qt), shared by the queue, the history, the result panel and
the attention controller, so each says the same thing in the same words.
"""

from __future__ import annotations

import re
from collections import Counter

from desktop.core.engine import ResumeReport
from desktop.core.engine.ledger import describe_owner
from desktop.core.engine.outcomes import RETRY_HINT
from desktop.core.model import ErrorCode, Job, JobState

#: The engine names the command-line way to collect a job too; the window has a Retry button.
_WINDOW_RETRY = "Retry"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"'])")


#: Asides for terminal users in shared sentences: "(or `restyle-cli resume`)", "… or with
#: `restyle-cli keys set --provider x`". The window has buttons for both.
_CLI_ASIDES = re.compile(r"\s*\(or `restyle-cli[^`]*`\)|\s+or with `restyle-cli[^`]*`")


def plain(message: str) -> str:
    """A shared sentence as the window shows it: "Retry" and "Settings", without the command
    line's ways of doing the same."""
    return _CLI_ASIDES.sub("", message.replace(RETRY_HINT, _WINDOW_RETRY))


def short_sentence(message: str) -> str:
    """The first sentence of a message, for a list row (the whole one is in the tooltip and
    the detail area)."""
    text = plain(message).strip()
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    return first or text


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 job', '3 jobs'."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def holder(job: Job, own_owner: str | None) -> str:
    """Who else works on an unfinished job ("restyle-cli run (process 4242 on studio)"), or ""
    when nobody else does (this window, or nobody: finished, waiting for the user)."""
    if job.state.terminal or job.state == JobState.NEEDS_ATTENTION or job.owner is None:
        return ""
    if own_owner is not None and job.owner == own_owner:
        return ""
    return describe_owner(job.owner)


def running_in(holder_text: str) -> str:
    return f"Running in {holder_text}"


def asked_to_cancel(holder_text: str) -> str:
    return f"Asked {holder_text} to cancel it."


def charge_line(provider_title: str) -> str:
    return f"{provider_title} may have charged for this job."


def may_have_charged(job: Job, free: bool) -> bool:
    """Whether to tell the user a job that did not succeed may have cost money: the provider
    may have accepted it, and it is not a free (offline) provider. A job still on its way is
    not said to have failed to succeed."""
    if free or not job.may_be_charged or job.state == JobState.SUCCEEDED:
        return False
    return job.state.terminal or job.state == JobState.NEEDS_ATTENTION


def can_retry(job: Job, can_look_up: bool) -> bool:
    """Whether Retry can do anything for a job that needs attention: not for a submit whose
    answer never came at a provider that offers no way to look a job up."""
    if job.state != JobState.NEEDS_ATTENTION:
        return False
    unknown = job.error is not None and job.error.code == ErrorCode.UNKNOWN_OUTCOME
    return bool(job.remote_id) or not unknown or can_look_up


def attention_advice(job: Job, provider_title: str, can_look_up: bool) -> str:
    """What the user can do about a job that needs attention, in one or two sentences."""
    code = job.error.code if job.error is not None else None
    title = provider_title
    if code in (ErrorCode.MISSING_KEY, ErrorCode.AUTH_FAILED):
        return f"Set a working {title} key in its settings, then press Retry to collect the job."
    if code == ErrorCode.INSUFFICIENT_CREDITS:
        return f"Top up your {title} credits, then press Retry to collect the job."
    if code in (ErrorCode.NOT_CONFIGURED, ErrorCode.FORBIDDEN):
        return f"Finish setting up {title} in its settings, then press Retry to collect the job."
    if code == ErrorCode.UNKNOWN_OUTCOME and not job.remote_id:
        if can_look_up:
            return (f"Press Retry: Restyle looks for the job at {title} and collects it if it "
                    "is there.")
        return (f"{title} cannot be asked about this job: check your {title} account, then "
                "abandon this entry.")
    return ("Press Retry once the problem is fixed to collect the job; abandon it if you no "
            "longer need it.")


def abandon_question(job: Job, provider_title: str, *, supports_cancel: bool,
                     holder_text: str = "") -> tuple[str, str, str, str]:
    """The confirmation before giving up a job the provider may charge for: (title, text,
    details, the button that gives it up). The other button is always "Keep"."""
    title = provider_title
    if holder_text:
        return ("Cancel job?",
                f"{holder_text} is working on this job. {title} may charge for it even if it "
                "is cancelled.",
                "Restyle will ask that program to cancel it.",
                "Ask to cancel")
    if job.state == JobState.NEEDS_ATTENTION:
        verb, heading, button = "abandon", "Abandon job?", "Abandon"
    else:
        verb, heading, button = "cancel", "Cancel job?", "Cancel job"
    if job.remote_id:
        text = f"{title} has accepted this job, so it may be charged even if you {verb} it."
        if supports_cancel:
            details = (f"Restyle will ask {title} to cancel it, stop checking it and not "
                       "download its result.")
        else:
            details = (f"{title} cannot cancel jobs, so it may still finish there. Restyle will "
                       "stop checking it and will not download its result.")
    elif job.state == JobState.NEEDS_ATTENTION:
        text = (f"{title} may have received this job, so it may be charged even if you "
                f"{verb} it.")
        details = (f"Restyle will stop looking for it. Your {title} account shows whether it "
                   "was charged.")
    else:
        text = (f"This job is being sent to {title} right now, so it may be charged even if you "
                f"{verb} it.")
        details = (f"Restyle waits a few seconds for {title}'s answer and then stops following "
                   "the job.")
    return heading, text, details, button


def resume_summary(report: ResumeReport) -> str:
    """What start-up (or picking up jobs a stopped Restyle left) did, for the status bar:
    "Resumed 2 jobs. 1 job is being worked on by restyle-cli run (process 4242 on studio),
    left alone. 3 jobs need your attention." Empty when there was nothing to do."""
    parts: list[str] = []
    if report.resumed:
        parts.append(f"Resumed {plural(len(report.resumed), 'job')}.")
    by_holder = Counter(text for _job, text in report.left_alone)
    for text, count in by_holder.items():
        verb = "is" if count == 1 else "are"
        parts.append(f"{plural(count, 'job')} {verb} being worked on by {text}, left alone.")
    if report.waiting:
        verb = "needs" if len(report.waiting) == 1 else "need"
        parts.append(f"{plural(len(report.waiting), 'job')} {verb} your attention.")
    if report.closed:
        count = len(report.closed)
        verb = "was" if count == 1 else "were"
        parts.append(f"{plural(count, 'job')} that never reached the provider {verb} closed; "
                     "nothing was charged.")
    return " ".join(parts)


def adopted_summary(count: int, holders: list[str]) -> str:
    """Jobs this window picked up because the Restyle working on them stopped."""
    known = sorted({h for h in holders if h})
    who = (" and ".join(known) if known else "another Restyle")
    return (f"Picked up {plural(count, 'job')} that {who} left unfinished; Restyle follows "
            f"{'it' if count == 1 else 'them'} here now.")


def placeholder_for(job: Job) -> str:
    """What the compare view says for a job without a result to show that has a sentence."""
    message = plain(job.error.message) if job.error is not None else ""
    if job.state == JobState.NEEDS_ATTENTION:
        return f"This job needs your attention: {message}"
    return f"This job did not succeed: {message}"


def failure_sentence(exc: BaseException) -> str:
    """A failure's sentence (ProviderError and InvalidInput carry one); asyncio's TimeoutError
    has none."""
    return str(exc) or "the service did not answer in time."
