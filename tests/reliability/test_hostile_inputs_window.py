"""Hostile input dropped into the window's input pane: an error line naming the problem, and
the pane keeps the image it had.

File kinds arrive as a real drop of file URLs (what a file manager sends); address kinds go
through `add_sources`, which drops of text and pastes call. The pane reads with the same
bounded reader the engine uses (desktop/core/sources.py) and the same URL loader the app
builds, with the small URL limits of corpus.settings_with_url_limits().
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QLabel

from desktop.core.limits import Limits
from desktop.providers.http import UrlSourceLoader
from desktop.ui.input_pane import InputPane
from desktop.ui.previews import PreviewLoader
from tests.reliability.corpus import (
    FILE_KINDS,
    URL_KINDS,
    SourceKind,
    Workspace,
    matches,
    settings_with_url_limits,
    url_server,
)
from tests.ui.conftest import _collect_on_the_gui_thread, loop  # noqa: F401 - fixtures
from tests.ui.test_input_pane import drop, settle

LIMITS = Limits.from_dict(settings_with_url_limits()["limits"])
WINDOW_KINDS = tuple(k for k in FILE_KINDS + URL_KINDS if k.in_window)


@pytest.fixture(scope="module")
def url_base() -> Iterator[str]:
    with url_server() as base:
        yield base


@pytest.fixture
def ws(tmp_path: Path, url_base: str) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path, url_base=url_base)
    try:
        yield workspace
    finally:
        workspace.close()


def file_mime(path: str) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    return mime


@pytest.mark.parametrize("kind", WINDOW_KINDS, ids=[k.id for k in WINDOW_KINDS])
def test_hostile_source_dropped_into_a_pane(kind: SourceKind, ws: Workspace, qtbot,  # type: ignore[no-untyped-def]
                                             loop) -> None:  # noqa: F811 - the fixture
    reason = kind.skip()
    if reason:
        pytest.skip(reason)
    fetcher = UrlSourceLoader(limits=LIMITS)
    pane = InputPane("person", "Person", PreviewLoader(fetcher, ws.tmp / "pasted", LIMITS))
    qtbot.addWidget(pane)
    pane.resize(320, 260)
    pane.show()
    good = str(ws.good())
    source = kind.make(ws)
    changes: list[int] = []
    elapsed = 0.0

    async def body() -> None:
        nonlocal elapsed
        assert drop(pane, file_mime(good))
        await settle(pane)
        assert pane.sources() == [good] and pane.error_text() == ""
        pane.changed.connect(lambda: changes.append(1))
        started = time.monotonic()
        if kind in FILE_KINDS:
            assert drop(pane, file_mime(source))
            await settle(pane)
        else:
            await pane.add_sources([source])
        elapsed = time.monotonic() - started
        await fetcher.aclose()

    loop.run_until_complete(body())
    error = pane.error_text()
    needles = kind.window_needles or kind.needles
    assert matches(error, needles), (needles, error)
    assert "Traceback" not in error and "unexpected error" not in error
    assert pane.sources() == [good]  # the pane keeps the image it had
    assert changes == []
    label = pane.findChild(QLabel, "errorLabel")
    assert label.isVisible() and label.text() == error
    if kind.max_seconds is not None:
        assert elapsed < kind.max_seconds, elapsed


def test_a_slow_drop_does_not_block_the_window(ws: Workspace, qtbot, loop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """While a slow-drip download runs, the event loop keeps turning (timers fire on time)."""
    fetcher = UrlSourceLoader(limits=LIMITS)
    pane = InputPane("person", "Person", PreviewLoader(fetcher, ws.tmp / "pasted", LIMITS))
    qtbot.addWidget(pane)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    async def body() -> None:
        tick = asyncio.ensure_future(ticker())
        await pane.add_sources([ws.url_base + "/drip.png"])
        tick.cancel()
        await fetcher.aclose()

    loop.run_until_complete(body())
    assert "took longer than" in pane.error_text()
    assert len(gaps) > 10 and max(gaps) < 0.5, max(gaps)
