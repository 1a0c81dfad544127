"""restyle-cli's exit codes (a public contract) and the error that carries one."""

from __future__ import annotations

from desktop.core.model import ErrorCode, Job, JobState

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_SETUP = 3
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A sentence for the user and the exit code that goes with it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(job: Job) -> int:
    """0 succeeded; 3 a key, credits or configuration problem (also for a job waiting in
    needs_attention for one); 2 invalid input nothing was sent for; 1 anything else that did
    not succeed (failed, cancelled, timed out, or waiting for another reason)."""
    if job.state == JobState.SUCCEEDED:
        return EXIT_OK
    if job.error is not None:
        if job.error.code.is_setup_problem:
            return EXIT_SETUP
        if job.error.code == ErrorCode.INVALID_INPUT and job.remote_id is None:
            return EXIT_USAGE
    return EXIT_JOB_FAILED
