"""Results far larger than a screen (a 4x upscale is 16384 x 16384) open in the window: decoded
reduced for display with a note, never refused below the result limit."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QSize
from PySide6.QtGui import QImage

from desktop.app import RestyleWindow, create_main_window
from desktop.core.imaging import ImageError
from desktop.core.limits import Limits
from desktop.core.model import Job, JobSpec, JobState, Output
from desktop.ui import canvas_images, output_images, qimages
from desktop.ui.compare_view import CompareMode
from desktop.ui.output_images import screen_fit
from tests.big_images import grey_jpeg

RESULT_LIMIT = Limits().result_max_pixels


def test_a_16384_px_result_is_decoded_reduced_for_display() -> None:
    image = qimages.qimage_from_bytes(grey_jpeg(16384, 16384), "r", max_pixels=RESULT_LIMIT)
    assert (image.width(), image.height()) == (8192, 8192)
    assert image.format() == QImage.Format.Format_RGB32  # the display format, no conversion
    assert image.pixelColor(8191, 8191).getRgb() == (128, 128, 128, 255)
    with pytest.raises(ImageError, match="64-megapixel limit"):
        qimages.qimage_from_bytes(grey_jpeg(16384, 16384), "input.jpg")  # inputs: 64 MP


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_pixels_are_copied_band_by_band_exactly(mode: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qimages, "_BAND_BYTES", 1000)  # a few rows a band
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    if mode == "RGB":
        pixels[..., 3] = 255
    img = Image.fromarray(pixels, "RGBA").convert(mode)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    image = qimages.qimage_from_bytes(buf.getvalue(), "x.png")
    # decoded straight into the format the panes draw (canvas_images.display_format)
    rgba = QImage(pixels.tobytes(), 53, 37, 53 * 4, QImage.Format.Format_RGBA8888)
    expected = canvas_images.display_format(rgba)
    assert image.format() == expected.format() == (
        QImage.Format.Format_RGB32 if mode == "RGB"
        else QImage.Format.Format_ARGB32_Premultiplied)
    got = np.frombuffer(image.constBits(), np.uint8).astype(int)
    want = np.frombuffer(expected.constBits(), np.uint8).astype(int)
    # Pillow and Qt round a premultiplied channel differently now and then: by one at most
    assert np.abs(got - want).max() <= (0 if mode == "RGB" else 1)
    assert image.pixelColor(52, 36).alpha() == pixels[36, 52, 3]


@pytest.fixture
def window(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop) -> Iterator[RestyleWindow]:
    win = create_main_window(home)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    yield win
    loop.run_until_complete(win.aclose())


def test_a_16384_px_result_opens_in_the_compare_view_with_a_note(
        window: RestyleWindow, loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoded for the screen when opened; at full size only once zoomed in past that."""
    services = window.services
    decodes: list[QSize | None] = []

    def spy(path: Path, **kwargs: Any) -> QImage:
        decodes.append(kwargs.get("fit"))
        return qimages.qimage_from_file(path, **kwargs)

    monkeypatch.setattr(output_images, "qimage_from_file", spy)
    before = io.BytesIO()
    Image.new("RGB", (1024, 1024), (90, 90, 90)).save(before, "JPEG")
    source = services.assets.put(before.getvalue(), "image/jpeg", width=1024, height=1024)
    result = services.assets.put(grey_jpeg(16384, 16384), "image/jpeg", width=16384,
                                 height=16384)
    now = time.time()
    job = Job(id="b" * 32, spec=JobSpec("local", "upscale", {"image": ["in.jpg"]},
                                        {"factor": 4}),
              state=JobState.SUCCEEDED, created_at=now, updated_at=now, finished_at=now,
              inputs={"image": [source.sha256]},
              outputs=(Output(0, result.sha256, result.mime, result.size, 16384, 16384),))
    services.history.save_job(job, assets=[source, result])

    async def body() -> None:
        await window.start()
        assert await window.workbench.show_job(job.id) is not None
        view = window.compare_view
        item = view.current_item()
        assert item is not None, window.statusBar().currentMessage()
        # decoded for the screen, straight into the format the panes draw
        factor = qimages.fit_factor(16384, 16384, screen_fit())
        assert factor > 8  # (16 at most: 1024 px)
        side = -(-16384 // factor)
        assert (item.image.width(), item.image.height()) == (side, side)
        assert item.image.format() == QImage.Format.Format_RGB32
        assert "shown at 8192x8192 of 16384x16384" in item.label
        assert view.before_image() is not None
        assert decodes == [screen_fit()]  # the result, once, for the screen
        view.set_zoom(0.9 / view.canvases()[-1].devicePixelRatioF())  # zoomed, but still
        assert view.zoom_percent() == 90  # fewer than one reduced pixel per screen pixel
        await asyncio.sleep(0.2)
        assert decodes == [screen_fit()] and view.current_item().image is item.image
        view.set_zoom(4.0, QPointF(side / 4, side / 4))  # zoomed in past its pixels
        looked_at = view.view_center()
        deadline = time.monotonic() + 60
        while view.current_item().image.width() != 8192:
            assert time.monotonic() < deadline, "no full-size decode"
            await asyncio.sleep(0.05)
        assert decodes == [screen_fit(), None]  # then at full size (at most 8192 px)
        ratio = 8192 / side  # the same zoom and the same place, in the full size's pixels
        assert view.zoom() == pytest.approx(4.0 / ratio)
        assert view.view_center().x() == pytest.approx(looked_at.x() * ratio, rel=1e-3)
        assert view.view_center().y() == pytest.approx(looked_at.y() * ratio, rel=1e-3)
        view.set_mode(CompareMode.DIFFERENCE)
        deadline = time.monotonic() + 60
        while view.difference_image() is None:
            assert time.monotonic() < deadline, "no difference image"
            await asyncio.sleep(0.05)
        assert view.difference_fraction() is not None
        await window.workbench.idle()

    loop.run_until_complete(body())
    thumb = Image.open(services.assets.thumbnail(result, 128))
    assert thumb.size == (128, 128)


def test_100_percent_on_a_reduced_result_shows_its_real_pixels(
        window: RestyleWindow, loop: asyncio.AbstractEventLoop) -> None:
    """"100 %" means one real pixel per screen pixel: the full size comes in at 100 %."""
    services = window.services
    result = services.assets.put(grey_jpeg(3000, 3000), "image/jpeg", width=3000, height=3000)
    now = time.time()
    job = Job(id="c" * 32, spec=JobSpec("local", "upscale", {"image": ["in.jpg"]}, {}),
              state=JobState.SUCCEEDED, created_at=now, updated_at=now, finished_at=now,
              outputs=(Output(0, result.sha256, result.mime, result.size, 3000, 3000),))
    services.history.save_job(job, assets=[result])

    async def body() -> None:
        await window.start()
        assert await window.workbench.show_job(job.id) is not None
        view = window.compare_view
        assert view.current_item().image.width() < 3000  # decoded for the screen
        view.zoom_actual()
        deadline = time.monotonic() + 30
        while view.current_item().image.width() != 3000:
            assert time.monotonic() < deadline, "no full-size decode"
            await asyncio.sleep(0.05)
        assert view.zoom_percent() == 100
        await window.workbench.idle()

    loop.run_until_complete(body())


def test_memory_goes_back_to_the_system_while_jobs_are_opened_quickly(
        window: RestyleWindow, loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a job every 150 ms (clicking through the history) still hands freed picture
    memory back (malloc_trim) about twice a second, not only once the clicking stops."""
    from desktop.core import heap

    trims: list[float] = []
    monkeypatch.setattr(heap, "trim", lambda: trims.append(time.monotonic()) or True)
    services = window.services
    now = time.time()
    ids = []
    for i in range(8):
        picture = io.BytesIO()
        Image.new("RGB", (64, 48), (20 * i, 90, 90)).save(picture, "PNG")
        asset = services.assets.put(picture.getvalue(), "image/png", width=64, height=48)
        job = Job(id=f"{i:032x}", spec=JobSpec("local", "upscale", {}, {}),
                  state=JobState.SUCCEEDED, created_at=now + i, updated_at=now + i,
                  finished_at=now + i,
                  outputs=(Output(0, asset.sha256, asset.mime, asset.size, 64, 48),))
        services.history.save_job(job, assets=[asset])
        ids.append(job.id)

    async def body() -> None:
        await window.start()
        started = time.monotonic()
        for job_id in ids:
            assert await window.workbench.show_job(job_id) is not None
            await asyncio.sleep(0.15)
        clicking = time.monotonic() - started
        assert clicking > 1.0
        assert trims and trims[0] < started + clicking, "no trim while jobs kept opening"
        await window.workbench.idle()

    loop.run_until_complete(body())


def test_every_host_of_the_window_caps_the_heap_arenas(
        home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only `restyle` (main): tests and benchmarks that build the window get the same heap
    settings, so what they measure is what users run."""
    from desktop.core import heap

    calls: list[bool] = []
    monkeypatch.setattr(heap, "install", lambda: calls.append(True) or True)
    win = create_main_window(home)
    qtbot.addWidget(win)
    assert calls == [True]
    loop.run_until_complete(win.aclose())
