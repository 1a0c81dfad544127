"""Fixtures for window tests: a fresh qasync loop per test on the session QApplication."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtWidgets import QApplication

import desktop.ui.qt_compat  # noqa: F401 - PySide6 6.12.0 refcount guard, before any Qt work


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh qasync loop per test (DESIGN.md section 6); the test body runs as a coroutine
    with `loop.run_until_complete`."""
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    try:
        yield event_loop
    finally:
        event_loop.close()
        asyncio.set_event_loop(None)
