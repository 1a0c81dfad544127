"""The real window, offscreen: drops, task and provider choice, generating with the offline
provider and with emulator-backed ones, compare modes, history across windows, cancel, errors,
exports and the session restored from QSettings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QListView, QPushButton, QWidget

from desktop.app import RestyleWindow, create_main_window
from desktop.core.model import ErrorCode, Job, JobState
from desktop.core.store import JobFilter
from desktop.ui.compare_view import CompareMode
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vistoure import VistoureEmulator

OBJECT_NAMES = ("personPane", "garmentPane", "roomPane", "imagePane", "taskSelector",
                "providerSelector", "paramsForm", "generateButton", "jobQueue", "compareView",
                "historyView")


def image_file(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (320, 240)
               ) -> Path:
    img = Image.new("RGB", size, (230, 230, 230))
    img.paste(color, (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4))
    img.save(path)
    return path


async def until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


def drop_files(target: QWidget, paths: list[Path]) -> None:
    """What a file manager does: drag enter, then drop, with file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(target.width() / 2, target.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted(), "the pane refused a drag of image files"
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)


@pytest.fixture
def window_factory(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop
                   ) -> Iterator[Callable[[], RestyleWindow]]:
    windows: list[RestyleWindow] = []

    def make() -> RestyleWindow:
        window = create_main_window(home)
        qtbot.addWidget(window)
        window.resize(1360, 860)
        windows.append(window)
        return window

    yield make
    for window in windows:
        loop.run_until_complete(window.aclose())


def choose(window: RestyleWindow, task_key: str, providers: list[str]) -> None:
    assert window.task_selector.select_key(task_key), task_key
    window.provider_selector.set_checked(providers)


async def generate(window: RestyleWindow) -> list[Job]:
    await until(lambda: window.generate_button.isEnabled(), 10,
                "Generate enabled: " + window.problem_label.text())
    return await window.workbench.generate()


async def finished(window: RestyleWindow, job_id: str, timeout: float = 30.0) -> Job:
    await until(lambda: (j := window.job_queue.job(job_id)) is not None and j.state.terminal,
                timeout, f"job {job_id} to finish")
    await window.workbench.idle()
    job = window.job_queue.job(job_id)
    assert job is not None
    return job


def test_the_public_object_names_exist(window_factory: Callable[[], RestyleWindow]) -> None:
    window = window_factory()
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    assert not window.isVisible()


