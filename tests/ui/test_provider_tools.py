"""The Tools menu in the real window, driven by real events against the emulators: the vtryon
base pose task picked by its picture from the recolour form's Choose…; recolour tasks listed
and deleted after asking; past renders listed and more variations added as a job (asked first,
with the cost); furniture analysis and multi-view compatibility in plain words; FitInView jobs
imported into the history once; a folder of photos staged as a batch; a provider that is not
set up offering its settings page."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QListWidget,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from desktop.app import RestyleWindow, create_main_window
from desktop.core.model import JobState
from desktop.ui.provider_tools.controller import ToolsController
from desktop.ui.provider_tools.recolor import BaseTaskPicker, RecolourTasksDialog
from desktop.ui.provider_tools.remote_jobs import RemoteJobsDialog
from desktop.ui.provider_tools.staging import RendersDialog, VariationsDialog
from desktop.ui.provider_tools.staging_checks import AnalysisDialog, CompatibilityDialog
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import Fault, serve
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.emulators.vtryon import SEED_MODEL_TASK_ID, SEED_POSE_ID, VtryonEmulator
from tests.providers.test_fitinview import job as fitinview_job
from tests.providers.test_fitinview import provider as fitinview_provider
from tests.providers.test_virtualstaging import job as staging_job
from tests.providers.test_virtualstaging import make as staging_provider
from tests.providers.test_vtryon import job as recolor_job
from tests.providers.test_vtryon import provider as vtryon_provider
from tests.ui.batch_helpers import answer
from tests.ui.test_window import choose, drop_files, until


@dataclass
class Setup:
    window: RestyleWindow
    vsai: VirtualStagingEmulator
    vtryon: VtryonEmulator
    fitinview: FitInViewEmulator
    bases: dict[str, str]

    @property
    def tools(self) -> ToolsController:
        return self.window.workbench.tools

    async def start(self) -> None:
        """The window's start (history, resume, credits), inside the test's own coroutine: its
        background work then runs on the loop the test runs."""
        await self.window.start()
        await self.window.workbench.idle()  # credits and workflows looked up

    async def settle(self) -> None:
        """Let what the test started finish on the running loop before the window closes."""
        settings = self.window.workbench._settings_dialog
        if settings is not None:  # its key status is read in the background
            await asyncio.wait_for(settings._tasks.join(), 20)
        await asyncio.wait_for(self.tools.idle(), 20)
        await asyncio.wait_for(self.window.workbench.idle(), 20)


@pytest.fixture
def setup(home: Path, qtbot: QtBot, loop: asyncio.AbstractEventLoop,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    vsai = VirtualStagingEmulator(job_delay=0.2)
    vtryon = VtryonEmulator(job_delay=0.0)
    fiv = FitInViewEmulator(job_delay=0.1)
    with ExitStack() as stack:
        bases = {}
        for pid, emu in (("VIRTUALSTAGING", vsai), ("VTRYON", vtryon), ("FITINVIEW", fiv)):
            bases[pid] = stack.enter_context(serve(emu))
            monkeypatch.setenv(f"RESTYLE_{pid}_BASE_URL", bases[pid])
            monkeypatch.setenv(f"RESTYLE_{pid}_API_KEY", emu.api_key)
        window = create_main_window(home)
        qtbot.addWidget(window)
        window.resize(1360, 860)
        window.show()
        made = Setup(window, vsai, vtryon, fiv, bases)
        try:
            yield made
        finally:
            try:
                loop.run_until_complete(made.settle())
            finally:
                loop.run_until_complete(window.aclose())


def trigger(setup: Setup, name: str) -> None:
    """Tools › <entry>, as the menu does it."""
    action = setup.tools.actions[name]
    assert action.isEnabled() and action in setup.tools.menu.actions()
    action.trigger()


async def opened(setup: Setup, kind: str) -> Any:
    await until(lambda: setup.tools.dialog(kind) is not None, 10, f"the {kind} dialog")
    dialog = setup.tools.dialog(kind)
    assert dialog is not None and dialog.isVisible()
    await until(lambda: "Loading" not in dialog.status.text(), 20, f"{kind} to load")
    await dialog.settled()
    return dialog


def click(qtbot: QtBot, widget: QWidget) -> None:
    assert widget.isEnabled() and widget.isVisible(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_row(qtbot: QtBot, table: QAbstractItemView, row: int,
              modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    index: QModelIndex = table.model().index(row, 1 if table.model().columnCount() > 1 else 0)
    point = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def click_item(qtbot: QtBot, view: QListWidget, row: int) -> None:
    point: QPoint = view.visualItemRect(view.item(row)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def choose_button(window: RestyleWindow, param: str) -> QPushButton | None:
    """The form's Choose… beside `param` (the form being shown, not one it replaced)."""
    found = [b for b in window.params_form.findChildren(QPushButton, f"choose_{param}")
             if b.isVisible()]
    return found[0] if found else None


