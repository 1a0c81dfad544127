"""The interpreter settings the window runs with, made in one place for the app and its
window benchmark (tests/perf/bench_window_jobs.py), so the benchmark measures what users run.

- GIL switch interval 1 ms instead of 5 ms. The window's thread gives up the GIL around every
  Qt call PySide makes (a row of the job queue paints with about 25 of them) and whenever it
  waits for events; taking it back while a worker thread runs Python (downloads, checks,
  request bodies) waits until the worker is asked to drop it, one switch interval. Sampled with
  py-spy while 20 jobs downloaded 45 MB results: 28 % of the window thread's time was spent
  waiting for the GIL, mostly inside delegate painting and timer callbacks. Measured with
  tests/perf/late_ticks.py, one run each on the same loaded machine: 5 ms -> 1 ms took the
  timer's p99 gap from 54 to 37 ms and its longest from 709 to 197 ms.
- Freed memory back to the system (desktop.core.heap).
- Garbage collected on the GUI thread only (gc_guard.GuiThreadCollector), often enough that
  each pass is short, and everything alive
  once the window has started moved out of the collector's sight (`gc.freeze`): the modules,
  the widgets and the first history page live as long as the window, and a full collection
  that walks them all held the GIL for 150-330 ms while jobs ran (tests/perf/late_ticks.py).
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject

from desktop.ui.gc_guard import GuiThreadCollector

#: Seconds; CPython's default is 0.005.
SWITCH_INTERVAL_S = 0.001
#: How often the GUI-thread collector looks at the counts. At 1 s, twenty running jobs made
#: tens of thousands of objects between looks, and a young-generation pass over them took up
#: to 30-40 ms on the GUI thread; looking ten times as often keeps each pass a tenth as long.
COLLECT_INTERVAL_MS = 100


def prepare() -> None:
    """The process-wide settings, early: before any thread starts (glibc's arena cap applies
    to arenas made afterwards). Safe to call again: `create_main_window` does, so tests and
    benchmarks that build the window run with the settings `restyle` has."""
    from desktop.core import heap

    heap.install()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def collect_on_gui_thread(parent: QObject | None = None) -> GuiThreadCollector:
    """The collector (after the QApplication exists); call its `stop()` once the window has
    closed. It looks every COLLECT_INTERVAL_MS, so that a young-generation pass stays small."""
    return GuiThreadCollector(parent, interval_ms=COLLECT_INTERVAL_MS)


def started() -> None:
    """The window has started (session restored, history's first page shown): collect once,
    then keep what is alive now out of every later collection."""
    gc.collect()
    gc.freeze()
