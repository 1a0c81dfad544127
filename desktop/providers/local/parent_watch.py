"""A worker process ends with the process that started it, however that one ends.

A window killed with SIGKILL (or crashing) runs none of its clean-up, and a pool worker blocked
on its task queue would wait for work forever: the queue's pipe stays open in every worker.
So each worker watches its parent in two ways:

* Linux: `prctl(PR_SET_PDEATHSIG)` asks the kernel for a signal (SIGUSR1) the moment the parent
  goes. The kernel sends it also when only the *thread* that started the worker ends, so the
  handler exits only when the parent process is really gone (the worker was re-parented).
* Everywhere (frozen builds too: this is plain multiprocessing): a daemon thread waits on the
  sentinel multiprocessing gives every child it starts (a pipe whose other end only the parent
  holds: end of file means the parent died) and polls `os.getppid()` for a change, which also
  covers a forkserver, whose children see the server as parent.

Either way the worker leaves with `os._exit`: there is nobody left to report to, and nothing it
holds needs flushing (results go back through the parent).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from types import FrameType

#: `PR_SET_PDEATHSIG` from <linux/prctl.h>.
PR_SET_PDEATHSIG = 1
#: How often the watchdog thread looks (seconds): an orphan lingers at most this long.
POLL_SECONDS = 0.5
#: The exit status of a worker that found its parent gone (nobody reads it; for `ps` and tests).
ORPHANED_EXIT = 0
#: The signal the kernel sends on the parent's death: not SIGTERM, which the pool itself uses to
#: stop broken workers, nor SIGKILL, which would also fire when a parent *thread* ends.
DEATH_SIGNAL = getattr(signal, "SIGUSR1", None)


def watch_parent(*, poll_seconds: float = POLL_SECONDS) -> threading.Thread:
    """Arm both watches in this (worker) process; returns the watchdog thread."""
    parent_pid = os.getppid()
    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None else None
    _arm_death_signal(parent_pid)
    if _parent_gone(parent_pid, sentinel, 0):  # it died before the watches were armed
        os._exit(ORPHANED_EXIT)
    thread = threading.Thread(target=_watch, args=(parent_pid, sentinel, poll_seconds),
                              name="restyle-parent-watch", daemon=True)
    thread.start()
    return thread


def _parent_gone(parent_pid: int, sentinel: int | None, timeout: float) -> bool:
    if os.name == "posix" and os.getppid() != parent_pid:
        return True
    if sentinel is not None:
        return bool(multiprocessing.connection.wait([sentinel], timeout))
    return False


def _watch(parent_pid: int, sentinel: int | None, poll_seconds: float) -> None:
    while True:
        if _parent_gone(parent_pid, sentinel, poll_seconds):
            os._exit(ORPHANED_EXIT)
        if sentinel is None:
            time.sleep(poll_seconds)


def _arm_death_signal(parent_pid: int) -> bool:
    """Linux only: the kernel signals this process when its parent ends. False elsewhere or
    when prctl is not reachable (the watchdog thread still works)."""
    if not sys.platform.startswith("linux") or DEATH_SIGNAL is None:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return False

    def on_parent_death(_signum: int, _frame: FrameType | None) -> None:
        if os.getppid() != parent_pid:  # re-parented: the parent process is gone
            os._exit(ORPHANED_EXIT)

    signal.signal(DEATH_SIGNAL, on_parent_death)  # before prctl: the default would kill
    return libc.prctl(PR_SET_PDEATHSIG, int(DEATH_SIGNAL), 0, 0, 0) == 0
