"""Composition root of the window: QApplication, the qasync loop, wiring and clean shutdown.

Command line: `restyle [--compare A B [C ...]]` plus Qt's own options (-platform, -style, …),
which QApplication takes out before our parser sees the rest (`build_parser` is where further
options go).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

import desktop.ui.qt_compat  # noqa: F401 - guards against PySide6 6.12.0's refcount bug
from desktop import standalone
from desktop.config import APP_NAME, resources_dir
from desktop.core.catalog import COMMON_TASKS
from desktop.core.store import HistoryError
from desktop.desktop_entry import DESKTOP_ID
from desktop.general_settings import THEME, general_setting
from desktop.logs import setup_logging
from desktop.services import Services
from desktop.ui import asyncgen_hooks, clipboard
from desktop.ui.gc_guard import GuiThreadCollector
from desktop.ui.main_window import MainWindow
from desktop.ui.previews import PreviewLoader
from desktop.ui.theme import apply_theme
from desktop.ui.workbench import Workbench

if TYPE_CHECKING:
    from desktop.ui.compare_files import CompareOutcome

log = logging.getLogger(__name__)


class RestyleWindow(MainWindow):
    """The main window wired to the services it was built for, through a Workbench."""

    def __init__(self, services: Services) -> None:
        engine = services.engine("the Restyle window")
        titles = {pid: engine.provider(pid).title for pid in services.provider_ids()}
        task_titles: dict[str, str] = dict(COMMON_TASKS)
        for pid in services.provider_ids():
            for task in engine.provider(pid).tasks:
                task_titles.setdefault(task.id, task.title)
        loader = PreviewLoader(services.url_loader(), services.paths.data_dir / "pasted",
                               services.settings.limits)
        super().__init__(history=services.history, assets=services.assets, loader=loader,
                         provider_titles=titles, task_titles=task_titles)
        self.services = services
        self.engine = engine
        self.workbench = Workbench(self, services, engine)
        self._closed = False
        #: Closing that waits for submits on their way (see closeEvent).
        self._closing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Restore the last session, load the history, resume unfinished jobs."""
        await self.workbench.start()

    async def compare_files(self, *paths: str | os.PathLike[str]) -> CompareOutcome:
        """Open image files in the compare view (for scripts and tests): the first is the
        before, one more is the pair view, more are a grid. Files that cannot be shown are
        one sentence each in the status bar (and in the outcome); the others still open."""
        return await self.workbench.compare_files.compare(*[Path(p) for p in paths])

    async def load_history(self) -> None:
        """Kept for scripts written against the first window: the same as start()."""
        await self.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close; but while a job is being sent to a paid provider, stay up (greyed, saying
        so in the status bar) until the provider has answered or the engine's grace has
        passed, so the job is recorded, then close."""
        if self._closing is not None and not self._closing.done():
            event.ignore()  # already closing: the status bar says what it waits for
            return
        self.workbench.save_layout()
        if not self._closed and self.workbench.attention.submits_on_the_way():
            try:
                self._closing = asyncio.ensure_future(self._close_after_submits())
            except RuntimeError:  # no loop (a script): close the plain way
                pass
            else:
                event.ignore()
                return
        super().closeEvent(event)

    async def _close_after_submits(self) -> None:
        self.workbench.attention.begin_closing()
        try:
            await self.aclose()
        finally:
            self._closing = None
            self.close()  # now for real: nothing is on its way any more

    async def aclose(self) -> None:
        """Stop: jobs the providers accepted stay resumable; close clients and the history."""
        if self._closed:
            return
        self._closed = True
        await self.workbench.aclose()
        await self.engine.aclose()
        await self.services.aclose()
        self.services.close()


def create_main_window(home: str | os.PathLike[str] | Path | None = None) -> RestyleWindow:
    """Build the fully wired window for a data folder, without showing it or starting a loop.

    Call `await window.start()` on a running qasync loop to restore the session, load the
    history and resume unfinished jobs; `await window.aclose()` to shut down.
    """
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("Create the QApplication before the main window.")
    from desktop.core import heap
    heap.install()  # any host of the window (main, tests, benchmarks) keeps the heap lean
    return RestyleWindow(Services.open(home))


def _install_excepthook() -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        log.error("Unhandled exception", exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    sys.excepthook = hook


def build_parser() -> argparse.ArgumentParser:
    """The window's options (Qt's own are taken out by QApplication first)."""
    parser = argparse.ArgumentParser(
        prog="restyle", description="Restyle: run and compare generative image jobs.",
        epilog="Qt's own options (-platform, -style, …) work as well.")
    parser.add_argument(
        "--compare", nargs="+", metavar="FILE", type=Path, default=[],
        help="open these image files in the compare view: the first is the before, the "
             "others are compared with it (two files: before and after; more: a grid)")
    standalone.add_arguments(parser)
    return parser


def parse_args(arguments: list[str]) -> argparse.Namespace:
    """The arguments after the program name, Qt's options already removed (app.arguments()).
    Usage errors exit with code 2 and argparse's message, before any window opens."""
    return build_parser().parse_args(arguments)


