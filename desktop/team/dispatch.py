"""Handing jobs to the team's queue from a long-lived process (the window).

`restyle-cli batch --remote` opens the queue once and exits; a window hands jobs over now and
then for hours. `TeamDispatch` creates the queue tables once (schema.py), opens procrastinate's
connector on first use and keeps it until `aclose`. Only ids go into the queue.
"""

from __future__ import annotations

import asyncio
from typing import Any

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
                await app.open_async()
                self._app = app
            return self._app

    async def hand_over(self, job_id: str) -> bool:
        """Put a stored queued job in the task queue; False when it already waits there.
        HistoryError (a sentence) when the team database cannot be reached."""
        app = await self._opened()
        return await defer_job(app, job_id, self.queue)

    async def aclose(self) -> None:
        async with self._lock:
            app, self._app = self._app, None
        if app is not None:
            await app.close_async()
