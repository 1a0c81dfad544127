"""Local operations run in worker processes (their own GIL), with a thread as fallback."""

from __future__ import annotations

import os

import pytest

from desktop.core.model import InvalidInput
from desktop.providers.local import workers
from tests.support import run


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
