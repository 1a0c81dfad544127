"""The team's task queue: a procrastinate app on the team database, and its one task.

A queued job is `run_job(job_id=...)` in the task queue the job names (`Job.queue`); nothing
else is in its arguments: no spec, no input, no key. Deferring uses the job id as
procrastinate's queueing lock, so a job waits in the queue at most once however many
processes hand it over (the `batch --remote` that made it, a worker's sweep, a worker
stopping).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued

from desktop.team import DEFAULT_QUEUE

__all__ = ["DEFAULT_QUEUE", "TASK_NAME", "defer_job", "make_app"]

log = logging.getLogger(__name__)

TASK_NAME = "restyle.run_job"
#: What a worker puts in procrastinate's additional context: runs one job by id.
RUNNER_KEY = "restyle_run_job"

JobRunner = Callable[[str], Awaitable[None]]


async def _run_job(context: JobContext, job_id: str) -> None:
    runner: JobRunner = (context.additional_context or {})[RUNNER_KEY]
    await runner(job_id)


def make_app(url: str, *, pool_size: int = 4) -> App:
    """The procrastinate app on the team database (not opened yet)."""
    connector = PsycopgConnector(conninfo=url, min_size=1, max_size=max(2, pool_size),
                                 kwargs={"connect_timeout": 10})
    app = App(connector=connector)
    app.task(name=TASK_NAME, pass_context=True)(_run_job)
    return app


#: A job a provider may already have (handed over by a worker that stopped or died) is taken
#: before new ones: it holds a slot of its provider until someone collects it.
SENT_PRIORITY = 10


async def defer_job(app: App, job_id: str, queue: str, *, sent: bool = False,
                    **options: Any) -> bool:
    """Put a job in its task queue (`sent`: the provider may have it); False when it already
    waits there."""
    task = app.tasks[TASK_NAME]
    try:
        await task.configure(queue=queue, queueing_lock=job_id,
                             priority=SENT_PRIORITY if sent else 0, **options).defer_async(
            job_id=job_id)
    except AlreadyEnqueued:
        return False
    return True
