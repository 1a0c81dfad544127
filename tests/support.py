"""Small helpers shared by the provider and engine tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from desktop.providers.remote import RemoteProvider

P = TypeVar("P", bound="RemoteProvider")


#: Run in a child before the real command: Ctrl+C back to its default, then exec the command.
_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " os.execv(sys.argv[1], sys.argv[1:])"
)


def with_default_sigint(argv: Sequence[str]) -> list[str]:
    """`argv` started so that SIGINT has its default action in the child.

    A test run started in the background from a non-interactive shell (`nohup ... &`) ignores
    SIGINT, and an ignored signal stays ignored across fork and exec; Python then installs no
    KeyboardInterrupt handler and a test that sends the child SIGINT waits in vain. Resetting
    it in a tiny Python trampoline that execs the command (same pid, same pipes) works from a
    process with threads, unlike `preexec_fn`; `restore_signals` does not cover SIGINT.
    """
    if os.name != "posix":
        return list(argv)
    return [sys.executable, "-c", _DEFAULT_SIGINT, *argv]


def run(coro: Awaitable[Any]) -> Any:
    """Run a coroutine on a fresh event loop (the tests use no asyncio plugin)."""
    return asyncio.run(coro)  # type: ignore[arg-type]


class Sleeps:
    """An injected sleep: records the waits, returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def remote_provider(cls: type[P], base: str | None, key: str | None, *,
                sleeps: Sleeps | None = None, read: float = 5.0, **kw: Any) -> P:
    """A remote provider for emulator tests: short timeouts (`read` for reads and downloads),
    waits recorded instead of slept, the key given."""
    from desktop.providers.http import Timeouts

    timeouts = Timeouts(connect=2, read=read, write=5, pool=2, transfer_read=read,
                        transfer_write=5)
    return cls(base, lambda: key, timeouts=timeouts, sleep=sleeps or Sleeps(), **kw)
