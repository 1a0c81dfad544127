"""A provider's own job list as plain data (FitInView's), for listing and importing the jobs
Restyle does not know; `imports.py` matches it against the history and imports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class RemoteJobSummary:
    """One job of the provider's job list."""

    remote_id: str
    #: The provider's own status word (FitInView: queued, running, succeeded, failed).
    status: str
    cost_credits: float | None = None
    #: ISO 8601 times as the provider sends them.
    created_at: str | None = None
    completed_at: str | None = None
    #: The Restyle job id the job's metadata carries (jobs Restyle submitted), if any.
    local_job_id: str | None = None
    error_message: str | None = None
    #: Parameters worth keeping on an imported job (a seed).
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")

    def status_words(self) -> str:
        return {"queued": "Waiting", "running": "Running", "succeeded": "Succeeded",
                "failed": "Failed"}.get(self.status, self.status.capitalize() or "Unknown")

    def to_dict(self) -> dict[str, Any]:
        return {"remote_id": self.remote_id, "status": self.status,
                "cost_credits": self.cost_credits, "created_at": self.created_at,
                "completed_at": self.completed_at, "error": self.error_message}


@dataclass(frozen=True)
class RemoteJobPage:
    jobs: tuple[RemoteJobSummary, ...]
    next_cursor: str | None = None


@runtime_checkable
class RemoteJobList(Protocol):
    """A provider whose jobs can be listed and imported into the history."""

    id: str
    title: str
    #: The task an imported job is recorded as.
    import_task: str

    async def remote_jobs(self, *, status: str | None = None, cursor: str | None = None,
                          limit: int | None = None) -> RemoteJobPage:
        """One page of the account's jobs, newest first."""
        ...

    async def remote_job(self, remote_id: str) -> RemoteJobSummary:
        """One job by its id (NOT_FOUND when the account has none)."""
        ...


def parse_time(text: str | None) -> float | None:
    """An ISO 8601 time ("2024-05-05T12:00:00Z") as seconds since the epoch; None if absent
    or unreadable (a time without a zone is taken as UTC, as the providers document)."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
