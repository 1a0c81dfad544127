"""The review of the shown output in the result panel: this reviewer's, editable with the
mouse and saved at once; the others' with names and times."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from desktop.config import save_settings
from desktop.core.model import Job
from desktop.core.reviews import Review, ReviewSettings, Verdict
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore
from desktop.services import Services
from tests.ui.review_support import open_window, seed, store_job, until

__all__ = ["open_window"]


def two_jobs(services: Services) -> list[Job]:
    save_settings(services.paths, replace(services.settings, review=ReviewSettings("ana")))
    jobs = [store_job(services, "job-t", provider="fitinview", outputs=2),
            store_job(services, "job-s", provider="virtualstaging", task="staging")]
    ReviewStore(services.history).save(Review("job-t", 0, "ben", Verdict.FAIL, 2,
                                              ("hands or face broken",), "fingers"))
    return jobs


def mine(home: Path, job_id: str, position: int = 0) -> Review | None:
    history = History(home / "data" / "history.sqlite3")
    try:
        return ReviewStore(history).get(job_id, position, "ana")
    finally:
        history.close()


def test_the_result_panel_reviews_the_shown_output(home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, two_jobs)
    window = open_window()
    wb = window.workbench
    editor = window.result_panel.review_editor

    async def body() -> None:
        await wb.show_job("job-t")
        await wb.reviews.idle()
        assert editor.isVisibleTo(window) and editor.subject() is not None
        assert editor.heading.text() == "Your review (ana)"
        others = editor.others.text()
        assert "ben: Fail · ★★☆☆☆ · hands or face broken · “fingers” · " in others
        assert "just now" in others  # when ben reviewed it
        assert editor.chip("identity changed") is not None  # the try-on tags
        QTest.mouseClick(editor.pass_button, Qt.MouseButton.LeftButton)
        QTest.mouseClick(editor.star_buttons[2], Qt.MouseButton.LeftButton)
        QTest.mouseClick(editor.chip("artifacts"), Qt.MouseButton.LeftButton)
        editor.note.setFocus()
        QTest.keyClicks(editor.note, "sleeve")
        QTest.keyClick(editor.note, Qt.Key.Key_Return)
        await wb.reviews.idle()
        saved = mine(home, "job-t")
        assert saved is not None
        assert (saved.verdict, saved.stars, saved.tags, saved.note) == (
            Verdict.PASS, 3, ("artifacts",), "sleeve")
        assert editor.pass_button.isChecked() and editor.star_buttons[2].text() == "★"
        # The second output has its own review.
        window.compare_view.set_current(1)
        await wb.reviews.idle()
        assert editor.subject() == Review("job-t", 1, "ana")
        assert "No one else has reviewed it." in editor.others.text()
        QTest.mouseClick(editor.fail_button, Qt.MouseButton.LeftButton)
        await wb.reviews.idle()
        assert mine(home, "job-t", 1).verdict == Verdict.FAIL
        # Everything cleared: the review goes.
        window.compare_view.set_current(0)
        await wb.reviews.idle()
        assert editor.verdict() == Verdict.PASS
        QTest.mouseClick(editor.pass_button, Qt.MouseButton.LeftButton)
        QTest.mouseClick(editor.star_buttons[2], Qt.MouseButton.LeftButton)
        QTest.mouseClick(editor.chip("artifacts"), Qt.MouseButton.LeftButton)
        editor.note.setFocus()
        editor.note.clear()
        QTest.keyClick(editor.note, Qt.Key.Key_Return)
        await wb.reviews.idle()
        assert mine(home, "job-t") is None
        # A staging result offers the staging tags.
        await wb.show_job("job-s")
        await until(lambda: editor.subject() is not None
                    and editor.subject().job_id == "job-s")
        assert editor.chip("furniture floating") is not None
        assert editor.chip("identity changed") is None

    loop.run_until_complete(body())