def test_local_tryon_from_dropped_files_to_compare_view_and_history(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    garment = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    window = window_factory()

    async def body() -> Job:
        await window.start()
        choose(window, "tryon", ["local"])
        assert window.panes["person"].isVisibleTo(window)
        assert window.panes["garment"].isVisibleTo(window)
        assert not window.panes["room"].isVisibleTo(window)
        assert not window.generate_button.isEnabled()  # no inputs yet
        drop_files(window.panes["person"], [person])
        drop_files(window.panes["garment"], [garment])
        await until(lambda: window.panes["garment"].sources() == [str(garment)])
        jobs = await generate(window)
        assert [j.provider for j in jobs] == ["local"]
        job = await finished(window, jobs[0].id)
        await until(lambda: window.compare_view.current_item() is not None)
        return job

    job = loop.run_until_complete(body())
    assert job.state == JobState.SUCCEEDED
    assert window.job_queue.row_text(job.id).startswith("Local (offline) · Try-on")
    view = window.compare_view
    assert view.before_image() is not None and view.before_image().width() == 300
    assert window.result_panel.job() is not None and window.result_panel.job().id == job.id
    # Every compare mode keeps the zoom and position.
    view.set_zoom(2.0)
    zoom, centre = view.zoom(), view.view_center()
    for mode in CompareMode:
        view.set_mode(mode)
        assert view.mode() == mode
        assert view.zoom() == pytest.approx(zoom)
        assert view.view_center() == centre
    history = window.findChild(QListView, "historyView")
    assert history is not None and history.model().rowCount() >= 1

    # A new window on the same folder finds the job in its history.
    again = window_factory()
    loop.run_until_complete(again.start())
    assert job.id in again.history_panel.job_ids_loaded()


def test_a_bad_file_shows_the_imaging_error_and_changes_nothing(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    good = image_file(tmp_path / "room.png", (90, 90, 90))
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    window = window_factory()

    async def body() -> None:
        await window.start()
        choose(window, "upscale", ["local"])
        pane = window.panes["image"]
        drop_files(pane, [good])
        await until(lambda: pane.sources() == [str(good)])
        drop_files(pane, [corrupt])
        await until(lambda: bool(pane.error_text()))

    loop.run_until_complete(body())
    pane = window.panes["image"]
    assert pane.sources() == [str(good)]
    assert "broken.png" in pane.error_text()
    assert window.services.history.count() == 0


def test_several_providers_give_one_job_each_and_a_grid(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    person = image_file(tmp_path / "p.png", (200, 150, 120), (300, 400))
    garment = image_file(tmp_path / "g.png", (30, 60, 200), (200, 200))
    emu = FitInViewEmulator(job_delay=0.1)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = window_factory()

        async def body() -> list[Job]:
            await window.start()
            choose(window, "tryon", ["local", "fitinview"])
            assert window.params_provider.isVisibleTo(window)
            await until(lambda: "FitInView" in window.cost_label.text(), 5, "the cost")
            await window.panes["person"].add_sources([str(person)])
            await window.panes["garment"].add_sources([str(garment)])
            jobs = await generate(window)
            done = [await finished(window, j.id) for j in jobs]
            await until(window.compare_view.is_grid, 10, "the grid of results")
            return done

        jobs = loop.run_until_complete(body())
    assert sorted(j.provider for j in jobs) == ["fitinview", "local"]
    assert all(j.state == JobState.SUCCEEDED for j in jobs), [j.error for j in jobs]
    assert len(emu.requests_to("POST", "/api/v1/tryon")) == 1
    # Before plus one cell per provider, all showing the same region.
    canvases = window.compare_view.canvases()
    assert len(canvases) == 3
    # Clicking a provider's cell makes its job the one described and exported.
    by_provider = {j.provider: j for j in jobs}
    for cell in canvases[1:]:
        QTest.mouseClick(cell, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         cell.rect().center())
        shown = window.result_panel.job()
        assert shown is not None and window.workbench.results.shown_job is not None
        assert shown.id == window.workbench.results.shown_job.id
        assert window.job_queue.current_job_id() == shown.id
    shown_ids = set()
    for cell in canvases[1:]:
        QTest.mouseClick(cell, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         cell.rect().center())
        shown_ids.add(window.result_panel.job().id)
    assert shown_ids == {j.id for j in by_provider.values()}
    assert "FitInView" in window.credits_label.text()


def test_staging_variations_fill_the_output_strip(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    room = image_file(tmp_path / "room.png", (180, 160, 140), (640, 480))
    emu = VirtualStagingEmulator(job_delay=0.1)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emu.api_key)
        window = window_factory()

        async def body() -> Job:
            await window.start()
            choose(window, "staging", ["virtualstaging"])
            assert window.panes["room"].isVisibleTo(window)
            await window.panes["room"].add_sources([str(room)])
            window.params_form.set_values({"variation_count": 3})
            jobs = await generate(window)
            job = await finished(window, jobs[0].id)
            await until(lambda: window.compare_view.strip().count() == 3, 10, "three outputs")
            return job

        job = loop.run_until_complete(body())
    assert job.state == JobState.SUCCEEDED and len(job.outputs) == 3


def test_a_wrong_key_fails_with_the_providers_sentence_and_a_settings_button(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    person = image_file(tmp_path / "p.png", (200, 150, 120), (300, 400))
    garment = image_file(tmp_path / "g.png", (30, 60, 200), (200, 200))
    emu = FitInViewEmulator(job_delay=0.1)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", "fiv_live_wrong")
        window = window_factory()

        async def body() -> Job:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(person)])
            await window.panes["garment"].add_sources([str(garment)])
            jobs = await generate(window)
            return await finished(window, jobs[0].id)

        job = loop.run_until_complete(body())
    assert job.state == JobState.FAILED and job.error is not None
    assert job.error.code == ErrorCode.AUTH_FAILED
    window.job_queue.select_job(job.id)
    assert job.error.message in window.job_queue.row_text(job.id) or \
        job.error.message[:40] in window.job_queue.row_text(job.id)
    buttons = [b for b in window.job_queue.findChildren(QPushButton)
               if "settings" in b.text().lower() and b.isVisibleTo(window.job_queue)]
    assert buttons, "no button to the provider's settings"
    with qt_signal(window.job_queue.settingsRequested) as got:
        buttons[0].click()
    assert got == ["fitinview"]
    assert "fiv_live_wrong" not in window.job_queue.row_text(job.id)


class qt_signal:
    """Collect a signal's first arguments while the block runs."""

    def __init__(self, signal: Any) -> None:
        self.signal = signal
        self.got: list[Any] = []

    def __enter__(self) -> list[Any]:
        self.signal.connect(self._slot)
        return self.got

    def _slot(self, *args: Any) -> None:
        self.got.append(args[0] if args else None)

    def __exit__(self, *exc: object) -> None:
        self.signal.disconnect(self._slot)


def test_cancel_a_slow_job(window_factory: Callable[[], RestyleWindow],
                           loop: asyncio.AbstractEventLoop, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    person = image_file(tmp_path / "p.png", (200, 150, 120), (300, 400))
    garment = image_file(tmp_path / "g.png", (30, 60, 200), (200, 200))
    emu = FitInViewEmulator(job_delay=60.0)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = window_factory()

        async def body() -> Job:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(person)])
            await window.panes["garment"].add_sources([str(garment)])
            jobs = await generate(window)
            await until(lambda: window.job_queue.job(jobs[0].id).state == JobState.RUNNING)
            window.job_queue.cancelRequested.emit(jobs[0].id)
            # FitInView has accepted it: Restyle asks first, in plain words.
            attention = window.workbench.attention
            await until(lambda: attention.dialog() is not None, 5, "the confirmation")
            box = attention.dialog()
            assert box is not None
            assert "FitInView has accepted this job, so it may be charged" in box.text()
            assert "FitInView cannot cancel jobs" in box.informativeText()
            yes = box.findChild(QPushButton, "abandonConfirmYes")
            assert yes is not None and yes.text() == "Cancel job"
            yes.click()
            return await finished(window, jobs[0].id, 10)

        job = loop.run_until_complete(body())
    assert job.state == JobState.CANCELLED
    assert job.error is not None and "may still finish there and be charged" in \
        job.error.message


def test_vistoure_workflows_are_tasks_with_forms_from_their_manifest(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu = VistoureEmulator()
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VISTOURE_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VISTOURE_API_KEY", emu.api_key)
        window = window_factory()

        async def body() -> None:
            await window.start()
            await window.workbench.idle()
            key = "vistoure:workflow:Professional Studio Portrait"
            assert window.task_selector.select_key(key)
            await until(lambda: window.params_form.editor("Upscale.upscale_factor")
                        is not None, 10, "the workflow form")

        loop.run_until_complete(body())
    assert window.params_form.values()["workflow"] == "Professional Studio Portrait"


def test_session_is_restored_and_exports_work(window_factory: Callable[[], RestyleWindow],
                                             loop: asyncio.AbstractEventLoop,
                                             tmp_path: Path) -> None:
    image = image_file(tmp_path / "in.png", (200, 40, 40), (200, 100))
    window = window_factory()

    async def body() -> Job:
        await window.start()
        choose(window, "reframe", ["local"])
        await window.panes["image"].add_sources([str(image)])
        jobs = await generate(window)
        job = await finished(window, jobs[0].id)
        await until(lambda: window.compare_view.current_item() is not None)
        return job

    loop.run_until_complete(body())
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("png", "jpg", "webp")}
    for path in outputs.values():
        assert loop.run_until_complete(window.workbench.exports.export_to(path, pair=False)) == path
    assert Image.open(outputs["jpg"]).format == "JPEG"
    assert Image.open(outputs["webp"]).format == "WEBP"
    pair = loop.run_until_complete(
        window.workbench.exports.export_to(tmp_path / "pair.png", pair=True))
    assert pair is not None and Image.open(pair).width > Image.open(outputs["png"]).width
    window.workbench.exports.copy_result()
    assert not QApplication.clipboard().image().isNull()
    window.close()  # saves the session

    again = window_factory()
    loop.run_until_complete(again.start())
    assert again.task_selector.current_key() == "reframe"
    assert again.provider_selector.checked() == ["local"]


def test_unfinished_jobs_resume_into_the_queue(window_factory: Callable[[], RestyleWindow],
                                              loop: asyncio.AbstractEventLoop,
                                              tmp_path: Path) -> None:
    """A job that was never sent is closed honestly and shows in the queue at start-up."""
    from desktop.core.model import JobSpec

    window = window_factory()
    stuck = Job(id="f" * 32, spec=JobSpec("local", "upscale", {"image": [str(tmp_path / "x")]}),
                state=JobState.QUEUED, created_at=time.time(), updated_at=time.time())
    window.services.history.save_job(stuck)
    loop.run_until_complete(window.start())
    loop.run_until_complete(window.workbench.idle())
    assert stuck.id in window.job_queue.job_ids()
    job = window.services.history.get(stuck.id)
    assert job is not None and job.state == JobState.CANCELLED
    assert window.services.history.count(JobFilter(states=(JobState.CANCELLED,))) == 1



def test_keyboard_generate_invalid_form_reuse_rerun_and_delete(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        tmp_path: Path, qtbot: Any) -> None:
    from PySide6.QtWidgets import QLineEdit

    image = image_file(tmp_path / "in.png", (40, 90, 200), (240, 180))
    window = window_factory()
    window.show()
    qtbot.waitExposed(window)

    async def body() -> tuple[Job, Job]:
        await window.start()
        choose(window, "recolor", ["local"])
        await window.panes["image"].add_sources([str(image)])
        colour = window.params_form.editor("color")
        assert isinstance(colour, QLineEdit)
        colour.setText("blurple")  # not a colour: Generate stays off and says why
        await until(lambda: "blurple" in window.problem_label.text(), 5, "the form error")
        assert not window.generate_button.isEnabled()
        colour.setText("crimson")
        window.params_form.editor("seed").setText("0.5,0.5")
        await until(window.generate_button.isEnabled, 5, "Generate enabled")
        window.activateWindow()
        qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: len(window.job_queue.job_ids()) == 1, 10, "Ctrl+Enter to queue")
        first = await finished(window, window.job_queue.job_ids()[0])
        rerun = await window.workbench.actions.rerun(first.id)
        assert rerun is not None
        second = await finished(window, rerun.id)
        return first, second

    first, second = loop.run_until_complete(body())
    assert first.state == second.state == JobState.SUCCEEDED
    assert second.spec.params == first.spec.params and second.inputs == first.inputs

    # Reuse puts task, provider, inputs and parameters back after the form changed.
    async def reuse() -> None:
        choose(window, "upscale", ["local"])
        window.panes["image"].clear()
        await window.workbench.actions.reuse(first.id)
        await window.workbench.idle()

    loop.run_until_complete(reuse())
    assert window.task_selector.current_key() == "recolor"
    assert window.panes["image"].sources() == [str(image)]
    assert window.params_form.values()["color"] == "crimson"

    # Delete removes the job and its files no other job uses; the other job keeps its own.
    out_path = window.services.assets.path_for(first.outputs[0].sha256, first.outputs[0].mime)
    assert out_path.exists()
    loop.run_until_complete(window.workbench.actions.delete(first.id))
    assert window.services.history.get(first.id) is None
    assert first.id not in window.history_panel.job_ids_loaded()
    assert out_path.exists()  # the re-run produced the same pixels: still used
    loop.run_until_complete(window.workbench.actions.delete(second.id))
    assert not out_path.exists()


