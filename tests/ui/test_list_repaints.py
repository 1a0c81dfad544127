"""The job queue and the history repaint only the rows that changed, and their delegates do no
text layout a previous paint already did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QObject, QRect
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import QStyledItemDelegate

from desktop.core.assets import AssetStore
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.store import History
from desktop.ui.history_model import thumb_source
from desktop.ui.history_view import HistoryPanel
from desktop.ui.job_queue import JobQueueView
from tests.ui.test_history_view import PROVIDERS, TASKS, finish, make_panel, small  # noqa: F401

T0 = 1_700_000_000.0


class Paints(QObject):
    """Which rows a delegate painted, and the rectangles the viewport repainted."""

    def __init__(self, delegate: QStyledItemDelegate, viewport: QObject) -> None:
        super().__init__()
        self.rows: list[int] = []
        self.rects: list[QRect] = []
        self.region = QRegion()
        real = delegate.paint

        def paint(painter, option, index: QModelIndex) -> None:  # type: ignore[no-untyped-def]
            self.rows.append(index.row())
            real(painter, option, index)

        delegate.paint = paint  # type: ignore[method-assign]
        viewport.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.rect())  # type: ignore[attr-defined]
            self.region += event.region()  # type: ignore[attr-defined]
        return False

    def clear(self) -> None:
        self.rows.clear()
        self.rects.clear()
        self.region = QRegion()


def running(i: int, progress: float) -> Job:
    return Job(id=f"job{i:02d}", spec=JobSpec("local", "recolor", {"image": ["/tmp/a.png"]}),
               state=JobState.RUNNING, created_at=T0 + i, updated_at=T0 + i,
               started_at=T0 + i, progress=progress)


@pytest.fixture
def queue(qtbot) -> Iterator[tuple[JobQueueView, Paints]]:  # type: ignore[no-untyped-def]
    view = JobQueueView({"local": "Local"}, clock=lambda: T0 + 60)
    qtbot.addWidget(view)
    view.resize(420, 900)
    view.show()
    qtbot.waitExposed(view)
    for i in range(8):
        view.update_job(running(i, 0.10))
    paints = Paints(view._delegate, view.list_view.viewport())
    qtbot.wait(50)
    view._timer.stop()  # the 1 s clock would repaint live rows in the middle of a count
    paints.clear()
    yield view, paints


def test_a_progress_update_repaints_its_row_only(queue, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, paints = queue
    view._timer.stop()
    row = view._model.row_of("job03")
    view.update_job(running(3, 0.42))
    view._timer.stop()
    qtbot.wait(50)
    assert paints.rows == [row]
    assert paints.rects == [view.list_view.visualRect(view._model.index(row)).intersected(
        view.list_view.viewport().rect())]


def test_an_update_that_changes_nothing_shown_repaints_nothing(queue, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, paints = queue
    view.update_job(running(3, 0.10))  # the same job again, as a poll that learnt nothing
    view._timer.stop()
    qtbot.wait(50)
    assert paints.rows == [] and paints.rects == []


def test_the_clock_repaints_the_live_rows_not_the_finished_ones(queue, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, paints = queue
    done = running(5, 1.0).evolve(state=JobState.SUCCEEDED, finished_at=T0 + 30)
    view.update_job(done)
    view._timer.stop()
    qtbot.wait(50)
    paints.clear()
    view.tick()
    view._timer.stop()
    qtbot.wait(50)
    # Qt paints every row in the bounding box of what needs repainting, so the finished row
    # between live ones is drawn too; what the queue asked to repaint is the live rows only.
    list_view, model = view.list_view, view._model
    for i in range(8):
        rect = list_view.visualRect(model.index(model.row_of(f"job{i:02d}")))
        assert paints.region.intersects(rect) == (i != 5), i


def test_the_queue_delegate_makes_its_fonts_once(queue, qtbot) -> None:  # type: ignore[no-untyped-def]
    view, paints = queue
    for progress in (0.2, 0.3, 0.4):
        view.update_job(running(2, progress))
        qtbot.wait(20)
    view.list_view.viewport().repaint()
    assert paints.rows and len(view._delegate._font_cache) == 1


# -- history ---------------------------------------------------------------------------------


def shown_panel(qtbot, loop, small) -> tuple[HistoryPanel, Paints]:  # type: ignore[no-untyped-def]  # noqa: F811
    history, assets, _jobs = small
    panel = make_panel(qtbot, history, assets, show=True)
    loop.run_until_complete(panel.reload())
    paints = Paints(panel.delegate, panel.view.viewport())
    loop.run_until_complete(panel.settle())
    qtbot.wait(50)
    paints.clear()
    return panel, paints


def test_a_changed_history_row_repaints_alone(qtbot, loop, small) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    panel, paints = shown_panel(qtbot, loop, small)
    job = panel.model.job_at(2)
    assert job is not None
    panel.refresh_job(job.evolve(note="looked at again", favorite=not job.favorite))
    qtbot.wait(50)
    assert paints.rows == [2]
    assert paints.rects == [panel.view.visualRect(panel.model.index(2)).intersected(
        panel.view.viewport().rect())]
    paints.clear()
    panel.refresh_job(panel.model.job_at(2))  # the same job again: nothing to repaint
    qtbot.wait(50)
    assert paints.rows == []
    finish(loop, panel)


def test_a_loaded_thumbnail_repaints_its_row_alone(qtbot, loop, small) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    panel, paints = shown_panel(qtbot, loop, small)
    job = panel.model.job_at(1)
    assert job is not None
    source = thumb_source(job)
    assert source is not None
    panel.thumbnails.ready.emit(source.sha256)
    qtbot.wait(50)
    assert paints.rows == [1]
    finish(loop, panel)


def test_the_history_delegate_lays_a_row_out_once_per_version(qtbot, loop, small) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    panel, paints = shown_panel(qtbot, loop, small)
    delegate = panel.delegate
    panel.view.viewport().repaint()
    before = delegate.layouts
    for _ in range(3):
        panel.view.viewport().repaint()
    assert len(paints.rows) >= 3 * panel.model.rowCount()
    assert delegate.layouts == before  # repaints of unchanged rows lay nothing out
    job = panel.model.job_at(0)
    assert job is not None
    panel.refresh_job(job.evolve(note="again"))
    panel.view.viewport().repaint()
    assert delegate.layouts == before + 1  # the changed row only
    assert len(delegate._fonts) == 1
    finish(loop, panel)


# -- scrolling a large history ---------------------------------------------------------------

HUGE = 100_000


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """100,000 jobs written straight into the table (save_job one by one takes minutes), in
    runs of three sharing their created_at, so paging must break ties by id."""
    from desktop.core.store.rows import job_row

    root: Path = tmp_path_factory.mktemp("huge-history")
    history = History(root / "history.sqlite3")
    template = job_row(Job(id="x", spec=JobSpec("local", "recolor", {"image": ["/p.jpg"]}),
                           state=JobState.SUCCEEDED, created_at=T0, updated_at=T0))
    columns = list(template)
    rows = []
    for i in range(HUGE):
        row = dict(template, id=f"{(i * 7919) % HUGE:06d}", created_at=T0 + i // 3,
                   provider=("local", "fitinview", "vtryon")[i % 3])
        rows.append(tuple(row[c] for c in columns))
    with history.transaction() as conn:
        conn.executemany(f"INSERT INTO jobs ({', '.join(columns)})"
                         f" VALUES ({', '.join('?' * len(columns))})", rows)
    yield history
    history.close()


def test_scrolling_to_the_end_of_100000_jobs_reads_keyset_pages_only(  # type: ignore[no-untyped-def]
        huge: History, qtbot, loop, tmp_path: Path) -> None:
    """The real panel, scrolled to its bottom again and again until the whole history is in:
    every page is a keyset query (no OFFSET), one count, and the rows come in the store's
    order with every tie in place. Pages of 500 keep the test to 200 of them."""
    panel = HistoryPanel(huge, AssetStore(tmp_path / "assets"), PROVIDERS, TASKS)
    qtbot.addWidget(panel)
    panel.resize(420, 640)
    panel.show()
    qtbot.waitExposed(panel)
    panel.model.page_size = 500
    statements: list[str] = []
    with huge.reading() as conn:
        conn.set_trace_callback(statements.append)

    async def body() -> None:
        await panel.reload()
        bar = panel.view.verticalScrollBar()
        deadline = time.monotonic() + 240
        while panel.model.canFetchMore():
            assert time.monotonic() < deadline, "scrolling to the end took too long"
            before = panel.model.rowCount()
            bar.setValue(bar.maximum())  # the view asks for more at its bottom
            while panel.model.rowCount() == before and panel.model.canFetchMore():
                assert time.monotonic() < deadline, "a page never arrived"
                await asyncio.sleep(0.002)
            await panel.model.settle()

    try:
        loop.run_until_complete(body())
    finally:
        with huge.reading() as conn:
            conn.set_trace_callback(None)
    assert panel.model.rowCount() == panel.total_count() == HUGE
    with huge.reading() as conn:
        expected = [r[0] for r in conn.execute(
            "SELECT id FROM jobs ORDER BY created_at DESC, id DESC")]
    assert panel.job_ids_loaded() == expected
    pages = [s for s in statements if s.startswith("SELECT * FROM jobs")]
    assert len(pages) == HUGE // 500 + 1  # the last page comes back empty: the end
    assert not [s for s in statements if "OFFSET" in s.upper()]
    assert all("created_at <= " in s and " id < " in s for s in pages[1:])
    assert len([s for s in statements if "COUNT(*)" in s]) == 1
    finish(loop, panel)
