"""TaskSet: tasks kept until they end, failures logged and reported, cancel and join."""

from __future__ import annotations

import asyncio
import logging

import pytest

from desktop.ui.tasks import TaskSet


def test_failures_are_logged_and_reported(loop: asyncio.AbstractEventLoop,
                                          caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []
    tasks = TaskSet("Test widget", errors.append)

    async def boom() -> None:
        raise ValueError("the disk is full")

    async def body() -> None:
        tasks.spawn(boom())
        assert len(tasks) == 1
        await tasks.join()

    with caplog.at_level(logging.ERROR):
        loop.run_until_complete(body())
    assert len(tasks) == 0
    assert [str(e) for e in errors] == ["the disk is full"]
    assert "Test widget: a background task failed" in caplog.text


def test_aclose_cancels_quietly_and_join_waits_for_new_tasks(
        loop: asyncio.AbstractEventLoop) -> None:
    errors: list[BaseException] = []
    tasks = TaskSet("Test widget", errors.append)
    finished: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(60)

    async def chain() -> None:
        await asyncio.sleep(0)
        tasks.spawn(last())

    async def last() -> None:
        finished.append("last")

    async def body() -> None:
        tasks.spawn(chain())
        await tasks.join()  # also waits for the task chain() started meanwhile
        assert finished == ["last"]
        tasks.spawn(slow())
        await tasks.aclose()

    loop.run_until_complete(body())
    assert len(tasks) == 0 and errors == []


def test_without_a_loop_nothing_is_started() -> None:
    asyncio.set_event_loop(None)
    tasks = TaskSet("Bare script")

    async def work() -> None:
        raise AssertionError("must not run")

    assert tasks.spawn(work()) is None
    assert len(tasks) == 0
