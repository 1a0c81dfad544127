"""Composition root of the window: QApplication, the qasync loop, wiring and clean shutdown.

Command line: `restyle [FILE ...] [--role ROLE] [--compare A B [C ...]]` plus Qt's own options
(-platform, -style, …), which QApplication takes out before our parser sees the rest
(`build_parser` is where further options go). While a window runs for the same user and data
folder, a second `restyle` hands its files to it and exits (desktop/single_instance.py).

Exit codes of the window: 0 closed by the user (File > Quit, the close button); 2 a wrong
option, or no display to open the window on (display_check.py); 3 the history cannot be
opened; 130, 143, 129 closed by Ctrl+C, SIGTERM or SIGHUP, the normal way (exit_signals.py);
1 the display went away under the window (lost_display.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# The Qt-free layers load before PySide6: once imported, PySide6 replaces `__import__` with its
# `__feature__` hook, which reads the whole source of every module imported after it
# (inspect.getsource) to see whether it mentions PySide6. Imported first, the services, the
# core, the providers and their libraries (httpx, Pillow) are not read, unless a Qt module
# imports one of them by name (the hook looks at the module each import statement returns).
from desktop import crash_reports, standalone
from desktop.config import APP_NAME, resolve_paths, resources_dir
from desktop.core.catalog import COMMON_TASKS
from desktop.core.store import HistoryError
from desktop.desktop_entry import DESKTOP_ID
from desktop.display_check import EXIT_NO_DISPLAY, missing_display
from desktop.general_settings import THEME, general_setting
from desktop.logs import setup_logging
from desktop.open_request import ROLES, OpenRequest, request_from_arguments
from desktop.services import Services

# isort: split
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

import desktop.ui.qt_compat  # noqa: F401 - guards against PySide6 6.12.0's refcount bug
from desktop import single_instance
from desktop.ui import asyncgen_hooks, clipboard, runtime
from desktop.ui.crash_notice import CrashNotice
from desktop.ui.exit_signals import ExitSignals, exit_code_for
from desktop.ui.help_menu import HelpMenu
from desktop.ui.lost_display import EXIT_DISPLAY_LOST, QtMessages
from desktop.ui.lost_display import SENTENCE as LOST_DISPLAY_SENTENCE
from desktop.ui.main_window import MainWindow
from desktop.ui.open_files import OpenFiles
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
        self.help_menu = HelpMenu(self, app_name=APP_NAME, log_dir=services.paths.log_dir,
                                  versions=crash_reports.versions,
                                  open_compare_keys=self.compare_view.show_shortcuts_help)
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
    runtime.prepare()  # any host of the window (main, tests, benchmarks) runs as `restyle` does
    return RestyleWindow(Services.open(home))


def build_parser() -> argparse.ArgumentParser:
    """The window's options (Qt's own are taken out by QApplication first)."""
    parser = argparse.ArgumentParser(
        prog="restyle", description="Restyle: run and compare generative image jobs.",
        epilog="Qt's own options (-platform, -style, …) work as well.")
    parser.add_argument(
        "files", nargs="*", metavar="FILE",
        help="image files (paths or file:// addresses) to open in the input panes, in the "
             "order the current task takes them (try-on: the person, then the garments); "
             "when Restyle already runs, they open in its window")
    parser.add_argument(
        "--role", choices=ROLES,
        help="put every FILE in this kind of pane; when the current task has none, the one "
             "task that takes them is chosen")
    parser.add_argument(
        "--compare", nargs="+", metavar="FILE", type=Path, default=[],
        help="open these image files in the compare view: the first is the before, the "
             "others are compared with it (two files: before and after; more: a grid)")
    standalone.add_arguments(parser)
    return parser


def parse_args(arguments: list[str]) -> argparse.Namespace:
    """The arguments after the program name, Qt's options already removed (app.arguments()).
    Usage errors exit with code 2 and argparse's message, before any window opens."""
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.role and not args.files:
        parser.error("--role needs files to open: restyle --role ROLE FILE [FILE ...]")
    return args


def open_request(args: argparse.Namespace) -> OpenRequest:
    """What the command line asks to open, its paths made absolute here."""
    return request_from_arguments(args.files, args.role, [str(p) for p in args.compare],
                                  os.getcwd())


async def _start(window: RestyleWindow, args: argparse.Namespace,
                 server: single_instance.InstanceServer | None = None) -> None:
    await window.start()
    runtime.started()
    opener = OpenFiles(window.workbench)
    request = open_request(args)
    if request.kind == "open":
        await opener.open(request)
    if server is not None:
        def received(request: OpenRequest) -> None:
            opener.bring_to_front()
            if request.kind == "open":
                window.workbench.spawn(opener.open(request))

        server.set_handler(received)


