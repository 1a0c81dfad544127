"""The blind comparison in the real window: providers hidden, sides drawn at random, every vote
stored with the jobs that were really on the left and on the right."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from desktop.app import RestyleWindow
from desktop.config import save_settings
from desktop.core.model import Job, JobSpec, JobState
from desktop.core.reviews import ReviewSettings, VoteOutcome
from desktop.core.store import History
from desktop.core.store.reviews import ReviewStore
from desktop.services import Services
from desktop.ui.arena import Arena, arena_pairs, comparable_groups, tally
from desktop.ui.image_canvas import ImageCanvas
from tests.ui.review_support import open_window, seed, store_job, until

__all__ = ["open_window"]

NOW = 1_700_000_000.0
COLOURS = {"f1": (220, 40, 40), "t1": (40, 200, 40), "l1": (40, 40, 220),
           "f2": (200, 200, 40), "t2": (200, 40, 200), "f3": (40, 200, 200)}


def jobs_of_two_inputs(services: Services) -> list[Job]:
    save_settings(services.paths, replace(services.settings, review=ReviewSettings("ana")))
    plan = [("f1", "fitinview", "person-1"), ("t1", "tryonapi", "person-1"),
            ("l1", "local", "person-1"), ("f2", "fitinview", "person-2"),
            ("t2", "tryonapi", "person-2"), ("f3", "fitinview", "person-3")]
    return [store_job(services, jid, provider=p, inputs=inputs, colour=COLOURS[jid],
                      when=NOW + i) for i, (jid, p, inputs) in enumerate(plan)]


def stored_votes(home: Path) -> list:  # type: ignore[type-arg]
    history = History(home / "data" / "history.sqlite3")
    try:
        return ReviewStore(history).votes()
    finally:
        history.close()


def every_text(widget: QWidget) -> list[str]:
    """What a person (or a screen reader) can read anywhere in the widget."""
    found: list[str] = []
    for child in [widget, *widget.findChildren(QWidget)]:
        if not child.isVisibleTo(widget) and child is not widget:
            continue
        found += [child.toolTip(), child.accessibleName(), child.accessibleDescription(),
                  child.windowTitle()]
        if isinstance(child, (QLabel, QAbstractButton)):
            found.append(child.text())
        if isinstance(child, ImageCanvas):
            found += [*child.labels(), child.message()]
    return [text for text in found if text]


def colour_of(canvas: ImageCanvas) -> QColor:
    image = canvas.image()
    assert image is not None
    return image.pixelColor(image.width() // 2, image.height() // 2)


def job_colour(job_id: str) -> QColor:
    return QColor(*COLOURS[job_id])


async def open_arena(window: RestyleWindow, seed_value: int | None) -> Arena:
    controller = window.workbench.reviews
    if seed_value is None:
        window.arena_action.trigger()
        await until(lambda: controller.arena is not None and not controller.arena.isHidden())
        arena = controller.arena
    else:
        arena = await controller.start_arena(seed=seed_value)
    assert isinstance(arena, Arena) and window.findChild(QWidget, "arena") is arena
    return arena


def test_pairs_are_the_providers_outputs_of_the_same_inputs() -> None:
    def job(jid: str, provider: str, inputs: str, task: str = "tryon",
            state: JobState = JobState.SUCCEEDED) -> Job:
        from desktop.core.model import Output

        return Job(jid, JobSpec(provider, task, {"person": [inputs]}), state, 0, 0,
                   outputs=(Output(0, "0" * 64, "image/png", 1, 4, 4),))

    jobs = [job("f1", "fitinview", "a"), job("t1", "tryonapi", "a"),
            job("f1b", "fitinview", "a"),  # a re-run of the same provider: never its own pair
            job("s1", "tryonapi", "a", task="staging"),  # another task: not comparable
            job("x1", "tryonapi", "b", state=JobState.FAILED), job("f2", "fitinview", "b")]
    groups = comparable_groups(jobs)
    assert [sorted(j.id for j in g) for g in groups] == [["f1", "f1b", "t1"]]
    pairs = arena_pairs(jobs, random.Random(1))
    assert sorted(tuple(sorted((p.left.job.id, p.right.job.id))) for p in pairs) == [
        ("f1", "t1"), ("f1b", "t1")]
    left = arena_pairs(jobs, random.Random(1), voted=[(("t1", 0), ("f1", 0))])
    assert [{p.left.job.id, p.right.job.id} for p in left] == [{"f1b", "t1"}]


def test_sides_and_order_are_drawn_per_session_seed() -> None:
    from desktop.core.model import Output

    jobs = [Job(f"{p}{i}", JobSpec(p, "tryon", {"person": [f"in{i}"]}), JobState.SUCCEEDED,
                0, 0, outputs=(Output(0, "0" * 64, "image/png", 1, 4, 4),))
            for i in range(60) for p in ("fitinview", "tryonapi")]

    def drawn(seed_value: int) -> list[tuple[str, str]]:
        return [(p.left.job.id, p.right.job.id) for p in arena_pairs(jobs, random.Random(
            seed_value))]

    assert drawn(3) == drawn(3)  # one session's draw is fixed by its seed
    assert drawn(3) != drawn(4)
    lefts = [left for left, _right in drawn(3)]
    on_left = sum(1 for left in lefts if left.startswith("fitinview"))
    assert 15 <= on_left <= 45  # FitInView is on either side, not always on one
    assert sorted(lefts) != lefts  # and the order is shuffled


def test_the_arena_hides_providers_and_stores_each_vote_with_its_real_jobs(
        home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, jobs_of_two_inputs)
    window = open_window()
    titles = [p.title for p in window.workbench.providers.values()]
    hidden_words = [*titles, "fitinview", "tryonapi", "local"]

    async def body() -> tuple[Arena, list[tuple[str, str]]]:
        arena = await open_arena(window, None)  # View > Blind comparison, a random seed
        assert len(arena.pairs) == 4  # three from person-1, one from person-2, none alone
        shown: list[tuple[str, str]] = []
        for key in (Qt.Key.Key_A, Qt.Key.Key_B, Qt.Key.Key_T, Qt.Key.Key_X):
            pair = arena.current()
            assert pair is not None
            await until(lambda a=arena: a.left_canvas.image() is not None
                        and a.right_canvas.image() is not None
                        and not a.left_canvas.message(), what="the pair's images")
            # What is drawn on the left is the job stored as left.
            assert colour_of(arena.left_canvas) == job_colour(pair.left.job.id)
            assert colour_of(arena.right_canvas) == job_colour(pair.right.job.id)
            texts = " ".join(every_text(arena)).lower()
            for word in hidden_words:
                assert word.lower() not in texts, f"{word!r} shows before the end"
            assert f"{arena.pairs_left()} left" in arena.remaining.text()
            shown.append((pair.left.job.id, pair.right.job.id))
            QTest.keyClick(arena, key)
        await arena.settle()
        return arena, shown

    arena, shown = loop.run_until_complete(body())
    votes = stored_votes(home)
    assert [(v.left_job, v.right_job, v.outcome, v.reviewer) for v in votes] == [
        (left, right, outcome, "ana") for (left, right), outcome in
        zip(shown, (VoteOutcome.LEFT, VoteOutcome.RIGHT, VoteOutcome.TIE, VoteOutcome.BAD),
            strict=True)]
    # The last vote ends the session: now the providers are named.
    assert arena.stack.currentIndex() == 1
    summary = arena.summary.text()
    assert "FitInView" in summary and "4 votes on 4 pairs" in summary
    QTest.keyClick(arena, Qt.Key.Key_Escape)
    assert arena.isHidden() and window.workbench.reviews.arena is None


def test_undo_takes_the_vote_back_and_a_new_session_skips_pairs_voted_on(
        home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, jobs_of_two_inputs)
    window = open_window()

    async def body() -> None:
        arena = await open_arena(window, 11)
        first = arena.current()
        assert first is not None and arena.remaining.text() == "Pair 1 of 4 · 4 left"
        QTest.keyClick(arena, Qt.Key.Key_A)
        assert arena.remaining.text() == "Pair 2 of 4 · 3 left"
        await arena.settle()
        assert len(stored_votes(home)) == 1
        QTest.keyClick(arena, Qt.Key.Key_U)
        assert arena.current() == first
        await arena.settle()
        assert stored_votes(home) == []
        QTest.keyClick(arena, Qt.Key.Key_B)
        QTest.keyClick(arena, Qt.Key.Key_T)
        QTest.keyClick(arena, Qt.Key.Key_Escape)  # ends early: the summary
        await arena.settle()
        assert arena.stack.currentIndex() == 1
        assert "2 votes on 4 pairs" in arena.summary.text()
        QTest.keyClick(arena, Qt.Key.Key_Escape)
        await window.workbench.reviews.idle()
        again = await open_arena(window, 11)
        assert len(again.pairs) == 2  # the two voted on are left out
        assert {frozenset((p.left.job.id, p.right.job.id)) for p in again.pairs}.isdisjoint(
            {frozenset((v.left_job, v.right_job)) for v in stored_votes(home)})
        QTest.keyClick(again, Qt.Key.Key_Escape)
        QTest.keyClick(again, Qt.Key.Key_Escape)
        await window.workbench.reviews.idle()

    loop.run_until_complete(body())
    votes = stored_votes(home)
    assert [v.outcome for v in votes] == [VoteOutcome.RIGHT, VoteOutcome.TIE]


def test_a_selection_without_two_providers_on_the_same_inputs_says_so(
        home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    def plan(services: Services) -> list[Job]:
        return [store_job(services, "only", provider="fitinview", when=time.time())]

    seed(home, plan)
    window = open_window()

    async def body() -> None:
        arena = await open_arena(window, 1)
        assert arena.stack.currentIndex() == 1
        assert "same inputs from at least two providers" in arena.summary.text()
        QTest.keyClick(arena, Qt.Key.Key_Return)
        assert arena.isHidden()

    loop.run_until_complete(body())


def test_tally_counts_each_side() -> None:
    from desktop.ui.arena import ArenaOutput, ArenaPair

    def out(provider: str) -> ArenaOutput:
        return ArenaOutput(Job(provider, JobSpec(provider, "tryon"), JobState.SUCCEEDED, 0, 0),
                           0)

    a, b = out("a"), out("b")
    rows = tally([(ArenaPair(a, b), VoteOutcome.LEFT), (ArenaPair(b, a), VoteOutcome.LEFT),
                  (ArenaPair(a, b), VoteOutcome.RIGHT), (ArenaPair(a, b), VoteOutcome.TIE),
                  (ArenaPair(b, a), VoteOutcome.BAD)])
    assert [(r.provider, r.wins, r.losses, r.ties, r.both_bad) for r in rows] == [
        ("b", 2, 1, 1, 1), ("a", 1, 2, 1, 1)]
