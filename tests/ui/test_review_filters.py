"""The history's review filters, clicked: pass, fail, unreviewed, a defect tag, "Mine", with the
provider, task and date filters ("failed try-ons from FitInView this week")."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from desktop.core.assets import AssetStore
from desktop.core.model import Job, JobSpec, JobState, Output
from desktop.core.reviews import Review, Verdict
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore
from desktop.ui.history_view import HistoryPanel
from tests.ui.review_support import png, until

PROVIDERS = {"fitinview": "FitInView", "tryonapi": "TryonAPI", "local": "Local"}
TASKS = {"tryon": "Try-on", "staging": "Staging"}
DAY = 86400.0


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[History, AssetStore]:
    """Try-ons and stagings over two weeks, reviewed by ana and ben."""
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    store = ReviewStore(history)
    now = time.time()
    plan = [  # id, provider, task, age in days, reviews
        ("fiv-new-fail", "fitinview", "tryon", 1, [("ana", Verdict.FAIL,
                                                     ("hands or face broken",), "")]),
        ("fiv-old-fail", "fitinview", "tryon", 12, [("ana", Verdict.FAIL, ("artifacts",), "")]),
        ("fiv-new-pass", "fitinview", "tryon", 2, [("ben", Verdict.PASS, (), "lovely drape")]),
        ("fiv-staging-fail", "fitinview", "staging", 1, [("ben", Verdict.FAIL,
                                                          ("clutter left",), "")]),
        ("try-new-fail", "tryonapi", "tryon", 1, [("ben", Verdict.FAIL,
                                                   ("hands or face broken",), "")]),
        ("fiv-unreviewed", "fitinview", "tryon", 1, []),
        ("loc-mixed", "local", "tryon", 3, [("ana", Verdict.PASS, (), ""),
                                            ("ben", Verdict.FAIL, ("garment wrong",), "")]),
    ]
    for jid, provider, task, days, reviews in plan:
        asset = assets.put(png((80, 80, 80)), "image/png", width=96, height=72)
        job = Job(jid, JobSpec(provider, task, {"person": ["/p.png"]}), JobState.SUCCEEDED,
                  now - days * DAY, now - days * DAY,
                  outputs=(Output(0, asset.sha256, asset.mime, asset.size, 96, 72),))
        history.save_job(job, assets=[asset])
        for reviewer, verdict, tags, note in reviews:
            store.save(Review(jid, 0, reviewer, verdict, None, tags, note))
    return history, assets


def panel_for(qtbot: QtBot, history: History, assets: AssetStore) -> HistoryPanel:
    panel = HistoryPanel(history, assets, PROVIDERS, TASKS)
    qtbot.addWidget(panel)
    panel.resize(420, 700)
    panel.show()
    panel.review_bar.set_reviewer("ana")
    return panel


def choose(combo: Any, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


async def shows(panel: HistoryPanel, ids: set[str]) -> None:
    await until(lambda: not panel.model.loading and set(panel.job_ids_loaded()) == ids,
                what=f"the list to show {sorted(ids)}, not {sorted(panel.job_ids_loaded())}")
    await panel.settle()
    assert set(panel.job_ids_loaded()) == ids


def test_failed_try_ons_from_fitinview_this_week_in_four_clicks(reviewed, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = reviewed
    panel = panel_for(qtbot, history, assets)
    bar = panel.review_bar

    async def body() -> None:
        await panel.reload()
        await shows(panel, {"fiv-new-fail", "fiv-old-fail", "fiv-new-pass", "fiv-staging-fail",
                            "try-new-fail", "fiv-unreviewed", "loc-mixed"})
        choose(panel.provider_combo, "FitInView")
        choose(panel.task_combo, "Try-on")
        choose(panel.date_combo, "Last 7 days")
        choose(bar.verdict_combo, "Fail")
        await shows(panel, {"fiv-new-fail"})
        assert panel.job_filter().verdict == "fail"
        choose(bar.verdict_combo, "Pass")
        await shows(panel, {"fiv-new-pass"})
        choose(bar.verdict_combo, "Unreviewed")
        await shows(panel, {"fiv-unreviewed"})
        choose(bar.verdict_combo, "Reviewed")
        await shows(panel, {"fiv-new-fail", "fiv-new-pass"})

    loop.run_until_complete(body())


def test_a_defect_tag_and_mine(reviewed, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = reviewed
    panel = panel_for(qtbot, history, assets)
    bar = panel.review_bar

    async def body() -> None:
        await panel.reload()
        choose(bar.tag_combo, "hands or face broken")
        await shows(panel, {"fiv-new-fail", "try-new-fail"})
        QTest.mouseClick(bar.mine, Qt.MouseButton.LeftButton)  # only ana's reviews
        await shows(panel, {"fiv-new-fail"})
        assert panel.job_filter().reviewer == "ana"
        choose(bar.tag_combo, "Any tag")
        choose(bar.verdict_combo, "Pass")
        await shows(panel, {"loc-mixed"})  # ana passed it (ben failed it)
        choose(bar.verdict_combo, "Unreviewed")  # not reviewed by ana
        await shows(panel, {"fiv-new-pass", "fiv-staging-fail", "try-new-fail",
                            "fiv-unreviewed"})
        QTest.mouseClick(bar.mine, Qt.MouseButton.LeftButton)
        await shows(panel, {"fiv-unreviewed"})
        # The search box finds review notes and tags too.
        choose(bar.verdict_combo, "Any review")
        panel.search.setText("drape")
        await shows(panel, {"fiv-new-pass"})

    loop.run_until_complete(body())


def test_set_filter_shows_the_review_fields_and_rows_stay_put(reviewed, qtbot, loop) -> None:  # type: ignore[no-untyped-def]
    history, assets = reviewed
    panel = panel_for(qtbot, history, assets)
    bar = panel.review_bar

    async def body() -> None:
        panel.set_filter(JobFilter(verdict="fail", tag="clutter left", reviewer="ana"))
        await panel.settle()
        assert bar.verdict_combo.currentText() == "Fail"
        assert bar.tag_combo.currentText() == "clutter left" and bar.mine.isChecked()
        assert panel.job_ids_loaded() == []  # ana tagged nothing "clutter left"
        panel.set_filter(JobFilter(verdict="fail"))
        await shows(panel, {"fiv-new-fail", "fiv-old-fail", "fiv-staging-fail",
                            "try-new-fail", "loc-mixed"})
        assert not bar.mine.isChecked() and bar.tag_combo.currentText() == "Any tag"
        # A listed job that changes (a favourite) stays; a new job has no review: not listed.
        panel.toggle_favorite("fiv-new-fail")
        assert "fiv-new-fail" in panel.job_ids_loaded()
        fresh = Job("fresh", JobSpec("local", "tryon"), JobState.QUEUED, time.time(),
                    time.time())
        panel.refresh_job(fresh)
        assert "fresh" not in panel.job_ids_loaded()
        panel.set_filter(JobFilter(verdict="unreviewed"))
        await panel.settle()
        panel.refresh_job(fresh)
        assert panel.job_ids_loaded()[0] == "fresh"
        # Found through a review's note, a row survives a change that is not about reviews.
        panel.set_filter(JobFilter(text="drape"))
        await shows(panel, {"fiv-new-pass"})
        panel.toggle_favorite("fiv-new-pass")
        assert panel.job_ids_loaded() == ["fiv-new-pass"]
        await panel.settle()

    loop.run_until_complete(body())
