"""Composition root of the window: QApplication, the qasync loop, wiring and clean shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.config import APP_NAME
from desktop.core.store import HistoryError
from desktop.logs import setup_logging
from desktop.services import Services
from desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class RestyleWindow(MainWindow):
    """The main window with the services it was built for."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    async def load_history(self) -> None:
        jobs = await asyncio.to_thread(self.services.history.list, None, limit=200)
        self.show_jobs(jobs)


def create_main_window(home: str | os.PathLike[str] | Path | None = None) -> RestyleWindow:
    """Build the fully wired window for a data folder, without showing it or starting a loop."""
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("Create the QApplication before the main window.")
    return RestyleWindow(Services.open(home))


def _install_excepthook() -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        log.error("Unhandled exception", exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    sys.excepthook = hook


async def _run(app: QApplication, window: RestyleWindow) -> int:
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    # Python runs signal handlers only when it gets control; while Qt idles it would not, and
    # Ctrl+C in the terminal that started Restyle would do nothing. A light tick fixes that.
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(250)
    window.show()
    loader = asyncio.ensure_future(window.load_history())
    try:
        await closed.wait()
    finally:  # also on Ctrl+C in the terminal that started Restyle
        loader.cancel()
        await window.services.aclose()
        window.services.close()
    return 0


def main() -> int:
    # qasync picks its Qt binding from what is already imported: PySide6 first (DESIGN.md 6).
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setQuitOnLastWindowClosed(False)
    _install_excepthook()
    try:
        window = create_main_window()
    except HistoryError as exc:  # before any loop runs, so a modal box is safe here
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 3
    setup_logging(window.services.paths.log_file)
    try:
        return qasync.run(_run(app, window)) or 0
    except KeyboardInterrupt:
        return 130
