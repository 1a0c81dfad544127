"""What restyle-cli prints: job objects as JSON (a public contract), jobs as text, and the
one-line progress display on a terminal."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from desktop.core.engine.ledger import describe_owner
from desktop.core.humanize import human_duration
from desktop.core.model import EventKind, Job, JobEvent, JobState
from desktop.core.redaction import redact_inputs
from desktop.core.reviews import Review
from desktop.core.sources import shown
from desktop.providers.registry import provider_class
from desktop.services import Services


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="seconds")


def job_to_json(services: Services, job: Job, out_paths: dict[int, Path] | None = None
                ) -> dict[str, Any]:
    outputs = []
    for o in job.outputs:
        path = (out_paths or {}).get(o.position) or services.assets.path_for(o.sha256, o.mime)
        outputs.append({"path": str(path), "width": o.width, "height": o.height,
                        "mime": o.mime, "kind": str(o.kind), "label": o.label,
                        "sha256": o.sha256})
    return {
        "id": job.id,
        "provider": job.provider,
        "task": job.task,
        "status": str(job.state),
        "remote_id": job.remote_id,
        "outputs": outputs,
        "error": job.error.to_dict() if job.error else None,
        "cost_credits": job.cost_credits,
        "duration_ms": job.duration_ms,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
        "params": job.spec.params,
        # A URL input may carry user info or a signed link's token: never printed as given.
        "inputs": redact_inputs(job.spec.inputs),
        "note": job.note,
        "favorite": job.favorite,
        "may_be_charged": job.may_be_charged and charges(job.provider),
        "owner": describe_owner(job.owner) if job.owner else None,
        # Taken in from the provider's job list (`restyle-cli fitinview import`).
        "imported": bool(job.remote_data.get("imported")),
    }


def charges(provider_id: str) -> bool:
    """Whether the provider bills jobs at all (the offline one does not)."""
    try:
        return provider_class(provider_id).needs_key
    except KeyError:
        return True


def print_json(data: Any, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    stream.flush()


def print_job(services: Services, job: Job, out_paths: dict[int, Path] | None = None) -> None:
    data = job_to_json(services, job, out_paths)
    print(f"Job {job.id}  {job.provider}/{job.task}  {job.state}")
    if job.remote_id:
        print(f"  remote id:  {job.remote_id}")
    print(f"  created:    {local_time(job.created_at)}")
    if job.duration_ms is not None:
        print(f"  duration:   {human_duration(job.duration_ms / 1000)}")
    if job.cost_credits is not None:
        print(f"  cost:       {job.cost_credits:g} credits")
    if job.spec.params:
        print("  params:     " + ", ".join(f"{k}={json.dumps(v, default=str)}"
                                          for k, v in job.spec.params.items()))
    for role, sources in data["inputs"].items():
        for src in sources:
            print(f"  {role + ':':<11} {src}")
    if job.note:
        print(f"  note:       {job.note}")
    for out in data["outputs"]:
        size = f"{out['width']}x{out['height']}" if out["width"] else out["mime"]
        print(f"  output:     {out['path']}  ({size})")
    if job.error:
        code = f" [{job.error.provider_code}]" if job.error.provider_code else ""
        label = "needs you:" if job.state == JobState.NEEDS_ATTENTION else "error:"
        print(f"  {label:<11} {job.error.code}{code}: {job.error.message}")
    if data["owner"] and not job.state.terminal:
        print(f"  worked on:  by {data['owner']}")
    if data["may_be_charged"] and job.state != JobState.SUCCEEDED:
        print(f"  charges:    {job.provider} may have charged for this job.")


def local_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


class Progress:
    """A one-line status on an interactive terminal while a job runs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.state = ""
        self.message = ""
        self.started = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def __call__(self, event: JobEvent) -> None:
        if event.kind == EventKind.STATE:
            self.state = str(event.job.state)
        if event.message:
            self.message = event.message
        elif event.job.progress is not None:
            self.message = f"{round(event.job.progress * 100)} %"
        self._draw()

    def line(self) -> str:
        """The text of the status line."""
        elapsed = human_duration(time.monotonic() - self.started)
        return f"{self.state or 'starting'}  {elapsed}  {self.message}"

    def _draw(self) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\033[K" + self.line()[:100])
        self.stream.flush()

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self._draw()

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.ensure_future(self.tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.enabled = False  # later events (a cancel, say) must not redraw the line


def review_json(review: Review) -> dict[str, Any]:
    """A review as the CLI prints it; `output` counts from 1, as --output takes it."""
    return {"job_id": review.job_id, "output": review.position + 1, "reviewer": review.reviewer,
            "verdict": str(review.verdict) if review.verdict else None, "stars": review.stars,
            "tags": list(review.tags), "note": review.note, "created_at": iso(review.created_at),
            "updated_at": iso(review.updated_at)}


def review_text(review: Review) -> str:
    """'output 1 by ana: fail, 2 stars [hands or face broken] "fingers"'."""
    parts = [str(review.verdict) if review.verdict else "no verdict"]
    if review.stars is not None:
        parts.append(f"{review.stars} star" + ("" if review.stars == 1 else "s"))
    text = f"output {review.position + 1} by {shown(review.reviewer, 60)}: " + ", ".join(parts)
    if review.tags:
        text += " [" + ", ".join(review.tags) + "]"
    if review.note:
        text += f' "{shown(review.note, 200)}"'
    return text