async def _start(window: RestyleWindow, args: argparse.Namespace) -> None:
    await window.start()
    if args.compare:
        await window.compare_files(*args.compare)


async def _run(app: QApplication, window: RestyleWindow,
               args: argparse.Namespace | None = None) -> int:
    asyncgen_hooks.install(asyncio.get_running_loop())  # qasync does not install them
    closed = asyncio.Event()
    interrupted = False
    app.lastWindowClosed.connect(closed.set)

    def on_sigint(_signum: int, _frame: object) -> None:
        # Ctrl+C in the terminal that started Restyle closes the window the normal way (the
        # session is saved, accepted jobs stay resumable). A KeyboardInterrupt would instead
        # surface inside whatever Qt callback Python happened to be running, and get lost.
        nonlocal interrupted
        interrupted = True
        QTimer.singleShot(0, window.close)

    previous = signal.signal(signal.SIGINT, on_sigint)
    # Python runs signal handlers only when it gets control; while Qt idles it would not. A
    # light tick gives it control four times a second.
    tick = QTimer(app)
    tick.timeout.connect(lambda: None)
    tick.start(250)
    window.show()
    starting = asyncio.ensure_future(_start(window, args or parse_args([])))
    try:
        await closed.wait()
    finally:
        tick.stop()
        signal.signal(signal.SIGINT, previous)
        starting.cancel()
        await window.aclose()
    return 130 if interrupted else 0


def main() -> int:
    # A frozen (PyInstaller) build starts the local worker processes through this entry point.
    multiprocessing.freeze_support()
    from desktop.core import heap  # freed image memory goes back to the system (glibc)
    heap.install()
    # qasync picks its Qt binding from what is already imported: PySide6 first
    # (ARCHITECTURE.md, "The window and qasync").
    import qasync

    if {"-h", "--help"} & set(sys.argv[1:]):
        parse_args(["--help"])  # prints the usage and exits, no display needed
    if standalone.asked(sys.argv[1:]):  # --self-test, --install-desktop: no window opens
        return standalone.run(parse_args(sys.argv[1:]))
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    args = parse_args(app.arguments()[1:])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_ID)  # Wayland's app id: the .desktop entry's icon and name
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "restyle.svg")))
    app.setQuitOnLastWindowClosed(False)
    collector = GuiThreadCollector(app)  # Qt objects must never be freed by a worker thread
    app.aboutToQuit.connect(clipboard.release)  # PySide6 crashes at exit on its own copy
    _install_excepthook()
    try:
        window = create_main_window()
    except HistoryError as exc:  # before any loop runs, so a modal box is safe here
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 3
    setup_logging(window.services.paths.log_file)
    apply_theme(app, str(general_setting(window.services.settings, THEME)))
    try:
        return qasync.run(_run(app, window, args)) or 0
    except KeyboardInterrupt:
        return 130
    finally:
        collector.stop()
