"""Matching a provider's job list against the history, and importing the jobs Restyle does
not know.

A remote job is known when a job in the history has its remote id, or when the job's metadata
carries the id of a local job (a submit whose answer was lost: `restyle-cli resume` finds it
there; importing it too would make a second record of one paid job).

An import is a job stored with the remote id and followed by the engine like a resumed one
(`JobEngine.adopt`): polled, never submitted, its results downloaded and checked like any
result, ending in the history. Its id is derived from the provider and the remote id, so two
imports of one remote job (two windows, a window and restyle-cli) make one record.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from desktop.core.engine import JobEngine
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.provider_tools.remote_jobs import RemoteJobList, RemoteJobSummary, parse_time
from desktop.core.store import History

#: Namespace of the ids of imported jobs.
_IMPORT_NAMESPACE = uuid.UUID("a3c1b5e2-7d4f-4c1a-9e3b-2f6d8c0a4b17")
#: SQLite takes at most 999 parameters in older builds; lookups go in chunks below that.
_CHUNK = 400
#: The key in `Job.remote_data` that marks an imported job.
IMPORTED = "imported"


@dataclass
class ImportReport:
    """What an import did: jobs now followed by the engine, and jobs the history already had
    (remote id -> local job id)."""

    imported: list[Job] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)


def imported_job_id(provider_id: str, remote_id: str) -> str:
    """The id an import of this remote job gets (the same in every process)."""
    return uuid.uuid5(_IMPORT_NAMESPACE, f"{provider_id}\n{remote_id}").hex


def known_jobs(history: History, provider_id: str, remotes: Iterable[RemoteJobSummary]
               ) -> dict[str, str]:
    """remote id -> the local job that already stands for it, for every remote job the
    history knows (by remote id, or by the local id its metadata carries). Blocking: run it in
    a worker thread."""
    remotes = list(remotes)
    by_local = {r.local_job_id: r.remote_id for r in remotes if r.local_job_id}
    found: dict[str, str] = {}
    with history.reading() as conn:
        for chunk in _chunks([r.remote_id for r in remotes]):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                    f"SELECT id, remote_id FROM jobs WHERE provider = ? AND remote_id IN ({marks})"
                    " ORDER BY created_at", [provider_id, *chunk]):
                found.setdefault(row["remote_id"], row["id"])
        for chunk in _chunks(list(by_local)):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                    f"SELECT id FROM jobs WHERE provider = ? AND id IN ({marks})",
                    [provider_id, *chunk]):
                found.setdefault(by_local[row["id"]], row["id"])
    return found


def imported_job(provider_id: str, provider_title: str, task_id: str,
                 remote: RemoteJobSummary, now: float) -> Job:
    """The record of an import before the engine follows it: running, with the remote id,
    marked imported (in `remote_data` and in its note, which the history shows). It is dated
    when the provider made it; its run (what the queue times) starts with the import, so a job
    made last week does not show a week's duration."""
    created = parse_time(remote.created_at) or now
    return Job(
        id=imported_job_id(provider_id, remote.remote_id),
        spec=JobSpec(provider=provider_id, task=task_id, inputs={}, params=dict(remote.params)),
        state=JobState.RUNNING, created_at=min(created, now), updated_at=now, started_at=now,
        remote_id=remote.remote_id,
        remote_data={IMPORTED: True, "imported_at": now},
        cost_credits=remote.cost_credits,
        note=imported_note(provider_title),
    )


def imported_note(provider_title: str) -> str:
    return f"Imported from {provider_title}'s job list."


def is_imported(job: Job) -> bool:
    return bool(job.remote_data.get(IMPORTED))


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


async def import_jobs(engine: JobEngine, provider: RemoteJobList,
                      remotes: Sequence[RemoteJobSummary], *,
                      clock: Callable[[], float] = time.time) -> ImportReport:
    """Import the remote jobs the history does not know: each is stored and followed by the
    engine (polled, its results downloaded and checked); `engine.wait(job.id)` for its end.
    Jobs already known, also to another process importing at the same moment, are reported
    in `known` and left alone."""
    known = await asyncio.to_thread(known_jobs, engine.history, provider.id, remotes)
    report = ImportReport(known=dict(known))
    now = clock()
    for remote in remotes:
        if remote.remote_id in report.known or not remote.remote_id:
            continue
        job = imported_job(provider.id, provider.title, provider.import_task, remote, now)
        adopted = await engine.adopt(job)
        if adopted is None:
            report.known[remote.remote_id] = job.id
        else:
            report.imported.append(adopted)
    return report
