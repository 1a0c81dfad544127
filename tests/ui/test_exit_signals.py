"""ExitSignals: a signal reaches the GUI thread through the wake-up socket (no polling), the
first one is remembered for the exit code, an ignored signal stays ignored, and uninstall gives
the signals back."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from desktop.ui.exit_signals import CLOSING_SIGNALS, ExitSignals, exit_code_for

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR2"), reason="POSIX signals")


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGUSR1, signal.SIGUSR2)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_exit_codes_follow_the_shell() -> None:
    assert [exit_code_for(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)] == \
        [130, 143, 129]
    assert set(CLOSING_SIGNALS) == {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def test_a_signal_calls_back_on_the_gui_thread(qtbot, restore_signals: None) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    before = signal.getsignal(signal.SIGUSR2)
    watcher = ExitSignals(seen.append, signals=(signal.SIGUSR2, signal.SIGUSR1))
    watcher.install()
    try:
        os.kill(os.getpid(), signal.SIGUSR2)
        qtbot.waitUntil(lambda: seen == [signal.SIGUSR2], timeout=3000)
        os.kill(os.getpid(), signal.SIGUSR1)
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=3000)
    finally:
        watcher.uninstall()
    assert seen == [signal.SIGUSR2, signal.SIGUSR1]
    assert watcher.received == signal.SIGUSR2  # the first decides the exit code
    assert signal.getsignal(signal.SIGUSR2) == before


def test_an_ignored_signal_stays_ignored(qtbot, restore_signals: None) -> None:  # type: ignore[no-untyped-def]
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # as `nohup` leaves SIGHUP
    seen: list[int] = []
    watcher = ExitSignals(seen.append, signals=(signal.SIGUSR1, signal.SIGUSR2))
    watcher.install()
    try:
        assert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR2)
        qtbot.waitUntil(lambda: seen == [signal.SIGUSR2], timeout=3000)
        qtbot.wait(100)
    finally:
        watcher.uninstall()
    assert seen == [signal.SIGUSR2]
    assert signal.getsignal(signal.SIGUSR1) == signal.SIG_IGN
