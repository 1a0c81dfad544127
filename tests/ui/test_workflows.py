"""VistoureAI workflows in the real window, offscreen, against the emulator: a workflow's image
inputs as panes named after them (mandatory ones marked), per-node progress in the queue, the
video result played in place (or the system player offered), saved as the file it is, and an
image parameter given a local file."""

from __future__ import annotations

import asyncio
import base64
import html
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from desktop.app import RestyleWindow
from desktop.core.model import Job, JobState, OutputKind
from desktop.ui import video_view
from desktop.ui.video_view import VideoView
from tests.emulators.kit import serve
from tests.emulators.vistoure import CLIP, LOOKBOOK, VistoureEmulator
from tests.ui.test_window import drop_files, finished, image_file, until, window_factory

__all__ = ["window_factory"]  # the fixture, shared with the window tests

LOOKBOOK_KEY = f"vistoure:workflow:{LOOKBOOK}"
STUDIO_KEY = "vistoure:workflow:Professional Studio Portrait"
MODEL, SHIRT, BACKDROP = ("Dress_Model.model_image", "Dress_Model.garment_image",
                          "Backdrop.background_image")
needs_player = pytest.mark.skipif(not video_view.multimedia_available(),
                                  reason="Qt Multimedia (PySide6-Addons) is not installed")


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, home: Path) -> Iterator[VistoureEmulator]:
    emu = VistoureEmulator(job_delay=0.2)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VISTOURE_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VISTOURE_API_KEY", emu.api_key)
        yield emu


async def open_workflow(window: RestyleWindow, key: str, first_role: str) -> None:
    await window.start()
    await until(lambda: window.task_selector.select_key(key), 10, "the workflows listed")
    window.provider_selector.set_checked(["vistoure"])
    await until(lambda: first_role in window.panes and window.panes[first_role]
                .isVisibleTo(window), 10, "the workflow's panes")


def mark_shown(window: RestyleWindow, role: str) -> bool:
    mark = window.panes[role].findChild(QLabel, "requiredMark")
    return mark is not None and mark.isVisibleTo(window)


