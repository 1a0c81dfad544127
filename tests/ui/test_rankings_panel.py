"""The rankings panel in the real window: providers in strength order with the numbers core
computes, the agreement line, the history filter and the task choice, off the GUI thread."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

import desktop.core.rankings as rankings
from desktop.config import save_settings
from desktop.core.model import Job
from desktop.core.rankings import rank
from desktop.core.review_facts import gather
from desktop.core.reviews import Review, ReviewSettings, Verdict, VoteOutcome
from desktop.core.store import History, JobFilter
from desktop.core.store.reviews import ReviewStore
from desktop.services import Services
from desktop.ui.rankings_panel import (
    ROW_HEIGHT,
    RankingsPanel,
    agreement_line,
    kappa_words,
    row_cells,
)
from tests.ui.review_support import open_window, seed, store_job, until

__all__ = ["open_window"]

NOW = 1_700_000_000.0
PROVIDERS = ("fitinview", "tryonapi", "local")


def contest(services: Services) -> list[Job]:
    """Six inputs, each run by three providers (try-on), two staging jobs; FitInView wins
    most votes, local fewest; three people review the FitInView and TryonAPI outputs."""
    save_settings(services.paths, replace(services.settings, review=ReviewSettings("ana")))
    jobs: list[Job] = []
    store = ReviewStore(services.history)
    for i in range(6):
        group = {p: store_job(services, f"{p}-{i}", provider=p, inputs=f"person-{i}",
                              when=NOW + i * 10 + n, duration_s=5 + 10 * n, cost=1.0 + n)
                 for n, p in enumerate(PROVIDERS)}
        jobs += group.values()
        f, t, loc = (group[p].id for p in PROVIDERS)
        store.vote((f, 0), (t, 0), "left" if i < 5 else "right", "ana")
        store.vote((loc, 0), (f, 0), "right", "ben")
        store.vote((t, 0), (loc, 0), "left" if i < 4 else ("tie" if i == 4 else "right"),
                   "ana")
        for reviewer, fail_f, fail_t in (("ana", i == 0, i < 3), ("ben", i == 0, i < 2),
                                         ("cy", i == 1, i < 3)):
            store.save(Review(f, 0, reviewer, Verdict.FAIL if fail_f else Verdict.PASS,
                              4 if not fail_f else 2, ("artifacts",) if fail_f else ()))
            store.save(Review(t, 0, reviewer, Verdict.FAIL if fail_t else Verdict.PASS,
                              3, ("hands or face broken",) if fail_t else ()))
    jobs.append(store_job(services, "stage-f", provider="fitinview", task="staging",
                          inputs="room", when=NOW + 100))
    jobs.append(store_job(services, "stage-v", provider="virtualstaging", task="staging",
                          inputs="room", when=NOW + 101))
    store.vote(("stage-v", 0), ("stage-f", 0), "right", "ana")
    return jobs


def expected(home: Path, where: JobFilter) -> list:  # type: ignore[type-arg]
    history = History(home / "data" / "history.sqlite3")
    try:
        facts = gather(history, ReviewStore(history), where)
        return list(rank(facts.votes, facts.reviews, facts.outputs, bootstrap=1000,
                         seed=0).providers)
    finally:
        history.close()


@pytest.fixture
def ranked_on_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    threads: list[threading.Thread] = []
    real = rankings.rank  # review_controller imports it on the first ranking

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(rankings, "rank", spy)
    return threads


def test_providers_in_strength_order_with_the_numbers_from_core(
        home: Path, open_window, loop, ranked_on_threads) -> None:  # type: ignore[no-untyped-def]
    seed(home, contest)
    window = open_window()
    panel = window.findChild(QWidget, "rankingsPanel")
    assert isinstance(panel, RankingsPanel) and window.rankings_dock.isHidden()
    titles = {pid: p.title for pid, p in window.workbench.providers.items()}

    async def body() -> None:
        window.rankings_dock.toggleViewAction().trigger()  # View > Rankings
        await until(lambda: panel.rankings() is not None, what="the rankings")

    loop.run_until_complete(body())
    assert ranked_on_threads and threading.main_thread() not in ranked_on_threads
    rows = expected(home, JobFilter())
    # One lost vote leaves VirtualStaging above local, who lost almost all of its 12.
    assert [r.provider for r in rows] == ["fitinview", "tryonapi", "virtualstaging", "local"]
    assert [r.provider for r in panel.rankings().providers] == [r.provider for r in rows]
    # The chart draws them top to bottom in that order, strongest on the right.
    chart = panel.chart
    assert [title for title, _row in chart.rows()] == [titles.get(r.provider, r.provider)
                                                       for r in rows]
    plot = chart.plot_rect()
    xs = [chart.x_for(r.strength, plot) for r in rows if r.strength is not None]
    assert xs == sorted(xs, reverse=True)
    shot = chart.grab().toImage()
    accent = chart.palette().color(QPalette.ColorRole.Highlight)
    dot = shot.pixelColor(round(xs[0]), round(plot.top() + ROW_HEIGHT / 2))
    assert (dot.red(), dot.green(), dot.blue()) == (accent.red(), accent.green(), accent.blue())
    # The table gives core's numbers, formatted.
    table = panel.table_text()
    assert table == [row_cells(r, titles.get(r.provider, r.provider)) for r in rows]
    first = rows[0]
    assert table[0][0] == "FitInView"
    assert table[0][1] == f"{first.strength:.2f} ({first.strength_ci.low:.2f}–" \
                          f"{first.strength_ci.high:.2f})"
    assert first.votes == 13 and table[0][3] == "13"
    assert table[0][4].startswith(f"{first.review.pass_rate * 100:.0f} %")
    assert table[0][6] == "5 s"  # FitInView's median duration
    # Three people reviewed the same outputs: Fleiss' kappa.
    agreement = panel.agreement.text()
    assert agreement.startswith("Fleiss' kappa ") and "rated by 3 people: " in agreement
    assert panel.scope.text() == \
        "From the 20 jobs the history shows: 19 votes and 36 reviews."


def test_the_history_filter_and_the_task_choice_narrow_the_ranking(
        home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    seed(home, contest)
    window = open_window()
    panel = window.rankings_panel
    controller = window.workbench.reviews

    async def body() -> None:
        window.rankings_dock.show()
        await until(lambda: panel.rankings() is not None)
        # The history filtered to staging: the one staging vote only.
        window.history_panel.set_filter(JobFilter(task="staging"))
        await until(lambda: "2 jobs" in panel.scope.text(), what="staging only")
        assert [r.provider for r in panel.rankings().providers] == [
            r.provider for r in expected(home, JobFilter(task="staging"))]
        assert [r.provider for r in panel.rankings().providers] == ["fitinview",
                                                                    "virtualstaging"]
        window.history_panel.set_filter(JobFilter())
        await until(lambda: "20 jobs" in panel.scope.text())
        # The panel's own task choice.
        panel.task_combo.setCurrentIndex(panel.task_combo.findData("tryon"))
        await until(lambda: "(Try-on)" in panel.scope.text(), what="try-on only")
        await controller.idle()
        assert [r.provider for r in panel.rankings().providers] == [
            r.provider for r in expected(home, JobFilter(task="tryon"))]
        assert "virtualstaging" not in [r.provider for r in panel.rankings().providers]

    loop.run_until_complete(body())


def test_new_votes_rank_again(home: Path, open_window, loop) -> None:  # type: ignore[no-untyped-def]
    def few(services: Services) -> list[Job]:
        save_settings(services.paths, replace(services.settings,
                                              review=ReviewSettings("ana")))
        return [store_job(services, "a", provider="fitinview", when=NOW),
                store_job(services, "b", provider="tryonapi", when=NOW + 1)]

    seed(home, few)
    window = open_window()
    panel = window.rankings_panel

    async def body() -> None:
        window.rankings_dock.show()
        await until(lambda: panel.rankings() is not None)
        assert "Nothing to rank yet" in panel.scope.text()
        arena = await window.workbench.reviews.start_arena(seed=2)
        assert arena is not None
        winner = arena.current().right.job.provider
        arena.vote(VoteOutcome.RIGHT)
        arena.close_arena()
        await until(lambda: panel.rankings() is not None and any(
            r.votes for r in panel.rankings().providers), what="ranked again")
        assert panel.rankings().providers[0].provider == winner

    loop.run_until_complete(body())


def test_words_for_the_agreement() -> None:
    assert kappa_words(0.41) == "moderate agreement"
    assert kappa_words(0.85) == "almost perfect agreement"
    assert kappa_words(-0.1) == "less agreement than chance"
    from desktop.core.rankings import Agreement

    line = agreement_line(Agreement("fleiss", 0.41, 30, 3, 0.8, 0.66, None, 0, "n"))
    assert line == "Fleiss' kappa 0.41 over 30 outputs rated by 3 people: moderate agreement."
