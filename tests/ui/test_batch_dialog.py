"""The New batch dialog: the matrix it builds from the window's panes and the values given,
its plan in plain words (jobs, credits, money, what a budget keeps out, what cannot run), and
that Start sends nothing until the user confirms."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.config import ProviderSettings, Settings, save_settings
from desktop.core.batches import BatchState, ItemState
from desktop.services import Services
from tests.emulators.fitinview import FitInViewEmulator
from tests.emulators.kit import serve
from tests.ui.batch_helpers import Windows, answer, garments, open_dialog, people, windows
from tests.ui.test_window import choose, drop_files, until

__all__ = ["windows"]  # the fixture


def table(dialog) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    t = dialog.table
    return [tuple(t.item(r, c).text() for c in range(t.columnCount()))
            for r in range(t.rowCount())]


def test_the_matrix_comes_from_the_panes_the_lists_and_several_values(
        windows: Windows, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    pane_person, *folder_people = people(tmp_path / "people", 3)
    shirt, jacket = garments(tmp_path / "garments", [(200, 40, 40), (40, 90, 50)])
    window = windows()

    async def body() -> None:
        await window.start()
        choose(window, "tryon", ["local"])
        await window.panes["person"].add_sources([str(pane_person)])
        # The garment pane takes one for the local provider; the second is kept "not used",
        # and a batch uses both.
        window.panes["garment"].set_max_count(2)
        await window.panes["garment"].add_sources([str(shirt), str(jacket)])
        window.panes["garment"].set_max_count(1)
        window.params_form.set_values({"scale": 1.1, "shadow": False})
        dialog = await open_dialog(window)
        assert dialog.rows_list.sources() == [str(pane_person)]
        assert dialog.garments_list.sources() == [str(shirt), str(jacket)]
        assert dialog.headline.text() == "2 try-ons: 1 person x 2 garments, on Local (offline)"

        drop_files(dialog.rows_list, [tmp_path / "people"])  # a folder from a file manager
        await until(lambda: len(dialog.rows_list.sources()) == 3, 10, "the folder's people")
        dialog.set_axis("scale", "0.8, 1.2")
        await dialog.settled()
        assert dialog.rows_list.sources() == [str(pane_person), *map(str, folder_people)]
        assert dialog.headline.text() == (
            "12 try-ons: 3 people x 2 garments x 2 settings (garment scale), on Local (offline)")
        assert table(dialog) == [("Local (offline)", "12", "free", "—")]
        assert "free: they run on this computer" in dialog.total.text()
        assert dialog.start_button.isEnabled() and dialog.start_button.text() == "Start 12 jobs"
        found = dialog.current_plan()
        assert found is not None
        recipe, items, plan = found
        matrix = recipe.matrix()
        assert matrix.role == "person" and matrix.rows == tuple(dialog.rows_list.sources())
        assert [(v.inputs["garment"], v.params) for v in matrix.variants] == [
            ([str(shirt)], {"scale": 0.8}), ([str(shirt)], {"scale": 1.2}),
            ([str(jacket)], {"scale": 0.8}), ([str(jacket)], {"scale": 1.2})]
        assert [v.title for v in matrix.variants] == [
            "garment-1, scale=0.8", "garment-1, scale=1.2", "garment-2, scale=0.8",
            "garment-2, scale=1.2"]
        # The values not varied stay those of the window's form.
        assert items[1].spec.params == {"scale": 1.2, "shadow": False}
        assert items[1].spec.inputs == {"person": [str(pane_person)], "garment": [str(shirt)]}
        assert plan.jobs == 12 and all(i.state == ItemState.PENDING for i in items)

        # The offline provider costs nothing: a budget keeps none of its cells out.
        dialog.budget_on.setChecked(True)
        dialog.budget.setValue(1)
        await dialog.settled()
        assert table(dialog) == [("Local (offline)", "12", "free", "—")]
        assert dialog.budget_effect.text() == "The budget of 1 credit covers every job."
        dialog.budget_on.setChecked(False)

        # Two garments per job: the local provider takes one, and the plan says so.
        dialog.per_job.setValue(2)
        dialog.set_axis("shadow", [True, False])
        await dialog.settled()
        assert dialog.headline.text().startswith(
            "12 try-ons: 3 people x 1 outfit of up to 2 garments x 4 settings")
        assert dialog.refused.isVisibleTo(dialog)
        assert dialog.refused.text() == ("12 jobs on Local (offline) cannot run: Task 'tryon' "
                                         "takes at most 1 garment image (got 2).")
        assert not dialog.start_button.isEnabled()

        # A value that is not a number is named, and nothing can start.
        dialog.per_job.setValue(1)
        dialog.set_axis("scale", "0.8, big")
        await dialog.settled()
        assert "scale" in dialog.axis_errors.text() and dialog.axis_errors.isVisibleTo(dialog)
        assert not dialog.start_button.isEnabled()
        dialog.reject()
        await window.workbench.batches.idle()

    loop.run_until_complete(body())
    assert window.services.batch_store().list() == []  # nothing was stored


@pytest.fixture
def priced_home(home: Path) -> Path:
    """FitInView's credits cost 0.10 each in this home's settings."""
    services = Services.open(home)
    save_settings(services.paths, Settings(providers={
        "fitinview": ProviderSettings(price_per_credit=0.1)}))
    services.close()
    return home


def test_the_plan_shows_credits_money_and_the_budget_and_start_waits_for_a_yes(
        priced_home: Path, windows: Windows, loop: asyncio.AbstractEventLoop, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = people(tmp_path / "people", 2)
    shirt, jacket = garments(tmp_path / "garments", [(200, 40, 40), (40, 90, 50)])
    emu = FitInViewEmulator(job_delay=0.2)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        window = windows()
        posts = lambda: len(emu.requests_to("POST", "/api/v1/tryon"))  # noqa: E731

        async def body() -> str:
            await window.start()
            choose(window, "tryon", ["fitinview"])
            await window.panes["person"].add_sources([str(one)])
            await window.panes["garment"].add_sources([str(shirt), str(jacket)])
            dialog = await open_dialog(window)
            await dialog.rows_list.add_sources([str(two)])
            await dialog.settled()
            assert dialog.headline.text() == "4 try-ons: 2 people x 2 garments, on FitInView"
            assert table(dialog) == [("FitInView", "4", "32", "3.20")]
            assert dialog.total.text() == "4 jobs to send, about 32 credits (money 3.20)."
            assert not dialog.budget_effect.isVisibleTo(dialog)

            dialog.budget_on.setChecked(True)
            dialog.budget.setValue(20)
            await dialog.settled()
            assert table(dialog) == [("FitInView", "2", "16", "1.60")]
            effect = dialog.budget_effect.text()
            assert effect.startswith("The budget of 20 credits keeps 2 jobs out: they would go "
                                     "over it. They are not sent.")
            assert "Kept out: person-2 × garment-1 on FitInView; person-2 × garment-2 on " \
                "FitInView" in effect
            assert dialog.start_button.text() == "Start 2 jobs"

            # Start asks first; Back sends nothing and keeps the dialog.
            dialog.start_button.click()
            question = await answer(dialog.confirmation, "batchConfirmBack")
            assert "Start 2 jobs?" in question and "about 16 credits (money 1.60)" in question
            assert "never spends more than 20 credits" in question
            await asyncio.sleep(0.5)
            assert posts() == 0 and dialog.isVisible()
            assert window.services.batch_store().list() == []

            dialog.start_button.click()
            await answer(dialog.confirmation, "batchConfirmStart")
            controller = window.workbench.batches
            await until(lambda: controller.dialog() is None, 10, "the dialog to close")
            await until(lambda: bool(controller.panel.batch_ids()), 10, "the batch's row")
            batch_id = controller.panel.batch_ids()[0]
            await until(lambda: (p := controller.progress(batch_id)) is not None
                        and p.state == BatchState.FINISHED, 60, "the batch to finish")
            return batch_id

        batch_id = loop.run_until_complete(body())
        assert posts() == 2  # the budget kept two cells out
    batch = window.services.batch_store().get(batch_id)
    assert batch is not None and batch.budget_credits == 20
    states = [i.state for i in window.services.batch_store().items(batch_id)]
    assert states.count(ItemState.OVER_BUDGET) == 2 and states.count(ItemState.STARTED) == 2
