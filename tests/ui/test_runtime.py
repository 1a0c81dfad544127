"""The interpreter settings the window runs with (desktop/ui/runtime.py)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from desktop.core import heap
from desktop.ui import runtime


@pytest.fixture
def restored() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    gc.unfreeze()


def test_prepare_shortens_the_gil_switch_interval_and_caps_the_heap(
        restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[bool] = []
    monkeypatch.setattr(heap, "install", lambda: installed.append(True) or True)
    sys.setswitchinterval(0.005)
    runtime.prepare()
    assert sys.getswitchinterval() == pytest.approx(runtime.SWITCH_INTERVAL_S)
    assert runtime.SWITCH_INTERVAL_S <= 0.001
    assert installed == [True]


def test_the_collector_looks_often(restored: None) -> None:
    collector = runtime.collect_on_gui_thread()
    try:
        assert collector._timer.interval() == runtime.COLLECT_INTERVAL_MS <= 100
        assert not gc.isenabled()
    finally:
        collector.stop()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_started_collects_then_freezes_what_is_alive(restored: None) -> None:
    garbage = _Cycle()
    gone = weakref.ref(garbage)
    del garbage
    kept = _Cycle()
    frozen_before = gc.get_freeze_count()
    runtime.started()
    assert gone() is None  # collected, not frozen for ever
    assert gc.get_freeze_count() > frozen_before
    assert gc.is_tracked(kept)


def test_the_app_freezes_once_its_window_has_started(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from desktop import app

    order: list[str] = []

    class Window:
        workbench = None

        async def start(self) -> None:
            order.append("start")

    class Opener:  # files on the command line: none here
        def __init__(self, _workbench: object) -> None:
            order.append("opener")

    monkeypatch.setattr(runtime, "started", lambda: order.append("started"))
    monkeypatch.setattr(app, "OpenFiles", Opener)
    asyncio.run(app._start(Window(), app.parse_args([])))  # type: ignore[arg-type]
    assert order == ["start", "started", "opener"]
