"""The results grid: rows x columns of the matrix with the before image first, headers that
name the input and "variant · provider", cells zoomed and panned together, reduced pictures,
a click that shows the cell's job, and cells that say why they have no result."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.app import RestyleWindow
from desktop.core.batches import BatchState
from desktop.core.model import Job
from desktop.ui.batch_grid import GridCell
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.ui.batch_helpers import (
    Windows,
    answer,
    garments,
    open_dialog,
    people,
    progress_of,
    windows,
)
from tests.ui.test_window import choose, until

__all__ = ["windows"]  # the fixture


def wheel(cell: GridCell, steps: int, modifiers: Qt.KeyboardModifier) -> bool:
    pos = QPointF(cell.width() / 2, cell.height() / 3)
    event = QWheelEvent(pos, cell.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(cell, event)
    return event.isAccepted()


def relative(cell: GridCell) -> tuple[float, float, float]:
    """Zoom over the cell's fit, and the centre as a fraction of its picture."""
    state = cell.view_state
    ref = state.reference
    return (state.scale / state.fit_scale(), state.center.x() / ref.width(),
            state.center.y() / ref.height())


async def run_to_the_end(window: RestyleWindow, *, paid: bool) -> str:
    controller = window.workbench.batches
    dialog = controller.dialog()
    assert dialog is not None
    await dialog.settled()
    dialog.start_button.click()
    if paid:
        await answer(dialog.confirmation, "batchConfirmStart")
    await until(lambda: bool(controller.panel.batch_ids()), 10, "the batch")
    batch_id = controller.panel.batch_ids()[0]
    await until(lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 90,
                "the batch to finish")
    return batch_id


async def local_grid(window: RestyleWindow, photos: list[Path], clothes: list[Path]) -> str:
    """A local try-on batch of every photo by every garment, run to its end and opened in the
    grid with the Open button of its row in the Batches panel."""
    controller = window.workbench.batches
    await window.start()
    choose(window, "tryon", ["local"])
    await window.panes["person"].add_sources([str(photos[0])])
    await window.panes["garment"].add_sources([str(clothes[0])])
    dialog = await open_dialog(window)
    if photos[1:]:
        await dialog.rows_list.add_sources([str(p) for p in photos[1:]])
    if clothes[1:]:
        await dialog.garments_list.add_sources([str(g) for g in clothes[1:]])
    batch_id = await run_to_the_end(window, paid=False)
    assert not controller.grid_shown()
    row = controller.panel.row(batch_id)
    assert row is not None
    row.open.click()
    await until(controller.grid_shown, 10, "the grid")
    await controller.grid.idle()
    return batch_id


