"""Grids from the history, through real events: several jobs selected in the list open as one
grid with the before and labels saying provider and variation; jobs made from other photos
are named and left out; "Compare with other providers" finds exactly the succeeded jobs of the
same task made from the same photos."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.app import RestyleWindow
from desktop.core.model import JobState
from desktop.ui.result_presenter import MAX_RESULT_CELLS
from tests.ui.compare_support import (
    OTHER_PERSON_COLOUR,
    PERSON_COLOUR,
    Seeder,
    cell_text,
    click_row,
    compare_window,
    pixel,
    until,
)

__all__ = ["compare_window"]  # the fixture

RED, GREEN, BLUE, GREY = (220, 30, 30), (30, 200, 40), (20, 40, 210), (128, 128, 128)


def title(window: RestyleWindow, provider: str) -> str:
    return window.workbench.providers[provider].title


def seed(window: RestyleWindow) -> dict[str, object]:
    s = Seeder(window)
    jobs = {
        "fit": s.job("f1", "fitinview", outputs=[RED]),
        "vt": s.job("v1", "vtryon", outputs=[GREEN, BLUE]),
        "other": s.job("o1", "tryonapi", outputs=[GREY], person=s.other_person),
        "failed": s.job("x1", "tryonapi", outputs=[], state=JobState.FAILED),
        "recolor": s.job("r1", "local", outputs=[GREY], task="recolor"),
    }
    return jobs


async def reloaded(window: RestyleWindow) -> None:
    await window.history_panel.reload()
    await until(lambda: window.history_panel.model.rowCount() >= 5, 10, "the history")


def test_selected_jobs_open_as_one_grid_with_the_before_and_labels(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop) -> None:
    window = compare_window
    jobs = seed(window)
    panel = window.history_panel

    async def body() -> None:
        await reloaded(window)
        click_row(window, jobs["fit"].id)
        assert not panel.compare_button.isEnabled()  # one job: nothing to compare yet
        click_row(window, jobs["vt"].id, Qt.KeyboardModifier.ControlModifier)
        assert set(panel.selected_job_ids()) == {jobs["fit"].id, jobs["vt"].id}
        assert panel.compare_button.isEnabled()
        QTest.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
        await until(window.compare_view.is_grid, 10, "the grid")
        await window.workbench.idle()

    loop.run_until_complete(body())
    view = window.compare_view
    cells = view.canvases()
    assert len(cells) == 4  # the before + FitInView's result + vtryon's two variations
    assert pixel(cells[0].image()) == PERSON_COLOUR
    # list order is newest first: vtryon (made later) leads
    texts = [cell_text(window, i) for i in range(4)]
    assert texts[0].startswith("Before")
    vt, fit = title(window, "vtryon"), title(window, "fitinview")
    assert vt in texts[1] and "Variation 1" in texts[1]
    assert vt in texts[2] and "Variation 2" in texts[2]
    assert fit in texts[3] and "Variation" not in texts[3]
    assert [pixel(c.image()) for c in cells[1:]] == [GREEN, BLUE, (220, 30, 30)]
    # A click on vtryon's second variation: that job and that output are the ones shown,
    # described and exported.
    QTest.mouseClick(cells[2], Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     cells[2].rect().center())
    results = window.workbench.results
    assert results.shown_job is not None and results.shown_job.id == jobs["vt"].id
    assert results.output_index() == 1
    assert window.result_panel.job().id == jobs["vt"].id


def test_jobs_from_other_photos_are_named_and_left_out(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop) -> None:
    window = compare_window
    jobs = seed(window)
    panel = window.history_panel
    other = title(window, "tryonapi")

    async def body() -> tuple[str, bool, str, int]:
        await reloaded(window)
        # Only two jobs, of different photos: nothing opens, a sentence says why.
        click_row(window, jobs["fit"].id)
        click_row(window, jobs["other"].id, Qt.KeyboardModifier.ControlModifier)
        QTest.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
        await until(lambda: bool(panel.message_text()), 10, "the refusal")
        refused, grid = panel.message_text(), window.compare_view.is_grid()
        # Three: the two of the same photos open, the third is named as left out.
        click_row(window, jobs["vt"].id, Qt.KeyboardModifier.ControlModifier)
        await window.workbench.idle()
        panel.compare_selected_action.trigger()  # its key, Ctrl+G, does the same
        await until(window.compare_view.is_grid, 10, "the grid")
        await window.workbench.idle()
        return refused, grid, panel.message_text(), len(window.compare_view.canvases())

    refused, grid, left_out, cells = loop.run_until_complete(body())
    assert not grid
    assert other in refused and "each made from different photos" in refused
    assert "select jobs made from the same photos" in refused
    assert cells == 4  # before + FitInView + vtryon x2; the other photo's job is not there
    assert other in left_out and "not made from the same photos" in left_out
    assert "left out" in left_out


def test_compare_with_other_providers_finds_exactly_the_matching_jobs(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop) -> None:
    window = compare_window
    jobs = seed(window)
    panel = window.history_panel

    async def body() -> tuple[list[str], str]:
        await reloaded(window)
        # The context menu of FitInView's row offers it.
        view = panel.view
        rect = view.visualRect(panel.model.index(panel.model.row_of(jobs["fit"].id)))
        view.customContextMenuRequested.emit(QPoint(rect.center()))
        menu = panel._menu
        assert menu is not None and menu.isVisible()
        action = next(a for a in menu.actions()
                      if a.objectName() == "historyCompareProviders")
        menu.close()
        action.trigger()
        await until(window.compare_view.is_grid, 10, "the grid")
        await window.workbench.idle()
        texts = [cell_text(window, i) for i in range(len(window.compare_view.canvases()))]
        # The other photo's job: nothing matches it, a sentence says what to do.
        click_row(window, jobs["other"].id)
        panel.compare_providers_action.trigger()
        await until(lambda: "No other succeeded job" in panel.message_text(), 10, "the sentence")
        return texts, panel.message_text()

    texts, sentence = loop.run_until_complete(body())
    fit, vt = title(window, "fitinview"), title(window, "vtryon")
    assert len(texts) == 4, texts  # the before, FitInView first, then vtryon's two
    assert fit in texts[1] and vt in texts[2] and vt in texts[3]
    joined = " ".join(texts)
    assert title(window, "tryonapi") not in joined  # another photo, and a failed job
    assert title(window, "local") not in joined  # another task
    assert "run them as a batch" in sentence and "tick several providers" in sentence
    # The grid's before is still FitInView's photo, not the other one.
    assert pixel(window.compare_view.canvases()[0].image()) != OTHER_PERSON_COLOUR


def test_the_result_panel_offers_it_and_a_big_grid_says_what_was_left_out(
        compare_window: RestyleWindow, loop: asyncio.AbstractEventLoop) -> None:
    window = compare_window
    s = Seeder(window)
    colours = [(20 * i, 100, 100) for i in range(1, 11)]
    made = [s.job(f"m{i}", provider, outputs=colours[2 * i:2 * i + 2])
            for i, provider in enumerate(("fitinview", "vtryon", "tryonapi", "local",
                                          "fitinview"))]

    async def body() -> str:
        await window.history_panel.reload()
        await window.workbench.show_job(made[0].id)
        button = window.result_panel.compare_button
        assert button.isEnabled()
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        await until(window.compare_view.is_grid, 10, "the grid")
        await window.workbench.idle()
        return window.statusBar().currentMessage()

    status = loop.run_until_complete(body())
    assert len(window.compare_view.canvases()) == MAX_RESULT_CELLS + 1
    assert "Showing 8 of 10 results: 2 were left out" in status
    assert status.startswith("Comparing 5 jobs from 4 providers")
