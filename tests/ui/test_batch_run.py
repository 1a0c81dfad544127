"""Running batches from the window: Start on the offline provider until the panel counts are
done; Pause sends nothing new; Cancel… asks first; Retry failed sends only the failed cells
again; and a batch left running when Restyle quit is carried on by a new window at start,
without a second submit."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.app import RestyleWindow
from desktop.core.batch_runner import BatchRunner
from desktop.core.batches import BatchState, ItemState, Matrix, Variant
from desktop.core.model import JobState
from desktop.services import Services
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


async def start_batch(window: RestyleWindow, *, paid: bool) -> str:
    """Start what the open dialog plans (answering its question for a paid one); the new
    batch's id."""
    controller = window.workbench.batches
    dialog = controller.dialog()
    assert dialog is not None
    await dialog.settled()
    assert dialog.start_button.isEnabled(), (dialog.problems.text(), dialog.refused.text())
    dialog.start_button.click()
    if paid:
        await answer(dialog.confirmation, "batchConfirmStart")
    await until(lambda: controller.dialog() is None and bool(controller.panel.batch_ids()),
                10, "the batch to start")
    return controller.panel.batch_ids()[0]


def test_start_runs_a_local_batch_and_the_panel_counts_reach_done(
        windows: Windows, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    photos = people(tmp_path / "photos", 2)
    window = windows()

    async def body() -> str:
        await window.start()
        choose(window, "reframe", ["local"])
        await window.panes["image"].add_sources([str(photos[0])])
        dialog = await open_dialog(window)
        await dialog.rows_list.add_sources([str(photos[1])])
        dialog.set_axis("ratio", ["1:1", "16:9"])
        dialog.budget_on.setChecked(True)  # free jobs fit any budget
        dialog.budget.setValue(1)
        batch_id = await start_batch(window, paid=False)
        await until(lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 60,
                    "the batch to finish")
        return batch_id

    batch_id = loop.run_until_complete(body())
    row = window.workbench.batches.panel.row(batch_id)
    assert row is not None
    assert row.counts.text() == "4 done · 0 failed · 0 need attention · 0 running · 0 left"
    assert progress_of(window, batch_id).over_budget == 0
    assert (row.bar.value(), row.bar.maximum()) == (4, 4) and row.state.text() == "Finished"
    assert not row.pause.isVisible() and not row.resume.isEnabled()
    assert not row.cancel.isEnabled() and not row.retry.isEnabled()
    items = window.services.batch_store().items(batch_id)
    jobs = [window.services.history.get(i.job_id) for i in items]  # type: ignore[arg-type]
    assert all(j is not None and j.state == JobState.SUCCEEDED for j in jobs)
    assert sorted((j.spec.params["ratio"], Path(j.spec.inputs["image"][0]).name)  # type: ignore[union-attr]
                  for j in jobs) == [("16:9", "person-1.png"), ("16:9", "person-2.png"),
                                     ("1:1", "person-1.png"), ("1:1", "person-2.png")]


@pytest.fixture
def fitinview(home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """FitInView's emulator, for windows on `home` (which clears RESTYLE_* first)."""
    emu = FitInViewEmulator(job_delay=1.0)
    with serve(emu) as base:
        monkeypatch.setenv("RESTYLE_FITINVIEW_BASE_URL", base)
        monkeypatch.setenv("RESTYLE_FITINVIEW_API_KEY", emu.api_key)
        yield emu


def posts(emu: FitInViewEmulator) -> int:
    return len(emu.requests_to("POST", "/api/v1/tryon"))


async def tryon_dialog(window: RestyleWindow, tmp_path: Path, rows: int, columns: int) -> None:
    photos = people(tmp_path / "photos", rows)
    clothes = garments(tmp_path / "clothes", [(200, 40, 40), (40, 90, 50), (40, 40, 160)]
                       [:columns])
    await window.start()
    choose(window, "tryon", ["fitinview"])
    dialog = await open_dialog(window)
    await dialog.rows_list.add_sources([str(p) for p in photos])
    await dialog.garments_list.add_sources([str(g) for g in clothes])


def test_pause_sends_nothing_new_and_resume_sends_the_rest(
        fitinview: FitInViewEmulator, windows: Windows, loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    window = windows()
    controller = window.workbench.batches

    async def body() -> tuple[str, int]:
        await tryon_dialog(window, tmp_path, 3, 2)
        batch_id = await start_batch(window, paid=True)
        await until(lambda: posts(fitinview) >= 1, 20, "the first job to be sent")
        row = controller.panel.row(batch_id)
        assert row is not None and row.pause.isVisible()
        row.pause.click()
        await until(lambda: progress_of(window, batch_id).state == BatchState.PAUSED, 10)
        await until(lambda: not controller.is_running(batch_id), 30,
                    "the jobs already sent to finish")
        sent = posts(fitinview)
        await asyncio.sleep(2.5)  # nothing new goes out while paused
        assert posts(fitinview) == sent < 6
        await controller.refresh(batch_id)
        paused = progress_of(window, batch_id)
        assert (paused.done, paused.left, paused.running) == (sent, 6 - sent, 0)
        assert row.state.text() == "Paused" and row.resume.isEnabled()
        assert "paused: nothing new is sent" in row.money.text()
        row.resume.click()
        await until(lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 60,
                    "the batch to finish")
        return batch_id, sent

    batch_id, sent = loop.run_until_complete(body())
    assert 1 <= sent < 6
    assert posts(fitinview) == 6 and progress_of(window, batch_id).done == 6


def test_cancel_asks_first_and_accepted_jobs_still_finish(
        fitinview: FitInViewEmulator, windows: Windows, loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    fitinview.job_delay = 2.0
    window = windows()
    controller = window.workbench.batches

    async def body() -> str:
        await tryon_dialog(window, tmp_path, 3, 2)
        batch_id = await start_batch(window, paid=True)
        await until(lambda: posts(fitinview) >= 2, 20, "two jobs to be sent")
        row = controller.panel.row(batch_id)
        assert row is not None and row.cancel.isEnabled()
        row.cancel.click()
        question = await answer(controller.question, "batchCancelKeep")
        assert "Cancel this batch?" in question
        assert "already accepted will still finish and may be charged" in question
        assert progress_of(window, batch_id).state == BatchState.RUNNING
        row.cancel.click()
        await answer(controller.question, "batchCancelYes")
        await until(lambda: progress_of(window, batch_id).state == BatchState.CANCELLED, 10)
        await until(lambda: not controller.is_running(batch_id), 30,
                    "the accepted jobs to finish")
        return batch_id

    batch_id = loop.run_until_complete(body())
    sent = posts(fitinview)
    loop.run_until_complete(asyncio.sleep(1.5))
    assert posts(fitinview) == sent < 6  # nothing more went out
    loop.run_until_complete(window.workbench.batches.refresh(batch_id))
    progress = progress_of(window, batch_id)
    assert progress.done == sent and progress.cancelled == 6 - sent and progress.left == 0
    row = window.workbench.batches.panel.row(batch_id)
    assert row is not None and row.state.text() == "Cancelled" and not row.cancel.isEnabled()
    assert f"{6 - sent} not sent" in row.counts.text()


def test_retry_failed_sends_only_the_failed_cells_again(
        fitinview: FitInViewEmulator, windows: Windows, loop: asyncio.AbstractEventLoop,
        tmp_path: Path) -> None:
    fitinview.job_delay = 0.3
    fitinview.fail_next("no_person_detected")
    fitinview.fail_next("no_person_detected")
    window = windows()
    controller = window.workbench.batches

    async def body() -> str:
        await tryon_dialog(window, tmp_path, 2, 2)
        batch_id = await start_batch(window, paid=True)
        await until(lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 60,
                    "the first run to end")
        first = progress_of(window, batch_id)
        assert (first.done, first.failed) == (2, 2)
        row = controller.panel.row(batch_id)
        assert row is not None and row.retry.isEnabled()
        assert row.counts.text().startswith("2 done · 2 failed")
        row.retry.click()
        await until(lambda: progress_of(window, batch_id).done == 4
                    and progress_of(window, batch_id).state == BatchState.FINISHED, 60,
                    "the failed cells to be sent again")
        return batch_id

    batch_id = loop.run_until_complete(body())
    assert posts(fitinview) == 6  # 4 + the 2 that failed, nothing else
    progress = progress_of(window, batch_id)
    assert (progress.done, progress.failed) == (4, 0)
    items = window.services.batch_store().items(batch_id)
    assert sorted(i.attempts for i in items) == [1, 1, 2, 2]


def test_a_batch_left_running_carries_on_in_a_new_window_without_a_second_submit(
        fitinview: FitInViewEmulator, home: Path, windows: Windows,
        loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    fitinview.job_delay = 1.5
    photos = people(tmp_path / "photos", 2)
    clothes = garments(tmp_path / "clothes", [(200, 40, 40), (40, 90, 50)])
    matrix = Matrix(task="tryon", providers=("fitinview",), role="person",
                    rows=tuple(map(str, photos)),
                    variants=tuple(Variant(g.stem, {"garment": [str(g)]}) for g in clothes))

    async def first_life() -> str:
        """Restyle sends the first wave, then quits with jobs accepted and cells left."""
        services = Services.open(home)
        engine = services.engine("the Restyle window")
        runner = BatchRunner(engine, services.batch_store())
        items, plan = runner.plan(matrix)
        assert plan.jobs == 4
        batch = await runner.create("Left running", matrix, items)
        await runner.run(batch.id, first_wave=True)
        started = [i.job_id for i in services.batch_store().items(batch.id) if i.job_id]
        assert len(started) == 2  # FitInView takes two at a time

        def accepted() -> bool:
            jobs = [engine.get(j) for j in started]
            return all(j is not None and j.remote_id for j in jobs)

        await until(accepted, 20, "FitInView to accept the first two jobs")
        runner.close()
        await engine.aclose()
        await services.aclose()
        services.close()
        return batch.id

    batch_id = loop.run_until_complete(first_life())
    sent = posts(fitinview)
    assert sent == 2
    store_items = Services.open(home).batch_store().items(batch_id)
    assert [i.state for i in store_items].count(ItemState.PENDING) == 2

    window = windows()

    async def second_life() -> None:
        await window.start()
        assert window.workbench.batches.is_running(batch_id)
        assert "Carrying on with 1 batch" in window.statusBar().currentMessage()
        await until(lambda: progress_of(window, batch_id).state == BatchState.FINISHED, 60,
                    "the batch to finish in the new window")

    loop.run_until_complete(second_life())
    assert posts(fitinview) == 4  # the two accepted jobs were collected, not sent again
    keys = {r.headers.get("idempotency-key") for r in fitinview.requests_to("POST",
                                                                             "/api/v1/tryon")}
    assert len(keys) == 4
    assert progress_of(window, batch_id).done == 4
