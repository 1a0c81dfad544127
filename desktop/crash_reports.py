"""Crash reports: an error nothing caught is written to a file in the log folder, and the user
gets one sentence saying so, never a traceback.

Three doors lead here: `sys.excepthook` (an exception out of a Qt callback or the main code),
`threading.excepthook` (a worker thread) and the asyncio loop's exception handler (a task whose
error nobody awaited). A report holds the time, where it came from, the traceback and the
versions of Restyle, Python, Qt, PySide6 and Pillow with the platform; the whole text goes
through the same redaction as the log, so an API key in an exception message or a URL comes out
as [REDACTED]. Reports are private files (0600) named `crash-<time>-<pid>.txt`; the folder keeps
the newest `KEEP` of them, and one session writes at most `PER_SESSION` (a fault in a repaint
would otherwise write one per frame).

No Qt here: the window passes a `notify` callback that shows the sentence (thread-safe on its
side), and Qt's versions are read only if Qt is already loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from desktop import __version__
from desktop.config import APP_NAME
from desktop.core.permissions import private_dir, private_file
from desktop.core.redaction import redact_text

log = logging.getLogger(__name__)

REPORT_PREFIX = "crash-"
KEEP = 20
PER_SESSION = 5

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

#: Loop messages that mean "an error nobody handled" (asyncio's own wording); anything else
#: (a transport's network error, a slow callback) goes to the loop's default handler as before.
_UNHANDLED_LOOP_MESSAGES = ("Task exception", "Future exception", "Exception in callback",
                            "Unhandled")


def _distribution_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Restyle, Python, Qt, PySide6 and Pillow versions and the platform (About shows them)."""
    qt = "not loaded"
    pyside = _distribution_version("PySide6_Essentials")
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is not None:
        qt = str(qtcore.qVersion())
        pyside = str(getattr(sys.modules.get("PySide6"), "__version__", pyside))
    try:
        import PIL

        pillow = str(PIL.__version__)
    except ImportError:  # pragma: no cover - Pillow is a dependency
        pillow = "not installed"
    return {
        APP_NAME: __version__,
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Qt": qt,
        "PySide6": pyside,
        "Pillow": pillow,
        "Platform": platform.platform(),
    }


def report_text(exc_info: ExcInfo, where: str, *, now: dt.datetime | None = None) -> str:
    """The report, already redacted."""
    moment = (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")
    lines = [f"{APP_NAME} crash report", f"Time: {moment}", f"Where: {where}",
             f"Process: {os.getpid()}",
             *(f"{name}: {value}" for name, value in versions().items()),
             "Frozen build: yes" if getattr(sys, "frozen", False) else "Frozen build: no",
             "", "".join(traceback.format_exception(*exc_info)).rstrip()]
    return redact_text("\n".join(lines)) + "\n"


def write_report(folder: Path, exc_info: ExcInfo, where: str) -> Path:
    """Write a report into `folder` (made private if missing); its path."""
    private_dir(folder)
    now = dt.datetime.now().astimezone()
    path = folder / f"{REPORT_PREFIX}{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    count = 1
    while path.exists():  # two in the same second
        count += 1
        path = folder / f"{REPORT_PREFIX}{now:%Y%m%d-%H%M%S}-{os.getpid()}-{count}.txt"
    private_file(path)
    path.write_text(report_text(exc_info, where, now=now), encoding="utf-8")
    _prune(folder)
    return path


def _prune(folder: Path) -> None:
    reports = sorted(folder.glob(f"{REPORT_PREFIX}*.txt"), key=lambda p: p.stat().st_mtime)
    for old in reports[:-KEEP]:
        with contextlib.suppress(OSError):
            old.unlink()


def sentence(path: Path) -> str:
    """What the user reads: what happened, where the report is, what to do."""
    return (f"{APP_NAME} ran into an unexpected error; a report was saved to {path}. Your "
            f"jobs are kept: if something stops working, restart {APP_NAME}, and if it happens "
            "again, send that file with a note of what you were doing.")


def stderr_notice(text: str) -> None:
    """The sentence on stderr, when there is no window to show it."""
    print(text, file=sys.stderr)


def unsaved_sentence(folder: Path, exc: OSError) -> str:
    """The sentence when even the report could not be written."""
    reason = exc.strerror or type(exc).__name__
    return (f"{APP_NAME} ran into an unexpected error and could not save a report to {folder} "
            f"({reason}). If something stops working, restart {APP_NAME}; make sure that "
            "folder can be written to, so the next report is kept.")


class CrashReporter:
    """Installs the hooks; each unhandled error becomes a report and one sentence."""

    def __init__(self, folder: Path, notify: Callable[[str], None] | None = None) -> None:
        self.folder = folder
        self.notify = notify or stderr_notice
        self.written: list[Path] = []
        self._attempts = 0
        self._lock = threading.Lock()
        self._previous_sys: Any = None
        self._previous_thread: Any = None

    def report(self, exc_info: ExcInfo, where: str) -> Path | None:
        """Log the error, write its report (up to PER_SESSION), tell the user; the report's
        path, None when none was written. Never raises: a failure here must not hide the
        first one."""
        log.error("Unhandled exception (%s)", where, exc_info=exc_info)
        with self._lock:
            if self._attempts >= PER_SESSION:
                return None
            self._attempts += 1
            try:
                path = write_report(self.folder, exc_info, where)
            except OSError as exc:
                log.error("Could not write a crash report to %s: %s", self.folder, exc)
                path = None
                text = unsaved_sentence(self.folder, exc)
            else:
                self.written.append(path)
                text = sentence(path)
        try:
            self.notify(text)
        except Exception:  # the window may be half gone; the file is written
            log.exception("Could not show the crash report sentence")
        return path

    # -- the hooks ----------------------------------------------------------------------------
    def install(self) -> None:
        self._previous_sys = sys.excepthook
        self._previous_thread = threading.excepthook
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous_sys is not None:
            sys.excepthook = self._previous_sys
            threading.excepthook = self._previous_thread
            self._previous_sys = self._previous_thread = None

    def _sys_hook(self, exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report((exc_type, exc, tb), "main thread")

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self.report((args.exc_type, args.exc_value, args.exc_traceback), f"thread {name}")

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """For `loop.set_exception_handler`: unhandled task errors become reports."""
        exc = context.get("exception")
        message = str(context.get("message", ""))
        if (isinstance(exc, BaseException) and not isinstance(exc, asyncio.CancelledError)
                and message.startswith(_UNHANDLED_LOOP_MESSAGES)):
            self.report((type(exc), exc, exc.__traceback__), f"event loop: {message}")
            return
        loop.default_exception_handler(context)
