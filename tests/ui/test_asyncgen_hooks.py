"""The qasync loop finalises abandoned async generators on the loop, as asyncio does (an httpx
download refused half way leaves such generators behind)."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator

import qasync
from PySide6.QtWidgets import QApplication

from desktop.ui import asyncgen_hooks


async def _numbers(closed: list[str]) -> AsyncIterator[int]:
    try:
        yield 1
        yield 2
    finally:
        await asyncio.sleep(0)  # cleanup that must await, like httpcore's
        closed.append("closed")


def test_an_abandoned_generator_is_closed_on_the_loop(loop: asyncio.AbstractEventLoop) -> None:
    closed: list[str] = []

    async def body() -> None:
        numbers = _numbers(closed)
        assert await numbers.__anext__() == 1
        del numbers  # abandoned half way
        gc.collect()
        for _ in range(10):
            await asyncio.sleep(0)

    loop.run_until_complete(body())
    assert closed == ["closed"]


def test_install_returns_a_restore(qapp: QApplication) -> None:
    before = sys.get_asyncgen_hooks()
    event_loop = qasync.QEventLoop(qapp)
    try:
        restore = asyncgen_hooks.install(event_loop)
        assert sys.get_asyncgen_hooks().finalizer is not before.finalizer
        restore()
        assert sys.get_asyncgen_hooks() == before
    finally:
        event_loop.close()