def test_vtryon_recolour_rows_and_the_providers_before_image(
        window_factory: Callable[[], RestyleWindow], loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """vtryon recolours one of its own results: no upload, target + colour rows in the form,
    and the base pose image fetched from the provider as the before."""
    from tests.emulators.vtryon import VtryonEmulator

    emu = VtryonEmulator(job_delay=0.1)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VTRYON_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VTRYON_API_KEY", emu.api_key)
        window = window_factory()

        async def body() -> Job:
            await window.start()
            choose(window, "recolor", ["vtryon"])
            assert not any(p.isVisibleTo(window) for p in window.panes.values())
            window.params_form.set_values({
                "pose_image_generation_id": emu.seeded_pose_id,
                "models_image_generation_task_id": emu.seeded_model_task_id,
                "color_changes": [{"target": "blouse", "color": "royal blue"}],
            })
            jobs = await generate(window)
            job = await finished(window, jobs[0].id)
            await until(lambda: window.compare_view.before_image() is not None, 10,
                        "the base pose image as before")
            # The before | after export uses the same image, fetched once. The base task is read
            # twice in all: once by the parameter check before the job was stored (it must
            # exist and be completed), once for the before image.
            pair = await window.workbench.exports.export_to(tmp_path / "pair.png", pair=True)
            assert pair is not None and pair.exists()
            pose_path = f"/{emu.seeded_pose_id}/"
            fetched = [r for r in emu.requests if r.method == "GET" and
                       r.path.endswith(pose_path)]
            assert len(fetched) == 2, [r.path for r in emu.requests]
            assert emu.requests[0].path.endswith(pose_path)  # the check, before the POST
            assert emu.requests[1].method == "POST"
            return job

        job = loop.run_until_complete(body())
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.spec.params["color_changes"] == [{"target": "blouse", "color": "royal blue"}]
    before = window.compare_view.before_image()
    assert before is not None and (before.width(), before.height()) == (96, 128)


def test_standard_shortcuts(window_factory: Callable[[], RestyleWindow],
                            loop: asyncio.AbstractEventLoop, tmp_path: Path, qtbot: Any) -> None:
    from PySide6.QtWidgets import QFileDialog

    image = image_file(tmp_path / "in.png", (200, 40, 40), (200, 100))
    window = window_factory()
    window.show()
    qtbot.waitExposed(window)

    async def body() -> None:
        await window.start()
        choose(window, "upscale", ["local"])
        await window.panes["image"].add_sources([str(image)])
        jobs = await generate(window)
        await finished(window, jobs[0].id)
        await until(lambda: window.compare_view.current_item() is not None)

    loop.run_until_complete(body())
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.history_panel.search.hasFocus()
    window.compare_view.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialogs = [d for d in window.findChildren(QFileDialog) if d.isVisible()]
    assert dialogs and dialogs[0].acceptMode() == QFileDialog.AcceptMode.AcceptSave
    assert dialogs[0].selectedFiles()[0].endswith(".png")
    dialogs[0].reject()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.fullscreen_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.fullscreen_action.isChecked()
