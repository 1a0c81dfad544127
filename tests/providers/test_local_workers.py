"""Local operations run in worker processes (their own GIL), with a thread as fallback."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from desktop.core.model import InvalidInput
from desktop.providers.local import workers
from tests.processes import alive, needs_proc, wait_until_gone
from tests.support import run

ROOT = Path(__file__).resolve().parents[2]


def _pid() -> int:
    return os.getpid()


def _refuse() -> None:
    raise InvalidInput("Tolerance must not be negative.")


def test_threads_until_the_window_asks_for_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_wanted", False)
    assert run(workers.run_operation(_pid)) == os.getpid()


def test_operations_run_in_another_process_and_errors_come_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "_wanted", False)  # restored afterwards: other tests use threads

    async def main() -> int:
        await workers.warm_up()
        return await workers.run_operation(_pid)

    try:
        assert run(main()) != os.getpid()
        with pytest.raises(InvalidInput, match="Tolerance must not be negative"):
            run(workers.run_operation(_refuse))
    finally:
        workers.shutdown()


def test_a_broken_pool_falls_back_to_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures.process import BrokenProcessPool

    class Broken:
        def submit(self, *_args: object, **_kw: object) -> None:
            raise BrokenProcessPool("a worker was killed")

        def shutdown(self, **_kw: object) -> None:
            pass

    monkeypatch.setattr(workers, "_pool", Broken())
    monkeypatch.setattr(workers, "_disabled", False)
    monkeypatch.setattr(workers, "_wanted", True)
    assert run(workers.run_operation(_pid)) == os.getpid()
    assert workers._disabled and workers._pool is None


def _sigint_handler() -> str:
    import signal

    return repr(signal.getsignal(signal.SIGINT))


def test_workers_leave_ctrl_c_to_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C in a terminal reaches the workers too: they ignore it (the window shuts them
    down), so no KeyboardInterrupt traceback lands on the user's terminal."""
    import signal

    monkeypatch.setattr(workers, "_wanted", False)

    async def main() -> str:
        await workers.warm_up()
        return await workers.run_operation(_sigint_handler)

    try:
        assert run(main()) == repr(signal.SIG_IGN)
    finally:
        workers.shutdown()


def test_closing_the_services_stops_the_worker_processes(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window's close (Services.aclose) ends the pool and waits for it: no child is left
    for the interpreter's exit to clean up, or for a killed parent to leave behind."""
    import multiprocessing

    from desktop.services import Services

    monkeypatch.setattr(workers, "_wanted", False)
    services = Services.open(home)

    async def main() -> tuple[int, int]:
        await workers.warm_up()
        started = len(multiprocessing.active_children())
        await services.aclose()
        return started, len(multiprocessing.active_children())

    try:
        started, left = run(main())
    finally:
        services.close()
        workers.shutdown()
    assert started >= workers.worker_count()
    assert left == 0


#: A parent that starts a pool whose workers watch it in one way only, prints their pids, waits.
PARENT = textwrap.dedent("""
    import os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    from desktop.providers.local import parent_watch

    def only_the_signal():
        parent_watch._watch = lambda *args: None  # no watchdog thread
        parent_watch.watch_parent()

    def only_the_thread():
        parent_watch._arm_death_signal = lambda parent_pid: False  # no prctl
        parent_watch.watch_parent()

    def no_watch():
        pass

    if __name__ == "__main__":
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=globals()[sys.argv[1]])
        pids = {pool.submit(os.getpid).result() for _ in range(20)}
        print(" ".join(map(str, sorted(pids))), flush=True)
        time.sleep(120)
""")


@needs_proc
@pytest.mark.parametrize("watch", ["only_the_signal", "only_the_thread"])
def test_workers_end_when_their_parent_is_killed(tmp_path: Path, watch: str) -> None:
    """Each of the two watches alone ends a worker whose parent was killed with SIGKILL."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), watch], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    pids: set[int] = set()
    try:
        assert proc.stdout is not None
        pids = {int(p) for p in proc.stdout.readline().split()}
        assert pids and all(alive(pid) for pid in pids)
        proc.kill()
        proc.wait(timeout=30)
        left = wait_until_gone(pids, 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in wait_until_gone(pids, 0):
            os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert left == set(), f"{watch}: workers outlived their killed parent"


@needs_proc
def test_a_worker_survives_the_end_of_the_thread_that_started_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PR_SET_PDEATHSIG also fires when the parent *thread* that started a worker ends: the
    worker must stay (its parent process is alive), or the pool would break for nothing."""
    import threading

    monkeypatch.setattr(workers, "_wanted", True)
    monkeypatch.setattr(workers, "_disabled", False)
    monkeypatch.setattr(workers, "_pool", None)
    starter = threading.Thread(target=workers._warm)  # spawns the workers, then ends
    starter.start()
    starter.join()
    try:
        assert workers._pool is not None
        pids = {p.pid for p in workers._pool._processes.values()}  # type: ignore[union-attr]
        assert pids
        assert wait_until_gone(pids, 1.5) == pids  # still alive after the death signal came
        assert run(workers.run_operation(_pid)) in pids
    finally:
        workers.shutdown()