def test_workflow_image_inputs_are_panes_named_after_them(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator, tmp_path: Path) -> None:
    person = image_file(tmp_path / "model.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    window = window_factory()

    async def body() -> None:
        await open_workflow(window, LOOKBOOK_KEY, MODEL)
        panes = window.panes
        shown = [(r, p.title()) for r, p in panes.items() if p.isVisibleTo(window)]
        assert shown == [(MODEL, "Model image"), (SHIRT, "Garment image"),
                         (BACKDROP, "Background image")]
        assert [mark_shown(window, r) for r, _t in shown] == [True, True, False]
        assert panes[MODEL].accessibleName() == "Model image input, required"
        title = panes[BACKDROP].findChild(QLabel, "titleLabel")
        assert title is not None and title.toolTip().startswith(
            "Optional image input `Backdrop.background_image` of the workflow")
        hint = panes[BACKDROP].findChild(QLabel, "dropHint")
        assert hint is not None and hint.text() == ("Drop an image here, paste, or click to "
                                                    "browse")
        # The images are panes, not text fields; the other inputs stay parameters.
        form = window.params_form
        assert form.editor(SHIRT) is None and form.editor(BACKDROP) is None
        assert form.editor("Backdrop.prompt") is not None
        await until(lambda: "Add the Model image." in window.problem_label.text(), 5,
                    "the missing mandatory inputs named")
        assert "Add the Garment image." in window.problem_label.text()
        assert "Background" not in window.problem_label.text()  # optional: not asked for
        assert not window.generate_button.isEnabled()
        drop_files(panes[MODEL], [person])
        drop_files(panes[SHIRT], [shirt])
        await until(lambda: window.generate_button.isEnabled(), 10,
                    "Generate enabled: " + window.problem_label.text())
        # Another workflow: its own pane; the Lookbook's images are kept, not thrown away.
        assert window.task_selector.select_key(STUDIO_KEY)
        await until(lambda: "User_Garment.garment_image" in panes and
                    panes["User_Garment.garment_image"].isVisibleTo(window), 10)
        assert not panes[MODEL].isVisibleTo(window)
        assert mark_shown(window, "User_Garment.garment_image")
        assert window.task_selector.select_key(LOOKBOOK_KEY)
        await until(lambda: panes[MODEL].isVisibleTo(window), 10)
        assert panes[MODEL].sources() == [str(person)]
        assert panes[SHIRT].sources() == [str(shirt)]
        # Common tasks mark nothing: there every pane is needed.
        assert window.task_selector.select_key("tryon")
        window.provider_selector.set_checked(["local"])
        await until(lambda: panes["person"].isVisibleTo(window), 5)
        assert not mark_shown(window, "person")

    loop.run_until_complete(body())


def test_a_workflow_shows_node_progress_then_plays_and_saves_its_video(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator, tmp_path: Path, home: Path) -> None:
    emulator.job_delay = 8.0  # four nodes of 2 s, polled every 0.25 s: the queue sees each
    settings = home / "config" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"providers": {"vistoure": {"poll_interval": 0.25}}}))
    person = image_file(tmp_path / "model.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    window = window_factory()
    seen: list[tuple[float | None, str]] = []

    async def body() -> Job:
        await open_workflow(window, LOOKBOOK_KEY, MODEL)
        drop_files(window.panes[MODEL], [person])
        drop_files(window.panes[SHIRT], [shirt])
        await until(lambda: window.generate_button.isEnabled(), 10)
        QTest.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        await until(lambda: window.job_queue.running_count() == 1, 10, "the job started")
        job_id = window.workbench._batch[0]

        def watch() -> bool:
            job = window.job_queue.job(job_id)
            if job is not None:
                seen.append((job.progress, window.job_queue.row_text(job_id)))
            return "Node 3 of 4: upscaling" in seen[-1][1] if seen else False

        await until(watch, 20, "the third node in the queue")
        return await finished(window, job_id, 30)

    job = loop.run_until_complete(body())
    assert job.state == JobState.SUCCEEDED, job.error
    # The queue said where the run was, in words and as a share of the nodes.
    progress = [p for p, text in seen if "Node 3 of 4: upscaling" in text]
    assert progress and progress[-1] == pytest.approx(0.625)
    assert [o.kind for o in job.outputs] == [OutputKind.IMAGE, OutputKind.VIDEO]
    assert window.job_queue.row_text(job.id).startswith("VistoureAI · Lookbook Video")
    view = window.compare_view
    # The photo is compared with the model photo (the workflow's person), not the garment.
    loop.run_until_complete(until(lambda: view.before_image() is not None, 10))
    assert view.before_image().size().toTuple() == (300, 400)

    async def show_video() -> None:
        await until(lambda: view.strip().count() == 2, 10, "both results in the strip")
        strip = view.strip()
        rect = strip.visualItemRect(strip.item(1))
        QTest.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0),
                         rect.center())
        await until(view.is_showing_video, 5, "the video page")

    loop.run_until_complete(show_video())
    player = view.video_view()
    assert player.path() is not None and player.path().read_bytes() == CLIP
    assert "lookbook_video" in player.title_label.text()
    if player.has_player():
        play = player.findChild(QPushButton, "videoPlayButton")
        assert play is not None and play.text() == "Play"
        QTest.mouseClick(play, Qt.MouseButton.LeftButton)
        loop.run_until_complete(until(lambda: player.position_ms() > 0, 10, "the video plays"))
        assert player.duration_ms() == 2000 and play.text() == "Pause"
        # Its frames are on screen: the clip is 160 x 120.
        loop.run_until_complete(until(lambda: player.frames_shown() > 0, 10, "a frame on screen"))
        assert player.frame().size().toTuple() == (160, 120)
    # File > Save result saves the video as it is; before/after has nothing to pair.
    saved = loop.run_until_complete(window.workbench.exports.export_to(tmp_path / "lookbook",
                                                                      pair=False))
    assert saved == tmp_path / "lookbook.mp4" and saved.read_bytes() == CLIP
    window.save_action.trigger()
    dialog = window.workbench.exports._file_dialog
    assert dialog is not None and dialog.windowTitle() == "Save video"
    assert dialog.selectedFiles()[0].endswith(".mp4")
    dialog.reject()
    window.save_pair_action.trigger()
    assert "A video has no before/after image" in window.statusBar().currentMessage()
    # Copy result copies the file (for a file manager or a chat), not the poster.
    window.copy_action.trigger()
    copied = QApplication.clipboard().mimeData()
    assert [Path(u.toLocalFile()).read_bytes() for u in copied.urls()] == [CLIP]
    # Back to the photo: the player stops, the before/after pair shows.
    view.set_current(0)
    assert not view.is_showing_video() and not player.is_playing()


class _Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def take(self, url: QUrl) -> None:
        self.urls.append(url)


def test_without_qt_multimedia_the_system_player_is_offered(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(video_view, "multimedia_available", lambda: False)
    image = image_file(tmp_path / "look.png", (90, 20, 160), (200, 200))
    window = window_factory()

    async def body() -> Job:
        await window.start()
        await until(lambda: window.task_selector.select_key("vistoure:video"), 10)
        window.provider_selector.set_checked(["vistoure"])
        drop_files(window.panes["image"], [image])
        await until(lambda: window.generate_button.isEnabled(), 10)
        QTest.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        await until(lambda: bool(window.workbench._batch), 10)
        job = await finished(window, window.workbench._batch[0], 20)
        await until(window.compare_view.is_showing_video, 10, "the video page")
        return job

    job = loop.run_until_complete(body())
    assert job.state == JobState.SUCCEEDED and job.outputs[0].kind == OutputKind.VIDEO
    player = window.compare_view.video_view()
    assert not player.has_player()
    message = player.findChild(QLabel, "videoMessage")
    assert message is not None and 'pip install "restyle[video]"' in message.text()
    opened = _Opened()
    QDesktopServices.setUrlHandler("file", opened, "take")
    try:
        button = player.findChild(QPushButton, "videoOpenExternal")
        assert button is not None and button.isVisibleTo(window)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()).read_bytes() for u in opened.urls] == [CLIP]
    assert "Opened" in message.text()
    # No program for videos: a sentence says what to do instead.
    monkeypatch.setattr(video_view.QDesktopServices, "openUrl", lambda _url: False)
    assert player.open_external() is False
    assert message.text().startswith("No program on this computer opened MP4 videos. Save the "
                                     "video with File > Save result…")