def photo(path: Path, size: tuple[int, int] = (320, 240),
          color: tuple[int, int, int] = (180, 170, 150)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


# -- vtryon -------------------------------------------------------------------------------------
async def make_recolours(setup: Setup) -> tuple[int, int]:
    """Two recolours of the seeded pose task and one of another; that other's ids."""
    emu = setup.vtryon
    other_pose, other_model = emu.seed_pose_task()
    p = vtryon_provider(setup.bases["VTRYON"])
    try:
        await p.submit(recolor_job(emu))
        await p.submit(recolor_job(emu, color_changes=[{"target": "skirt", "color": "red"}]))
        await p.submit(recolor_job(emu, pose_image_generation_id=other_pose,
                                   models_image_generation_task_id=other_model))
    finally:
        await p.aclose()
    return other_pose, other_model


def test_the_recolour_form_picks_the_base_task_by_its_picture(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    window = setup.window

    async def body() -> None:
        await setup.start()
        other_pose, other_model = await make_recolours(setup)
        choose(window, "recolor", ["vtryon"])
        await until(lambda: choose_button(window, "pose_image_generation_id") is not None, 10,
                    "Choose…")
        click(qtbot, choose_button(window, "pose_image_generation_id"))
        picker = await opened(setup, "base-task")
        assert isinstance(picker, BaseTaskPicker)
        tasks = picker.tasks()
        assert [(t.pose_id, t.model_task_id, t.recolours) for t in tasks] == [
            (other_pose, other_model, 1), (SEED_POSE_ID, SEED_MODEL_TASK_ID, 2)]
        for i in range(picker.list.count()):  # each shows its picture, not "No picture"
            assert picker.list.item(i).toolTip() == ""
            assert "Pose task" in picker.list.item(i).text()
        assert not picker.use_button.isEnabled()
        click_item(qtbot, picker.list, 0)
        assert picker.model.text() == str(other_model)
        # Another pose task by its number.
        qtbot.keyClicks(picker.number, "99999")
        click(qtbot, picker.lookup_button)
        await until(picker.said_problem, 10, "the look-up")
        assert picker.status.text() == "vtryon has no task 99999 on this account."
        picker.number.clear()
        qtbot.keyClicks(picker.number, str(SEED_POSE_ID))
        QTest.keyClick(picker.number, Qt.Key.Key_Return)
        await until(lambda: "Ready to recolour" in picker.status.text(), 10, "the look-up")
        assert picker.selected() is not None and picker.selected().pose_id == SEED_POSE_ID
        assert picker.model.text() == str(SEED_MODEL_TASK_ID)
        click(qtbot, picker.use_button)
        await until(lambda: setup.tools.dialog("base-task") is None, 5, "the picker to close")
        values = window.params_form.values()
        assert values["pose_image_generation_id"] == SEED_POSE_ID
        assert values["models_image_generation_task_id"] == SEED_MODEL_TASK_ID

    loop.run_until_complete(body())


def test_a_base_task_that_cannot_be_recoloured_cannot_be_used(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    window = setup.window

    async def body() -> None:
        await setup.start()
        waiting, _model = setup.vtryon.seed_pose_task(status="processing")
        choose(window, "recolor", ["vtryon"])
        await until(lambda: choose_button(window, "pose_image_generation_id") is not None, 10,
                    "Choose…")
        click(qtbot, choose_button(window, "pose_image_generation_id"))
        picker = await opened(setup, "base-task")
        assert picker.list.count() == 0 and picker.status.text().startswith(
            "No recolour tasks yet")
        qtbot.keyClicks(picker.number, str(waiting))
        click(qtbot, picker.lookup_button)
        await until(lambda: "Still processing" in picker.status.text(), 10, "the look-up")
        assert picker.said_problem() and not picker.use_button.isEnabled()
        click(qtbot, picker.findChild(QPushButton, "baseTaskCancel"))
        assert "pose_image_generation_id" not in window.params_form.values()

    loop.run_until_complete(body())


def test_recolour_tasks_are_listed_and_deleted_after_asking(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    emu = setup.vtryon

    async def body() -> None:
        await setup.start()
        await make_recolours(setup)
        trigger(setup, "toolsRecolourTasksAction")
        dialog = await opened(setup, "recolour-tasks")
        assert isinstance(dialog, RecolourTasksDialog)
        assert dialog.table.rowCount() == 3 and dialog.status.text() == "3 of 3 recolour tasks."
        newest = dialog.tasks()[0]
        assert dialog.table.item(0, 5).text() == "blouse: royal blue\nlehenga: #112233"
        assert dialog.table.item(0, 0).toolTip() == ""  # its picture loaded
        click_row(qtbot, dialog.table, 1)
        second = dialog.selected()
        assert second is not None and second.id != newest.id
        click(qtbot, dialog.delete_button)
        text = await answer(lambda: dialog.question, "recolourDeleteConfirmCancel")
        assert f"Delete recolour task {second.id} at vtryon for good?" in text
        assert emu.requests_to("DELETE", "/v2/") == [] and int(second.id) in emu.tasks
        click(qtbot, dialog.delete_button)
        await answer(lambda: dialog.question, "recolourDeleteConfirmDelete")
        await until(lambda: "deleted" in dialog.status.text(), 10, "the delete")
        assert dialog.status.text() == (f"Recolour task {second.id} deleted (Deleted "
                                        "successfully).")
        assert int(second.id) not in emu.tasks and dialog.table.rowCount() == 2
        assert second.id not in [t.id for t in dialog.tasks()]
        assert len(emu.requests_to("DELETE", "/v2/")) == 1

    loop.run_until_complete(body())


# -- Virtual Staging AI -------------------------------------------------------------------------
async def make_render(setup: Setup, count: int = 2) -> str:
    p = staging_provider(setup.bases["VIRTUALSTAGING"], setup.vsai.api_key)
    try:
        render_id = (await p.submit(staging_job({"variation_count": count}))).remote_id
        for _ in range(300):
            _render, variations = await p.render_with_variations(render_id)
            if variations and all(v.get("status") == "done" for v in variations):
                return render_id
            await asyncio.sleep(0.03)
        raise AssertionError("the render never finished")
    finally:
        await p.aclose()


def test_past_renders_and_more_variations_as_a_job(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    window, emu = setup.window, setup.vsai

    async def body() -> str:
        await setup.start()
        render_id = await make_render(setup)
        trigger(setup, "toolsRendersAction")
        dialog = await opened(setup, "renders")
        assert isinstance(dialog, RendersDialog)
        assert [r.id for r in dialog.renders()] == [render_id]
        assert [dialog.table.item(0, c).text() for c in (1, 3, 4, 5)] == [
            render_id, "Ready", "2 of 2 ready", "staging"]
        assert dialog.table.item(0, 0).toolTip() == ""  # the picture loaded
        assert not dialog.act_button.isEnabled()
        click_row(qtbot, dialog.table, 0)
        click(qtbot, dialog.act_button)
        await until(lambda: setup.tools.dialog("variations") is not None, 10, "variations")
        adding = setup.tools.dialog("variations")
        assert isinstance(adding, VariationsDialog)
        await until(lambda: "left this period" in adding.cost.text(), 10, "the photo limits")
        spin = adding.form.editor("variation_count")
        assert spin is not None
        spin.setFocus()
        QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(spin, "2")
        await until(lambda: adding.add_button.text() == "Add 2 variations", 5, "the count")
        assert adding.cost.text() == (
            "2 new variations: each counts as one staging photo of your Virtual Staging AI "
            "plan (98 of 100 left this period; 96 after this).")
        click(qtbot, adding.add_button)
        text = await answer(lambda: adding.confirmation, "variationsConfirmCancel")
        assert f"Add 2 variations to render {render_id}?" in text and "96 after this" in text
        assert emu.requests_to("POST", f"/renders/{render_id}/variations") == []
        click(qtbot, adding.add_button)
        await answer(lambda: adding.confirmation, "variationsConfirmAdd")
        await until(lambda: any(window.job_queue.job(j).task == "variations"
                                for j in window.job_queue.job_ids()), 10, "the job")
        job_id = next(j for j in window.job_queue.job_ids()
                      if window.job_queue.job(j).task == "variations")
        await until(lambda: window.job_queue.job(job_id).state.terminal, 30, "the job's end")
        # The list is read again: the render has its new variations.
        await until(lambda: "now has 4 variations" in dialog.status.text(), 10, "the reload")
        assert dialog.table.item(0, 4).text() == "4 of 4 ready"
        assert dialog.selected() is not None and dialog.selected().id == render_id
        return job_id

    job_id = loop.run_until_complete(body())
    job = setup.window.services.history.get(job_id)
    assert job is not None and job.state == JobState.SUCCEEDED and len(job.outputs) == 2
    render_id = job.spec.params["render_id"]
    assert len(setup.vsai.requests_to("POST", f"/renders/{render_id}/variations")) == 1
    assert len(setup.vsai.renders[render_id].variations) == 4
    assert setup.window.history_panel.model.job(job_id) is not None  # in the history panel


def test_the_variations_form_picks_its_render(setup: Setup, qtbot: QtBot,
                                              loop: asyncio.AbstractEventLoop) -> None:
    window = setup.window

    async def body() -> None:
        await setup.start()
        older = await make_render(setup, 1)
        newer = await make_render(setup, 1)
        choose(window, "virtualstaging:variations", ["virtualstaging"])
        await until(lambda: choose_button(window, "render_id") is not None, 10, "Choose…")
        click(qtbot, choose_button(window, "render_id"))
        picker = await opened(setup, "render-picker")
        assert [r.id for r in picker.renders()] == [newer, older]
        assert picker.act_button.text() == "Use this render"
        click_row(qtbot, picker.table, 1)
        click(qtbot, picker.act_button)
        await until(lambda: setup.tools.dialog("render-picker") is None, 5, "the picker")
        assert window.params_form.values()["render_id"] == older
        await until(lambda: window.generate_button.isEnabled(), 10, "Generate")

    loop.run_until_complete(body())


def test_furniture_analysis_in_plain_words(setup: Setup, qtbot: QtBot, tmp_path: Path,
                                          loop: asyncio.AbstractEventLoop) -> None:
    room = photo(tmp_path / "room.png")
    text = tmp_path / "note.jpg"
    text.write_text("not a photo")

    async def body() -> AnalysisDialog:
        await setup.start()
        trigger(setup, "toolsAnalysisAction")
        dialog = await opened(setup, "analysis")
        assert isinstance(dialog, AnalysisDialog)
        assert not dialog.run_button.isEnabled()
        drop_files(dialog.pane, [text])
        await until(lambda: bool(dialog.pane.error_text()), 10, "the refusal")
        assert not dialog.run_button.isEnabled()
        dialog.pane.clear()
        drop_files(dialog.pane, [room])
        await until(lambda: dialog.run_button.isEnabled(), 10, "the photo")
        click(qtbot, dialog.run_button)
        await until(lambda: dialog.mask.isVisible(), 10, "the mask")
        assert dialog.verdict.text() == (
            "Much of the room is furnished (38 % of the photo). Remove the furniture first "
            "(“Remove furniture first”, or the removal render type) before staging it.")
        assert not dialog.mask.pixmap().isNull()
        # A failure is a sentence, the photo stays.
        setup.vsai.inject(Fault("status", "POST", "/analyze", status=500, times=10))
        click(qtbot, dialog.run_button)
        await until(lambda: dialog.said_problem(), 20, "the failure")
        return dialog

    dialog = loop.run_until_complete(body())
    assert dialog.status.text().startswith("The analysis failed: ")
    assert not dialog.verdict.isVisible() and dialog.pane.sources() == [str(room)]
    sent = setup.vsai.requests_to("POST", "/analyze")
    assert sent[0].json()["image_url"].startswith("data:image/png;base64,")


def test_two_photos_staged_together_or_not(setup: Setup, qtbot: QtBot, tmp_path: Path,
                                           loop: asyncio.AbstractEventLoop) -> None:
    one = photo(tmp_path / "one.png")
    two = photo(tmp_path / "two.png", color=(120, 120, 130))
    other = photo(tmp_path / "other.png", (200, 300))

    async def body() -> list[str]:
        await setup.start()
        trigger(setup, "toolsCompatibilityAction")
        dialog = await opened(setup, "compatibility")
        assert isinstance(dialog, CompatibilityDialog)
        said = []
        for number, (first, second) in enumerate(((one, two), (one, other)), start=1):
            dialog.first.clear()
            dialog.second.clear()
            drop_files(dialog.first, [first])
            drop_files(dialog.second, [second])
            await until(lambda: dialog.run_button.isEnabled(), 10, "both photos")
            click(qtbot, dialog.run_button)
            await until(lambda n=number: dialog.verdict.isVisible() and len(
                setup.vsai.requests_to("POST", "/multi-view-compatibility")) == n, 10,
                "the verdict")
            said.append(dialog.verdict.text())
        return said

    said = loop.run_until_complete(body())
    assert said == ["Yes: these two photos can be staged together, with matching furniture.",
                    "No: these two photos cannot be staged together. Virtual Staging AI says: "
                    "The images have different dimensions."]
    assert len(setup.vsai.requests_to("POST", "/multi-view-compatibility")) == 2


def test_a_folder_of_photos_is_staged_as_a_batch(setup: Setup, qtbot: QtBot, tmp_path: Path,
                                                 loop: asyncio.AbstractEventLoop) -> None:
    folder = tmp_path / "listing"
    for i in range(3):
        photo(folder / f"room-{i}.png", color=(150 + 30 * i, 160, 150))
    (folder / "notes.txt").write_text("not a photo")

    async def body() -> Any:
        await setup.start()
        trigger(setup, "toolsBulkStagingAction")
        await until(lambda: setup.tools.folder_dialog is not None, 10, "the folder chooser")
        chooser = setup.tools.folder_dialog
        assert isinstance(chooser, QFileDialog)
        chooser.setDirectory(str(folder))  # inside the folder, then Choose
        chooser.accept()
        batches = setup.window.workbench.batches
        await until(lambda: batches.dialog() is not None, 10, "the New batch dialog")
        dialog = batches.dialog()
        await dialog.settled()
        return dialog

    dialog = loop.run_until_complete(body())
    assert sorted(Path(s).name for s in dialog.rows_list.sources()) == [
        "room-0.png", "room-1.png", "room-2.png"]
    assert dialog.context.task_id == "staging"
    assert dialog.context.ticked == ("virtualstaging",)
    assert setup.vsai.requests_to("POST", "/renders") == []  # nothing sent before Start
    dialog.reject()


# -- FitInView ----------------------------------------------------------------------------------
def test_fitinview_jobs_are_imported_into_the_history_once(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> None:
    window, emu = setup.window, setup.fitinview

    async def body() -> tuple[str, str]:
        await setup.start()
        p = fitinview_provider(setup.bases["FITINVIEW"])
        try:
            first = (await p.submit(fitinview_job("elsewhere-1"))).remote_id
            second = (await p.submit(fitinview_job("elsewhere-2"))).remote_id
        finally:
            await p.aclose()
        await asyncio.sleep(0.3)
        trigger(setup, "toolsRemoteJobsAction")
        dialog = await opened(setup, "remote-jobs")
        assert isinstance(dialog, RemoteJobsDialog)
        assert [j.remote_id for j in dialog.jobs()] == [second, first]
        assert [dialog.table.item(r, 4).text() for r in range(2)] == ["No", "No"]
        assert dialog.table.item(0, 2).text() == "8 credits"
        assert not dialog.import_button.isEnabled()
        click_row(qtbot, dialog.table, 1)
        assert dialog.import_button.text() == "Import into history"
        click(qtbot, dialog.import_button)
        await until(lambda: "Imported 1 job" in dialog.status.text(), 10, "the import")
        assert dialog.table.item(1, 4).text() == "Imported"
        await until(lambda: any(window.job_queue.job(j).remote_id == first
                                and window.job_queue.job(j).state.terminal
                                for j in window.job_queue.job_ids()), 20, "the collection")
        # The imported job is known now: selecting it offers no import.
        click_row(qtbot, dialog.table, 1)
        assert not dialog.import_button.isEnabled()
        click_row(qtbot, dialog.table, 0, Qt.KeyboardModifier.ControlModifier)
        assert dialog.import_button.isEnabled()
        click(qtbot, dialog.refresh_button)
        await until(lambda: "Loading" not in dialog.status.text(), 10, "the refresh")
        assert dialog.table.item(1, 4).text() == "Imported"
        return first, second

    first, _second = loop.run_until_complete(body())
    jobs = setup.window.services.history.list(limit=50)
    assert [j.remote_id for j in jobs] == [first]
    [job] = jobs
    assert job.state == JobState.SUCCEEDED and job.note == "Imported from FitInView's job list."
    assert len(job.outputs) == 1 and len(emu.requests_to("POST", "/api/v1/tryon")) == 2


def test_a_provider_not_set_up_offers_its_settings_page(
        setup: Setup, qtbot: QtBot, loop: asyncio.AbstractEventLoop,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESTYLE_VTRYON_API_KEY")

    async def body() -> Any:
        await setup.start()
        trigger(setup, "toolsRecolourTasksAction")
        text = await answer(lambda: setup.tools.question, "toolsSetUp")
        assert "vtryon is not set up yet." in text and "No API key for vtryon" in text
        await until(lambda: setup.window.workbench._settings_dialog is not None, 10,
                    "the settings")
        return setup.window.workbench._settings_dialog

    settings = loop.run_until_complete(body())
    assert settings.current_provider() == "vtryon"
    assert setup.tools.dialog("recolour-tasks") is None
    assert setup.vtryon.requests == []
    settings.reject()


def test_the_tools_menu_names_each_tool_in_plain_words(setup: Setup) -> None:
    menus = [a.menu() for a in setup.window.menuBar().actions() if a.menu() is not None]
    titles = [m.title() for m in menus]
    assert titles.index("&Tools") == titles.index("&View") - 1
    words = [a.text() for a in setup.tools.menu.actions() if not a.isSeparator()]
    assert words == ["Virtual Staging AI: past renders…",
                     "Virtual Staging AI: stage a folder of photos…",
                     "Virtual Staging AI: furniture analysis…",
                     "Virtual Staging AI: can two photos be staged together?…",
                     "vtryon: recolour tasks…", "FitInView: jobs on your account…"]
    assert all(a.toolTip() and a.toolTip() != a.text() for a in setup.tools.menu.actions()
               if not a.isSeparator())
