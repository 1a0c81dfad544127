"""The furniture mask for the structure check, against the Virtual Staging AI emulator over
real HTTP: the before photo goes to /analyze once (after a one-time question, since the
documentation does not say whether it is billed), the mask is kept by the photo's sha256 and
reused, and failures are one sentence with the local estimate kept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton

from desktop.app import RestyleWindow, create_main_window
from desktop.ui.furniture_masks import CONSENT_TEXT, FurnitureMasks, MaskUnavailable
from tests.emulators.kit import Fault, serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.ui.compare_support import Seeder, png, until


@pytest.fixture
def emu() -> Iterator[tuple[VirtualStagingEmulator, str]]:
    emulator = VirtualStagingEmulator(job_delay=0.1)
    emulator.mask_box = (0.5, 0.5, 1.0, 1.0)  # furniture in the bottom-right quarter
    with serve(emulator) as base:
        yield emulator, base


@pytest.fixture
def staged_window(emu: tuple[VirtualStagingEmulator, str], home: Path, qtbot: Any,
                  loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[RestyleWindow]:
    emulator, base = emu
    monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", base)
    monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emulator.api_key)
    window = create_main_window(home)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    loop.run_until_complete(window.start())
    yield window
    loop.run_until_complete(window.aclose())


def masks_of(window: RestyleWindow) -> FurnitureMasks:
    found = getattr(window.workbench, "masks", None)
    return found if isinstance(found, FurnitureMasks) else FurnitureMasks(window.workbench)


def staging_job(window: RestyleWindow) -> str:
    s = Seeder(window)
    room = s.asset(png((180, 170, 150), (320, 240)))
    job = s.job("s1", "virtualstaging", task="staging", outputs=[(90, 80, 70)])
    job = job.evolve(inputs={"room": [room.sha256]})
    window.services.history.save_job(job, assets=[room])
    return job.id


async def answer_question(masks: FurnitureMasks, button: str) -> None:
    await until(lambda: masks.question is not None and masks.question.isVisible(), 10,
                "the question")
    assert masks.question is not None
    assert masks.question.text() == CONSENT_TEXT
    clicked = masks.question.findChild(QAbstractButton, button)
    assert clicked is not None
    QTest.mouseClick(clicked, Qt.MouseButton.LeftButton)


def white(mask: QImage, x: float, y: float) -> bool:
    return mask.pixelColor(int(x * mask.width()), int(y * mask.height())).value() > 200


def test_the_before_is_analysed_once_and_its_mask_kept(
        staged_window: RestyleWindow, emu: tuple[VirtualStagingEmulator, str],
        loop: asyncio.AbstractEventLoop) -> None:
    window = staged_window
    emulator, _base = emu
    masks = masks_of(window)
    job_id = staging_job(window)

    async def body() -> tuple[QImage | None, QImage | None]:
        await window.workbench.show_job(job_id)
        first = asyncio.ensure_future(masks.mask_for_before())
        await answer_question(masks, "furnitureMaskConsentYes")
        mask = await first
        again = await masks.mask_for_before()  # the same photo: no question, no request
        return mask, again

    mask, again = loop.run_until_complete(body())
    assert mask is not None and again is not None
    assert (mask.width(), mask.height()) == (320, 240)
    assert white(mask, 0.75, 0.75) and not white(mask, 0.25, 0.25)  # the emulator's box
    assert again.pixelColor(240, 180) == mask.pixelColor(240, 180)
    sent = emulator.requests_to("POST", "/analyze")
    assert len(sent) == 1
    assert sent[0].json()["image_url"].startswith("data:image/")
    kept = list((window.services.paths.data_dir / "furniture-masks").iterdir())
    assert len(kept) == 1 and kept[0].suffix == ".mask"
    assert window.services.history.get(job_id).inputs["room"][0] == kept[0].stem


def test_saying_no_asks_nothing_and_a_refusal_is_a_sentence(
        staged_window: RestyleWindow, emu: tuple[VirtualStagingEmulator, str],
        loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    window = staged_window
    emulator, _base = emu
    masks = masks_of(window)
    room = tmp_path / "room.png"
    Image.new("RGB", (300, 200), (150, 150, 140)).save(room)
    staged = tmp_path / "staged.png"
    Image.new("RGB", (300, 200), (120, 110, 100)).save(staged)

    async def body() -> tuple[QImage | None, str]:
        await window.compare_files(room, staged)  # a file's before works like a job's
        declined = asyncio.ensure_future(masks.mask_for_before())
        await answer_question(masks, "furnitureMaskConsentNo")
        result = await declined
        emulator.inject(Fault("status", "POST", "/analyze", status=500, times=10))
        failing = asyncio.ensure_future(masks.mask_for_before())
        await answer_question(masks, "furnitureMaskConsentYes")
        with pytest.raises(MaskUnavailable) as caught:
            await failing
        return result, str(caught.value)

    declined, sentence = loop.run_until_complete(body())
    assert declined is None
    assert sentence.startswith("Virtual Staging AI could not make the furniture mask: ")
    assert "Traceback" not in sentence and emulator.api_key not in sentence
    assert not (window.services.paths.data_dir / "furniture-masks").exists() or not list(
        (window.services.paths.data_dir / "furniture-masks").iterdir())


def test_without_a_key_it_is_a_sentence_and_nothing_is_sent(
        emu: tuple[VirtualStagingEmulator, str], home: Path, qtbot: Any,
        loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    emulator, _base = emu
    window = create_main_window(home)
    qtbot.addWidget(window)
    room = tmp_path / "room.png"
    Image.new("RGB", (300, 200), (150, 150, 140)).save(room)
    masks = masks_of(window)

    async def body() -> str:
        await window.start()
        await window.compare_files(room, room)
        with pytest.raises(MaskUnavailable) as caught:  # at once: no question is asked
            await asyncio.wait_for(masks.mask_for_before(), 20)
        assert await masks.apply() is None  # what the view's button runs: a status sentence
        status = window.statusBar().currentMessage()
        assert status == (str(caught.value) + " The structure check uses its local estimate.")
        return str(caught.value)

    try:
        sentence = loop.run_until_complete(body())
    finally:
        loop.run_until_complete(window.aclose())
    assert sentence == ("Virtual Staging AI is not set up (Settings), so it cannot make a "
                        "furniture mask.")
    assert emulator.requests_to("POST", "/analyze") == []


def test_the_views_button_gets_the_service_mask_into_the_structure_check(
        staged_window: RestyleWindow, emu: tuple[VirtualStagingEmulator, str],
        loop: asyncio.AbstractEventLoop) -> None:
    """Through the real compare view: the structure mode offers Virtual Staging AI's mask
    (it is set up), a click on the offer asks once, and the check then says it used it."""
    from PySide6.QtWidgets import QPushButton

    from desktop.ui.compare_view import CompareMode

    window = staged_window
    emulator, _base = emu
    view = window.compare_view
    job_id = staging_job(window)
    button = view.findChild(QPushButton, "compareAskMask")
    assert button is not None

    async def body() -> str:
        await window.workbench.idle()  # the start's readiness check offered the mask
        await window.workbench.show_job(job_id)
        view.set_mode(CompareMode.STRUCTURE)
        await until(button.isVisible, 10, "the offer of the service's mask")
        assert button.text() == "Use Virtual Staging AI's furniture mask"
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        await answer_question(window.workbench.masks, "furnitureMaskConsentYes")
        await until(lambda: "Virtual Staging AI's furniture mask" in view.status_text(), 20,
                    "the structure check with the service's mask")
        return view.status_text()

    status = loop.run_until_complete(body())
    assert "outside the furniture" in status or "structur" in status.lower()
    assert len(emulator.requests_to("POST", "/analyze")) == 1
    assert window.statusBar().currentMessage() == (
        "The structure check uses Virtual Staging AI's furniture mask.")
