"""Jobs with real stored images for the review, arena and rankings tests, and a window
fixture over them."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from desktop.app import RestyleWindow, create_main_window
from desktop.core.model import Job, JobSpec, JobState, Output
from desktop.services import Services


def png(colour: tuple[int, int, int], size: tuple[int, int] = (96, 72)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def store_job(services: Services, job_id: str, *, provider: str = "fitinview",
              task: str = "tryon", outputs: int = 1, inputs: str = "person-1",
              colour: tuple[int, int, int] = (200, 60, 60), when: float | None = None,
              state: JobState = JobState.SUCCEEDED, duration_s: float = 10.0,
              cost: float | None = 1.0) -> Job:
    """A finished job whose input and outputs are real PNGs in the home's asset store."""
    now = when if when is not None else time.time()
    person = services.assets.put(png((120, 120, 120)), "image/png", width=96, height=72)
    stored = []
    outs = []
    for i in range(outputs if state == JobState.SUCCEEDED else 0):
        shade = tuple(min(255, c + 25 * i) for c in colour)
        asset = services.assets.put(png(shade), "image/png",  # type: ignore[arg-type]
                                    width=96, height=72)
        stored.append(asset)
        outs.append(Output(i, asset.sha256, asset.mime, asset.size, 96, 72))
    spec = JobSpec(provider, task, {"person": [f"/photos/{inputs}.png"]}, {})
    job = Job(job_id, spec, state, now, now, started_at=now - duration_s, finished_at=now,
              cost_credits=cost, inputs={"person": [person.sha256]}, outputs=tuple(outs))
    services.history.save_job(job, assets=[person, *stored])
    return job


def seed(home: Path, plan: Callable[[Services], list[Job]]) -> list[Job]:
    services = Services.open(home)
    try:
        return plan(services)
    finally:
        services.close()


async def until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


@pytest.fixture
def open_window(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop
                ) -> Iterator[Callable[[], RestyleWindow]]:
    """Build, show and start the real window on `home` (closed at the end of the test)."""
    windows: list[RestyleWindow] = []

    def make() -> RestyleWindow:
        window = create_main_window(home)
        qtbot.addWidget(window)
        window.resize(1360, 860)
        window.show()
        windows.append(window)
        loop.run_until_complete(window.start())
        return window

    yield make
    for window in windows:
        loop.run_until_complete(window.aclose())
