"""Jobs and assets to and from table rows."""

from __future__ import annotations

import json
import time
from typing import Any

from desktop.core.model import (
    Asset,
    ErrorCode,
    Job,
    JobError,
    JobSpec,
    JobState,
    Output,
)

#: The fence of a save with an owner: an update lands only while `owner` holds the job (the
#: engine claims a job before it works on it), so a process whose lease was taken over can
#: never overwrite what the new owner wrote.
FENCED_UPDATE = (", owner=excluded.owner, lease_until=excluded.lease_until"
                  " WHERE jobs.owner = :fence\n")


def insert_asset(conn: Any, asset: Asset) -> None:
    conn.execute(
        "INSERT INTO assets (sha256, mime, size, width, height, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (asset.sha256, asset.mime, asset.size, asset.width, asset.height, time.time()),
    )


def asset_from_row(row: Any) -> Asset:
    return Asset(sha256=row["sha256"], mime=row["mime"], size=row["size"], width=row["width"],
                 height=row["height"])


def search_text(job: Job) -> str:
    parts = [job.id, job.provider, job.task, str(job.state), job.remote_id or "", job.note,
             json.dumps(job.spec.params, ensure_ascii=False, default=str)]
    for sources in job.spec.inputs.values():
        parts.extend(sources)
    if job.error is not None:
        parts.extend([str(job.error.code), job.error.message, job.error.provider_code or ""])
    parts.extend(o.label for o in job.outputs)
    return " ".join(p for p in parts if p).lower()


def job_row(job: Job) -> dict[str, Any]:
    err = job.error
    return {
        "id": job.id,
        "provider": job.provider,
        "task": job.task,
        "state": str(job.state),
        "spec": json.dumps(job.spec.to_dict(), ensure_ascii=False, default=str),
        "remote_id": job.remote_id,
        "remote_data": json.dumps(job.remote_data, ensure_ascii=False, default=str),
        "attempts": job.attempts,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "deadline_at": job.deadline_at,
        "cost_credits": job.cost_credits,
        "error_code": str(err.code) if err else None,
        "error_message": err.message if err else None,
        "provider_code": err.provider_code if err else None,
        "progress": job.progress,
        "favorite": int(job.favorite),
        "note": job.note,
        "search_text": search_text(job),
        "submitted_at": job.submitted_at,
        "queue": job.queue,
    }


def job_from_row(row: Any, inputs: dict[str, list[str]], outputs: list[Output]) -> Job:
    error = None
    if row["error_code"]:
        try:
            code = ErrorCode(row["error_code"])
        except ValueError:
            code = ErrorCode.INTERNAL
        error = JobError(code, row["error_message"] or "", row["provider_code"])
    return Job(
        id=row["id"],
        spec=JobSpec.from_dict(json.loads(row["spec"])),
        state=JobState(row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        remote_id=row["remote_id"],
        remote_data=json.loads(row["remote_data"] or "{}"),
        attempts=row["attempts"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        deadline_at=row["deadline_at"],
        cost_credits=row["cost_credits"],
        error=error,
        progress=row["progress"],
        inputs=inputs,
        outputs=tuple(outputs),
        favorite=bool(row["favorite"]),
        note=row["note"],
        owner=row["owner"],
        lease_until=row["lease_until"],
        cancel_requested=bool(row["cancel_requested"]),
        submitted_at=row["submitted_at"],
        queue=row["queue"],
    )
