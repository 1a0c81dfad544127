"""Small helpers shared by the provider and engine tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


def run(coro: Awaitable[Any]) -> Any:
    """Run a coroutine on a fresh event loop (the tests use no asyncio plugin)."""
    return asyncio.run(coro)  # type: ignore[arg-type]


class Sleeps:
    """An injected sleep: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
