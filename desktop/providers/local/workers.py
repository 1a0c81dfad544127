"""Where the offline operations run: a small pool of worker processes.

Decoding, numpy work and PNG encoding of a 12-megapixel photo hold Python's GIL for long
stretches; run in threads, several of them at once make the window's event loop wait (measured
by tests/perf/bench_window_jobs.py). Worker processes have their own GIL, so the window stays
smooth however many local jobs run. The window turns them on (`warm_up`); the CLI, with no
window and one job, keeps to a thread. Processes are started with "spawn" (never fork a process
that runs Qt threads), once, on first use, and shared by every LocalProvider. If the pool
cannot start or breaks (a sandbox without process support, a killed worker), operations fall
back to a thread, so a job never fails for where it ran.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from desktop.providers.local.parent_watch import watch_parent

log = logging.getLogger(__name__)

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_disabled = False
#: Off until `warm_up` (the window calls it): a one-off CLI run is quicker in a thread than
#: starting processes, and has no window to keep smooth.
_wanted = False


def worker_count() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _executor() -> ProcessPoolExecutor | None:
    global _pool, _disabled
    with _lock:
        if _disabled or not _wanted:
            return None
        if _pool is None:
            try:
                _pool = ProcessPoolExecutor(
                    max_workers=worker_count(), mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker)
            except (OSError, ValueError, NotImplementedError) as exc:
                log.warning("No worker processes for local operations (%s); using threads", exc)
                _disabled = True
                return None
        return _pool


def _start_worker() -> None:
    """In a worker: Ctrl+C (and the hang-up of a closed terminal) reaches the whole process
    group, and the window shuts its workers down itself; a worker that took it would print a
    KeyboardInterrupt traceback on the user's terminal, or vanish under a running job. SIGTERM
    keeps its default: the pool stops a broken worker with it. The worker watches its parent
    and ends with it, even when the parent is killed outright (parent_watch.py)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    watch_parent()


def _give_up(pool: ProcessPoolExecutor, exc: BaseException) -> None:
    global _pool, _disabled
    log.warning("Local worker processes failed (%s); using threads from now on", exc)
    with _lock:
        _disabled = True
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


async def run_operation(fn: Callable[..., T], *args: Any) -> T:
    """Run a picklable module-level function in a worker process (a thread as fallback)."""
    pool = _executor()
    if pool is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool as exc:
            _give_up(pool, exc)
        except RuntimeError as exc:  # "cannot schedule new futures after shutdown"
            if "shutdown" not in str(exc):
                raise
            _give_up(pool, exc)
    return await asyncio.to_thread(fn, *args)


def _noop() -> None:
    return None


def _warm() -> None:
    pool = _executor()
    if pool is None:
        return
    try:
        for future in [pool.submit(_noop) for _ in range(worker_count())]:
            future.result(timeout=120)
    except (BrokenProcessPool, TimeoutError, RuntimeError) as exc:
        _give_up(pool, exc)


async def warm_up() -> None:
    """Use worker processes from now on, and start them now, from a thread: started lazily
    they would start on the event loop thread at the first local job, a hitch in a window."""
    global _wanted
    _wanted = True
    await asyncio.to_thread(_warm)


def shutdown() -> None:
    """Stop the worker processes and wait for them to end (the window's close calls it through
    Services.aclose; the next operation would start them again)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
