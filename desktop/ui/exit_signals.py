"""Signals that ask the window to close: Ctrl+C (SIGINT), SIGTERM (`kill`, a logout, a system
shutdown, a service manager) and SIGHUP (the terminal that started Restyle went away).

Each closes the window exactly like File > Quit: the layout is saved, jobs a provider accepted
stay in the history and resume at the next start, the worker processes stop. The process then
exits with 128 + the signal's number: 130 for SIGINT (already Restyle's Ctrl+C code, and the
shell's), 143 for SIGTERM and 129 for SIGHUP. That is the shell's convention for "ended by this
signal", so a script or service manager can tell a close it asked for from one the user chose
(0) or a failure (1-3), while Restyle still shuts down cleanly rather than dying of the signal.
(A systemd unit that wants SIGTERM to count as success lists `SuccessExitStatus=143`.)

A signal the process was started with ignored stays ignored: `nohup restyle &` asks for the
window to outlive its terminal, so SIGHUP must not close it.

Python runs a signal handler only when the interpreter gets control, which it does not while Qt
idles in C++. So the C-level handler's wake-up byte (`signal.set_wakeup_fd`) goes into a socket
pair that a QSocketNotifier watches: the signal is acted on at once, even in an idle window.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier

#: The signals that close the window, where the platform has them.
CLOSING_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def exit_code_for(signum: int) -> int:
    """128 + the signal number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP)."""
    return 128 + int(signum)


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: the work is done by the notifier (a handler must be installed
    for the wake-up byte to be written; this one has nothing left to do)."""


class ExitSignals(QObject):
    """While installed, each of `signals` calls `on_signal(signum)` on the GUI thread."""

    def __init__(self, on_signal: Callable[[int], None],
                 signals: tuple[signal.Signals, ...] = CLOSING_SIGNALS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._signals = signals
        #: The first signal received, if any.
        self.received: int | None = None
        self._previous: dict[int, object] = {}
        self._previous_fd: int | None = None
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None

    def install(self) -> None:
        """Take the signals over (main thread only, as Python requires)."""
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                 warn_on_full_buffer=False)
        for signum in self._signals:
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue  # started to ignore it (`nohup`, `&` in a script): keep ignoring it
            self._previous[signum] = signal.signal(signum, _noted)

    def uninstall(self) -> None:
        """Give the signals back to whoever had them before."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()
        if self._previous_fd is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._previous_fd = None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        for end in (self._reader, self._writer):
            if end is not None:
                end.close()
        self._reader = self._writer = None

    def _drain(self) -> None:
        if self._reader is None:
            return
        try:
            data = self._reader.recv(512)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            if signum not in self._previous:
                continue  # another handler's signal: Python runs that handler itself
            if self.received is None:
                self.received = signum
            self._on_signal(signum)
