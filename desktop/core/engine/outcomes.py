"""How a job's run ends, and the sentences that tell the user what happened.

Three ways out of a job's coroutine besides success, as exceptions the engine's guard turns
into stored states:

- `JobEnded`: the job is over. Only for the provider's own verdict (it failed, was cancelled,
  had no record of the job) or for jobs nothing was ever sent for.
- `NeedsAttention`: the provider has (or may have) accepted the job, but Restyle cannot go on
  until something is fixed. The job is kept, not ended: resume collects it.
- `CancelRequested`: another process asked this one to cancel the job.

The rule they encode: once a provider may have accepted a job, it is never ended for a reason
that is not the provider's verdict, and the user is always told whether it may be charged.
"""

from __future__ import annotations

from desktop.core.contract import Provider, ProviderError
from desktop.core.humanize import human_duration
from desktop.core.model import ErrorCode, JobError, JobState

#: Poll and download errors that only a change on the user's side can cure: waiting for them
#: is pointless, so the job goes to "needs attention" at once.
FIX_FIRST = frozenset({ErrorCode.MISSING_KEY, ErrorCode.NOT_CONFIGURED})

#: Errors while polling that say "try again later", not "something is wrong with this job".
TRANSIENT = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.NETWORK, ErrorCode.PROVIDER_UNAVAILABLE,
     ErrorCode.TIMED_OUT}
)

RETRY_HINT = "Retry (or `restyle-cli resume`)"


class JobEnded(Exception):
    def __init__(self, error: JobError, state: JobState = JobState.FAILED) -> None:
        super().__init__(error.message)
        self.error = error
        self.state = state


class NeedsAttention(Exception):
    def __init__(self, error: JobError) -> None:
        super().__init__(error.message)
        self.error = error


class CancelRequested(Exception):
    """Another Restyle process asked for this job to be cancelled."""


def rejected(exc: ProviderError) -> JobError:
    """A submit the provider refused (or that never left this computer)."""
    return JobError(exc.code, exc.message, exc.provider_code)


def is_unknown_outcome(exc: ProviderError) -> bool:
    """Whether a failed submit may still have created the job: the adapter says so, or the
    provider answered 2xx with something Restyle could not read."""
    status = exc.http_status
    return exc.unknown_outcome or (status is not None and 200 <= status < 300)


def _what_happened(exc: ProviderError | None) -> str:
    if exc is None:
        return "Restyle stopped before it answered"
    status = exc.http_status
    if status is not None and 200 <= status < 300:
        return "its answer could not be read"
    if status is not None:
        code = f", {exc.provider_code}" if exc.provider_code else ""
        kind = "a server error" if status >= 500 else "an error"
        return f"it reported {kind}: HTTP {status}{code}"
    return "the connection broke off or timed out before it answered"


def unknown_outcome(provider: Provider, exc: ProviderError | None) -> JobError:
    """The sentence for a submit whose answer never came."""
    title = provider.title
    where = f" ({provider.account_url})" if provider.account_url else ""
    if provider.supports_reconcile:
        then = (f" Restyle looks for it in {title}'s job list when you press {RETRY_HINT}, and "
                "collects it if it is there.")
    else:
        then = (f" {title} offers no way to look it up, so check your {title} account{where}"
                " before running it again; then abandon this entry.")
    return JobError(
        ErrorCode.UNKNOWN_OUTCOME,
        f"{title} did not confirm that it received this job ({_what_happened(exc)}). "
        f"It may have created the job and charged for it.{then}",
        exc.provider_code if exc else None,
    )


def not_created(provider: Provider, exc: ProviderError) -> JobError:
    """A submit with an unknown outcome that the provider's job list shows never landed."""
    return JobError(
        exc.code,
        f"{provider.title} did not confirm that it received this job "
        f"({_what_happened(exc)}), and its job list has no record of it, so nothing was "
        "created or charged. You can run it again.",
        exc.provider_code,
    )


def not_created_after_stop(provider: Provider) -> JobError:
    """A job Restyle stopped sending (closed, crashed) that the job list shows never landed."""
    return JobError(
        ErrorCode.NETWORK,
        f"Restyle stopped while sending this job; {provider.title}'s job list has no record of "
        "it, so nothing was created or charged. You can run it again.",
    )


def inputs_missing() -> JobError:
    """A job from the team's queue whose input images are gone from the shared assets folder
    before it was sent: nothing was sent or charged."""
    return JobError(
        ErrorCode.INVALID_INPUT,
        "This job's input images are no longer in the shared assets folder (RESTYLE_ASSETS_DIR),"
        " so it was not sent and nothing was charged. Check that every worker mounts the same"
        " folder, then run it again.",
    )


def poll_problem(provider: Provider, exc: ProviderError) -> JobError:
    """Checking on an accepted job keeps failing for a reason that is not the provider's
    verdict on the job (a key, a base URL, a 401/404 that may pass)."""
    return JobError(
        exc.code,
        f"Checking this job at {provider.title} failed: {exc.message} {provider.title} has "
        f"accepted the job, so it may be charged. Restyle keeps it: once this is fixed, "
        f"{RETRY_HINT} collects the result.",
        exc.provider_code,
    )


def download_problem(provider: Provider, position: int, count: int, exc: ProviderError
                     ) -> JobError:
    which = "The result" if count == 1 else f"Result {position + 1} of {count}"
    return JobError(
        ErrorCode.RESULT_UNAVAILABLE,
        f"{which} from {provider.title} could not be downloaded intact: {exc.message} "
        f"The job is done (and may be charged); Restyle keeps it, and {RETRY_HINT} tries the "
        "download again.",
        exc.provider_code,
    )


def deadline_passed(provider: Provider, allowed_s: float, cancel_failure: str | None
                    ) -> JobError:
    """A deadline passed and the provider could not be made to cancel the job."""
    why = (f"cancelling it at {provider.title} failed ({cancel_failure})" if cancel_failure
           else f"{provider.title} cannot cancel jobs")
    return JobError(
        ErrorCode.TIMED_OUT,
        f"The job did not finish within {human_duration(allowed_s)}, and {why}, so it may "
        f"still finish there and be charged. {RETRY_HINT} checks it again and collects the "
        "result; abandon it if you no longer need it.",
    )


def deadline_cancelled(provider: Provider, allowed_s: float) -> JobError:
    return JobError(
        ErrorCode.TIMED_OUT,
        f"The job did not finish within {human_duration(allowed_s)}; it was cancelled at "
        f"{provider.title}.",
    )


def unexpected(provider_title: str, exc: BaseException, accepted: bool) -> JobError:
    if accepted:
        return JobError(
            ErrorCode.INTERNAL,
            f"Restyle hit an unexpected error ({type(exc).__name__}) while following this job;"
            f" details are in the log file. {provider_title} has accepted the job, so it may be"
            f" charged: Restyle keeps it, and {RETRY_HINT} tries again.",
        )
    return JobError(
        ErrorCode.INTERNAL,
        f"Restyle hit an unexpected error ({type(exc).__name__}); details are in the log file."
        " Nothing was sent. Please report it.",
    )


def abandoned(provider: Provider, accepted: bool, remote_note: str) -> JobError:
    """The user gave up a job by hand (Cancel / Abandon)."""
    if not accepted:
        return JobError(ErrorCode.CANCELLED, "Cancelled by you before it was sent; nothing was"
                        " charged.")
    return JobError(ErrorCode.CANCELLED, ("Cancelled by you." + remote_note).strip())
