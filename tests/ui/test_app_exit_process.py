"""The window as a logout, `kill` or a closed terminal ends it: SIGTERM and SIGHUP close it like
Ctrl+C (session saved, worker processes stopped, exit code 128 + the signal), and even SIGKILL,
which runs no clean-up at all, leaves no worker process behind (they watch their parent)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import descendants, needs_proc, spawned_workers, wait_until_gone

ROOT = Path(__file__).resolve().parents[2]


def _start(home: Path, display: str | None = None) -> subprocess.Popen[str]:
    """`python -m desktop` on a fresh home: offscreen, or on the X `display` given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RESTYLE_") and k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(RESTYLE_HOME=str(home), PYTHONPATH=str(ROOT))
    if display is None:
        env["QT_QPA_PLATFORM"] = "offscreen"
    else:
        env["DISPLAY"] = display
    return subprocess.Popen([sys.executable, "-m", "desktop"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ready_with_workers(proc: subprocess.Popen[str], home: Path) -> set[int]:
    """Wait until the window is up and the local worker pool (started at start-up, as the
    local provider needs no key) has all its processes; every process below the window."""
    log = home / "logs" / "restyle.log"
    deadline = time.monotonic() + 90
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and "Window ready" in log.read_text(encoding="utf-8"):
            workers = spawned_workers(descendants(proc.pid))
            if len(workers) >= min(4, os.cpu_count() or 1):
                break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    assert "Window ready" in log.read_text(encoding="utf-8")
    assert len(workers) >= min(4, os.cpu_count() or 1), "the worker pool never started"
    return descendants(proc.pid)


@needs_proc
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)],
                         ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_close_the_window_like_quit(home: Path, signum: int,
                                                       code: int) -> None:
    proc = _start(home)
    try:
        children = _ready_with_workers(proc, home)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err[-2000:]
    assert wait_until_gone(children, 5) == set()  # stopped by the close, not left to linger
    settings = (home / "config" / "window.ini").read_text(encoding="utf-8")
    assert "geometry=" in settings and "windowState=" in settings  # the session was saved
    assert "Traceback" not in err


@needs_proc
def test_sigkill_leaves_no_worker_behind(home: Path) -> None:
    proc = _start(home)
    children: set[int] = set()
    try:
        children = _ready_with_workers(proc, home)
        proc.kill()
        proc.wait(timeout=30)  # not communicate(): an orphan would hold the pipes open
        left = wait_until_gone(children, 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in wait_until_gone(children, 0):  # never leak them into the rest of the run
            os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert left == set(), "worker processes outlived the killed window"


@needs_proc
@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_a_display_that_goes_away_ends_the_window_quietly(home: Path) -> None:
    """Xvfb stopped under a running window: Qt stops its loop; the app saves the layout,
    stops its workers, says one sentence and exits 1, with no Qt warnings or traceback."""
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    children: set[int] = set()
    try:
        assert xvfb.stdout is not None
        display = ":" + xvfb.stdout.readline().strip()
        proc = _start(home, display)
        try:
            children = _ready_with_workers(proc, home)
            xvfb.terminate()
            xvfb.wait(timeout=30)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    finally:
        if xvfb.poll() is None:
            xvfb.kill()
        xvfb.communicate(timeout=30)
    assert proc.returncode == 1, err[-3000:]
    assert err.strip().splitlines() == [
        "Restyle lost its display (the X server or the desktop session ended), so its window "
        "closed: the layout was saved, and jobs a provider accepted resume at the next start."]
    assert wait_until_gone(children, 5) == set()
    settings = (home / "config" / "window.ini").read_text(encoding="utf-8")
    assert "geometry=" in settings and "windowState=" in settings
    assert list((home / "logs").glob("crash-*")) == []
    assert "The display went away" in (home / "logs" / "restyle.log").read_text(encoding="utf-8")
