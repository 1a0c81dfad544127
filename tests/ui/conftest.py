"""Fixtures for window tests: a fresh qasync loop per test on the session QApplication."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

import desktop.ui.qt_compat  # noqa: F401 - PySide6 6.12.0 refcount guard, before any Qt work
from desktop.ui import asyncgen_hooks
from desktop.ui.gc_guard import GuiThreadCollector


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """As in the application: garbage (Qt objects among it) is collected on this thread only,
    never in a worker that happens to allocate (see desktop/ui/gc_guard.py)."""
    collector = GuiThreadCollector(interval_ms=200)
    try:
        yield
    finally:
        collector.stop()


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh qasync loop per test (docs/ARCHITECTURE.md, "The window and qasync"); the test
    body runs as a coroutine with `loop.run_until_complete`."""
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    restore_hooks = asyncgen_hooks.install(event_loop)  # as the application does
    try:
        yield event_loop
    finally:
        event_loop.close()
        restore_hooks()
        asyncio.set_event_loop(None)
