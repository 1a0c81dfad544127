"""Handing stored queued jobs to the team's task queue (the window, `batch --remote`).

A window hands jobs over now and then for hours; `restyle-cli batch --remote` hands a batch
over and exits. Both use `TeamDispatch`: it creates the queue tables once (schema.py), opens
procrastinate's connector on first use (or at `ready()`) and keeps it until `aclose`. Only ids
go into the queue. Every database failure comes out as HistoryError with a sentence, the
URL's password never in it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from desktop.core.store import HistoryError
from desktop.core.store.postgres import explain
from desktop.team import DEFAULT_QUEUE
from desktop.team.queue import defer_job, make_app
from desktop.team.schema import ensure_schema


class TeamDispatch:
    def __init__(self, url: str, *, queue: str = DEFAULT_QUEUE) -> None:
        self.url = url
        self.queue = queue
        self._app: Any = None
        self._lock = asyncio.Lock()

    async def _opened(self) -> Any:
        async with self._lock:
            if self._app is None:
                await asyncio.to_thread(ensure_schema, self.url)
                app = make_app(self.url, pool_size=2)
                try:
                    await app.open_async()
                except psycopg.Error as exc:
                    why, todo = explain(exc, self.url)
                    raise HistoryError(f"Could not open the team's task queue: {why}. {todo}"
                                       ) from None
                self._app = app
            return self._app

    async def ready(self) -> None:
        """Create the queue tables and open the queue now, before any job is stored for it:
        HistoryError (a sentence) when the team database cannot be used."""
        await self._opened()

    async def hand_over(self, job_id: str) -> bool:
        """Put a stored queued job in the task queue; False when it already waits there.
        HistoryError (a sentence) when the team database cannot be reached."""
        app = await self._opened()
        try:
            return await defer_job(app, job_id, self.queue)
        except psycopg.Error as exc:
            why, todo = explain(exc, self.url)
            raise HistoryError(f"Could not hand a job to the team's task queue: {why}. {todo}"
                               " The job is stored; a worker finds it once the database"
                               " answers again.") from None

    async def aclose(self) -> None:
        async with self._lock:
            app, self._app = self._app, None
        if app is not None:
            await app.close_async()