@needs_player
def test_a_video_the_player_cannot_decode_says_so(qtbot: Any, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"an error page saved as a video " * 10)
    view = VideoView()
    qtbot.addWidget(view)
    view.set_video(broken, "Broken")
    view.play()
    message = view.findChild(QLabel, "videoMessage")
    assert message is not None
    qtbot.waitUntil(lambda: message.text().startswith("This video cannot be played here ("),
                    timeout=10000)
    assert "Open it in the system's player" in message.text()
    assert view.findChild(QPushButton, "videoOpenExternal").isEnabled()


def test_a_local_path_in_an_image_parameter_is_read_like_an_input(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator, tmp_path: Path) -> None:
    """A form row naming a tool's image field (`garment_image`) with a file path: the file is
    read, checked and sent as base64, and a bad one gets the sentence under the form."""
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list, not a picture")
    window = window_factory()

    async def type_row(name: str, value: str) -> None:
        extra = window.params_form.extra_rows()
        assert extra is not None
        QTest.mouseClick(extra.add_button, Qt.MouseButton.LeftButton)
        _n, _name, _value, name_edit, value_edit = extra.entries()[-1]
        QTest.keyClicks(name_edit, name)
        QTest.keyClicks(value_edit, value)

    async def body() -> tuple[str, Job]:
        await window.start()
        await until(lambda: window.task_selector.select_key("vistoure:virtual_model"), 10)
        window.provider_selector.set_checked(["vistoure"])
        await until(lambda: window.params_form.extra_rows() is not None, 5)
        # Nothing of the form before (none here) comes along as a free-form row.
        assert window.params_form.extra_rows().entries() == []
        await type_row("garment_image", str(notes))
        await until(lambda: window.generate_button.isEnabled(), 10)
        QTest.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        await until(lambda: "names an image to read" in window.problem_label.text(), 10,
                    "the sentence under the form")
        await window.workbench.idle()
        QTest.qWait(50)  # the form's refresh runs: the sentence stays until something changes
        refused = html.unescape(window.problem_label.text())
        assert window.problem_label.isVisibleTo(window)
        value_edit = window.params_form.extra_rows().entries()[-1][4]
        value_edit.clear()
        QTest.keyClicks(value_edit, str(shirt))
        await until(lambda: window.generate_button.isEnabled(), 10)
        QTest.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        await until(lambda: bool(window.workbench._batch), 10)
        return refused, await finished(window, window.workbench._batch[0], 20)

    refused, job = loop.run_until_complete(body())
    assert refused.startswith("VistoureAI: Parameter 'garment_image' names an image to read: "
                              "notes.jpg"), refused
    assert job.state == JobState.SUCCEEDED, job.error
    assert list(job.inputs) == ["garment"] and "garment_image" not in job.spec.params
    sent = [r.json()["input"] for r in emulator.requests_to("POST", "/api/v3/run")]
    assert len(sent) == 1 and str(shirt) not in json.dumps(sent)
    assert base64.b64decode(sent[0]["garment_image"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_file_dropped_on_a_workflow_pane_gets_the_sentence(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator, tmp_path: Path) -> None:
    notes = tmp_path / "backdrop.jpg"
    notes.write_text("not a picture")
    window = window_factory()

    async def body() -> None:
        await open_workflow(window, LOOKBOOK_KEY, MODEL)
        drop_files(window.panes[BACKDROP], [notes])
        await until(lambda: bool(window.panes[BACKDROP].error_text()), 10, "the pane's error")

    loop.run_until_complete(body())
    pane = window.panes[BACKDROP]
    assert pane.sources() == [] and pane.error_text().startswith("backdrop.jpg")
    assert pane.findChild(QLabel, "errorLabel").isVisibleTo(window)


def test_leaving_a_workflow_for_a_tool_takes_none_of_its_parameters(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        emulator: VistoureEmulator) -> None:
    window = window_factory()

    async def body() -> None:
        await open_workflow(window, LOOKBOOK_KEY, MODEL)
        await until(lambda: window.params_form.editor("Backdrop.prompt") is not None, 5)
        assert window.task_selector.select_key("vistoure:virtual_model")
        window.provider_selector.set_checked(["vistoure"])
        await until(lambda: window.params_form.extra_rows() is not None, 5)

    loop.run_until_complete(body())
    assert window.params_form.extra_rows().entries() == []
    assert window.workbench.params_for("vistoure") == {}
