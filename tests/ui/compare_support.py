"""Helpers for the compare tests: a real window over a history seeded with jobs whose inputs
and results are real PNGs in the asset store."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from desktop.app import RestyleWindow, create_main_window
from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState, Output

PERSON_COLOUR = (200, 150, 120)
OTHER_PERSON_COLOUR = (40, 90, 160)
GARMENT_COLOUR = (30, 60, 200)


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


async def until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


class Seeder:
    """Writes jobs into the window's own history, inputs and outputs as real images."""

    def __init__(self, window: RestyleWindow) -> None:
        self.window = window
        self.services = window.services
        self.clock = time.time() - 3600
        self.person = self.asset(png(PERSON_COLOUR))
        self.other_person = self.asset(png(OTHER_PERSON_COLOUR))
        self.garment = self.asset(png(GARMENT_COLOUR, (200, 200)))

    def asset(self, data: bytes) -> Asset:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
        return self.services.assets.put(data, "image/png", width=width, height=height)

    def job(self, name: str, provider: str, *, outputs: list[tuple[int, int, int]],
            task: str = "tryon", person: Asset | None = None,
            state: JobState = JobState.SUCCEEDED) -> Job:
        self.clock += 60
        person = person or self.person
        assets = [person, self.garment]
        outs = []
        for position, colour in enumerate(outputs):
            asset = self.asset(png(colour))
            assets.append(asset)
            outs.append(Output(position, asset.sha256, asset.mime, asset.size, 320, 240))
        error = JobError(ErrorCode.JOB_FAILED, "The service could not process the photo.") \
            if state == JobState.FAILED else None
        job = Job(id=name.ljust(32, "0"), spec=JobSpec(provider, task), state=state,
                  created_at=self.clock, updated_at=self.clock, error=error,
                  inputs={"person": [person.sha256], "garment": [self.garment.sha256]},
                  outputs=tuple(outs))
        self.services.history.save_job(job, assets=assets)
        return job


@pytest.fixture
def compare_window(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop
                   ) -> Iterator[RestyleWindow]:
    window = create_main_window(home)
    qtbot.addWidget(window)
    window.resize(1360, 860)
    window.show()
    qtbot.waitExposed(window)
    loop.run_until_complete(window.start())
    yield window
    loop.run_until_complete(window.aclose())


def pixel(image: QImage | None) -> tuple[int, int, int]:
    assert image is not None
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return colour.red(), colour.green(), colour.blue()


def click_row(window: RestyleWindow, job_id: str,
              modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A real click on the job's row in the history list (Ctrl adds it to the selection)."""
    panel = window.history_panel
    row = panel.model.row_of(job_id)
    assert row >= 0, job_id
    view = panel.view
    rect = view.visualRect(panel.model.index(row))
    view.scrollTo(panel.model.index(row))
    rect = view.visualRect(panel.model.index(row))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier,
                     QPoint(rect.center()))


def cell_text(window: RestyleWindow, index: int) -> str:
    return " · ".join(t for t in window.compare_view.canvases()[index].labels() if t)
