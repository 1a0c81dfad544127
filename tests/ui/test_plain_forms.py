"""Issue 11 through the real window: forms in plain words with a folded Advanced section and
fields that hide when they do not apply; several providers at once without losing an image
(each job takes what its provider accepts, and the form says so); ticked providers remembered
per task across a restart; "Set up…" beside a provider that is not ready; rows, history and the
result panel without task descriptions and with human output names; a long error in full."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QToolButton

from desktop.app import RestyleWindow, create_main_window
from desktop.core.model import JobState
from desktop.ui.history_view import detail_text
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.emulators.tryonapi import TryonApiEmulator
from tests.emulators.virtualstaging import VirtualStagingEmulator
from tests.ui.test_window import (
    choose,
    drop_files,
    finished,
    generate,
    image_file,
    until,
)

LONG_REASON = ("The garment could not be separated from its background: the photo shows "
               "several overlapping items on a patterned surface. Photograph the garment alone, "
               "flat, on a plain light background, then try again.")


@pytest.fixture
def window_factory(home: Path, qtbot: Any, loop: asyncio.AbstractEventLoop
                   ) -> Iterator[Callable[[], RestyleWindow]]:
    """Real windows on one data folder (a second one is the same user's next start)."""
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


@pytest.fixture
def closing_is_not_quitting(qapp: QApplication) -> Iterator[None]:
    """As in the application: closing the window does not quit (the test's loop stays up)."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        yield
    finally:
        qapp.setQuitOnLastWindowClosed(before)


def click(widget: QCheckBox | QToolButton) -> None:
    """A left click in the middle of the widget, as a person makes it."""
    assert widget.isVisible(), widget.objectName()
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     widget.rect().center())


def tick(window: RestyleWindow, provider_id: str) -> None:
    box = window.provider_selector.check_box(provider_id)
    assert box is not None, provider_id
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     box.rect().center())


async def choose_by_keys(combo: QComboBox, text: str) -> None:
    """Type the start of an item's name into a (non-editable) combo box, as a keyboard user;
    then pause, so the next typing starts a new search."""
    combo.setFocus()
    QTest.keyClicks(combo, text)
    await asyncio.sleep(QApplication.keyboardInputInterval() / 1000 + 0.1)


def test_staging_form_has_plain_labels_choice_names_and_a_folded_advanced_section(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu = VirtualStagingEmulator(job_delay=0.05)
    room = image_file(tmp_path / "room.png", (180, 160, 140), (640, 480))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emu.api_key)
        window = window_factory()
        window.show()

        async def body() -> None:
            await window.start()
            choose(window, "staging", ["virtualstaging"])
            form = window.params_form
            labels = {n: form.label(n).text() for n in  # type: ignore[union-attr]
                      ("type", "room_type", "style", "remove_furniture", "variation_count")}
            assert labels == {"type": "What to do", "room_type": "Room",
                              "style": "Furniture style",
                              "remove_furniture": "Empty the room first",
                              "variation_count": "Variations"}
            room_box = form.editor("room_type")
            assert isinstance(room_box, QComboBox)
            names = [room_box.itemText(i) for i in range(room_box.count())]
            assert "Living room" in names and "Bedroom" in names and "living" not in names
            assert room_box.currentText() == "Living room"
            label = form.label("room_type")
            assert label is not None and label.toolTip().splitlines()[0] == (
                "Which room this is, so the furniture fits it.")
            # Rarely needed settings are folded away, JSON and webhook among them.
            toggle = form.advanced_toggle
            assert toggle is not None and toggle.objectName() == "paramsAdvancedToggle"
            assert toggle.isVisible() and not toggle.isChecked()
            for name in ("configs", "config", "result", "webhook_url"):
                editor = form.editor(name)
                assert editor is not None and not editor.isVisible(), name
                assert form.is_advanced(name)
            for name in ("type", "room_type", "style", "variation_count"):
                assert not form.is_advanced(name) and form.editor(name).isVisible()  # type: ignore[union-attr]
            click(toggle)
            for name in ("configs", "config", "result", "webhook_url"):
                assert form.editor(name).isVisible(), name  # type: ignore[union-attr]
            webhook = form.editor("webhook_url")
            assert isinstance(webhook, QLineEdit)
            webhook.setFocus()
            QTest.keyClicks(webhook, "https://hooks.example/restyle")
            assert toggle.text() == "Advanced · 1 set"
            style = form.editor("style")
            assert isinstance(style, QComboBox)
            await choose_by_keys(style, "Scan")
            assert style.currentText() == "Scandinavian"
            # The names sent to the API never change.
            values = form.values()
            assert values["room_type"] == "living" and values["style"] == "scandinavian"
            assert values["webhook_url"] == "https://hooks.example/restyle"
            assert "sky" not in values
            await window.panes["room"].add_sources([str(room)])
            jobs = await generate(window)
            job = await finished(window, jobs[0].id)
            assert job.state == JobState.SUCCEEDED, job.error
            assert job.spec.params["style"] == "scandinavian"

        loop.run_until_complete(body())
    sent = next(r.json() for r in emu.requests if r.method == "POST" and
                r.path.endswith("/renders"))
    assert sent["config"]["add_furniture"] == {"room_type": "living", "style": "scandinavian"}


def test_the_sky_shows_only_for_day_to_dusk_and_hidden_fields_are_not_sent(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu = VirtualStagingEmulator(job_delay=0.05)
    room = image_file(tmp_path / "room.png", (180, 160, 140), (640, 480))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emu.api_key)
        window = window_factory()
        window.show()

        async def body() -> None:
            await window.start()
            choose(window, "staging", ["virtualstaging"])
            form = window.params_form
            sky, room_type = form.editor("sky"), form.editor("room_type")
            assert sky is not None and room_type is not None
            assert not sky.isVisible() and room_type.isVisible()
            kind = form.editor("type")
            assert isinstance(kind, QComboBox)
            await choose_by_keys(kind, "Day")
            assert kind.currentData() == "day-to-dusk"
            assert sky.isVisible() and not room_type.isVisible()
            assert not form.editor("style").isVisible()  # type: ignore[union-attr]
            assert isinstance(sky, QComboBox)
            await choose_by_keys(sky, "Gold")
            assert sky.currentText() == "Golden hour"
            assert form.values()["sky"] == "golden" and "room_type" not in form.values()
            # Back to furnishing: the golden sky is hidden and not sent (the service would
            # refuse a sky on a staging render).
            await choose_by_keys(kind, "Furn")
            assert kind.currentData() == "staging"
            assert not sky.isVisible() and room_type.isVisible()
            assert "sky" not in form.values()
            await window.panes["room"].add_sources([str(room)])
            jobs = await generate(window)
            job = await finished(window, jobs[0].id)
            assert job.state == JobState.SUCCEEDED, job.error
            assert job.spec.params.get("sky") in (None, "dusk")  # the default, never "golden"

        loop.run_until_complete(body())


def test_several_providers_keep_every_garment_and_each_job_takes_what_it_accepts(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    garments = [image_file(tmp_path / f"g{i}.png", color, (200, 200))
                for i, color in enumerate(((30, 60, 200), (200, 30, 60), (30, 200, 60)))]
    fiv, tryon = FitInViewEmulator(job_delay=0.05), TryonApiEmulator(job_delay=0.05)
    with serve(fiv) as fiv_base, serve(tryon) as tryon_base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", fiv_base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", fiv.api_key)
        monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", tryon_base)
        monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", tryon.api_key)
        window = window_factory()
        window.show()

        async def body() -> None:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            pane = window.panes["garment"]
            drop_files(window.panes["person"], [person])
            drop_files(pane, garments)
            await until(lambda: len(pane.sources()) == 3, 10, "three garments")
            note = window.findChild(type(window.problem_label), "inputsUsageNote")
            assert note is not None and not note.isVisible()
            tick(window, "tryonapi")
            assert window.provider_selector.checked() == ["fitinview", "tryonapi"]
            assert pane.sources() == [str(g) for g in garments]  # nothing thrown away
            assert note.isVisible() and note.text() == "TryonAPI uses the first garment only."
            tick(window, "fitinview")  # unticked: TryonAPI alone takes one garment
            assert window.provider_selector.checked() == ["tryonapi"]
            assert [p.source for p in pane.all_previews()] == [str(g) for g in garments]
            tick(window, "fitinview")
            assert pane.sources() == [str(g) for g in garments]
            jobs = await generate(window)
            assert [j.provider for j in jobs] == ["fitinview", "tryonapi"], (
                window.problem_label.text())
            by_provider = {j.provider: j for j in jobs}
            assert by_provider["fitinview"].spec.inputs["garment"] == [str(g) for g in garments]
            assert by_provider["tryonapi"].spec.inputs["garment"] == [str(garments[0])]
            for job in jobs:
                done = await finished(window, job.id)
                assert done.state == JobState.SUCCEEDED, done.error

        loop.run_until_complete(body())
    sent = next(r.json() for r in fiv.requests if r.method == "POST")
    assert len(sent.get("garment_images_b64") or []) + len(sent.get("garment_urls") or []) == 3


def test_ticked_providers_are_remembered_per_task_across_a_restart(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch,
        closing_is_not_quitting: None) -> None:
    fiv, tryon = FitInViewEmulator(), TryonApiEmulator()
    with serve(fiv) as fiv_base, serve(tryon) as tryon_base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", fiv_base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", fiv.api_key)
        monkeypatch.setenv("RESTYLE_TRYONAPI_BASE_URL", tryon_base)
        monkeypatch.setenv("RESTYLE_TRYONAPI_API_KEY", tryon.api_key)
        first = window_factory()
        first.show()

        async def one() -> None:
            await first.start()
            choose(first, "tryon", ["local"])
            tick(first, "fitinview")
            tick(first, "tryonapi")
            tick(first, "local")
            assert first.provider_selector.checked() == ["fitinview", "tryonapi"]
            assert first.task_selector.select_key("upscale")
            assert first.provider_selector.checked() == ["local"]
            assert first.task_selector.select_key("tryon")
            assert first.provider_selector.checked() == ["fitinview", "tryonapi"]
            assert first.task_selector.select_key("upscale")
            first.close()  # saves the session
            await first.aclose()

        loop.run_until_complete(one())
        second = window_factory()

        async def two() -> None:
            await second.start()
            assert second.task_selector.current_key() == "upscale"
            assert second.provider_selector.checked() == ["local"]
            assert second.task_selector.select_key("tryon")
            assert second.provider_selector.checked() == ["fitinview", "tryonapi"]

        loop.run_until_complete(two())


def test_set_up_beside_a_provider_that_is_not_ready_opens_its_settings_page(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop) -> None:
    window = window_factory()
    window.show()

    async def body() -> None:
        await window.start()
        choose(window, "tryon", ["local"])
        ready = window.provider_selector.setup_button("local")
        assert ready is not None and not ready.isVisible()
        button = window.provider_selector.setup_button("tryonapi")
        assert button is not None and button.text() == "Set up…"
        problem = window.findChild(type(window.problem_label), "providerProblem_tryonapi")
        assert problem is not None and problem.text() == "needs base URL"
        click(button)
        dialog = window.workbench._settings_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.current_provider() == "tryonapi"
        await dialog.status_task
        dialog.reject()

    loop.run_until_complete(body())


def test_rows_say_what_happened_and_outputs_have_human_names(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    emu = VirtualStagingEmulator(job_delay=0.05)
    room = image_file(tmp_path / "room.png", (180, 160, 140), (640, 480))
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_VIRTUALSTAGING_API_KEY", emu.api_key)
        window = window_factory()
        window.show()

        async def body() -> None:
            await window.start()
            choose(window, "staging", ["virtualstaging"])
            task = window.workbench.task_for("virtualstaging")
            assert task is not None and task.note.startswith("AI-altered photo")
            note = window.params_form.note_label
            assert note.isVisible() and note.text() == task.note  # once, in the form
            await window.panes["room"].add_sources([str(room)])
            window.params_form.set_values({"variation_count": 2})
            staged = (await generate(window))[0]
            staged = await finished(window, staged.id)
            assert staged.note == task.note  # stored as before; not shown in rows
            row = window.job_queue.row_text(staged.id)
            assert row.splitlines()[1].startswith("Succeeded · 2 results")
            assert "AI-altered" not in row
            await until(lambda: window.compare_view.strip().count() == 2, 10, "two outputs")
            strip = window.compare_view.strip()
            assert [strip.item(i).text() for i in range(2)] == [
                "Staged, variation 1", "Staged, variation 2"]
            window.compare_view.set_current(1)
            panel = window.result_panel
            assert panel._fields["state"].text() == "Succeeded · 2 results"
            assert "Staged, variation 2" in panel._fields["output"].text()
            assert panel._fields["params"].text() == (
                "Furnish the room · Living room · Modern · Variations 2")
            assert "staging variation" not in panel._fields["output"].text()
            assert not panel.details_button.isVisible()
            await window.history_panel.reload()
            model = window.history_panel.model
            shown = model.job(staged.id)
            assert shown is not None
            assert detail_text(shown, None, model.task_of(shown)) == (
                "2 results · Furnish the room · Living room · Modern · Variations 2")
            assert "AI-altered" not in model.tooltip(shown)
            # The offline try-on's description ("Local preview (no AI)") stays in the form.
            choose(window, "tryon", ["local"])
            await window.panes["person"].add_sources([str(person)])
            await window.panes["garment"].add_sources([str(shirt)])
            local = await finished(window, (await generate(window))[0].id)
            assert local.note == "Local preview (no AI)"
            assert "Local preview" not in window.job_queue.row_text(local.id)
            window.job_queue.select_job(local.id)
            detail = window.job_queue.detail.message.text()
            assert "Local preview" not in detail and detail.startswith("Succeeded · 1 result.")

        loop.run_until_complete(body())


def test_a_long_error_is_readable_in_full_in_its_details_window(
        window_factory: Callable[[], RestyleWindow],
        loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    person = image_file(tmp_path / "person.png", (200, 150, 120), (300, 400))
    shirt = image_file(tmp_path / "shirt.png", (30, 60, 200), (200, 200))
    fiv = FitInViewEmulator(job_delay=0.05)
    fiv.fail_next("garment_not_detected", LONG_REASON)
    with serve(fiv) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", fiv.api_key)
        window = window_factory()
        window.show()

        async def body() -> None:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(person)])
            await window.panes["garment"].add_sources([str(shirt)])
            job = await finished(window, (await generate(window))[0].id)
            assert job.state == JobState.FAILED and job.error is not None
            queue = window.job_queue
            queue.select_job(job.id)
            button = queue.findChild(type(queue.detail.details_button), "jobErrorDetailsButton")
            assert button is not None and button.isVisible()
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
            dialog = queue.details_dialog()
            assert dialog is not None and dialog.isVisible()
            text = dialog.text.toPlainText()
            assert job.error.message in text and "garment_not_detected" in text
            assert job.id in text
            assert LONG_REASON[:150] in text  # the provider's sentence, not one row's worth
            QTest.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
            assert QApplication.clipboard().text() == text
            dialog.close()
            await asyncio.sleep(0)
            await window.workbench.show_job(job.id)
            panel = window.result_panel
            assert panel.details_button.isVisible()
            QTest.mouseClick(panel.details_button, Qt.MouseButton.LeftButton)
            shown = panel._details_dialog
            assert shown is not None and job.error.message in shown.text.toPlainText()
            shown.close()

        loop.run_until_complete(body())
