"""Where the window's jobs run: here, through the engine, or in team mode on the team's
workers (`restyle-cli worker`), through the task queue in the team database.

Team mode is on when the history is a PostgreSQL database and the team's shared assets folder
is set (README, "Team mode"): a worker must be able to read the inputs the window stored. Then
Generate stores each job queued (its inputs in the shared folder) and hands its id to the
queue, and a batch's cells are queued the same way; the job's progress comes back through the
team database's change feed (team_live.py). procrastinate is imported on the first hand-over,
never at start-up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from desktop.core.store.postgres import is_postgres_url

if TYPE_CHECKING:
    from desktop.core.engine import JobEngine
    from desktop.core.engine.preparing import PreparedSpec
    from desktop.core.model import Job
    from desktop.services import Services
    from desktop.team.dispatch import TeamDispatch

log = logging.getLogger(__name__)

#: settings.json "general" key naming the task queue the window's jobs go to.
QUEUE_SETTING = "team_queue"


class JobSender:
    def __init__(self, services: Services, engine: JobEngine) -> None:
        self.engine = engine
        settings = services.settings
        url = settings.database_url
        self.url = url if url and is_postgres_url(url) else None
        self.team = self.url is not None and settings.shared_assets_dir is not None
        from desktop.team import DEFAULT_QUEUE

        self.queue = str(settings.general.get(QUEUE_SETTING) or DEFAULT_QUEUE)
        self._dispatch: TeamDispatch | None = None

    def dispatch(self) -> TeamDispatch:
        if self._dispatch is None:
            assert self.url is not None
            from desktop.team.dispatch import TeamDispatch

            self._dispatch = TeamDispatch(self.url, queue=self.queue)
        return self._dispatch

    async def send(self, prepared: PreparedSpec) -> Job:
        """Start the job here, or queue it for the team's workers (team mode)."""
        if not self.team:
            return await self.engine.submit(prepared.spec, prepared)
        job = await self.engine.enqueue(prepared.spec, prepared, queue=self.queue)
        await self.hand_over(job)
        return job

    async def hand_over(self, job: Job) -> Any:
        """Put a stored queued job in the task queue. A failure is logged, not raised: the job
        is stored, and the workers' sweep finds a queued job nobody handed over."""
        from desktop.core.store import HistoryError

        try:
            return await self.dispatch().hand_over(job.id)
        except (HistoryError, OSError) as exc:
            log.warning("Handing job %s to the team's queue failed: %s", job.id, exc)
            return False

    def started_sentence(self, count: int) -> str:
        jobs = f"{count} job" + ("" if count == 1 else "s")
        if not self.team:
            return f"Started {jobs}."
        return (f"Sent {jobs} to the team's workers (queue “{self.queue}”); "
                "progress shows here as they work.")

    async def aclose(self) -> None:
        if self._dispatch is not None:
            await self._dispatch.aclose()
