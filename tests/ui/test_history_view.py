"""The history panel over a real History and AssetStore: paging at 10,000 jobs, search and
filters, favourites that persist, delete confirmation, live updates, lazy thumbnails."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from desktop.core.assets import AssetStore
from desktop.core.model import Asset, ErrorCode, Job, JobError, JobSpec, JobState, Output
from desktop.core.store import History, JobFilter, PageCursor
from desktop.core.store.rows import search_text as _search_text
from desktop.ui.history_model import PAGE_SIZE, thumb_source
from desktop.ui.history_view import (
    EMPTY_FILTERED_TEXT,
    EMPTY_TEXT,
    HistoryPanel,
    since_for,
)

PROVIDERS = {"local": "Local", "fitinview": "FitInView", "vtryon": "vtryon"}
TASKS = {"recolor": "Recolor", "tryon": "Try-on", "staging": "Staging"}
BIG = 10_000
NOW = time.time()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def make_job(i: int, *, created_at: float, outputs: tuple[Output, ...] = (),
             state: JobState | None = None, provider: str | None = None,
             task: str | None = None) -> Job:
    if state is None:
        state = (JobState.FAILED if i % 7 == 0 else JobState.TIMED_OUT if i % 13 == 0
                 else JobState.CANCELLED if i % 11 == 0 else JobState.SUCCEEDED)
    error = JobError(ErrorCode.JOB_FAILED, "The provider could not process the photo.") \
        if state in (JobState.FAILED, JobState.TIMED_OUT) else None
    return Job(
        id=f"{i:032x}",
        spec=JobSpec(provider or ("local", "fitinview", "vtryon")[i % 3],
                     task or ("recolor", "tryon", "staging")[(i // 3) % 3],
                     {"image": [f"/photos/shoot-{i % 97}/img{i}.jpg"]},
                     {"color": f"#{i % 255:02x}3344", "strength": i % 10 / 10}),
        state=state, created_at=created_at, updated_at=created_at, error=error,
        outputs=outputs)


def store_output(assets: AssetStore, colour: tuple[int, int, int]) -> tuple[Output, Asset]:
    asset = assets.put(png(colour), "image/png", width=320, height=240)
    return Output(0, asset.sha256, asset.mime, asset.size, 320, 240), asset


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[History, AssetStore]]:
    """10,000 jobs, one a minute back from now; the 40 newest have real PNG outputs."""
    root = tmp_path_factory.mktemp("big-history")
    history = History(root / "history.sqlite3")
    assets = AssetStore(root / "assets")
    for i in range(BIG):
        outputs: tuple[Output, ...] = ()
        stored: list[Asset] = []
        if i >= BIG - 40:
            output, asset = store_output(assets, ((i * 37) % 256, (i * 91) % 256, 120))
            outputs, stored = (output,), [asset]
        history.save_job(make_job(i, created_at=NOW - (BIG - i) * 60, outputs=outputs),
                         assets=stored)
    yield history, assets
    history.close()


@pytest.fixture
def small(tmp_path: Path) -> tuple[History, AssetStore, list[Job]]:
    """Six jobs with outputs, newest first in the returned list."""
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    jobs: list[Job] = []
    for i in range(6):
        output, asset = store_output(assets, (40 * i, 200 - 30 * i, 90))
        job = make_job(i + 1, created_at=NOW - (6 - i) * 3600, outputs=(output,),
                       state=JobState.SUCCEEDED)
        history.save_job(job, assets=[asset])
        jobs.insert(0, job)
    return history, assets, jobs


def make_panel(qtbot, history: History, assets: AssetStore,  # type: ignore[no-untyped-def]
               show: bool = False) -> HistoryPanel:
    panel = HistoryPanel(history, assets, PROVIDERS, TASKS)
    qtbot.addWidget(panel)
    panel.resize(420, 640)
    if show:
        panel.show()
        qtbot.waitExposed(panel)
    return panel


def finish(loop: asyncio.AbstractEventLoop, panel: HistoryPanel) -> None:
    """Let worker calls land before the test's loop closes."""
    loop.run_until_complete(panel.settle())


