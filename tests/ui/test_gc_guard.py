"""Garbage is collected on the GUI thread, from a timer, never by a worker that allocates."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from desktop.ui.gc_guard import GuiThreadCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it
        self.qt = QObject()


def test_cycles_with_qt_objects_are_freed_on_the_gui_thread_only() -> None:
    collector = GuiThreadCollector(interval_ms=10_000)
    try:
        assert not gc.isenabled()
        node = Node()
        gone = weakref.ref(node)
        del node
        # A worker allocating a lot must not trigger a collection (that would free the QObject
        # over there).
        threshold = gc.get_threshold()[0]
        worker = threading.Thread(target=lambda: [[] for _ in range(20 * threshold)])
        worker.start()
        worker.join()
        assert gone() is not None
        keep = [[] for _ in range(2 * threshold)]  # live containers: over the threshold
        assert collector.check() > 0
        del keep
        assert gone() is None
    finally:
        collector.stop()
    assert gc.isenabled()
