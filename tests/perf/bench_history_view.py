"""The history panel: its first page painted at 10,000 jobs, and scrolling to the end at 100,000,
beside the SQL queries that fetch the same rows, in the same run.

Run: QT_QPA_PLATFORM=offscreen python -m tests.perf.bench_history_view [--quick]

First page: a visible HistoryPanel (420 x 900) on a copy of a 10,000-job history; the time runs
from reload() to the end of the first paint of its list with rows in it (a real paint, through
an event filter on the list's viewport). Median of 5 fresh panels; the baseline is History.list
for the same first page.

Scroll: the same panel on 100,000 jobs, page after page (fetchMore, then the view scrolled to
its bottom and painted) until the end or until a time box (120 s; quick: 5 s) runs out. Page
cost near the end (median of the last 5 pages) against the first 5: OFFSET paging grows with
depth, keyset paging stays flat. The SQL keyset query at the same depth is the floor.
`--quick`: 500 and 3,000 jobs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.kit import Row, filled_home

PROVIDERS = {"local": "Local", "fitinview": "FitInView", "vtryon": "vtryon"}
TASKS = {"recolor": "Recolor", "tryon": "Try-on", "staging": "Staging"}
KEYSET = ("SELECT * FROM jobs WHERE created_at < ? OR (created_at = ? AND id < ?)"
          " ORDER BY created_at DESC, id DESC LIMIT ?")


class PaintWatch:
    """Counts paints of a widget that happened with rows in its model."""

    def __init__(self, widget, model) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            def eventFilter(inner, watched, event):  # type: ignore[no-untyped-def]
                if event.type() == QEvent.Type.Paint and model.rowCount() > 0:
                    self.paints += 1
                return False

        self.paints = 0
        self.filter = Filter()
        widget.installEventFilter(self.filter)

    async def next_paint(self, since: int, timeout: float = 30.0) -> None:
        deadline = time.perf_counter() + timeout
        while self.paints <= since:  # the loop paints (never processEvents in a task)
            if time.perf_counter() > deadline:
                raise RuntimeError("the history list never painted its rows")
            await asyncio.sleep(0.001)


def keyset_pages(db: Path, page: int) -> list[float]:
    """ms of each keyset page query, walking the whole history newest first."""
    conn = sqlite3.connect(str(db))
    times: list[float] = []
    try:
        at = _columns(conn).index("created_at")
        first = conn.execute("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?",
                             (page,)).fetchall()
        rows = first
        while rows:
            created, job_id = rows[-1][at], rows[-1][0]
            start = time.perf_counter()
            rows = conn.execute(KEYSET, (created, created, job_id, page)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
    finally:
        conn.close()
    return times


def _columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]


async def first_page(home: Path, runs: int) -> tuple[float, float]:
    from desktop.config import resolve_paths
    from desktop.core.assets import AssetStore
    from desktop.core.store import History
    from desktop.ui.history_view import HistoryPanel

    paths = resolve_paths(home)
    history = History(paths.database)
    assets = AssetStore(paths.assets_dir)
    painted, queried = [], []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            history.list(limit=100)
            queried.append((time.perf_counter() - start) * 1000)
            panel = HistoryPanel(history, assets, PROVIDERS, TASKS)
            panel.resize(420, 900)
            panel.show()
            watch = PaintWatch(panel.view.viewport(), panel.model)
            start = time.perf_counter()
            await panel.reload()
            await watch.next_paint(0)
            painted.append((time.perf_counter() - start) * 1000)
            panel.hide()
            await panel.settle()
            panel.deleteLater()
    finally:
        history.close()
    return statistics.median(painted), statistics.median(queried)


async def scroll(home: Path, budget_s: float) -> dict[str, float]:
    from desktop.config import resolve_paths
    from desktop.core.assets import AssetStore
    from desktop.core.store import History
    from desktop.ui.history_view import HistoryPanel

    paths = resolve_paths(home)
    history = History(paths.database)
    panel = HistoryPanel(history, AssetStore(paths.assets_dir), PROVIDERS, TASKS)
    panel.resize(420, 900)
    panel.show()
    watch = PaintWatch(panel.view.viewport(), panel.model)
    try:
        await panel.reload()
        await watch.next_paint(0)
        total = panel.total_count()
        pages: list[float] = []
        started = time.perf_counter()
        while panel.model.rowCount() < total and time.perf_counter() - started < budget_s:
            before = panel.model.rowCount()
            seen = watch.paints
            start = time.perf_counter()
            panel.model.fetchMore()
            await panel.settle()
            panel.view.scrollToBottom()
            await watch.next_paint(seen)
            pages.append((time.perf_counter() - start) * 1000)
            if panel.model.rowCount() <= before:
                raise RuntimeError("a page fetch added no rows")
        elapsed = time.perf_counter() - started
        loaded = panel.model.rowCount()
        panel.hide()
        await panel.settle()
    finally:
        history.close()
    return {"total": total, "loaded": loaded, "elapsed": elapsed,
            "first": statistics.median(pages[:5]), "last": statistics.median(pages[-5:]),
            "pages": len(pages)}


def rows(quick: bool = False) -> list[Row]:
    import qasync
    from PySide6.QtWidgets import QApplication

    small, large, runs, budget = (500, 3000, 3, 5.0) if quick else (10_000, 100_000, 5, 120.0)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="restyle-history-") as tmp:
        home = filled_home(small, Path(tmp) / "small")
        painted, queried = loop.run_until_complete(first_page(home, runs))
        home = filled_home(large, Path(tmp) / "large")
        got = loop.run_until_complete(scroll(home, budget))
        keyset = keyset_pages(home / "data" / "history.sqlite3", 100)
    loop.close()
    reached = got["loaded"] >= got["total"]
    depth = int(got["loaded"])
    where = (f"end reached: {got['pages']:.0f} pages in {got['elapsed']:.0f} s" if reached else
             f"time box {budget:.0f} s: reached row {depth:,} of {got['total']:,.0f}")
    scroll_s = got["elapsed"] if reached else got["elapsed"] * got["total"] / max(1, depth)
    keyset_near = statistics.median(keyset[max(0, depth // 100 - 5): depth // 100] or keyset)
    return [
        Row(f"history: first page painted at {small:,} jobs (visible panel)", "< 100 ms", None,
            painted, queried, "ms", goal_max=100.0,
            note=f"median of {runs} panels; baseline: SQL first page"),
        Row(f"history: a page near the end at {large:,} jobs vs the first page",
            "flat or ~log (<= 2 x the first page)", 2.0, got["last"], got["first"], "ms",
            note=f"median of 5 pages each; {where}"),
        Row(f"history: scroll to the end at {large:,} jobs", "-", None, scroll_s,
            sum(keyset) / 1000, "s",
            note=("" if reached else "extrapolated linearly (a lower bound if pages grow); ")
            + "baseline: the keyset SQL walk over every page"),
        Row(f"history: a page near the end at {large:,} jobs vs the SQL keyset query there",
            "-", None, got["last"], keyset_near, "ms", note="keyset: the floor at any depth"),
    ]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for row in rows("--quick" in args):
        print(f"{row.figure}: {row.measured:.1f} {row.unit} vs {row.baseline or 0:.2f} "
              f"{row.unit} {row.verdict()}; {row.note}")


if __name__ == "__main__":
    main()
