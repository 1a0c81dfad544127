"""Review mode in the real window, driven by real key presses: the reviews it stores, undo, and
resuming where a pass stopped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from desktop.app import RestyleWindow
from desktop.config import save_settings
from desktop.core.reviews import Review, ReviewSettings, Verdict
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore
from desktop.services import Services
from desktop.ui.compare_view import CompareMode
from desktop.ui.review_mode import ReviewMode
from tests.ui.review_support import open_window, seed, store_job, until

__all__ = ["open_window"]  # the fixture

NOW = 1_700_000_000.0


def three_jobs(services: Services) -> list:  # type: ignore[type-arg]
    save_settings(services.paths, replace(services.settings, review=ReviewSettings("ana")))
    return [
        store_job(services, "job-c", provider="fitinview", when=NOW + 30),
        store_job(services, "job-b", provider="tryonapi", outputs=2, when=NOW + 20),
        store_job(services, "job-a", provider="local", task="recolor", when=NOW + 10),
    ]


def stored(home: Path) -> dict[tuple[str, int, str], Review]:
    history = History(home / "data" / "history.sqlite3")
    try:
        return {(r.job_id, r.position, r.reviewer): r for r in ReviewStore(history).all()}
    finally:
        history.close()


def key(widget: QWidget, k: Qt.Key) -> None:
    QTest.keyClick(widget, k)


async def open_mode(window: RestyleWindow) -> ReviewMode:
    controller = window.workbench.reviews
    window.review_mode_action.trigger()
    await until(lambda: controller.review_mode is not None
                and controller.review_mode.index() >= 0, what="review mode")
    mode = window.findChild(QWidget, "reviewMode")
    assert isinstance(mode, ReviewMode) and mode is controller.review_mode
    assert not mode.isHidden()
    return mode


def test_keys_store_the_reviews_of_each_output(home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, three_jobs)
    window = open_window()

    async def body() -> ReviewMode:
        mode = await open_mode(window)
        # Newest first, every image output: job-c, job-b #1, job-b #2, job-a.
        assert [i.key for i in mode.items] == [("job-c", 0), ("job-b", 0), ("job-b", 1),
                                               ("job-a", 0)]
        assert mode.index() == 0 and mode.counter.text() == "0 / 4 reviewed"
        await until(lambda: mode.view.current_item() is not None, what="the output shown")
        key(mode, Qt.Key.Key_P)
        key(mode, Qt.Key.Key_4)
        key(mode, Qt.Key.Key_T)  # the tags, typed by their first letters
        picker = mode.tag_picker
        assert not picker.isHidden()
        QTest.keyClicks(picker.list, "ha")
        assert picker.current_tag() == "hands or face broken"
        QTest.keyClick(picker.list, Qt.Key.Key_Return)
        assert picker.isHidden()
        key(mode, Qt.Key.Key_N)
        assert mode.editor.note.hasFocus()
        QTest.keyClicks(mode.editor.note, "two thumbs")
        QTest.keyClick(mode.editor.note, Qt.Key.Key_Return)
        assert not mode.editor.note.hasFocus()
        assert mode.counter.text() == "1 / 4 reviewed"
        key(mode, Qt.Key.Key_Right)
        key(mode, Qt.Key.Key_F)
        key(mode, Qt.Key.Key_2)
        key(mode, Qt.Key.Key_J)  # J is next too
        key(mode, Qt.Key.Key_Right)
        assert mode.index() == 3
        key(mode, Qt.Key.Key_3)  # stars only (a recolour: the "other" tags)
        key(mode, Qt.Key.Key_K)  # K goes back
        assert mode.index() == 2
        assert mode.counter.text() == "3 / 4 reviewed"
        await mode.settle()
        return mode

    mode = loop.run_until_complete(body())
    reviews = stored(home)
    assert set(reviews) == {("job-c", 0, "ana"), ("job-b", 0, "ana"), ("job-a", 0, "ana")}
    first = reviews[("job-c", 0, "ana")]
    assert (first.verdict, first.stars, first.tags, first.note) == (
        Verdict.PASS, 4, ("hands or face broken",), "two thumbs")
    second = reviews[("job-b", 0, "ana")]
    assert (second.verdict, second.stars, second.tags) == (Verdict.FAIL, 2, ())
    last = reviews[("job-a", 0, "ana")]
    assert (last.verdict, last.stars) == (None, 3)
    assert "other" not in mode.editor.tags()  # not the try-on list for a recolour


def test_digits_rate_and_the_compare_modes_move_to_alt(home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, three_jobs)
    window = open_window()

    async def body() -> ReviewMode:
        mode = await open_mode(window)
        await until(lambda: mode.view.current_item() is not None)
        canvas = mode.view.findChild(QWidget, "compareAfterPane")
        canvas.setFocus()
        QTest.keyClick(canvas, Qt.Key.Key_2)  # focus in the image: still the stars
        await mode.settle()
        assert mode.view.mode() == CompareMode.SIDE_BY_SIDE
        assert mode.review() is not None and mode.review().stars == 2
        QTest.keyClick(canvas, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
        assert mode.view.mode() == CompareMode.WIPE
        QTest.keyClick(canvas, Qt.Key.Key_5)  # 5 is blend in the compare view, a rating here
        await mode.settle()
        assert mode.view.mode() == CompareMode.WIPE
        assert mode.review() is not None and mode.review().stars == 5
        QTest.keyClick(canvas, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
        assert mode.view.mode() == CompareMode.BLEND
        return mode

    loop.run_until_complete(body())
    assert stored(home)[("job-c", 0, "ana")].stars == 5


def test_undo_restores_the_previous_review_and_removes_a_new_one(home: Path, open_window,  # type: ignore[no-untyped-def]
                                                                  loop) -> None:
    def plan(services: Services) -> list:  # type: ignore[type-arg]
        jobs = three_jobs(services)
        ReviewStore(services.history).save(Review("job-b", 0, "ana", Verdict.FAIL, 2,
                                                  ("artifacts",), "blurry"))
        return jobs

    seed(home, plan)
    window = open_window()

    async def body() -> None:
        mode = await open_mode(window)
        assert mode.index() == 0  # the first output ana has not reviewed
        key(mode, Qt.Key.Key_P)
        key(mode, Qt.Key.Key_5)
        await mode.settle()
        assert stored(home)[("job-c", 0, "ana")].stars == 5
        key(mode, Qt.Key.Key_U)  # back to "pass, no stars"
        await mode.settle()
        assert (stored(home)[("job-c", 0, "ana")].verdict,
                stored(home)[("job-c", 0, "ana")].stars) == (Verdict.PASS, None)
        key(mode, Qt.Key.Key_U)  # the review did not exist: it goes
        await mode.settle()
        assert ("job-c", 0, "ana") not in stored(home)
        assert mode.counter.text() == "1 / 4 reviewed"
        # An existing review changed, then undone from another output: back as it was.
        key(mode, Qt.Key.Key_Right)
        key(mode, Qt.Key.Key_P)
        key(mode, Qt.Key.Key_Right)
        key(mode, Qt.Key.Key_U)
        assert mode.index() == 1  # undo shows the output it changed
        assert mode.editor.verdict() == Verdict.FAIL
        await mode.settle()
        again = stored(home)[("job-b", 0, "ana")]
        assert (again.verdict, again.stars, again.tags, again.note) == (
            Verdict.FAIL, 2, ("artifacts",), "blurry")
        key(mode, Qt.Key.Key_U)
        assert "Nothing to undo" in mode.editor.message.text()

    loop.run_until_complete(body())


def test_it_resumes_where_it_stopped_per_selection(home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, three_jobs)
    window = open_window()
    controller = window.workbench.reviews

    async def first_pass() -> None:
        mode = await open_mode(window)
        key(mode, Qt.Key.Key_Right)
        key(mode, Qt.Key.Key_Right)
        assert mode.index() == 2
        key(mode, Qt.Key.Key_Escape)
        assert mode.isHidden() and controller.review_mode is None
        await controller.idle()
        mode = await open_mode(window)
        assert mode.index() == 2 and mode.items[2].key == ("job-b", 1)
        # Another selection (try-ons only) has its own place: its first output.
        key(mode, Qt.Key.Key_Escape)
        await controller.idle()
        window.history_panel.set_filter(JobFilter(task="tryon"))
        await window.history_panel.settle()
        mode = await open_mode(window)
        assert [i.key for i in mode.items] == [("job-c", 0), ("job-b", 0), ("job-b", 1)]
        assert mode.index() == 0
        key(mode, Qt.Key.Key_Escape)
        await controller.idle()
        window.history_panel.set_filter(JobFilter())
        await window.history_panel.settle()

    loop.run_until_complete(first_pass())
    window.close()
    loop.run_until_complete(window.aclose())
    # A new window (the next day) resumes there too.
    later = open_window()

    async def second_pass() -> None:
        mode = await open_mode(later)
        assert mode.index() == 2
        key(mode, Qt.Key.Key_Escape)
        await later.workbench.reviews.idle()

    loop.run_until_complete(second_pass())


def test_history_selection_is_what_review_these_reviews(home: Path, open_window, loop  # type: ignore[no-untyped-def]
                                                        ) -> None:
    seed(home, three_jobs)
    window = open_window()
    panel = window.history_panel

    async def body() -> None:
        await until(lambda: len(panel.job_ids_loaded()) == 3)
        selection = panel.view.selectionModel()
        panel.view.setCurrentIndex(panel.model.index(0))
        selection.select(panel.model.index(2), selection.SelectionFlag.Select)
        assert panel.selected_job_ids() == ["job-c", "job-a"]
        panel.review_bar.review_button.click()
        await until(lambda: window.workbench.reviews.review_mode is not None
                    and window.workbench.reviews.review_mode.index() >= 0)
        mode = window.workbench.reviews.review_mode
        assert [i.key for i in mode.items] == [("job-c", 0), ("job-a", 0)]
        key(mode, Qt.Key.Key_Escape)
        await window.workbench.reviews.idle()

    loop.run_until_complete(body())


def test_the_window_closes_cleanly_with_review_mode_open(home: Path, open_window, loop  # type: ignore[no-untyped-def]
                                                        ) -> None:
    seed(home, three_jobs)
    window = open_window()

    async def body() -> None:
        mode = await open_mode(window)
        key(mode, Qt.Key.Key_P)
        await window.aclose()

    loop.run_until_complete(body())
    assert stored(home)[("job-c", 0, "ana")].verdict == Verdict.PASS