def test_the_grid_shows_rows_columns_the_before_column_and_zooms_in_sync(
        windows: Windows, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    photos = people(tmp_path / "people", 3, size=(1200, 1600))
    clothes = garments(tmp_path / "garments", [(200, 40, 40), (40, 90, 50)])
    window = windows()
    controller = window.workbench.batches
    grid = controller.grid
    batch_id = loop.run_until_complete(local_grid(window, photos, clothes))
    assert not window.compare_view.isVisible() and grid.isVisible()
    assert grid.row_titles() == ["person-1.png", "person-2.png", "person-3.png"]
    assert grid.column_titles() == ["Before", "garment-1 · Local (offline)",
                                    "garment-2 · Local (offline)"]
    assert len(grid.cells) == 3 and all(len(r) == 3 for r in grid.cells)
    items = window.services.batch_store().items(batch_id)
    for r in range(3):
        before = grid.cell(r, -1)
        assert before is not None and before.image() is not None
        # Shown from a reduced copy, measured in the picture's own pixels.
        assert before.image().width() < 1200
        assert before.view_state.reference == QSize(1200, 1600)
        for c in range(2):
            cell = grid.cell(r, c)
            assert cell is not None and cell.image() is not None and not cell.message()
            assert cell.data is not None and cell.data.job_id == next(
                i.job_id for i in items if (i.row, i.col) == (r, c))
    assert grid.decoded_pixels() < 9 * 1200 * 1600 / 4

    cells = [c for row in grid.cells for c in row]
    fitted = [relative(c) for c in cells]
    assert all(z == pytest.approx(1.0) for z, _x, _y in fitted)
    assert not wheel(grid.cell(1, 0), 2, Qt.KeyboardModifier.NoModifier)  # the wheel scrolls
    assert [relative(c) for c in cells] == fitted
    assert wheel(grid.cell(1, 0), 3, Qt.KeyboardModifier.ControlModifier)
    zoomed = [relative(c) for c in cells]
    assert zoomed[0][0] > 1.5 and not grid.sync.view.fitting
    for z, x, y in zoomed:
        assert (z, x, y) == pytest.approx(zoomed[0], abs=1e-6)
    # A drag in one cell pans them all.
    target = grid.cell(2, 1)
    assert target is not None
    start = QPoint(target.width() // 2, target.height() // 2)
    QTest.mousePress(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(target, start + QPoint(-30, -40))
    QTest.mouseRelease(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       start + QPoint(-30, -40))
    panned = [relative(c) for c in cells]
    assert panned[0][1:] != pytest.approx(zoomed[0][1:], abs=1e-3)
    for z, x, y in panned:
        assert (z, x, y) == pytest.approx(panned[0], abs=1e-6)
    grid.zoom_fit()
    assert all(r[0] == pytest.approx(1.0) for r in map(relative, cells))

    # A click shows the cell's job in the result panel; Close brings the compare view back.
    clicked = grid.cell(1, 1)
    assert clicked is not None and clicked.data is not None
    QTest.mouseClick(clicked, Qt.MouseButton.LeftButton)
    loop.run_until_complete(until(
        lambda: (j := window.result_panel.job()) is not None and j.id == clicked.data.job_id,
        10, "the job in the result panel"))
    assert grid.selected() == (1, 1) and grid.compare_button.isEnabled()
    grid.close_button.click()
    assert window.compare_view.isVisible() and not grid.isVisible()


def test_the_last_clicked_cell_is_the_one_the_result_panel_shows(
        windows: Windows, loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two quick clicks (or a drag's press, then a click) look their jobs up in worker
    threads; when the first lookup ends last, the second cell's job still stays shown."""
    window = windows()
    controller = window.workbench.batches
    grid = controller.grid
    loop.run_until_complete(local_grid(window, people(tmp_path / "people", 2),
                                       garments(tmp_path / "garments", [(200, 40, 40)])))
    first, second = grid.cell(0, 0), grid.cell(1, 0)
    assert first is not None and first.data is not None and first.data.job_id
    assert second is not None and second.data is not None and second.data.job_id
    history = window.services.history
    read = history.get
    first_read = threading.Event()
    second_shown = threading.Event()

    def get(job_id: str) -> Job | None:
        """The first cell's job is read from the history once the second cell's is shown."""
        if job_id == first.data.job_id:
            first_read.set()
            assert second_shown.wait(10), "the second cell's job was never shown"
        return read(job_id)

    monkeypatch.setattr(history, "get", get)
    QTest.mouseClick(first, Qt.MouseButton.LeftButton)
    QTest.mouseClick(second, Qt.MouseButton.LeftButton)

    async def clicks() -> None:
        await until(first_read.is_set, 10, "the first cell's lookup")
        await until(lambda: (j := window.result_panel.job()) is not None
                    and j.id == second.data.job_id, 10, "the second cell's job")
        second_shown.set()
        await controller.idle()  # the first lookup has ended too

    loop.run_until_complete(clicks())
    shown = window.result_panel.job()
    assert shown is not None and shown.id == second.data.job_id
    assert grid.selected() == (1, 0)
    assert window.job_queue.current_job_id() == second.data.job_id


def test_cells_without_a_result_say_why(home: Path, windows: Windows,
                                       loop: asyncio.AbstractEventLoop, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    photos = people(tmp_path / "people", 2)
    clothes = garments(tmp_path / "garments", [(200, 40, 40), (40, 90, 50)])
    emu = FitInViewEmulator(job_delay=0.3)
    emu.fail_next("no_person_detected")
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = windows()
        controller = window.workbench.batches

        async def body() -> None:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            dialog = await open_dialog(window)
            await dialog.rows_list.add_sources([str(p) for p in photos])
            await dialog.garments_list.add_sources([str(g) for g in clothes])
            dialog.budget_on.setChecked(True)
            dialog.budget.setValue(16)  # two try-ons at 8 credits
            batch_id = await run_to_the_end(window, paid=True)
            await controller.open_results(batch_id)
            await controller.grid.idle()

        loop.run_until_complete(body())
    grid = controller.grid
    first, second = grid.cell(0, 0), grid.cell(0, 1)
    assert first is not None and second is not None
    failed, done = (first, second) if first.kind == "failed" else (second, first)
    assert failed.kind == "failed" and failed.message() == "Failed"
    assert "No person could be found in the person photo." in failed.toolTip()
    assert done.kind == "done" and done.image() is not None and not done.message()
    for c in range(2):
        over = grid.cell(1, c)
        assert over is not None and over.kind == "over_budget"
        assert over.message() == "Over budget" and over.image() is None
        assert "over the budget of 16" in over.toolTip()
    assert "1 done · 1 failed" in grid.summary.text() and "2 over budget" in grid.summary.text()
    # A click on a cell without a job says why in the status bar.
    QTest.mouseClick(grid.cell(1, 0), Qt.MouseButton.LeftButton)
    loop.run_until_complete(until(
        lambda: "Over budget" in window.statusBar().currentMessage(), 5, "the reason"))
