"""Background coroutines a widget starts on the qasync loop.

asyncio keeps only weak references to tasks, so a widget that fires a coroutine and forgets it
may see it vanish mid-way; and an exception in a forgotten task surfaces (if ever) as "Task
exception was never retrieved" at exit. A TaskSet keeps each task until it ends, logs what it
raised, and can cancel or wait for all of them (on close, and in tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

log = logging.getLogger(__name__)


class TaskSet:
    """The tasks one widget started. `what` names the widget in log lines; `on_error` (called
    on the GUI thread) lets it tell the user, in a sentence, that something failed."""

    def __init__(self, what: str,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.what = what
        self.on_error = on_error
        self.closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
        """Start `coro`; None (and the coroutine closed) when no event loop exists, which only
        happens when a widget is used outside the application (a bare script)."""
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:
            coro.close()
            log.warning("%s: no asyncio loop, background work skipped", self.what)
            return None
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if self.closing or task.cancelled():
            return  # cancelled on the way out: what it raised no longer matters
        exc = task.exception()
        if exc is not None:
            log.error("%s: a background task failed", self.what, exc_info=exc)
            if self.on_error is not None:
                self.on_error(exc)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def join(self) -> None:
        """Wait until every task, including ones started meanwhile, has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        self.closing = True
        self.cancel_all()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Task[Any]]:
        return iter(list(self._tasks))