async def _run(app: QApplication, window: RestyleWindow,
               args: argparse.Namespace | None = None, *,
               reporter: crash_reports.CrashReporter | None = None,
               server: single_instance.InstanceServer | None = None) -> int:
    """Show the window and run until it closes. Returns 0 after a close the user chose, or
    128 + the signal's number after Ctrl+C (130), SIGTERM (143) or SIGHUP (129): those close
    the window the normal way too (desktop/ui/exit_signals.py says why)."""
    asyncio_loop = asyncio.get_running_loop()
    asyncgen_hooks.install(asyncio_loop)  # qasync does not install them
    if reporter is not None:  # a task's error nobody awaited becomes a crash report
        asyncio_loop.set_exception_handler(reporter.loop_handler)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    # A KeyboardInterrupt would surface inside whatever Qt callback Python happened to be
    # running, and get lost; a signal instead closes the window like File > Quit.
    signals = ExitSignals(lambda _signum: QTimer.singleShot(0, window.close), parent=app)
    signals.install()
    window.show()
    starting = asyncio.ensure_future(_start(window, args or parse_args([]), server))
    try:
        await closed.wait()
    finally:
        signals.uninstall()
        if server is not None:
            server.close()
        starting.cancel()
        await window.aclose()
    return 0 if signals.received is None else exit_code_for(signals.received)


def main() -> int:
    # A frozen (PyInstaller) build starts the local worker processes through this entry point.
    multiprocessing.freeze_support()
    runtime.prepare()  # GIL switching, freed memory back to the system (before threads start)
    # qasync picks its Qt binding from what is already imported: PySide6 first
    # (docs/ARCHITECTURE.md, "The window and qasync").
    import qasync

    if {"-h", "--help"} & set(sys.argv[1:]):
        parse_args(["--help"])  # prints the usage and exits, no display needed
    if standalone.asked(sys.argv[1:]):  # --self-test, --install-desktop: no window opens
        return standalone.run(parse_args(sys.argv[1:]))
    if QApplication.instance() is None and (problem := missing_display()) is not None:
        print(problem, file=sys.stderr)  # one sentence instead of Qt's abort
        return EXIT_NO_DISPLAY
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    args = parse_args(app.arguments()[1:])
    name = single_instance.server_name(resolve_paths().config_dir)
    handed = single_instance.hand_over_and_say(name, open_request(args))
    if handed.exit_code is not None:  # the running window took it (0), or refused it (2)
        return handed.exit_code
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_ID)  # Wayland's app id: the .desktop entry's icon and name
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "restyle.svg")))
    app.setQuitOnLastWindowClosed(False)
    collector = runtime.collect_on_gui_thread(app)  # Qt objects never freed by a worker thread
    app.aboutToQuit.connect(clipboard.release)  # PySide6 crashes at exit on its own copy
    # Errors nothing caught: a report in the log folder and one sentence (on stderr until the
    # window can show it).
    reporter = crash_reports.CrashReporter(resolve_paths().log_dir)
    reporter.install()
    try:
        window = create_main_window()
    except HistoryError as exc:  # before any loop runs, so a modal box is safe here
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 3
    setup_logging(window.services.paths.log_file)
    if handed.sentence:  # a window that did not answer: why this one started anyway
        log.warning("%s", handed.sentence)
    reporter.folder = window.services.paths.log_dir
    reporter.notify = CrashNotice(window, window.help_menu.open_log_folder).notify
    apply_theme(app, str(general_setting(window.services.settings, THEME)))
    messages = QtMessages()  # notes a lost display (lost_display.py)
    messages.install()
    server = single_instance.InstanceServer(name, app)
    server.listen()
    try:
        return qasync.run(_run(app, window, args, reporter=reporter, server=server)) or 0
    except KeyboardInterrupt:
        return 130
    except RuntimeError:
        if not messages.display_lost:
            raise
        return _close_without_a_display(window)
    finally:
        reporter.notify = crash_reports.stderr_notice  # the window is gone
        messages.uninstall()
        collector.stop()


def _close_without_a_display(window: RestyleWindow) -> int:
    """The display went away and Qt stopped the loop: close without one (lost_display.py)."""
    for step in (window.workbench.save_layout, window.services.close):
        try:
            step()
        except Exception:  # one failing step must not keep the others from running
            log.exception("Closing after the display went away")
    print(LOST_DISPLAY_SENTENCE, file=sys.stderr)
    return EXIT_DISPLAY_LOST