def test_10000_jobs_open_with_count_and_one_page(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets)
    assert panel.objectName() == "historyPanel" and panel.view.objectName() == "historyView"
    loop.run_until_complete(panel.reload())
    assert panel.model.rowCount() == PAGE_SIZE
    assert panel.total_count() == BIG
    assert panel.count_label.text() == "10,000 jobs"
    assert panel.job_ids_loaded() == [j.id for j in history.list(limit=PAGE_SIZE)]
    assert panel.job_ids_loaded()[0] == f"{BIG - 1:032x}"  # newest first
    finish(loop, panel)


def test_scrolling_to_the_bottom_fetches_the_next_page_once(big, qtbot, loop,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    history, assets = big
    pages: list[str | None] = []  # the cursor (a job id) of every page read from the store
    real_list = history.list
    real_page = history.page

    def counting_page(where: JobFilter | None = None, *, limit: int = 50,
                      after: PageCursor | None = None) -> list[Job]:
        pages.append(after.id if after is not None else None)
        return real_page(where, limit=limit, after=after)

    monkeypatch.setattr(history, "page", counting_page)
    panel = make_panel(qtbot, history, assets, show=True)

    def last_loaded() -> str:
        return panel.job_ids_loaded()[-1]

    async def body() -> None:
        await panel.reload()
        assert pages == [None]
        first_cursor = last_loaded()
        bar = panel.view.verticalScrollBar()
        await until(lambda: bar.maximum() > 0)
        bar.setValue(bar.maximum())
        bar.setValue(bar.maximum() - 1)  # jiggling at the bottom while the page is under way
        bar.setValue(bar.maximum())
        await until(lambda: panel.model.rowCount() == 2 * PAGE_SIZE)
        await panel.settle()
        # The next page starts after the last loaded row (a keyset cursor, not an offset).
        assert pages == [None, first_cursor]
        second_cursor = last_loaded()
        # Two fetchMore calls while a page is in flight ask for it once.
        panel.model.fetchMore()
        panel.model.fetchMore()
        assert panel.model.fetching
        await panel.settle()
        assert pages == [None, first_cursor, second_cursor]
        assert panel.model.rowCount() == 3 * PAGE_SIZE
        assert panel.job_ids_loaded() == [j.id for j in real_list(limit=3 * PAGE_SIZE)]
        assert panel.total_count() == BIG

    loop.run_until_complete(body())
    finish(loop, panel)


def test_search_is_debounced_and_matches_the_stores_search_text(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets, show=True)

    async def body() -> None:
        await panel.reload()
        panel.focus_search()
        assert panel.search.hasFocus()
        qtbot.keyClicks(panel.search, "shoot-42/")
        assert panel.model.job_filter.text is None  # not yet: debounced
        expected = history.count(JobFilter(text="shoot-42/"))
        assert 0 < expected < BIG
        await until(lambda: panel.total_count() == expected)
        assert panel.model.job_filter.text == "shoot-42/"
        loaded = [panel.model.job(i) for i in panel.job_ids_loaded()]
        assert loaded and all("shoot-42/" in _search_text(j) for j in loaded if j)
        # Parameters and ids are searchable too.
        panel.search.setText("#113344")
        await until(lambda: panel.model.job_filter.text == "#113344")
        await panel.settle()
        assert panel.total_count() == history.count(JobFilter(text="#113344")) > 0
        panel.search.setText(f"{BIG - 3:032x}")
        await until(lambda: panel.job_ids_loaded() == [f"{BIG - 3:032x}"])
        assert panel.count_label.text() == "1 job"

    loop.run_until_complete(body())
    finish(loop, panel)


def test_provider_task_and_state_filters(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets)

    async def body() -> None:
        await panel.reload()
        panel.provider_combo.setCurrentIndex(panel.provider_combo.findData("vtryon"))
        await until(lambda: panel.model.job_filter.provider == "vtryon")
        await panel.settle()
        assert panel.total_count() == history.count(JobFilter(provider="vtryon")) > 0
        assert all(j.provider == "vtryon" for j in map(panel.model.job, panel.job_ids_loaded())
                   if j)

        panel.state_combo.setCurrentIndex(panel.state_combo.findText("Failed"))
        await until(lambda: bool(panel.model.job_filter.states))
        await panel.settle()
        failed = JobFilter(provider="vtryon", states=(JobState.FAILED, JobState.TIMED_OUT))
        assert panel.total_count() == history.count(failed) > 0
        states = {j.state for j in map(panel.model.job, panel.job_ids_loaded()) if j}
        assert states == {JobState.FAILED, JobState.TIMED_OUT}

        panel.task_combo.setCurrentIndex(panel.task_combo.findData("tryon"))
        await until(lambda: panel.model.job_filter.task == "tryon")
        await panel.settle()
        assert panel.total_count() == history.count(
            JobFilter(provider="vtryon", task="tryon",
                      states=(JobState.FAILED, JobState.TIMED_OUT)))
        # Back to everything.
        panel.set_filter(JobFilter())
        await until(lambda: panel.total_count() == BIG)
        assert panel.provider_combo.currentIndex() == 0
        assert panel.state_combo.currentText() == "All states"

    loop.run_until_complete(body())
    finish(loop, panel)


def test_set_filter_shows_in_widgets(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets)
    job_filter = JobFilter(provider="fitinview", task="staging", states=(JobState.CANCELLED,),
                           text="shoot", favorite=True, since=since_for(7))
    panel.set_filter(job_filter)
    assert panel.provider_combo.currentData() == "fitinview"
    assert panel.task_combo.currentData() == "staging"
    assert panel.state_combo.currentText() == "Cancelled"
    assert panel.search.text() == "shoot"
    assert panel.favorites_only.isChecked()
    assert panel.date_combo.currentText() == "Last 7 days"
    loop.run_until_complete(panel.settle())
    assert panel.model.job_filter == job_filter
    assert panel.total_count() == history.count(job_filter) == 0
    assert panel.stack.currentWidget() is panel.empty_label
    assert panel.empty_label.text() == EMPTY_FILTERED_TEXT
    finish(loop, panel)


def test_date_filter(tmp_path: Path, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history = History(tmp_path / "history.sqlite3")
    now = time.time()
    ages = [30, 3 * 86400, 20 * 86400, 60 * 86400]
    jobs = [make_job(i, created_at=now - age, state=JobState.SUCCEEDED)
            for i, age in enumerate(ages)]
    for job in jobs:
        history.save_job(job)
    panel = make_panel(qtbot, history, AssetStore(tmp_path / "assets"))

    async def body() -> None:
        await panel.reload()
        assert panel.total_count() == 4
        for label in ("Today", "Last 7 days", "Last 30 days", "Any time"):
            panel.date_combo.setCurrentIndex(panel.date_combo.findText(label))
            await panel.settle()
            bound = panel.model.job_filter.since
            expected = {j.id for j in jobs if bound is None or j.created_at >= bound}
            assert set(panel.job_ids_loaded()) == expected, label
        assert panel.total_count() == 4

    loop.run_until_complete(body())
    finish(loop, panel)
    history.close()


def test_favourite_toggles_persist_and_filter(small, qtbot, loop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)

    async def body() -> None:
        await panel.reload()
        panel.select_job(jobs[2].id)
        panel.view.setFocus()
        qtbot.keyClick(panel.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        assert panel.model.job(jobs[2].id).favorite  # the row shows it at once
        assert panel.favorite_action.isChecked()
        await panel.settle()
        panel.favorites_only.setChecked(True)
        await panel.settle()
        assert panel.job_ids_loaded() == [jobs[2].id]
        # Unstarring under the favourites filter drops the row.
        panel.select_job(jobs[2].id)
        panel.favorite_action.trigger()
        assert panel.job_ids_loaded() == []
        await panel.settle()
        assert panel.empty_label.text() == EMPTY_FILTERED_TEXT
        panel.favorites_only.setChecked(False)
        await panel.settle()
        panel.select_job(jobs[4].id)
        panel.favorite_action.trigger()
        await panel.settle()

    loop.run_until_complete(body())
    finish(loop, panel)
    history.close()
    reopened = History(tmp_path / "history.sqlite3")
    assert not reopened.get(jobs[2].id).favorite
    assert reopened.get(jobs[4].id).favorite
    assert reopened.count(JobFilter(favorite=True)) == 1
    reopened.close()


def _confirm_box(panel: HistoryPanel) -> QMessageBox:
    boxes = [b for b in panel.findChildren(QMessageBox, "historyDeleteConfirm")
             if b.isVisible()]
    assert len(boxes) == 1
    return boxes[0]


def test_delete_asks_first_and_emits_only_on_yes(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    requested: list[str] = []
    panel.deleteRequested.connect(requested.append)
    panel.select_job(jobs[1].id)
    panel.view.setFocus()

    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    box = _confirm_box(panel)
    assert "files" in box.informativeText() and "no other job uses" in box.informativeText()
    assert not box.isModal() or box.windowModality() == Qt.WindowModality.WindowModal
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert requested == []
    assert panel.job_ids_loaded()[1] == jobs[1].id

    panel.delete_action.trigger()
    box = _confirm_box(panel)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert requested == [jobs[1].id]
    # The window deletes through the engine, then tells the panel.
    history.delete_job(jobs[1].id)
    panel.remove_job(jobs[1].id)
    assert jobs[1].id not in panel.job_ids_loaded() and panel.total_count() == 5
    finish(loop, panel)


def test_refresh_job_inserts_updates_and_drops(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, _jobs = small
    panel = make_panel(qtbot, history, assets)
    loop.run_until_complete(panel.reload())
    new = make_job(100, created_at=time.time(), state=JobState.QUEUED, provider="local")
    history.save_job(new)
    panel.refresh_job(new)
    assert panel.job_ids_loaded()[0] == new.id and panel.total_count() == 7
    assert panel.count_label.text() == "7 jobs"

    running = new.evolve(state=JobState.RUNNING, progress=0.4)
    panel.refresh_job(running)
    assert panel.model.job(new.id).state == JobState.RUNNING and panel.total_count() == 7
    assert "Running 40 %" in panel.model.index(0).data()

    # Under the "Unfinished" filter a job that finishes leaves the list.
    panel.state_combo.setCurrentIndex(panel.state_combo.findText("Unfinished"))
    loop.run_until_complete(panel.settle())
    assert panel.job_ids_loaded() == [new.id]
    panel.refresh_job(running.evolve(state=JobState.SUCCEEDED))
    assert panel.job_ids_loaded() == [] and panel.total_count() == 0
    # A job for another provider does not enter a provider-filtered list.
    panel.set_filter(JobFilter(provider="fitinview"))
    loop.run_until_complete(panel.settle())
    before = panel.total_count()
    other = make_job(101, created_at=time.time(), provider="local")
    panel.refresh_job(other)
    assert other.id not in panel.job_ids_loaded() and panel.total_count() == before
    finish(loop, panel)


def test_refresh_job_on_a_paged_list_keeps_paging_consistent(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets)
    loop.run_until_complete(panel.reload())
    old = history.get(f"{5:032x}")
    assert old is not None
    panel.refresh_job(old.evolve(note="changed"))  # far below the loaded page: not counted twice
    assert panel.total_count() == BIG and len(panel.job_ids_loaded()) == PAGE_SIZE
    panel.model.fetchMore()
    loop.run_until_complete(panel.settle())
    ids = panel.job_ids_loaded()
    assert len(ids) == len(set(ids)) == 2 * PAGE_SIZE
    finish(loop, panel)


def test_thumbnails_load_lazily_for_visible_rows(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = big
    panel = make_panel(qtbot, history, assets, show=True)

    async def body() -> None:
        await panel.reload()
        first = panel.model.job_at(0)
        assert first is not None and first.outputs
        source = thumb_source(first)
        assert source is not None
        await until(lambda: panel.delegate.cache.has(source.sha256))
        await panel.settle()
        image = panel.delegate.cache.image(source.sha256)
        assert image is not None and not image.isNull()
        assert max(image.width(), image.height()) <= 64 * panel.devicePixelRatioF() + 1
        # Only rows on screen were loaded: far fewer than the 40 with outputs.
        row_height = panel.view.visualRect(panel.model.index(0)).height()
        visible = panel.view.viewport().height() // row_height + 2
        assert 0 < len(panel.thumbnails) <= visible < 40
        # A row scrolled into view loads too.
        panel.view.scrollTo(panel.model.index(30))
        far = thumb_source(panel.model.job_at(30))
        assert far is not None
        await until(lambda: panel.thumbnails.has(far.sha256))

    loop.run_until_complete(body())
    finish(loop, panel)


def test_missing_result_file_shows_placeholder_and_tooltip(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    output = jobs[0].outputs[0]
    assets.path_for(output.sha256, output.mime).unlink()
    panel = make_panel(qtbot, history, assets, show=True)

    async def body() -> None:
        await panel.reload()
        await until(lambda: panel.thumbnails.failure_message(output.sha256) != "")
        await panel.settle()
        assert not panel.thumbnails.has(output.sha256)
        tip = panel.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
        assert tip.splitlines()[0] == "Result file missing"
        assert panel.thumbnails.has(jobs[1].outputs[0].sha256)
        # Reveal says so instead of opening a folder.
        assert not await panel.reveal(jobs[0].id)
        assert "missing" in panel.message.text() and panel.message.isVisibleTo(panel)

    loop.run_until_complete(body())
    finish(loop, panel)


class _UrlRecorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.urls.append(url)


def test_reveal_opens_the_folder_and_copy_path(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    output = jobs[3].outputs[0]
    expected = assets.path_for(output.sha256, output.mime)
    assert panel.reveal_path(jobs[3].id) == expected
    assert panel.reveal_path("no-such-job") is None
    recorder = _UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "handle")
    try:
        panel.select_job(jobs[3].id)
        panel.reveal_action.trigger()
        loop.run_until_complete(panel.settle())
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in recorder.urls] == [expected.parent]
    panel.copy_path_action.trigger()
    assert QGuiApplication.clipboard().text() == str(expected)
    finish(loop, panel)


def test_open_on_double_click_and_enter(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    opened: list[str] = []
    panel.openRequested.connect(opened.append)
    qtbot.waitUntil(lambda: panel.view.visualRect(panel.model.index(2)).isValid())
    rect = panel.view.visualRect(panel.model.index(2))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == [jobs[2].id]
    assert panel.current_job_id() == jobs[2].id
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Down)
    qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert opened == [jobs[2].id, jobs[3].id]
    # Enter in the search field moves to the list instead of opening.
    panel.focus_search()
    qtbot.keyClick(panel.search, Qt.Key.Key_Return)
    assert panel.view.hasFocus() and len(opened) == 2
    # Re-run and reuse by keyboard.
    reruns: list[str] = []
    reuses: list[str] = []
    panel.rerunRequested.connect(reruns.append)
    panel.reuseRequested.connect(reuses.append)
    qtbot.keyClick(panel.view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel.view, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert reruns == [jobs[3].id] and reuses == [jobs[3].id]
    finish(loop, panel)


def test_context_menu_offers_every_action(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    rect = panel.view.visualRect(panel.model.index(1))
    panel.view.customContextMenuRequested.emit(QPoint(rect.center()))
    menu = panel._menu
    assert menu is not None and menu.isVisible()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Open", "Compare with other providers", "Re-run", "Reuse parameters",
                     "Favourite", "Reveal in file manager", "Copy file path", "Delete…"]
    assert panel.current_job_id() == jobs[1].id
    menu.close()
    finish(loop, panel)


def test_a_multi_selection_is_kept_and_offered_to_compare(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+click selects several rows; the context menu on one of them keeps the selection
    and offers Compare selected, which asks for exactly those jobs."""
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    asked: list[list[str]] = []
    panel.compareRequested.connect(asked.append)
    view = panel.view
    for row, modifier in ((1, Qt.KeyboardModifier.NoModifier),
                          (3, Qt.KeyboardModifier.ControlModifier)):
        rect = view.visualRect(panel.model.index(row))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert panel.selected_job_ids() == [jobs[1].id, jobs[3].id]
    assert panel.compare_selected_action.isEnabled() and panel.compare_button.isEnabled()
    rect = view.visualRect(panel.model.index(1))
    view.customContextMenuRequested.emit(QPoint(rect.center()))
    menu = panel._menu
    assert menu is not None
    names = [a.objectName() for a in menu.actions()]
    assert "historyCompareSelected" in names and "historyCompareProviders" in names
    assert panel.selected_job_ids() == [jobs[1].id, jobs[3].id]  # the menu kept them
    next(a for a in menu.actions() if a.objectName() == "historyCompareSelected").trigger()
    menu.close()
    assert asked == [[jobs[1].id, jobs[3].id]]
    # A plain click on another row: one job, nothing to compare.
    rect = view.visualRect(panel.model.index(2))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert not panel.compare_selected_action.isEnabled()
    finish(loop, panel)


def test_empty_history_says_so(tmp_path: Path, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history = History(tmp_path / "history.sqlite3")
    panel = make_panel(qtbot, history, AssetStore(tmp_path / "assets"), show=True)
    assert panel.count_label.text() == "Loading…"
    loop.run_until_complete(panel.reload())
    assert panel.stack.currentWidget() is panel.empty_label
    assert panel.empty_label.text() == EMPTY_TEXT
    assert panel.count_label.text() == "0 jobs"
    assert not panel.open_action.isEnabled() and not panel.delete_action.isEnabled()
    job = make_job(1, created_at=time.time(), state=JobState.SUCCEEDED)
    history.save_job(job)
    panel.refresh_job(job)
    assert panel.stack.currentWidget() is panel.view and panel.job_ids_loaded() == [job.id]
    finish(loop, panel)
    history.close()


def test_newer_reload_supersedes_older(big, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    """A reload for an older filter that finishes after a newer one is dropped."""
    history, assets = big
    panel = make_panel(qtbot, history, assets)
    model = panel.model
    older_started = threading.Event()
    release_older = threading.Event()
    real_page = model._page

    def gated_page(job_filter: JobFilter, *args: object) -> object:
        if job_filter.provider == "local":  # the older reload: held until the newer has landed
            older_started.set()
            assert release_older.wait(30)
        return real_page(job_filter, *args)  # type: ignore[arg-type]

    model._page = gated_page  # type: ignore[method-assign]

    async def body() -> None:
        model.set_job_filter(JobFilter(provider="local"))
        older = asyncio.ensure_future(model.reload())
        await until(older_started.is_set)  # it has read its filter and is in the worker
        model.set_job_filter(JobFilter(provider="fitinview"))
        await model.reload()
        expected = history.count(JobFilter(provider="fitinview"))
        assert model.total == expected != history.count(JobFilter(provider="local"))
        release_older.set()
        await older
        assert model.total == expected
        assert {model.job(i).provider for i in model.job_ids()} == {"fitinview"}

    try:
        loop.run_until_complete(body())
    finally:
        release_older.set()
    finish(loop, panel)


def test_unreadable_history_is_a_sentence(tmp_path: Path, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history = History(tmp_path / "history.sqlite3")
    history.close()
    panel = make_panel(qtbot, history, AssetStore(tmp_path / "assets"), show=True)
    loop.run_until_complete(panel.reload())
    assert panel.message.isVisibleTo(panel)
    assert panel.message.text().startswith("The job history could not be read")
    assert "Traceback" not in panel.message.text()
    finish(loop, panel)


def test_toolbar_buttons_follow_the_current_job(small, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets, jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    buttons = {b.objectName(): b for b in panel.toolbar_buttons}
    assert not any(b.isEnabled() for b in buttons.values())  # nothing selected yet
    reruns: list[str] = []
    panel.rerunRequested.connect(reruns.append)
    panel.select_job(jobs[0].id)
    assert all(b.isEnabled() for b in buttons.values())
    qtbot.mouseClick(buttons["historyRerunButton"], Qt.MouseButton.LeftButton)
    assert reruns == [jobs[0].id]
    qtbot.mouseClick(buttons["historyFavoriteButton"], Qt.MouseButton.LeftButton)
    assert buttons["historyFavoriteButton"].text() == "★"
    loop.run_until_complete(panel.settle())
    assert history.get(jobs[0].id).favorite
    finish(loop, panel)


def test_a_job_without_results_shows_its_person_not_its_garment() -> None:
    job = Job(id="c" * 32, spec=JobSpec("fitinview", "tryon"), state=JobState.CANCELLED,
              created_at=0.0, updated_at=0.0,
              inputs={"garment": ["g" * 64], "person": ["p" * 64]})
    source = thumb_source(job)
    assert source is not None and source.sha256 == "p" * 64


def test_the_state_filter_offers_needs_attention(tmp_path: Path, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    from desktop.core.engine.ledger import Owner
    from desktop.ui.history_view import detail_text

    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    waiting_text = ("FitInView did not confirm that it received this job (the connection broke"
                    " off). It may have created the job and charged for it. Restyle looks for "
                    "it in FitInView's job list when you press Retry (or `restyle-cli resume`),"
                    " and collects it if it is there.")
    waiting = make_job(1, created_at=NOW - 60, state=JobState.NEEDS_ATTENTION,
                       provider="fitinview").evolve(
        error=JobError(ErrorCode.UNKNOWN_OUTCOME, waiting_text))
    running = make_job(2, created_at=NOW - 30, state=JobState.RUNNING, provider="fitinview")
    for job in (waiting, make_job(3, created_at=NOW - 90, state=JobState.SUCCEEDED),
                make_job(4, created_at=NOW - 120, state=JobState.FAILED)):
        history.save_job(job)
    cli = Owner("studio", 4242, "b", "restyle-cli run").encode()
    history.save_job(running, owner=cli, lease_until=NOW + 600)  # a CLI works on it
    panel = make_panel(qtbot, history, assets)
    panel.set_own_owner(Owner("here", 1, "a", "the Restyle window").encode())

    async def body() -> None:
        await panel.reload()
        assert panel.total_count() == 4
        index = panel.state_combo.findText("Needs attention")
        assert index > 0
        panel.state_combo.setCurrentIndex(index)
        await until(lambda: panel.model.job_filter.states == (JobState.NEEDS_ATTENTION,))
        await panel.settle()
        assert panel.job_ids_loaded() == [waiting.id]
        assert panel.count_label.text() == "1 job"
        # "Unfinished" has both: the waiting job and the one another Restyle runs.
        panel.state_combo.setCurrentIndex(panel.state_combo.findText("Unfinished"))
        await until(lambda: len(panel.model.job_filter.states) > 1)
        await panel.settle()
        assert sorted(panel.job_ids_loaded()) == sorted([waiting.id, running.id])

    loop.run_until_complete(body())
    finish(loop, panel)
    model = panel.model
    # The row has the first sentence; the tooltip the whole one, as the window says it.
    row_waiting = model.job(waiting.id)
    assert detail_text(row_waiting, model.own_owner) == (
        "FitInView did not confirm that it received this job (the connection broke off).")
    tip = model.tooltip(row_waiting)
    assert "when you press Retry, and collects it" in tip and "restyle-cli" not in tip
    row_running = model.job(running.id)
    assert detail_text(row_running, model.own_owner) == (
        "Running in restyle-cli run (process 4242 on studio)")
    assert "Running in restyle-cli run (process 4242 on studio)" in model.tooltip(row_running)
    history.close()
